"""Identity panel: every edit is one undoable step and the views follow the document."""

from __future__ import annotations

import random

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest

from anonnet_studio.project.prompting import auto_prompt
from anonnet_studio.project.schema import Method
from anonnet_studio.ui.backend_status import BackendStatus
from anonnet_studio.ui.identity.gallery import IDENTITY_ID_ROLE, IDENTITY_MIME
from anonnet_studio.ui.identity.panel import IdentityPanel


def _panel(qtbot, document, state, select: str | None = "P1") -> IdentityPanel:
    panel = IdentityPanel(document, state, random.Random(11))
    qtbot.addWidget(panel)
    panel.resize(460, 900)
    panel.show()
    if select:
        state.select_identity(select)
    return panel


def test_gallery_lists_people_in_document_order(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    model = panel.model
    ids = [model.index(r).data(IDENTITY_ID_ROLE) for r in range(model.rowCount())]
    assert ids == ["P1", "P2", "P3"]
    assert panel.gallery.currentIndex().data(IDENTITY_ID_ROLE) == "P1"
    panel.gallery.setCurrentIndex(model.index(2))
    assert state.identity_id == "P3"
    assert panel.editor.name.text() == "Person 3"


def test_attribute_override_updates_the_prompt_and_undo_restores_it(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P3")
    editor = panel.editor
    before = editor.generation.prompt.toPlainText()
    assert before == auto_prompt(document.project.identity("P3"))
    combo = editor.attributes.overrides["age_group"]
    combo.setCurrentIndex(combo.findData("senior"))
    combo.activated.emit(combo.currentIndex())
    after = editor.generation.prompt.toPlainText()
    assert "senior" in after and after != before
    assert document.project.identity("P3").attributes.age_group.override == "senior"
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert editor.generation.prompt.toPlainText() == before
    assert combo.currentIndex() == 0  # back to "Auto (detected)"
    document.undo_stack.redo()
    assert "senior" in editor.generation.prompt.toPlainText()


def test_a_slider_drag_is_one_undo_step(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    strength = panel.editor.generation.strength
    original = document.project.identity("P1").generation.strength
    strength.setSliderDown(True)
    for value in (90, 80, 70, 60):
        strength.setValue(value)
    strength.setSliderDown(False)  # emits sliderReleased: the drag is over
    assert document.project.identity("P1").generation.strength == 0.6
    assert document.undo_stack.count() == 1
    # The next drag is a separate step.
    strength.setSliderDown(True)
    strength.setValue(50)
    strength.setSliderDown(False)
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.project.identity("P1").generation.strength == original
    assert strength.value() == round(original * 100)


def test_custom_prompt_then_reset_to_auto(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P2")
    box = panel.editor.generation
    box.prompt.setPlainText("A photorealistic portrait of a bearded sailor")
    box.prompt.commit()
    identity = document.project.identity("P2")
    assert identity.generation.prompt_override == "A photorealistic portrait of a bearded sailor"
    assert box.reset_prompt.isEnabled()
    box.reset_prompt.click()
    assert identity.generation.prompt_override is None
    assert box.prompt.toPlainText() == auto_prompt(identity)
    assert document.undo_stack.count() == 2


def test_hide_toggle_method_seed_and_dice(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P2")
    editor = panel.editor
    editor.hidden.click()
    assert document.project.identity("P2").hidden is False
    editor.method.setCurrentIndex(editor.method.findData("pixelate"))
    editor.method.activated.emit(editor.method.currentIndex())
    assert document.project.identity("P2").method is Method.PIXELATE
    editor.generation.seed.setValue(4242)
    assert document.project.identity("P2").generation.seed == 4242
    editor.generation.dice.click()
    rolled = document.project.identity("P2").generation.seed
    assert 1000 <= rolled <= 9999 and editor.generation.seed.value() == rolled
    assert document.undo_stack.count() == 4
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    assert document.project.identity("P2").hidden is True
    assert editor.hidden.isChecked()


def test_dropping_one_person_onto_another_merges_them(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    model = panel.model
    mime = QMimeData()
    mime.setData(IDENTITY_MIME, b"P3")
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, model.index(0))
    model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, model.index(0))
    project = document.project
    assert [i.id for i in project.identities] == ["P1", "P2"]
    assert model.rowCount() == 2
    assert all(project.tracks[t].identity_id == "P1" for t in project.identity("P1").track_ids)
    assert state.identity_id == "P1"
    document.undo_stack.undo()
    assert [i.id for i in project.identities] == ["P1", "P2", "P3"]
    assert model.rowCount() == 3


def test_context_menu_merges_and_splits(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    menu = panel.build_context_menu("P2")
    merge = next(
        a for a in menu.findChildren(type(menu.menuAction())) if a.objectName() == "merge-into-P3"
    )
    merge.trigger()
    assert not document.project.has_identity("P2")
    document.undo_stack.undo()
    # P1 has two tracks: split the second one off into a new person
    menu = panel.build_context_menu("P1")
    split = next(a for a in menu.findChildren(QAction) if a.objectName() == "split-track-4")
    split.trigger()
    project = document.project
    new = project.identities[1]
    assert new.id == "P4" and new.track_ids == [4] and new.needs_attention
    assert state.identity_id == "P4"
    assert panel.model.rowCount() == 4
    document.undo_stack.undo()
    assert [i.id for i in project.identities] == ["P1", "P2", "P3"]


def test_rename_in_the_gallery_is_undoable(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    model = panel.model
    assert model.setData(model.index(1), "Interviewer", Qt.ItemDataRole.EditRole)
    assert document.project.identity("P2").name == "Interviewer"
    assert model.index(1).data() == "Interviewer"
    assert document.undo_stack.undoText().startswith("Rename")
    document.undo_stack.undo()
    assert model.index(1).data() == "Person 2"


def test_name_field_renames_on_enter(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P3")
    name = panel.editor.name
    name.selectAll()
    QTest.keyClicks(name, "Guest")
    QTest.keyClick(name, Qt.Key.Key_Return)
    assert document.project.identity("P3").name == "Guest"


def test_rejected_edit_is_reported_and_changes_nothing(qtbot, document, state):
    rejected = []
    document.edit_rejected.connect(rejected.append)
    assert not document.set_field("P1", "generation.steps", 10_000)
    assert rejected and "steps" in rejected[0]
    assert document.undo_stack.count() == 0


def test_regenerate_is_disabled_with_the_missing_model_named(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    panel.editor.set_generation_available(False, "needs realistic-vision-v5")
    button = panel.editor.generation.regenerate
    assert not button.isEnabled() and "realistic-vision-v5" in button.toolTip()


def test_with_nobody_selected_the_editor_shows_no_method_and_no_seed(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P1")  # P1: synthetic, with a seed
    editor = panel.editor
    seed = document.project.identity("P1").generation.seed
    assert editor.method.currentText() == "Synthetic face"
    assert editor.generation.seed.text() == str(seed)
    state.select_identity(None)
    assert not editor.method.isEnabled() and editor.method.currentText() == ""
    assert not editor.hidden.isChecked()
    assert not editor.generation.isEnabled()
    assert editor.generation.seed.text() == "" and editor.generation.steps.text() == ""
    state.select_identity("P1")  # the same values come back for the same person
    assert editor.generation.seed.text() == str(seed)
    assert editor.method.currentText() == "Synthetic face"


def test_a_kept_person_shows_keep_as_their_method(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P2")
    editor = panel.editor
    assert editor.method.currentText() == "Blur" and editor.method.isEnabled()
    editor.hidden.click()  # keep P2 visible
    assert document.project.identity("P2").hidden is False
    assert editor.method.currentText() == "Keep (no change)"
    assert not editor.method.isEnabled()
    assert "Anonymize this person" in editor.method.toolTip()
    editor.hidden.click()  # hidden again: the stored method is back
    assert editor.method.currentText() == "Blur" and editor.method.isEnabled()


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def test_choosing_fams_is_one_undo_step_and_shows_strength_as_d(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P1")
    box = panel.editor.generation
    combo = box.backend.combo
    assert [combo.itemText(r) for r in range(combo.count())] == [
        "Default (AnonNET)",
        "AnonNET (SD 1.5 + ControlNets)",
        "FAMS (SD 2.1 + ReferenceNet)",
    ]
    assert combo.currentData() is None and box.strength_label.text() == "Strength"
    document.set_field("P1", "generation.strength", 0.8)
    _choose(combo, "fams")
    assert document.project.identity("P1").generation.backend == "fams"
    assert document.undo_stack.count() == 2
    assert document.undo_stack.undoText() == "Generate the face of Person 1 with fams"
    # Strength is shown as FAMS's degree d = 1.25 x strength; FAMS reads no prompt.
    assert box.strength_label.text() == "Degree d" and box.strength_value.text() == "d = 1.00"
    assert "1.2–1.3" in box.strength.toolTip()
    assert not box.prompt.isEnabled()
    box.strength.setValue(100)
    assert box.strength_value.text() == "d = 1.25"
    document.undo_stack.undo()  # the strength
    document.undo_stack.undo()  # the backend
    assert document.project.identity("P1").generation.backend is None
    assert combo.currentData() is None and box.strength_label.text() == "Strength"
    assert box.strength_value.text() == "0.80" and box.prompt.isEnabled()
    document.undo_stack.redo()
    assert combo.currentData() == "fams"


def test_a_backend_without_weights_is_disabled_with_the_reason(qtbot, document, state):
    panel = _panel(qtbot, document, state, select="P1")
    box = panel.editor.generation
    fams_missing = ("face-anon-simple", "stable-diffusion-2-1", "clip-vit-large-patch14")
    box.set_backend_status(BackendStatus({"anonnet": (), "fams": fams_missing}, checking=False))
    row = box.backend.combo.findData("fams")
    assert not box.backend.is_offered(row)
    reason = box.backend.reason(row)
    assert "not installed" in reason
    assert f"anonnet-studio models download {' '.join(fams_missing)}" in reason
    assert box.backend.is_offered(box.backend.combo.findData(None))
    assert box.regenerate.isEnabled() and not box.backend.note.isVisibleTo(panel)
    # A person who chose FAMS earlier (or in another program) is told why it cannot run.
    document.set_field("P1", "generation.backend", "fams")
    assert box.backend.note.isVisibleTo(panel) and "face-anon-simple" in box.backend.note.text()
    assert not box.regenerate.isEnabled() and "face-anon-simple" in box.regenerate.toolTip()
