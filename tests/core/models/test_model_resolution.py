"""Local resolution: embedded models for real, user folders, chosen folders, clear errors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.models import (
    FileStatus,
    Manifest,
    ModelManager,
    ModelOrigin,
    load_manifest_dir,
    parse_manifest,
)
from anonnet_studio.core.resources import resources_dir
from tests.core.models.download_support import make_manager, one_model_manifest


@pytest.fixture(scope="module")
def shipped_manifest() -> Manifest:
    return load_manifest_dir(resources_dir() / "models")


@pytest.fixture
def manager(shipped_manifest: Manifest, tmp_path: Path) -> ModelManager:
    return make_manager(shipped_manifest, tmp_path)


@pytest.mark.parametrize("name", ["yunet", "dlib-face-models", "age-gender", "fer-emotion"])
def test_embedded_models_resolve_inside_their_packages(manager: ModelManager, name: str) -> None:
    folder = manager.resolve(name)
    spec = manager.spec(name)
    assert "site-packages" in folder.parts or "dist-packages" in folder.parts
    for model_file in spec.files:
        path = manager.file(name, model_file.path)
        assert path == folder / model_file.path
        assert path.stat().st_size == model_file.size
    location = manager.locate(name)
    assert location is not None and location.origin is ModelOrigin.EMBEDDED
    assert manager.is_available(name)


@pytest.mark.parametrize("name", ["yunet", "fer-emotion"])
def test_embedded_sha256_matches_the_manifest(manager: ModelManager, name: str) -> None:
    report = manager.verify(name)
    assert report.ok and report.fully_verified
    for check in report.files:
        assert check.status is FileStatus.OK
        actual = hashlib.sha256((manager.resolve(name) / check.path).read_bytes()).hexdigest()
        assert check.actual == actual == check.expected


def _copy_model(manager: ModelManager, name: str, destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for model_file in manager.spec(name).files:
        shutil.copyfile(manager.file(name, model_file.path), destination / model_file.path)
    return destination


def test_user_folder_wins_over_embedded_and_is_verified(manager: ModelManager) -> None:
    user_folder = manager.user_folder("fer-emotion")
    assert user_folder is not None
    _copy_model(manager, "fer-emotion", user_folder)
    assert manager.resolve("fer-emotion") == user_folder
    location = manager.locate("fer-emotion")
    assert location is not None and location.origin is ModelOrigin.USER_DIR
    assert manager.verify("fer-emotion").fully_verified

    # A damaged user copy is what gets used, so verify must say so.
    weights = user_folder / "emotion_model_quantized.tflite"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    report = manager.verify("fer-emotion")
    assert not report.ok
    assert report.files[0].status is FileStatus.MISMATCH


def test_incomplete_user_folder_does_not_shadow_embedded(manager: ModelManager) -> None:
    user_folder = manager.user_folder("age-gender")
    assert user_folder is not None
    user_folder.mkdir(parents=True)
    (user_folder / "age-v1.onnx").write_bytes(b"only one of three files")
    location = manager.locate("age-gender")
    assert location is not None and location.origin is ModelOrigin.EMBEDDED


def test_set_local_path_wins_persists_and_can_be_forgotten(
    shipped_manifest: Manifest, manager: ModelManager, tmp_path: Path
) -> None:
    chosen = _copy_model(manager, "yunet", tmp_path / "air-gapped" / "yunet-copy")
    user_folder = manager.user_folder("yunet")
    assert user_folder is not None
    _copy_model(manager, "yunet", user_folder)

    manager.set_local_path("yunet", chosen)
    assert manager.resolve("yunet") == chosen.resolve()
    assert manager.local_path("yunet") == chosen.resolve()

    # A second manager on the same settings file (a new app session) sees the choice.
    again = make_manager(shipped_manifest, tmp_path)
    location = again.locate("yunet")
    assert location is not None
    assert (location.folder, location.origin) == (chosen.resolve(), ModelOrigin.LOCAL_PATH)

    again.set_local_path("yunet", None)
    assert manager.resolve("yunet") == user_folder


def test_set_local_path_rejects_a_folder_without_the_files(
    manager: ModelManager, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError) as raised:
        manager.set_local_path("age-gender", empty)
    assert "age-v1.onnx" in str(raised.value) and "gender-v1.onnx" in str(raised.value)
    assert manager.local_path("age-gender") is None
    with pytest.raises(ModelUnavailableError, match="is not a folder"):
        manager.set_local_path("age-gender", tmp_path / "does-not-exist")


def test_missing_downloaded_model_explains_where_and_how(
    manager: ModelManager, no_network: list[object]
) -> None:
    with pytest.raises(ModelUnavailableError) as raised:
        manager.resolve("bisenet-face-parsing")
    text = raised.value.user_message()
    assert "'bisenet-face-parsing'" in text
    assert "missing 79999_iter.pth" in text
    assert str(manager.user_folder("bisenet-face-parsing")) in text
    assert "anonnet-studio models download bisenet-face-parsing" in text
    assert not manager.is_available("bisenet-face-parsing")
    assert no_network == []


def test_without_a_user_folder_the_hint_points_at_the_cache(tmp_path: Path) -> None:
    manifest = one_model_manifest(
        "tiny", [{"path": "a.bin", "source": {"type": "url", "url": "https://example.org/a"}}]
    )
    manager = make_manager(manifest, tmp_path, user_dir=None)
    with pytest.raises(ModelUnavailableError) as raised:
        manager.resolve("tiny")
    assert str(tmp_path / "cache" / "tiny" / "r1") in raised.value.user_message()


def test_missing_embedded_package_says_which_package(tmp_path: Path) -> None:
    ghost = {
        "name": "ghost",
        "purpose": "test",
        "kind": "embedded",
        "licence": "MIT",
        "revision": "ghost==1",
        "source": {"type": "package", "package": "no_such_package_anywhere", "path": "m"},
        "files": [{"path": "g.onnx"}],
    }
    manager = make_manager(parse_manifest({"schema_version": 1, "models": [ghost]}), tmp_path)
    with pytest.raises(ModelUnavailableError) as raised:
        manager.download("ghost")  # embedded models are never downloaded
    assert "Python package 'no_such_package_anywhere' (ghost==1)" in raised.value.user_message()


def test_unknown_names_and_files_are_model_errors(manager: ModelManager) -> None:
    with pytest.raises(ModelError, match=r"Unknown model 'nope'\. Known models: .*yunet"):
        manager.resolve("nope")
    with pytest.raises(ModelError, match="not a file of model 'yunet'"):
        manager.file("yunet", "other.onnx")


@pytest.mark.parametrize(
    ("environ", "offline"),
    [
        ({}, False),
        ({"ANONNET_OFFLINE": "1"}, True),
        ({"HF_HUB_OFFLINE": "true"}, True),
        ({"ANONNET_OFFLINE": "0", "HF_HUB_OFFLINE": "0"}, False),
    ],
)
def test_from_environment_reads_folders_and_offline_flags(
    tmp_path: Path, shipped_manifest: Manifest, environ: dict[str, str], offline: bool
) -> None:
    environ = {
        **environ,
        "ANONNET_MODELS_DIR": str(tmp_path / "mine"),
        "ANONNET_MODELS_CACHE": str(tmp_path / "dl"),
    }
    manager = ModelManager.from_environment(manifest=shipped_manifest, environ=environ)
    assert manager.offline is offline
    assert manager.user_dir == tmp_path / "mine"
    assert (
        manager.cache_folder("sd-vae-ft-mse")
        == tmp_path / "dl" / "sd-vae-ft-mse" / "31f26fdeee1355a5c34592e401dd41e45d25a493"
    )
    explicit = ModelManager.from_environment(
        manifest=shipped_manifest, environ=environ, models_dir=tmp_path / "cli", offline=True
    )
    assert explicit.user_dir == tmp_path / "cli" and explicit.offline


def test_from_environment_loads_every_shipped_manifest(tmp_path: Path) -> None:
    manager = ModelManager.from_environment(
        environ={"ANONNET_MODELS_DIR": str(tmp_path / "u"), "ANONNET_MODELS_CACHE": str(tmp_path)}
    )
    names = {spec.name for spec in manager.specs()}
    assert {"yunet", "deepface-race", "bisenet-face-parsing"} <= names
