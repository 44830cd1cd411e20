"""End to end on a real keyframe with tiny random-weight models loaded through the real
model manager and `load_pipeline`: crop size, masked-only compositing, determinism,
progress and cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from anonnet_studio.core.errors import ModelError, ModelUnavailableError, OperationCancelled
from anonnet_studio.core.progress import CancelToken, Progress
from anonnet_studio.core.synthetic.crop import extract_crop
from anonnet_studio.core.synthetic.devices import ComputeDevice, select_device
from anonnet_studio.core.synthetic.generator import (
    STAGE_DENOISE,
    GenerationResult,
    SyntheticFaceGenerator,
    inpaint_condition,
)
from anonnet_studio.core.synthetic.pipeline import BASE_MODEL, load_pipeline
from anonnet_studio.core.synthetic.settings import GenerationSettings
from tests.core.synthetic.conftest import Keyframe

PROMPT = "A photorealistic portrait of a adult White man, with a neutral expression"
NEGATIVE = "cartoon, deformed"
# Small and few steps keep a generation well under a second on two CPU cores.
SETTINGS = GenerationSettings(seed=1234, steps=4, strength=1.0, max_side=96, min_side=64)


@pytest.fixture(scope="module")
def result(generator: SyntheticFaceGenerator, keyframe: Keyframe) -> GenerationResult:
    return generator.generate(
        keyframe.frame, keyframe.box, keyframe.landmarks68, PROMPT, NEGATIVE, SETTINGS
    )


@pytest.fixture()
def unet_calls(fast_generator: SyntheticFaceGenerator) -> Iterator[list[int]]:
    """Counts UNet forward passes (one per denoising step; CFG batches both halves)."""
    calls: list[int] = []
    handle = fast_generator.pipeline.unet.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def test_loads_every_component_from_the_manager(generator: SyntheticFaceGenerator) -> None:
    pipe = generator.pipeline
    assert type(pipe.scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert pipe.scheduler.config.algorithm_type == "dpmsolver++"
    assert len(pipe.controlnet.nets) == 3
    assert pipe.unet.config.in_channels == 4  # Realistic Vision's UNet layout
    assert pipe.vae.config.block_out_channels == [8, 16, 16, 16]  # the separate VAE
    assert generator.parser is not None, "the installed BiSeNet model should be used"


def test_output_has_the_crop_size(result: GenerationResult) -> None:
    size = result.placement.size
    assert size == 96
    assert result.generated_crop.shape == (size, size, 3)
    assert result.composited_crop.shape == (size, size, 3)
    assert result.lineart.shape == result.openpose.shape == (size, size, 3)
    assert result.mask.pipeline_mask.shape == result.mask.alpha.shape == (size, size)
    assert result.generated_crop.dtype == np.uint8


def test_only_masked_pixels_change(result: GenerationResult, keyframe: Keyframe) -> None:
    changed = np.any(result.composited_frame != keyframe.frame, axis=2)
    assert changed.sum() > 1000, "the face must actually be replaced"
    # Every changed frame pixel lies under the hard mask mapped back to the frame (the
    # frame pixel at square offset d samples crop pixel floor(d * size / side)).
    placement = result.placement
    ys, xs = np.nonzero(changed)
    crop_pts = np.floor(placement.frame_to_crop(np.stack([xs, ys], axis=1))).astype(int)
    assert (result.mask.pipeline_mask[crop_pts[:, 1], crop_pts[:, 0]] > 0).all()
    # In crop space: the composite equals the original wherever the alpha is zero.
    original = extract_crop(keyframe.frame, placement)
    outside = result.mask.alpha == 0
    assert np.array_equal(result.composited_crop[outside], original[outside])
    assert not np.array_equal(result.composited_crop, original)


def test_same_seed_same_face_new_seed_new_face(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    def run(seed: int) -> np.ndarray:
        settings = SETTINGS.with_overrides(seed=seed)
        frame, box, landmarks = keyframe.frame, keyframe.box, keyframe.landmarks68
        result = fast_generator.generate(frame, box, landmarks, PROMPT, NEGATIVE, settings)
        return result.generated_crop

    first = run(1234)
    assert np.array_equal(run(1234), first)
    assert not np.array_equal(run(1235), first)


def test_progress_counts_denoising_steps(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe, unet_calls: list[int]
) -> None:
    events: list[Progress] = []
    settings = SETTINGS.with_overrides(strength=0.5, steps=6)
    fast_generator.generate(
        keyframe.frame,
        keyframe.box,
        keyframe.landmarks68,
        PROMPT,
        NEGATIVE,
        settings,
        on_progress=events.append,
    )
    steps = [e.done for e in events if e.stage == STAGE_DENOISE]
    assert steps == [1, 2, 3] == list(range(1, settings.effective_steps + 1))
    assert all(e.total == 3 for e in events)
    assert len(unet_calls) == 3, "strength 0.5 runs half of the 6 steps"


def test_cancel_stops_within_one_denoising_step(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe, unet_calls: list[int]
) -> None:
    cancel = CancelToken()

    def cancel_after_two_steps(progress: Progress) -> None:
        if progress.stage == STAGE_DENOISE and progress.done == 2:
            cancel.cancel()

    settings = SETTINGS.with_overrides(steps=10)
    with pytest.raises(OperationCancelled):
        fast_generator.generate(
            keyframe.frame,
            keyframe.box,
            keyframe.landmarks68,
            PROMPT,
            NEGATIVE,
            settings,
            on_progress=cancel_after_two_steps,
            cancel=cancel,
        )
    assert len(unet_calls) == 2, "no UNet call may start after the cancel request"


def test_cancel_before_start_runs_nothing(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe, unet_calls: list[int]
) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(OperationCancelled):
        fast_generator.generate(
            keyframe.frame,
            keyframe.box,
            keyframe.landmarks68,
            PROMPT,
            NEGATIVE,
            SETTINGS,
            cancel=cancel,
        )
    assert unet_calls == []


def test_inpaint_condition_marks_masked_pixels() -> None:
    crop = np.full((16, 16, 3), 255, np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:8, 4:8] = 255
    condition = inpaint_condition(crop, mask)
    assert condition.shape == (1, 3, 16, 16)
    assert (condition[0, :, 4:8, 4:8] == -1).all()
    assert (condition[0, :, :4] == 1).all()


def test_missing_or_broken_models_are_reported_by_name(
    tiny_model_folders: dict[str, Path], tmp_path: Path
) -> None:
    folders = dict(tiny_model_folders)
    folders["controlnet-lineart"] = tmp_path / "nowhere"
    with pytest.raises(ModelUnavailableError, match="controlnet-lineart"):
        load_pipeline(folders, "cpu", torch.float32)

    broken = tmp_path / "broken-base"
    for sub in ("unet", "text_encoder", "tokenizer", "scheduler"):
        (broken / sub).mkdir(parents=True)
    source = tiny_model_folders[BASE_MODEL]
    for rel in (
        "unet/config.json",
        "text_encoder/config.json",
        "tokenizer/vocab.json",
        "tokenizer/merges.txt",
        "scheduler/scheduler_config.json",
    ):
        (broken / rel).write_bytes((source / rel).read_bytes())
    # Weights truncated to nothing, as after an interrupted copy.
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    folders = dict(tiny_model_folders, **{BASE_MODEL: broken})
    with pytest.raises(ModelError, match=BASE_MODEL):
        load_pipeline(folders, "cpu", torch.float32)


def test_out_of_memory_becomes_a_model_error_with_advice(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    def exhausted(*_: object) -> None:
        # What PyTorch raises when a CUDA allocation fails mid-denoising.
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    handle = fast_generator.pipeline.unet.register_forward_pre_hook(exhausted)
    try:
        with pytest.raises(ModelError, match="Not enough GPU memory") as raised:
            fast_generator.generate(
                keyframe.frame, keyframe.box, keyframe.landmarks68, PROMPT, NEGATIVE, SETTINGS
            )
    finally:
        handle.remove()
    assert "96x96" in raised.value.message
    assert raised.value.hint is not None and "maximum crop size" in raised.value.hint


def test_cpu_device_runs_fp32_and_warns_about_time(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    device = select_device("cpu")
    assert device.dtype == torch.float32 and device.warning
    events: list[Progress] = []
    fast_generator.generate(
        keyframe.frame,
        keyframe.box,
        keyframe.landmarks68,
        PROMPT,
        NEGATIVE,
        SETTINGS.with_overrides(steps=1),
        on_progress=events.append,
    )
    assert events[0].message == device.warning
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="CUDA"):
            select_device("cuda")


def test_half_precision_pipeline_runs_end_to_end(
    tiny_model_folders: dict[str, Path], generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    """CUDA runs in fp16; the CPU can execute these tiny fp16 models too, which checks
    the dtype plumbing (control tensors, latents, VAE) that CI has no GPU to run."""
    pipeline = load_pipeline(tiny_model_folders, "cpu", torch.float16)
    assert pipeline.unet.dtype == pipeline.controlnet.nets[2].dtype == torch.float16
    half = SyntheticFaceGenerator(
        pipeline, generator.annotators, ComputeDevice("cpu", torch.float16)
    )
    result = half.generate(
        keyframe.frame,
        keyframe.box,
        keyframe.landmarks68,
        PROMPT,
        NEGATIVE,
        SETTINGS.with_overrides(steps=2, max_side=64),
    )
    assert result.generated_crop.shape == (64, 64, 3)
    assert result.generated_crop.std() > 0, "fp16 overflow would give a flat image"
