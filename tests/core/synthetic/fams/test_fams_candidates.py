"""FAMS behind the shared anonymity-check loop: a person's settings become FAMS's, and a
retry raises the degree d (and changes the seed) until a candidate passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from anonnet_studio.core.synthetic.devices import select_device
from anonnet_studio.core.synthetic.fams.candidates import FamsCandidates
from anonnet_studio.core.synthetic.fams.settings import (
    DEFAULT_DEGREE,
    FamsSettings,
    degree_for_strength,
    fams_settings,
)
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.synthetic.verify import IdentityComparison, verified_candidates


@dataclass(frozen=True)
class _Placement:
    def crop_to_frame_matrix(self) -> np.ndarray:
        return np.eye(2, 3)


@dataclass(frozen=True)
class _Prepared:
    crop: np.ndarray = field(default_factory=lambda: np.zeros((8, 8, 3), np.uint8))
    landmarks_crop: np.ndarray = field(default_factory=lambda: np.zeros((68, 2), np.float32))


@dataclass(frozen=True)
class _Result:
    settings: FamsSettings
    composited_crop: np.ndarray = field(default_factory=lambda: np.zeros((8, 8, 3), np.uint8))
    landmarks_crop: np.ndarray = field(default_factory=lambda: np.zeros((68, 2), np.float32))
    placement: _Placement = field(default_factory=_Placement)


class _RecordingGenerator:
    """Stands in for `FamsFaceGenerator`: records what each generation was asked for."""

    device = select_device("cpu")

    def __init__(self) -> None:
        self.asked: list[FamsSettings] = []

    def prepare(self, *_: Any, **__: Any) -> _Prepared:
        return _Prepared()

    def generate_prepared(self, _frame: Any, _prepared: Any, settings: FamsSettings, **_: Any):
        self.asked.append(settings)
        return _Result(settings)


class _PassesAt:
    """A verifier that finds the candidate anonymous from the `n`th call on."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def compare(self, *_: Any) -> IdentityComparison:
        self.calls += 1
        distance = 0.9 if self.calls >= self.n else 0.1
        return IdentityComparison(distance=distance, threshold=0.5)


def _run(verifier: _PassesAt, settings: FamsSettings) -> tuple[Any, _RecordingGenerator]:
    generator = _RecordingGenerator()
    maker = FamsCandidates(generator, settings, strength=1.0)  # type: ignore[arg-type]
    frame = np.zeros((32, 32, 3), np.uint8)
    verified = verified_candidates(
        maker, verifier, frame, np.array([0, 0, 8, 8]), np.zeros((68, 2), np.float32)
    )
    return verified, generator


def test_every_retry_raises_the_degree_and_changes_the_seed() -> None:
    settings = FamsSettings(seed=1234)
    verified, generator = _run(_PassesAt(99), settings)
    degrees = [s.degree for s in generator.asked]
    assert degrees == pytest.approx([1.25, 1.35, 1.45, 1.55])
    assert len({s.seed for s in generator.asked}) == 4 and generator.asked[0].seed == 1234
    # What ran is what the project records.
    assert [a.degree for a in verified.attempts] == degrees
    assert [a.backend for a in verified.attempts] == ["fams"] * 4
    assert [a.strength for a in verified.attempts] == [1.0] * 4
    assert verified.needs_attention and not any(a.passed for a in verified.attempts)


def test_retries_stop_at_the_first_candidate_that_passes() -> None:
    verified, generator = _run(_PassesAt(2), FamsSettings())
    assert len(generator.asked) == 2 and verified.chosen_index == 1
    assert verified.chosen.settings.degree == pytest.approx(1.35)
    assert not verified.needs_attention


def test_a_persons_settings_map_onto_fams() -> None:
    default = fams_settings(GenerationSettings(seed=77))
    # The defaults give the authors' published setting.
    assert (default.seed, default.degree, default.steps, default.guidance) == (77, 1.25, 25, 4.0)
    assert default.face_size == 512  # max_side 612, capped at the trained size
    assert default.max_retries == GenerationSettings().escalation.max_retries
    draft = fams_settings(GenerationSettings(strength=0.5, steps=3, max_side=100, guidance=10))
    assert (draft.degree, draft.steps, draft.face_size, draft.guidance) == (0.625, 2, 96, 5.0)
    assert degree_for_strength(1.0) == DEFAULT_DEGREE and degree_for_strength(0.01) > 0
