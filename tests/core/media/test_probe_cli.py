"""`anonnet-studio probe`: table and JSON output on real files, typed errors on bad ones."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from anonnet_studio.cli import probe_cmd
from anonnet_studio.core.errors import NoVideoStreamError
from tests.conftest import fixture_video


def _run(argv: list[str]) -> int:
    # Only this subcommand: the full CLI also loads other teams' subcommands.
    parser = argparse.ArgumentParser(prog="anonnet-studio")
    probe_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["probe", str(fixture_video("lp_s18.mp4"))]) == 0
    out = capsys.readouterr().out
    assert "1280x720" in out
    assert "282" in out
    assert "30 fps (30/1)" in out
    assert "aac, 44100 Hz, stereo" in out


def test_table_shows_rotation_and_vfr(
    rotated_clip: Path, vfr_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(["probe", str(rotated_clip)])
    assert "90° (stored as 160x240)" in capsys.readouterr().out
    _run(["probe", str(vfr_clip)])
    assert "variable" in capsys.readouterr().out


def test_json(ntsc_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["probe", str(ntsc_clip), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["video"]["fps_rational"] == "30000/1001"
    assert data["video"]["fps"] == pytest.approx(29.97, abs=0.01)
    assert data["video"]["frame_count"] == 60
    assert data["audio"][0]["codec"] == "aac"


def test_bad_input_raises_typed_error(audio_only_file: Path) -> None:
    with pytest.raises(NoVideoStreamError):
        _run(["probe", str(audio_only_file)])
