"""Regions that are not faces: redacted as rectangles or ellipses over their frame range,
through the same renderer (and the same preview path) as faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anonnet_studio.core.anonymize import areas as areas_module
from anonnet_studio.core.anonymize.areas import area_mask, redact_areas
from anonnet_studio.core.anonymize.methods import default_redactors
from anonnet_studio.core.anonymize.plan import AreaPlan, RedactionMethod, RenderPlan
from anonnet_studio.core.anonymize.redaction import FrameRedactor, redact_frame
from anonnet_studio.core.anonymize.renderer import render
from tests.core.anonymize.conftest import AnalysedClip
from tests.core.anonymize.helpers import frames_of, psnr


def _text_image() -> np.ndarray:
    """A grey frame with a white caption bar carrying black text (a name tag)."""
    image = np.full((240, 320, 3), 128, np.uint8)
    cv2.rectangle(image, (40, 150), (280, 200), (255, 255, 255), -1)
    cv2.putText(image, "JANE DOE", (55, 188), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 3)
    return image


def _area(method: RedactionMethod, shape: str = "rectangle", frames=(0,)) -> AreaPlan:
    frames = np.asarray(frames, dtype=np.int64)
    boxes = np.tile(np.array([[40, 150, 280, 200]], np.float32), (len(frames), 1))
    return AreaPlan("Name tag", shape, method, frames, boxes)


@pytest.mark.parametrize("method", [RedactionMethod.BLUR, RedactionMethod.PIXELATE])
def test_blur_and_pixelate_leave_no_letter_of_a_caption(method):
    image = _text_image()
    out = image.copy()
    redact_areas(out, RenderPlan([], areas=[_area(method)]), 0)
    inside_before = image[150:200, 40:280].astype(np.float64)
    inside_after = out[150:200, 40:280].astype(np.float64)
    # Letter strokes are gone: the bar's contrast collapses (std of a bar of text ~95).
    assert inside_after.std() < 0.5 * inside_before.std()
    assert psnr(image[150:200, 40:280], out[150:200, 40:280]) < 20
    # Outside the region (beyond the outward feather) nothing changes.
    assert np.array_equal(image[:140], out[:140]) and np.array_equal(image[210:], out[210:])


def test_a_solid_fill_ellipse_covers_its_inside_and_spares_the_corners():
    image = _text_image()
    out = image.copy()
    area = _area(RedactionMethod.MASK, "ellipse")
    redact_areas(out, RenderPlan([], areas=[area]), 0)
    assert np.all(out[175, 60:260] == 24), "the ellipse's middle row is solid fill"
    assert np.array_equal(out[151, 41], image[151, 41]), "the bar's corner is outside it"
    mask = area_mask(area, area.boxes[0], 320, 240)
    assert mask.alpha.max() == 1.0 and mask.x0 < 40 and mask.x1 > 280


def test_areas_apply_only_in_their_frames_and_a_failure_fills_the_region(monkeypatch):
    image = _text_image()
    plan = RenderPlan([], areas=[_area(RedactionMethod.BLUR, frames=(5, 6, 7))])
    untouched = image.copy()
    assert redact_areas(untouched, plan, 4) == 0 and np.array_equal(untouched, image)

    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(areas_module, "redacted_pixels", broken)
    out = image.copy()
    redactor = FrameRedactor(default_redactors())
    redact_frame(redactor, out, plan, 6)
    assert redactor.log.failure_count == 1
    assert np.all(out[160:190, 50:270] == 24), "covered, never left as it was"


def test_the_renderer_redacts_a_region_over_its_range_only(talk: AnalysedClip, tmp_path):
    frames = np.arange(10, 30)
    area = AreaPlan(
        "Screen", "rectangle", RedactionMethod.PIXELATE, frames,
        np.tile(np.array([[10, 200, 150, 300]], np.float32), (len(frames), 1)),
    )  # fmt: skip
    plan = RenderPlan([], leak_check=False, areas=[area], crf=10)
    output = tmp_path / "area.mp4"
    render(talk.path, output, plan, None)
    before, after = frames_of(talk.path), frames_of(output)
    for index, (original, rendered) in enumerate(zip(before, after, strict=True)):
        quality = psnr(original[200:300, 10:150], rendered[200:300, 10:150])
        if 10 <= index < 30:
            assert quality < 28, (index, quality)
        else:
            assert quality > 38, (index, quality)
