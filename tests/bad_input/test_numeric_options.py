"""Numeric options have declared ranges, checked by argparse (issue 20, defect 7): a bad
value is one line on stderr and exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.cli import main
from tests.bad_input.cli_runs import build_clip, listing, run_cli


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("-1", "must be from 0 to 51, got -1"),
        ("52", "must be from 0 to 51, got 52"),
        ("99999999999999999999", "must be from 0 to 51, got 99999999999999999999"),
        ("1.5", "expected a whole number, got '1.5'"),
        ("abc", "expected a whole number, got 'abc'"),
    ],
)
@pytest.mark.parametrize("command", ["anonymize", "export"])
def test_crf_out_of_range_is_one_line(
    command: str, value: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, str(tmp_path / "in.mp4"), "-o", str(tmp_path / "o.mp4"), "--crf", value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"argument --crf: {words}" in err
    assert listing(tmp_path) == []


def test_in_a_real_process_no_traceback_and_nothing_written(tmp_path: Path) -> None:
    clip = build_clip(tmp_path, 5)
    result = run_cli(["anonymize", clip, "-o", tmp_path / "o.mp4", "--crf", "-1"], tmp_path,
                     tmp_path / "models")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "anonnet-studio anonymize: error: argument --crf: must be from 0 to 51, got -1 "
        "(see anonnet-studio anonymize --help)"
    ]
    assert listing(tmp_path) == ["source.mp4"]
