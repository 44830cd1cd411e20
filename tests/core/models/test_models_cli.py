"""`anonnet-studio models list|download|verify` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
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
            "licence": "CC0-1.0",
            "revision": "v1",
            "source": {"type": "url", "url": fake_server.add(f"/files/{name}.bin", PAYLOAD)},
            "files": [{"path": f"{name}.bin", "size": len(PAYLOAD), "sha256": sha256}],
        }
        for name, sha256 in (("pinned", sha256_of(PAYLOAD)), ("unpinned", None))
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
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "SIZE", "LICENCE", "PURPOSE"]
    yunet = next(line for line in lines if line.startswith("yunet "))
    assert "embedded" in yunet and "available (embedded)" in yunet and "122.5 KB" in yunet
    bisenet = next(line for line in lines if line.startswith("bisenet-face-parsing "))
    assert "missing" in bisenet and "53.3 MB" in bisenet and "MIT" in bisenet


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
    assert main(["models", "download", "--all"]) == 0
    out = capsys.readouterr().out
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
