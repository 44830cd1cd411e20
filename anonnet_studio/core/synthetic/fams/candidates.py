"""The FAMS backend behind the shared anonymity-check loop (`verify.verified_candidates`):
a person's settings become FAMS parameters, and each retry raises the degree d."""

from __future__ import annotations

from typing import Any

import numpy as np

from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.synthetic.candidates import AttemptParameters
from anonnet_studio.core.synthetic.devices import ComputeDevice
from anonnet_studio.core.synthetic.fams.generator import (
    BACKEND_NAME,
    FamsFaceGenerator,
    FamsResult,
)
from anonnet_studio.core.synthetic.fams.settings import FamsSettings, escalated


class FamsCandidates:
    """FAMS for one person: `settings` for the first attempt, `escalated` for retries.
    `strength` is the person's strength that `settings.degree` came from (recorded)."""

    def __init__(self, generator: FamsFaceGenerator, settings: FamsSettings, strength: float):
        self._generator = generator
        self._settings = settings
        self._strength = float(strength)

    @property
    def max_attempts(self) -> int:
        return self._settings.max_retries + 1

    @property
    def device(self) -> ComputeDevice:
        return self._generator.device

    def settings_for(self, index: int) -> FamsSettings:
        """The parameters of attempt `index` (0: the person's own)."""
        return self._settings if index == 0 else escalated(self._settings, index)

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
    ) -> tuple[FamsResult, AttemptParameters]:
        current = self.settings_for(index)
        result = self._generator.generate_prepared(
            frame_rgb, prepared, current, on_progress=on_progress, cancel=cancel
        )
        parameters = AttemptParameters(
            seed=current.seed,
            strength=self._strength,
            steps=current.steps,
            guidance=current.guidance,
            backend=BACKEND_NAME,
            degree=current.degree,
        )
        return result, parameters
