"""`anonnet-studio models list|download|verify` through the real CLI entry point."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from anonnet_studio import cli
from anonnet_studio.cli import main
from anonnet_studio.core.models.embedded import embedded_file
from tests.core.models.download_support import FakeServer, random_bytes, sha256_of

PAYLOAD = random_bytes(300_000, seed=5)


@pytest.fixture(autouse=True)
def _only_the_models_subcommand(monkeypatch: pytest.MonkeyPatch) -> None:
    # main() imports every subcommand module; these tests are about `models` and should not
    # fail because another subcommand is mid-development. The real `main` still runs.
    monkeypatch.setattr(cli, "_SUBCOMMAND_MODULES", ("models_cmd",))


@pytest.fixture
def model_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every folder the CLI would write to at tmp_path."""
    dirs = {"user": tmp_path / "models", "cache": tmp_path / "downloads"}
    monkeypatch.setenv("ANONNET_MODELS_DIR", str(dirs["user"]))
    monkeypatch.setenv("ANONNET_MODELS_CACHE", str(dirs["cache"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for flag in ("ANONNET_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(flag, raising=False)
    return dirs


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal (pytest's own stdin is not one)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def served_resources(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A resources folder whose only manifest declares two models served by fake_server."""
    models = [
        {
            "name": name,
            "purpose": "test model",
            "kind": "downloaded",
            "licence": licence,
            "non_commercial": licence.startswith("CC-BY-NC"),
            "revision": "v1",
            "source": {"type": "url", "url": fake_server.add(f"/files/{name}.bin", PAYLOAD)},
            "files": [{"path": f"{name}.bin", "size": len(PAYLOAD), "sha256": sha256}],
        }
        for name, sha256, licence in (
            ("pinned", sha256_of(PAYLOAD), "CC0-1.0"),
            ("unpinned", None, "CC-BY-NC-4.0"),
        )
    ]
    folder = tmp_path / "resources"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "test.json").write_text(
        json.dumps({"schema_version": 1, "models": models})
    )
    monkeypatch.setenv("ANONNET_RESOURCES", str(folder))
    return folder


def test_list_shows_status_size_and_licence(
    model_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "SIZE", "HASH", "LICENCE", "PURPOSE"]
    yunet = next(line for line in lines if line.startswith("yunet "))
    assert "embedded" in yunet and "available (embedded)" in yunet and "122.5 KB" in yunet
    assert " pinned " in yunet
    bisenet = next(line for line in lines if line.startswith("bisenet-face-parsing "))
    assert "missing" in bisenet and "53.3 MB" in bisenet and "MIT" in bisenet
    assert " pinned " in bisenet
    vgg = next(line for line in lines if line.startswith("deepface-vgg-face "))
    assert " none (1 file) " in vgg
    # Files with no known hash are named below the table, with why.
    notes = lines[
        lines.index("No known sha256 (checked only against what the first download recorded):") :
    ]
    assert any(n.startswith("  deepface-vgg-face/vgg_face_weights.h5: No sha256") for n in notes)
    assert "  liveportrait-safetensors: its revision is not pinned to a commit" in notes


def test_list_with_models_dir_shows_the_user_copy(
    model_dirs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = embedded_file("fer", "data/emotion_model_quantized.tflite")
    assert source is not None
    mine = tmp_path / "elsewhere" / "fer-emotion"
    mine.mkdir(parents=True)
    shutil.copyfile(source, mine / source.name)

    assert main(["models", "--models-dir", str(mine.parent), "list", "--paths"]) == 0
    lines = capsys.readouterr().out.splitlines()
    fer = next(line for line in lines if line.startswith("fer-emotion "))
    assert "available (models folder)" in fer
    assert f"    {mine}" in lines


def test_verify_prints_results_and_fails_for_a_missing_named_model(
    model_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "verify", "yunet", "fer-emotion"]) == 0
    out = capsys.readouterr().out
    assert "yunet: embedded" in out and "ok  face_detection_yunet_2023mar_int8bq.onnx" in out
    assert main(["models", "verify", "deepface-race"]) == 1
    assert "deepface-race: missing" in capsys.readouterr().out


def test_download_then_verify_with_trust_on_first_use(
    model_dirs: dict[str, Path],
    served_resources: Path,
    fake_server: FakeServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "download", "--all", "--accept-licences"]) == 0
    out = capsys.readouterr().out
    assert "pinned     300.0 KB  CC0-1.0" in out  # the licence list, with sizes
    assert "2 model(s), 600.0 KB to download" in out
    for name in ("pinned", "unpinned"):
        target = model_dirs["cache"] / name / "v1" / f"{name}.bin"
        assert target.read_bytes() == PAYLOAD
        assert f"{name}: downloaded to {target.parent}" in out

    assert main(["models", "download", "pinned"]) == 0
    assert "pinned: already available (download cache)" in capsys.readouterr().out
    assert len(fake_server.gets("/files/pinned.bin")) == 1

    assert main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert "ok (trust on first use)  unpinned.bin" in out
    assert "recorded on first download" in out


def test_offline_download_fails_cleanly_without_network(
    model_dirs: dict[str, Path],
    served_resources: Path,
    no_network: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "download", "pinned", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "offline mode is on" in err and "'pinned'" in err
    assert no_network == []
    assert not model_dirs["cache"].exists() or not any(model_dirs["cache"].rglob("*.bin"))


def test_download_needs_names_or_all_and_rejects_unknown_names(
    model_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download"]) == 2
    assert "Name at least one model" in capsys.readouterr().err
    assert main(["models", "download", "no-such-model"]) == 2
    assert "Unknown model 'no-such-model'" in capsys.readouterr().err


def test_download_without_a_terminal_needs_the_licence_flag(
    model_dirs: dict[str, Path],
    served_resources: Path,
    fake_server: FakeServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "download", "--all"]) == 2
    captured = capsys.readouterr()
    assert "These models will be downloaded, under these licences:" in captured.out
    assert "unpinned   300.0 KB  CC-BY-NC-4.0  [NON-COMMERCIAL]" in captured.out
    assert captured.err.splitlines() == [
        "error: Downloading needs you to accept the licences listed above: pass "
        "--accept-licences (or run it in a terminal to be asked)."
    ]
    assert fake_server.requests == []  # not even a size query before consent
    assert not model_dirs["cache"].exists() or not any(model_dirs["cache"].rglob("*.bin*"))


def test_on_a_terminal_the_licences_are_asked_for(
    model_dirs: dict[str, Path],
    served_resources: Path,
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal())
    questions: list[str] = []
    answers = iter(["n", "yes"])
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or next(answers))

    assert main(["models", "download", "unpinned"]) == 2
    assert "The licences were not accepted; nothing was downloaded." in capsys.readouterr().err
    assert fake_server.requests == []

    assert main(["models", "download", "unpinned"]) == 0
    assert questions == ["Accept the licence above and download 1 model? [y/N] "] * 2
    target = model_dirs["cache"] / "unpinned" / "v1" / "unpinned.bin"
    assert target.read_bytes() == PAYLOAD


def test_download_refuses_when_the_disk_lacks_room(
    model_dirs: dict[str, Path],
    served_resources: Path,
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[Path] = []

    def nearly_full(path: str | Path) -> shutil._ntuple_diskusage:
        seen.append(Path(path))
        return shutil._ntuple_diskusage(10**12, 10**12 - 100_000_000, 100_000_000)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    assert main(["models", "download", "--all", "--accept-licences"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: Not enough free disk space in {model_dirs['cache']}: the download needs "
        "600.0 KB plus 256.0 MB to spare, and 100.0 MB is free."
    )
    assert fake_server.requests == []
    # The cache does not exist yet: the check looked at the nearest existing folder.
    assert seen and all(model_dirs["cache"].is_relative_to(p) for p in seen)


def test_use_points_one_model_at_a_folder_after_hashing_it(
    model_dirs: dict[str, Path],
    served_resources: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = tmp_path / "copy-from-usb"
    good.mkdir()
    (good / "pinned.bin").write_bytes(PAYLOAD)
    assert main(["models", "use", "pinned", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"pinned: your chosen folder, {good}" in out and "ok  pinned.bin" in out
    assert main(["models", "list", "--paths"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "available (your chosen folder)" in next(x for x in lines if x.startswith("pinned "))

    # A damaged copy is refused when chosen, and the good choice stays.
    bad = tmp_path / "damaged"
    bad.mkdir()
    (bad / "pinned.bin").write_bytes(PAYLOAD[:-1] + b"\0")
    assert main(["models", "use", "pinned", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "pinned.bin differ from their known sha256" in err and "Traceback" not in err
    assert main(["models", "verify", "pinned"]) == 0
    assert f"your chosen folder, {good}" in capsys.readouterr().out

    # A folder without the files, and neither folder nor --forget, are clear errors.
    assert main(["models", "use", "pinned", str(tmp_path)]) == 2
    assert "missing pinned.bin" in capsys.readouterr().err
    assert main(["models", "use", "pinned"]) == 2
    assert "Give either a FOLDER or --forget" in capsys.readouterr().err

    assert main(["models", "use", "pinned", "--forget"]) == 0
    assert f"no longer loaded from {good}" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    assert "missing" in next(
        x for x in capsys.readouterr().out.splitlines() if x.startswith("pinned ")
    )
