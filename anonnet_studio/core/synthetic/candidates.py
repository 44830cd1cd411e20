"""What the anonymity check's retry loop needs from a synthetic-face backend.

`verify.verified_candidates` is one loop for both backends: it asks a `CandidateMaker`
to prepare the face once and then to make attempt 0, 1, 2... (each retry pushes further
from the original: strength, guidance and steps for AnonNET, the degree d for FAMS, and a
new seed for both), and checks every candidate the same way. `AnonNetCandidates` wraps
the SD 1.5 generator; `fams.candidates.FamsCandidates` the FAMS one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.synthetic.devices import ComputeDevice
from anonnet_studio.core.synthetic.generator import GenerationResult, SyntheticFaceGenerator
from anonnet_studio.core.synthetic.settings import GenerationSettings, escalated


class PreparedCrop(Protocol):
    """A face made ready once for every attempt (crop and original landmarks in it)."""

    @property
    def crop(self) -> np.ndarray: ...

    @property
    def landmarks_crop(self) -> np.ndarray: ...


class CropPlacementLike(Protocol):
    def crop_to_frame_matrix(self) -> np.ndarray: ...


class Candidate(Protocol):
    """One generated face, in the crop it was generated in."""

    @property
    def composited_crop(self) -> np.ndarray: ...

    @property
    def landmarks_crop(self) -> np.ndarray: ...

    @property
    def placement(self) -> CropPlacementLike: ...


@dataclass(frozen=True, slots=True)
class AttemptParameters:
    """The parameters one attempt ran with, as `GenerationAttempt` records them."""

    seed: int
    strength: float
    steps: int
    guidance: float
    backend: str = "anonnet"
    degree: float | None = None  # FAMS's anonymization degree


class CandidateMaker(Protocol):
    """One backend, set up for one person's settings."""

    @property
    def max_attempts(self) -> int: ...

    @property
    def device(self) -> ComputeDevice: ...

    def prepare(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Any: ...  # a `PreparedCrop`, passed back to `make`

    def make(
        self,
        frame_rgb: np.ndarray,
        prepared: Any,
        index: int,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[Candidate, AttemptParameters]: ...


class AnonNetCandidates:
    """The SD 1.5 backend: inpainting with the prompt, retries escalate `settings`."""

    def __init__(
        self,
        generator: SyntheticFaceGenerator,
        prompt: str,
        negative_prompt: str,
        settings: GenerationSettings,
    ) -> None:
        self._generator = generator
        self._prompt = prompt
        self._negative_prompt = negative_prompt
        self._settings = settings

    @property
    def max_attempts(self) -> int:
        return self._settings.escalation.max_retries + 1

    @property
    def device(self) -> ComputeDevice:
        return self._generator.device

    def prepare(
        self,
        frame_rgb: np.ndarray,
        box: np.ndarray,
        landmarks68: np.ndarray,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        return self._generator.prepare(
            frame_rgb, box, landmarks68, self._settings, on_progress=on_progress, cancel=cancel
        )

    def make(
        self,
        frame_rgb: np.ndarray,
        prepared: Any,
        index: int,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[GenerationResult, AttemptParameters]:
        current = self._settings if index == 0 else escalated(self._settings, index)
        result = self._generator.generate_prepared(
            frame_rgb,
            prepared,
            self._prompt,
            self._negative_prompt,
            current,
            on_progress=on_progress,
            cancel=cancel,
        )
        parameters = AttemptParameters(
            current.seed, current.strength, current.steps, current.guidance
        )
        return result, parameters
