"""Compositing an animated face into the original frame: face-shaped mask, Lab colour
matching, and the live frame where the face's source image ends."""

from __future__ import annotations

import numpy as np
import pytest
from test_fallback_warp import embedded_models, read_frames

from anonnet_studio.core.anonymize.masks import Ellipse, ellipse_mask
from anonnet_studio.core.motion.composite import (
    MAX_GAIN,
    AnimatedPatch,
    ColourMatcher,
    affine_coverage,
    composite_face,
    lab_stats,
    match_colour,
    stats_weights,
    to_lab,
    warp_into_window,
    with_frame_outside_coverage,
)
from tests.conftest import fixture_video


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray, Ellipse]:
    """Frame 0 of lp_d18 (grey wall) and of lp_d11 (green wall), and an ellipse over the
    lp_d18 face."""
    d18 = read_frames(fixture_video("lp_d18.mp4"), 1)[0]
    d11 = read_frames(fixture_video("lp_d11.mp4"), 1)[0][:480, :480]
    box = max(embedded_models().detector.detect(d18), key=lambda d: d.score).box
    ellipse = Ellipse(
        cx=float(box[0] + box[2]) / 2,
        cy=float(box[1] + box[3]) / 2,
        semi_x=float(box[2] - box[0]) / 2,
        semi_y=float(box[3] - box[1]) / 2,
        angle=0.1,
        feather=12.0,
    )
    return d18, d11, ellipse


def test_composite_changes_only_the_face_shaped_mask(faces) -> None:
    frame, other, ellipse = faces
    mask = ellipse_mask(ellipse, frame.shape[1], frame.shape[0])
    out = composite_face(frame, other[mask.slices], mask)

    inside = np.zeros(frame.shape[:2], bool)
    inside[mask.slices] = mask.alpha > 0
    assert np.array_equal(out[~inside], frame[~inside])  # background and body untouched
    core = np.zeros(frame.shape[:2], bool)
    core[mask.slices] = mask.alpha >= 1.0
    assert np.array_equal(out[core], other[core])
    # The window's corners (inside the crop square, outside the ellipse) stay original.
    assert np.array_equal(out[mask.y0, mask.x0], frame[mask.y0, mask.x0])


def test_colour_matching_moves_the_lab_statistics_to_the_frame(faces) -> None:
    frame, other, ellipse = faces
    mask = ellipse_mask(ellipse, frame.shape[1], frame.shape[0])
    patch, reference = other[mask.slices], frame[mask.slices]
    weights = stats_weights(mask)
    before = lab_stats(to_lab(patch), weights)
    target = lab_stats(to_lab(reference), weights)
    assert before is not None and target is not None
    assert np.abs(before.mean - target.mean).max() > 5  # a green wall against a grey one

    matched = lab_stats(to_lab(match_colour(patch, reference, mask)), weights)
    assert matched is not None
    np.testing.assert_allclose(matched.mean, target.mean, atol=1.5)
    gain = np.clip(target.std / before.std, 1 / MAX_GAIN, MAX_GAIN)
    np.testing.assert_allclose(matched.std, before.std * gain, rtol=0.1, atol=0.5)


def test_the_gain_is_bounded_on_a_flat_reference(faces) -> None:
    frame, other, ellipse = faces
    mask = ellipse_mask(ellipse, frame.shape[1], frame.shape[0])
    patch = other[mask.slices]
    flat = np.full_like(patch, 128)
    matched = lab_stats(to_lab(match_colour(patch, flat, mask)), stats_weights(mask))
    original = lab_stats(to_lab(patch), stats_weights(mask))
    assert matched is not None and original is not None
    # A flat frame would scale the face's contrast to zero; the gain stops at 1/MAX_GAIN.
    assert matched.std[0] >= original.std[0] / MAX_GAIN * 0.9


def test_colour_statistics_are_smoothed_over_time(faces) -> None:
    """A reference whose brightness flickers from frame to frame moves the matched face's
    brightness less with the per-track smoothing than frame by frame."""
    frame, other, ellipse = faces
    mask = ellipse_mask(ellipse, frame.shape[1], frame.shape[0])
    patch = other[mask.slices]
    references = [np.clip(frame[mask.slices].astype(int) + d, 0, 255).astype(np.uint8)
                  for d in (0, 30, 0, 30, 0, 30)]  # fmt: skip
    weights = stats_weights(mask)

    def brightness(image: np.ndarray) -> float:
        stats = lab_stats(to_lab(image), weights)
        assert stats is not None
        return float(stats.mean[0])

    matcher = ColourMatcher()
    smoothed = [brightness(matcher.match("track", patch, ref, mask)) for ref in references]
    per_frame = [brightness(match_colour(patch, ref, mask)) for ref in references]
    assert np.ptp(smoothed[2:]) < 0.5 * np.ptp(per_frame[2:])
    matcher.forget("track")
    assert brightness(matcher.match("track", patch, references[1], mask)) == pytest.approx(
        per_frame[1], abs=0.5
    )


def test_the_live_frame_shows_only_where_the_source_image_ends(faces) -> None:
    frame, other, _ = faces
    source = other[100:300, 100:300]  # a 200 px image, drawn 1:1 at (50, 60) in a window
    to_frame = np.array([[1.0, 0.0, 50.0], [0.0, 1.0, 60.0]])
    window = (0, 0, 320, 320)
    rgb = warp_into_window(source, to_frame, window)
    coverage = affine_coverage(np.vstack([to_frame, [0, 0, 1]]), source.shape, 320)
    assert coverage is not None
    out = with_frame_outside_coverage(AnimatedPatch(rgb, coverage), frame[:320, :320])

    assert np.array_equal(out[150, 150], source[90, 100])  # well inside the source
    assert np.array_equal(out[10, 10], frame[10, 10])  # beyond it: the live frame
    assert np.array_equal(out[300, 300], frame[300, 300])
    full = with_frame_outside_coverage(AnimatedPatch(rgb, None), frame[:320, :320])
    assert full is rgb
