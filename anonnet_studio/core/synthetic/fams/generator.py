"""One anonymized face per person with FAMS: align, generate, colour-match, paste back.

`FamsFaceGenerator` mirrors `core.synthetic.generator.SyntheticFaceGenerator` (same
inputs: frame, face box and 68 landmarks, settings with a seed, progress, cancel; same
`prepare` / `generate_prepared` split for retries; a result with the same field names),
so it can stand behind the same generation service as the second backend. FAMS needs no
prompt, no control images and no inpainting mask: the degree replaces the strength.
Create it on the compute thread and reuse it for every person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from anonnet_studio.core.errors import ModelError, ModelUnavailableError, OperationCancelled
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.synthetic.devices import (
    ComputeDevice,
    free_device_memory,
    is_out_of_memory,
)
from anonnet_studio.core.synthetic.fams.alignment import (
    AlignedPlacement,
    extract_aligned,
    plan_alignment,
)
from anonnet_studio.core.synthetic.fams.blend import (
    aligned_face_mask,
    blend_in_crop,
    match_colours,
    paste_into_frame,
)
from anonnet_studio.core.synthetic.fams.loading import FAMS_MODELS, load_fams_pipeline
from anonnet_studio.core.synthetic.fams.pipeline import FamsPipeline
from anonnet_studio.core.synthetic.fams.settings import FamsSettings
from anonnet_studio.core.synthetic.mask import FaceMask, FaceParser
from anonnet_studio.core.synthetic.parsing import BiSeNetFaceParser

BACKEND_NAME = "fams"
STAGE_PREPARE = "Preparing synthetic face"
STAGE_DENOISE = "Generating synthetic face"
# Optional; declared in downloaded.json and shared with the SD 1.5 backend.
PARSER_MODEL = "bisenet-face-parsing"
# Colour statistics come from where the mask is (almost) fully opaque.
_COLOUR_REGION_ALPHA = 0.99


@dataclass(frozen=True, slots=True, eq=False)
class PreparedFamsFace:
    """A face made ready for generation: everything that does not depend on the seed,
    the degree, the guidance or the steps, so retries reuse it."""

    placement: AlignedPlacement
    crop: np.ndarray  # the original aligned crop, (S, S, 3) uint8 RGB
    landmarks_crop: np.ndarray  # (68, 2) float32, the original landmarks in crop pixels
    mask: FaceMask  # what may change in the crop


@dataclass(frozen=True, slots=True, eq=False)
class FamsResult:
    """Everything one generation produced; crop-sized arrays are (S, S, ...) with
    S = placement.size, RGB uint8 unless noted. Field names follow `GenerationResult`."""

    generated_crop: np.ndarray  # the model's output, colour-matched, for the whole crop
    composited_crop: np.ndarray  # the original crop with only the masked face replaced
    composited_frame: np.ndarray  # the frame with the new face pasted in
    mask: FaceMask  # hard mask and feathered alpha, crop coordinates
    placement: AlignedPlacement  # crop <-> frame transform (rotated square)
    landmarks_crop: np.ndarray  # (68, 2) float32
    settings: FamsSettings  # the exact parameters used (seed included)
    backend: str = BACKEND_NAME


@dataclass(frozen=True, slots=True, eq=False)
class FaceRequest:
    """One face of a frame to anonymize, with its own settings (seed, degree, ...)."""

    box: np.ndarray
    landmarks68: np.ndarray
    settings: FamsSettings


@dataclass(frozen=True, slots=True, eq=False)
class MultiFaceResult:
    frame: np.ndarray  # every requested face replaced
    faces: tuple[FamsResult, ...]  # per face, in request order


class FamsFaceGenerator:
    """Generates anonymized faces with FAMS (SD 2.1 UNet + ReferenceNets)."""

    def __init__(
        self, pipeline: FamsPipeline, device: ComputeDevice, parser: FaceParser | None = None
    ) -> None:
        self._pipeline = pipeline
        self.device = device
        self.parser = parser

    @property
    def pipeline(self) -> FamsPipeline:
        return self._pipeline

    @classmethod
    def load(
        cls,
        resolver: Any,
        device: ComputeDevice,
        *,
        use_face_parser: bool = True,
    ) -> FamsFaceGenerator:
        """Load every model through `resolver` (e.g. `ModelManager.resolve`, name -> folder).
        The face parser is optional: without it masks come from the landmark hull."""
        folders = {name: Path(resolver(name)) for name in FAMS_MODELS}
        pipeline = load_fams_pipeline(folders, device.torch_device, device.dtype)
        parser: FaceParser | None = None
        if use_face_parser:
            try:
                parser = BiSeNetFaceParser.from_folder(
                    Path(resolver(PARSER_MODEL)), device.torch_device
                )
            except ModelUnavailableError:
                parser = None
        return cls(pipeline, device, parser)

    def generate(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        settings: FamsSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> FamsResult:
        """Replace the face at `box` / `landmarks68` (frame pixels) by a new identity.

        Stops within one denoising step of `cancel` being set (`OperationCancelled`); a
        GPU out-of-memory error becomes a `ModelError` saying what to change.
        """
        prepared = self.prepare(
            frame_rgb, box, landmarks68, settings, on_progress=on_progress, cancel=cancel
        )
        return self.generate_prepared(
            frame_rgb, prepared, settings, on_progress=on_progress, cancel=cancel
        )

    def prepare(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        settings: FamsSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> PreparedFamsFace:
        """Align, crop and mask the face. `box` is taken for parity with the SD 1.5
        backend; the alignment itself is defined by the landmarks."""
        _check_inputs(frame_rgb, box, landmarks68)
        check_cancel(cancel)
        first_message = self.device.warning or "Aligning the face"
        _report(on_progress, Progress(STAGE_PREPARE, 0, settings.effective_steps, first_message))
        placement = plan_alignment(landmarks68, frame_rgb.shape, settings.face_size)
        crop = extract_aligned(frame_rgb, placement)
        landmarks_crop = placement.frame_to_crop(landmarks68)
        mask = aligned_face_mask(
            crop,
            landmarks_crop,
            dilate=settings.mask_dilate,
            feather=settings.mask_feather,
            parser=self.parser,
        )
        check_cancel(cancel)
        return PreparedFamsFace(placement, crop, landmarks_crop, mask)

    def generate_prepared(
        self,
        frame_rgb: np.ndarray,
        prepared: PreparedFamsFace,
        settings: FamsSettings,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> FamsResult:
        """The diffusion part of `generate` for a face made ready by `prepare`."""
        check_cancel(cancel)
        if prepared.crop.shape[0] != settings.face_size:
            raise ValueError("the face was prepared for another face_size")
        generated = self._denoise(prepared.crop, settings, on_progress, cancel)
        mask = prepared.mask
        if settings.colour_match:
            region = mask.alpha >= _COLOUR_REGION_ALPHA
            if not region.any():
                region = mask.pipeline_mask > 0
            generated = match_colours(generated, prepared.crop, region)
        return FamsResult(
            generated_crop=generated,
            composited_crop=blend_in_crop(prepared.crop, generated, mask),
            composited_frame=paste_into_frame(frame_rgb, generated, mask, prepared.placement),
            mask=mask,
            placement=prepared.placement,
            landmarks_crop=prepared.landmarks_crop,
            settings=settings,
        )

    def generate_faces(
        self,
        frame_rgb: np.ndarray,
        faces: Sequence[FaceRequest],
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> MultiFaceResult:
        """Replace several faces of one frame. Every face is cropped from the original
        frame (a neighbour's new face never leaks into its reference), and the new faces
        are pasted one after the other; progress counts the steps of all faces."""
        total = sum(face.settings.effective_steps for face in faces)
        prepared = [
            self.prepare(frame_rgb, f.box, f.landmarks68, f.settings, cancel=cancel) for f in faces
        ]
        frame = frame_rgb.copy()
        results: list[FamsResult] = []
        done = 0
        for face, ready in zip(faces, prepared, strict=True):
            forward = _offset_progress(on_progress, done, total)
            result = self.generate_prepared(
                frame, ready, face.settings, on_progress=forward, cancel=cancel
            )
            frame = result.composited_frame
            results.append(result)
            done += face.settings.effective_steps
        return MultiFaceResult(frame=frame, faces=tuple(results))

    def _denoise(
        self,
        crop: np.ndarray,
        settings: FamsSettings,
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> np.ndarray:
        total = settings.effective_steps

        def on_step_end(
            _pipe: Any, step: int, _timestep: Any, _tensors: dict[str, Any]
        ) -> dict[str, Any]:
            _report(on_progress, Progress(STAGE_DENOISE, step + 1, total))
            # Raising here aborts the loop before the next UNet call.
            check_cancel(cancel)
            return {}

        # A CPU generator gives the same noise for a seed on every device.
        generator = torch.Generator(device="cpu").manual_seed(int(settings.seed))
        try:
            images = self._pipeline(
                crop,
                degree=settings.degree,
                guidance=settings.guidance,
                steps=settings.steps,
                generator=generator,
                callback_on_step_end=on_step_end,
            )
        except OperationCancelled:
            raise
        except (RuntimeError, torch.OutOfMemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            free_device_memory(self.device)
            raise ModelError(
                f"Not enough GPU memory to generate a face with FAMS at {crop.shape[0]} px "
                f"on {self.device.describe()}.",
                hint="Close other programs using the GPU, or generate on the CPU (slower).",
            ) from exc
        return np.clip(np.rint(images[0] * 255.0), 0, 255).astype(np.uint8)


def _check_inputs(frame_rgb: np.ndarray, box: np.ndarray, landmarks68: np.ndarray) -> None:
    if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise ValueError("frame_rgb must be an (H, W, 3) uint8 RGB image")
    if np.asarray(box).ravel().shape[0] < 4:
        raise ValueError("box must be (x0, y0, x1, y1)")
    if np.asarray(landmarks68).shape != (68, 2):
        raise ValueError("landmarks68 must have shape (68, 2)")


def _report(callback: ProgressCallback | None, progress: Progress) -> None:
    if callback is not None:
        callback(progress)


def _offset_progress(
    callback: ProgressCallback | None, done: int, total: int
) -> ProgressCallback | None:
    if callback is None:
        return None

    def forward(progress: Progress) -> None:
        callback(Progress(progress.stage, done + progress.done, total, progress.message))

    return forward
