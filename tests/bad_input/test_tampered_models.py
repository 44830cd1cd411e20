"""A tampered model is refused, and a blind leak check cannot pass (issue 20, defect 3).

The tampered model is the real YuNet with its face-score heads zeroed: a valid ONNX
file that loads and runs and finds no face at all, the worst case for a privacy tool.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import anonnet_studio.core.models.integrity as integrity
import anonnet_studio.core.models.manager as manager_module
from anonnet_studio.cli import main
from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import load_manifest_dir
from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.vision.detector import YUNET_FILE
from anonnet_studio.core.vision.factory import build_embedded_vision
from anonnet_studio.project.export import export_project
from anonnet_studio.project.io import load_project
from tests.bad_input.cli_runs import assert_clean_failure, build_clip, listing, run_cli, sha256

YUNET_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"


def write_blind_yunet(folder: Path) -> Path:
    """The shipped YuNet with every score head zeroed (biases very negative)."""
    real = ModelManager.from_environment(
        models_dir=folder.parent / "none",
        environ={"ANONNET_MODELS_CACHE": str(folder.parent / "c")},
    ).file("yunet", YUNET_FILE)
    model = onnx.load(str(real))
    for tensor in model.graph.initializer:
        if ("cls" in tensor.name or "obj" in tensor.name) and tensor.data_type == 1:
            values = np.zeros_like(numpy_helper.to_array(tensor))
            if values.ndim == 1:
                values[:] = -20.0
            tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / YUNET_FILE))
    return folder / YUNET_FILE


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_clip(tmp_path_factory.mktemp("clip"), 20)


@pytest.fixture(scope="module")
def blind_yunet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_blind_yunet(tmp_path_factory.mktemp("tampered") / "yunet")


def test_a_tampered_model_in_models_dir_is_refused_and_nothing_written(
    clip: Path, blind_yunet: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "src.mp4").write_bytes(clip.read_bytes())
    before = sha256(work / "src.mp4")
    args = ["anonymize", "src.mp4", "-o", "o.mp4", "--report", "r.json"]
    models_dir = blind_yunet.parent.parent  # holding yunet/<file>
    result = run_cli([*args, "--models-dir", models_dir], work, tmp_path / "models")
    assert_clean_failure(result, str(blind_yunet), YUNET_SHA256, sha256(blind_yunet))
    assert listing(work) == ["src.mp4"]
    assert sha256(work / "src.mp4") == before


def _manager(home: Path) -> ModelManager:
    """A manager whose folders and settings all live in `home` (never the user's own)."""
    return ModelManager(
        load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "user",
        cache_dir=home / "cache",
        settings_path=home / "model-locations.json",
    )


@pytest.mark.parametrize("origin", ["local path", "user folder", "package", "download cache"])
def test_every_location_is_verified_before_loading(
    origin: str, blind_yunet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = _manager(tmp_path)
    place = {
        "local path": tmp_path / "chosen",
        "user folder": tmp_path / "user" / "yunet",
        "package": tmp_path / "site" / "models",
        "download cache": manager.cache_folder("yunet"),
    }[origin]
    place.mkdir(parents=True)
    (place / YUNET_FILE).write_bytes(blind_yunet.read_bytes())
    if origin == "local path":
        manager.set_local_path("yunet", place)
    if origin in ("package", "download cache"):
        fake_root = tmp_path / "site" if origin == "package" else None
        monkeypatch.setattr(manager_module, "package_dir", lambda _package: fake_root)
    with pytest.raises(ModelIntegrityError) as raised:
        manager.resolve("yunet")
    message = raised.value.user_message()
    assert str(place / YUNET_FILE) in message and YUNET_SHA256 in message
    assert sha256(blind_yunet) in message


def test_verification_is_cached_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"ANONNET_MODELS_CACHE": str(tmp_path / "cache")}
    folder = tmp_path / "user" / "yunet"
    folder.mkdir(parents=True)
    real = ModelManager.from_environment(models_dir=tmp_path / "none", environ=environ)
    (folder / YUNET_FILE).write_bytes(real.file("yunet", YUNET_FILE).read_bytes())
    hashed: list[Path] = []
    real_hash = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda p: hashed.append(p) or real_hash(p))

    first = ModelManager.from_environment(models_dir=tmp_path / "user", environ=environ)
    assert first.resolve("yunet") == folder and len(hashed) == 1
    first.resolve("yunet")
    # A new process (a new manager) reads the cache file instead of hashing again.
    ModelManager.from_environment(models_dir=tmp_path / "user", environ=environ).resolve("yunet")
    assert len(hashed) == 1

    # Edited in place, same size, modification time put back: still caught.
    path = folder / YUNET_FILE
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ModelIntegrityError):
        ModelManager.from_environment(models_dir=tmp_path / "user", environ=environ).resolve(
            "yunet"
        )
    assert len(hashed) == 2


class _SeesNothing:
    """A face detector that finds nothing, like a broken or tampered model would."""

    name = "sees-nothing"

    def detect(self, image: object, **options: object) -> list[object]:
        return []


def test_a_blind_leak_check_fails_the_export(clip: Path, blind_yunet: Path, tmp_path: Path) -> None:
    """A project analysed with the real detector, exported with a leak check whose detector
    sees nothing: the report must not say PASS."""
    project_path = tmp_path / "p.anonproj"
    assert main(["analyze", str(clip), "-o", str(project_path), "-q"]) == 0
    manager = ModelManager.from_environment(
        models_dir=tmp_path / "user", environ={"ANONNET_MODELS_CACHE": str(tmp_path / "c")}
    )

    def model_dir(name: str) -> Path:
        return blind_yunet.parent if name == "yunet" else manager.resolve(name)

    # The check's second detector (CenterFace) would see the faces: blind it too.
    blind = dataclasses.replace(build_embedded_vision(model_dir), check_detector=_SeesNothing())
    seeing = build_embedded_vision(manager.resolve)
    for models, verdict, saw in ((blind, "FAIL", False), (seeing, "PASS", True)):
        project = load_project(project_path)
        out = tmp_path / f"{verdict}.mp4"
        outcome = export_project(project, out, models, report_path=out.with_suffix(".json"))
        report = out.with_suffix(".json").read_text()
        assert outcome.verdict == verdict and outcome.checker_blind is not saw
        assert f'"leak_check_saw_the_tracked_faces": {str(saw).lower()}' in report
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == project.source.sha256
