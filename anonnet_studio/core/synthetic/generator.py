"""One synthetic face for one keyframe: crop, mask, control images, inpainting, composite.

`SyntheticFaceGenerator` owns the loaded diffusion pipeline and annotators. Create it on
the compute thread (loading takes seconds to minutes) and reuse it for every person.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from anonnet_studio.core.errors import ModelUnavailableError, OperationCancelled
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.synthetic.annotators import ControlAnnotators
from anonnet_studio.core.synthetic.crop import (
    CropPlacement,
    composite_into_frame,
    extract_crop,
    plan_crop,
)
from anonnet_studio.core.synthetic.devices import (
    ComputeDevice,
    free_device_memory,
    is_out_of_memory,
    out_of_memory_error,
)
from anonnet_studio.core.synthetic.mask import FaceMask, FaceParser, build_face_mask
from anonnet_studio.core.synthetic.parsing import BiSeNetFaceParser
from anonnet_studio.core.synthetic.pipeline import (
    ANNOTATOR_MODEL,
    PARSER_MODEL,
    REQUIRED_MODELS,
    ModelResolver,
    load_pipeline,
    resolve_folders,
)
from anonnet_studio.core.synthetic.settings import GenerationSettings

if TYPE_CHECKING:
    from diffusers import StableDiffusionControlNetInpaintPipeline

STAGE_PREPARE = "Preparing synthetic face"
STAGE_DENOISE = "Generating synthetic face"


@dataclass(frozen=True, slots=True, eq=False)
class GenerationResult:
    """Everything one generation produced. Arrays are RGB uint8 unless noted; crop-sized
    arrays are (S, S, ...) with S = placement.size."""

    generated_crop: np.ndarray  # raw pipeline output for the whole crop
    composited_crop: np.ndarray  # original crop with only the masked face replaced
    composited_frame: np.ndarray  # the keyframe with the synthetic face pasted in
    mask: FaceMask  # hard pipeline mask and feathered compositing alpha
    placement: CropPlacement  # crop <-> frame transform
    landmarks_crop: np.ndarray  # (68, 2) float32, the original landmarks in crop pixels
    lineart: np.ndarray  # control image of the lineart ControlNet
    openpose: np.ndarray  # control image of the openpose ControlNet
    settings: GenerationSettings  # the exact parameters used (seed included)


@dataclass(frozen=True, slots=True, eq=False)
class PreparedFace:
    """A keyframe face made ready for inpainting (see `SyntheticFaceGenerator.prepare`)."""

    placement: CropPlacement
    crop: np.ndarray  # the original crop, (S, S, 3)
    landmarks_crop: np.ndarray  # (68, 2) in crop pixels
    mask: FaceMask
    lineart: np.ndarray
    openpose: np.ndarray


class SyntheticFaceGenerator:
    """Generates anonymized faces with SD 1.5 + inpaint/lineart/openpose ControlNets."""

    def __init__(
        self,
        pipeline: StableDiffusionControlNetInpaintPipeline,
        annotators: ControlAnnotators,
        device: ComputeDevice,
        parser: FaceParser | None = None,
    ) -> None:
        # Any: diffusers builds its pipeline API at run time, which type checkers cannot see.
        self._pipeline: Any = pipeline
        self._annotators = annotators
        self.device = device
        self.parser = parser

    @property
    def pipeline(self) -> StableDiffusionControlNetInpaintPipeline:
        """The loaded diffusers pipeline (for inspection and benchmarks)."""
        return self._pipeline

    @property
    def annotators(self) -> ControlAnnotators:
        return self._annotators

    @classmethod
    def load(
        cls,
        resolver: ModelResolver,
        device: ComputeDevice,
        *,
        use_face_parser: bool = True,
    ) -> SyntheticFaceGenerator:
        """Load every model through `resolver` (e.g. `ModelManager.resolve`). The face
        parser is optional: without it masks come from the 68-landmark hull."""
        folders = resolve_folders(resolver, REQUIRED_MODELS)
        pipeline = load_pipeline(
            folders, device.torch_device, device.dtype, cpu_offload=device.cpu_offload
        )
        # With offloading the GPU is reserved for the diffusion models.
        annotator_device = "cpu" if device.cpu_offload else device.torch_device
        annotators = ControlAnnotators.load(folders[ANNOTATOR_MODEL], annotator_device)
        parser: FaceParser | None = None
        if use_face_parser:
            try:
                parser = BiSeNetFaceParser.from_folder(
                    Path(resolver(PARSER_MODEL)), annotator_device
                )
            except ModelUnavailableError:
                parser = None
        return cls(pipeline, annotators, device, parser)

    def generate(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        prompt: str,
        negative_prompt: str,
        settings: GenerationSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GenerationResult:
        """Inpaint a synthetic face over the face at `box` / `landmarks68` (frame pixels).

        Stops within one denoising step of `cancel` being set (`OperationCancelled`); a
        CUDA out-of-memory error becomes a `ModelError` with what to change.
        """
        prepared = self.prepare(
            frame_rgb, box, landmarks68, settings, on_progress=on_progress, cancel=cancel
        )
        return self.generate_prepared(
            frame_rgb,
            prepared,
            prompt,
            negative_prompt,
            settings,
            on_progress=on_progress,
            cancel=cancel,
        )

    def prepare(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        settings: GenerationSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> PreparedFace:
        """Crop, mask and control images: everything that does not depend on the seed,
        strength, guidance or steps, so retries can reuse it."""
        _check_inputs(frame_rgb, landmarks68)
        check_cancel(cancel)
        total = settings.effective_steps
        # The CPU warning rides on the first update so the GUI and CLI show it in place.
        first_message = self.device.warning or "Cropping and masking the face"
        _report(on_progress, Progress(STAGE_PREPARE, 0, total, first_message))
        placement = plan_crop(
            box,
            landmarks68,
            frame_rgb.shape,
            crop_scale=settings.crop_scale,
            size_limits=settings.crop_limits,
            mask_mode=settings.mask_mode,
        )
        crop = extract_crop(frame_rgb, placement)
        landmarks_crop = placement.frame_to_crop(landmarks68)
        mask = build_face_mask(crop, landmarks_crop, settings, self.parser)
        check_cancel(cancel)
        _report(on_progress, Progress(STAGE_PREPARE, 0, total, "Drawing control images"))
        lineart, openpose = self._annotators.control_images(crop)
        check_cancel(cancel)
        return PreparedFace(placement, crop, landmarks_crop, mask, lineart, openpose)

    def generate_prepared(
        self,
        frame_rgb: np.ndarray,
        prepared: PreparedFace,
        prompt: str,
        negative_prompt: str,
        settings: GenerationSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GenerationResult:
        """The diffusion part of `generate` for a face made ready by `prepare` (with
        settings that differ at most in seed, strength, guidance and steps)."""
        check_cancel(cancel)
        crop, mask = prepared.crop, prepared.mask
        generated = self._inpaint(
            crop,
            mask,
            prepared.lineart,
            prepared.openpose,
            prompt,
            negative_prompt,
            settings,
            on_progress,
            cancel,
        )
        alpha = mask.alpha[..., None]
        composited_crop = np.where(
            alpha > 0, np.rint(crop * (1.0 - alpha) + generated * alpha), crop
        ).astype(np.uint8)
        placement = prepared.placement
        return GenerationResult(
            generated_crop=generated,
            composited_crop=composited_crop,
            composited_frame=composite_into_frame(frame_rgb, generated, mask.alpha, placement),
            mask=mask,
            placement=placement,
            landmarks_crop=prepared.landmarks_crop,
            lineart=prepared.lineart,
            openpose=prepared.openpose,
            settings=settings,
        )

    def _inpaint(
        self,
        crop: np.ndarray,
        mask: FaceMask,
        lineart: np.ndarray,
        openpose: np.ndarray,
        prompt: str,
        negative_prompt: str,
        settings: GenerationSettings,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> np.ndarray:
        size = crop.shape[0]
        total = settings.effective_steps

        def on_step_end(
            _pipe: Any, step: int, _timestep: Any, _tensors: dict[str, Any]
        ) -> dict[str, Any]:
            _report(on_progress, Progress(STAGE_DENOISE, step + 1, total))
            # Raising here aborts the denoising loop before the next UNet call.
            check_cancel(cancel)
            return {}

        # A CPU generator gives the same noise for a seed on every device.
        generator = torch.Generator(device="cpu").manual_seed(int(settings.seed))
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                # diffusers warns that a [-1, 1] control tensor is not normalised again;
                # for the inpaint ControlNet that is intended (-1 marks masked pixels).
                warnings.filterwarnings("ignore", message=".*value range.*")
                output = self._pipeline(
                    prompt=prompt,
                    negative_prompt=negative_prompt or None,
                    image=Image.fromarray(crop),
                    mask_image=Image.fromarray(mask.pipeline_mask),
                    control_image=[
                        inpaint_condition(crop, mask.pipeline_mask),
                        Image.fromarray(lineart),
                        Image.fromarray(openpose),
                    ],
                    height=size,
                    width=size,
                    strength=settings.strength,
                    num_inference_steps=settings.steps,
                    guidance_scale=settings.guidance,
                    controlnet_conditioning_scale=[float(s) for s in settings.control_scales],
                    generator=generator,
                    output_type="np",
                    callback_on_step_end=on_step_end,
                )
        except OperationCancelled:
            raise
        except (RuntimeError, torch.OutOfMemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            free_device_memory(self.device)
            raise out_of_memory_error(size, self.device) from exc
        image = np.asarray(output.images[0], dtype=np.float32)
        return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def inpaint_condition(crop: np.ndarray, pipeline_mask: np.ndarray) -> torch.Tensor:
    """Control image of `control_v11p_sd15_inpaint`: the crop in [0, 1] with the pixels to
    regenerate set to -1, shape (1, 3, S, S)."""
    image = crop.astype(np.float32) / 255.0
    image[pipeline_mask > 127] = -1.0
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)[None]))


def _check_inputs(frame_rgb: np.ndarray, landmarks68: np.ndarray) -> None:
    if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise ValueError("frame_rgb must be an (H, W, 3) uint8 RGB image")
    if np.asarray(landmarks68).shape != (68, 2):
        raise ValueError("landmarks68 must have shape (68, 2)")


def _report(callback: ProgressCallback | None, progress: Progress) -> None:
    if callback is not None:
        callback(progress)
