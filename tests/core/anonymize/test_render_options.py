"""Side-by-side output, fallbacks that never show the original, and mask stability on a
real track."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anonnet_studio.core.anonymize.masks import SoftMask, face_ellipses
from anonnet_studio.core.anonymize.plan import Region, regions_at
from anonnet_studio.core.anonymize.renderer import render
from anonnet_studio.core.vision.factory import VisionModels
from tests.core.anonymize.conftest import AnalysedClip
from tests.core.anonymize.helpers import (
    faces_left_to_right,
    frames_of,
    people_by_side,
    plan_with,
    psnr,
    verification_distance,
    with_method,
)


class BrokenSyntheticStage:
    """A synthetic stage whose generator fails on every other frame (e.g. out of memory)."""

    identities = ("P1", "P2")

    def __init__(self) -> None:
        self.calls = 0

    def face_patch(self, frame: np.ndarray, region: Region, mask: SoftMask) -> np.ndarray | None:
        self.calls += 1
        if region.frame_index % 2:
            raise RuntimeError("CUDA out of memory")
        return None  # no synthetic face for this frame either


def test_side_by_side_shows_original_and_falls_back_to_blur_without_synthetic(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    left, right = people_by_side(two_shot.analysis)
    plan = plan_with(
        [with_method(left, "synthetic"), with_method(right, "keep")], side_by_side=True
    )
    dest = tmp_path / "side_by_side.mp4"

    result = render(two_shot.path, dest, plan, vision, synthetic=None)

    assert set(result.method_fallbacks) == {left.identity_id}
    assert "blur" in result.method_fallbacks[left.identity_id]
    originals, rendered = frames_of(two_shot.path), frames_of(dest)
    width = originals[0].shape[1]
    assert rendered[0].shape[1] == 2 * width
    for index in range(0, len(originals), 4):
        original, output = originals[index], rendered[index]
        assert psnr(output[:, :width], original) > 38.0
        left_face = faces_left_to_right(vision, original)[0]
        distance = verification_distance(vision, original, output[:, width:], left_face)
        assert distance > vision.embedder.threshold


def test_a_failing_synthetic_stage_never_shows_the_original(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    """Odd frames: the stage raises, so the face gets a solid fill. Even frames: it has no
    face to offer, so the face is blurred (the fallback redaction) and counted."""
    left, right = people_by_side(two_shot.analysis)
    grey = (128, 128, 128)
    plan = plan_with([with_method(left, "synthetic", mask_color=grey), with_method(right, "keep")])
    stage = BrokenSyntheticStage()
    dest = tmp_path / "broken.mp4"

    result = render(two_shot.path, dest, plan, vision, synthetic=stage)

    originals, rendered = frames_of(two_shot.path), frames_of(dest)
    odd = len(originals) // 2
    assert stage.calls == len(originals)
    assert result.face_failure_count == odd
    assert {f.identity_id for f in result.face_failures} == {left.identity_id}
    assert result.synthetic_fallback_frames == {left.identity_id: len(originals) - odd}
    assert result.method_fallbacks == {}
    for index in (5, 6, 29, 30):
        ellipse = regions_at(plan, index)[0].ellipse
        cx, cy = int(ellipse.cx), int(ellipse.cy)
        patch = rendered[index][cy - 10 : cy + 10, cx - 10 : cx + 10].astype(int)
        assert (np.abs(patch - grey).max() < 10) == bool(index % 2)
        face = faces_left_to_right(vision, originals[index])[0]
        distance = verification_distance(vision, originals[index], rendered[index], face)
        assert distance > vision.embedder.threshold


def test_mask_geometry_is_stable_frame_to_frame_on_a_real_track(
    two_shot: AnalysedClip,
) -> None:
    """The right person (d3) turns her head; her mask must follow without jitter."""
    _, right = people_by_side(two_shot.analysis)
    plan = plan_with([right], coverage_pad_frames=0)
    track = max(right.tracks, key=lambda t: len(t.frames))
    assert len(track.frames) >= 30
    ellipses = [regions_at(plan, int(f))[0].ellipse for f in track.frames]
    size = np.array([e.size for e in ellipses])
    centre = np.array([[e.cx, e.cy] for e in ellipses])
    step = np.linalg.norm(np.diff(centre, axis=0), axis=1) / size[1:]
    axes = np.array([[e.semi_x, e.semi_y] for e in ellipses])
    axis_change = np.abs(np.diff(axes, axis=0)) / axes[1:]
    angle_change = np.degrees(np.abs(np.diff([e.angle for e in ellipses])))
    assert step.max() < 0.03, step.max()
    assert axis_change.max() < 0.03, axis_change.max()
    assert angle_change.max() < 2.0, angle_change.max()
    # Smoothing makes every mask parameter steadier than the per-frame face geometry it
    # comes from (which the analysis has already smoothed once).
    raw = face_ellipses(track.boxes, track.landmarks5, right.mask_margin)
    smoothed = np.array([[e.cx, e.cy, e.semi_x, e.semi_y, e.angle] for e in ellipses])
    jerk = lambda params: np.abs(np.diff(params, n=2, axis=0)).mean(axis=0)  # noqa: E731
    assert np.all(jerk(smoothed) < 0.85 * jerk(raw)), jerk(smoothed) / jerk(raw)
