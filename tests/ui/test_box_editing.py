"""Mouse geometry of box editing (no widgets): draw, move, resize by edge or corner, click."""

from __future__ import annotations

import pytest

from anonnet_studio.ui.preview.box_editing import BoxInteraction, CanvasTool, EditableBox

FACE = EditableBox(("track", 1), (100.0, 100.0, 200.0, 220.0))
REGION = EditableBox(("region", 4), (50.0, 50.0, 400.0, 300.0))


def _drag(tool, start, end, boxes=(FACE,), tolerance=5.0):
    interaction = BoxInteraction()
    grabbed = interaction.press(start, tool, list(boxes), tolerance)
    interaction.move(end, threshold=2.0)
    return grabbed, interaction.release()


def test_a_drawing_tool_turns_a_drag_into_a_new_box_whatever_the_direction():
    grabbed, outcome = _drag(CanvasTool.DRAW_FACE, (300, 240), (260, 180))
    assert grabbed and outcome.kind == "drawn" and outcome.box == (260, 180, 300, 240)
    grabbed, outcome = _drag(CanvasTool.DRAW_REGION, (10, 10), (11, 11))
    assert outcome is None, "a press without a drag draws nothing"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((150, 160), (170, 150), (120, 90, 220, 210)),  # inside: moves
        ((200, 160), (230, 160), (100, 100, 230, 220)),  # right edge: wider
        ((150, 100), (150, 80), (100, 80, 200, 220)),  # top edge: taller
        ((100, 220), (80, 250), (80, 100, 200, 250)),  # bottom-left corner
        ((203, 223), (213, 233), (100, 100, 210, 230)),  # just outside the corner still grabs
    ],
)
def test_select_moves_or_resizes_the_box_under_the_mouse(start, end, expected):
    grabbed, outcome = _drag(CanvasTool.SELECT, start, end)
    assert grabbed and outcome.kind == "edited" and outcome.key == ("track", 1)
    assert outcome.box == pytest.approx(expected)


def test_a_click_selects_and_the_smallest_box_wins_where_boxes_overlap():
    grabbed, outcome = _drag(CanvasTool.SELECT, (150, 160), (150, 161), boxes=(REGION, FACE))
    assert grabbed and outcome.kind == "clicked" and outcome.key == ("track", 1)
    grabbed, outcome = _drag(CanvasTool.SELECT, (300, 280), (300, 280), boxes=(REGION, FACE))
    assert outcome.key == ("region", 4)
    interaction = BoxInteraction()
    assert not interaction.press((500, 500), CanvasTool.SELECT, [FACE], 5.0)
    assert interaction.release() is None


def test_dragging_an_edge_past_the_opposite_one_flips_instead_of_inverting():
    _, outcome = _drag(CanvasTool.SELECT, (200, 160), (60, 160))
    assert outcome.box == (60, 100, 100, 220)
