"""Save / open through the editor, recent files, autosave and crash recovery."""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.project.io import load_project
from anonnet_studio.ui.autosave import AutosaveManager
from anonnet_studio.ui.dialogs.messages import Answer, RecordingMessenger
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project


def test_save_then_reopen_through_the_worker(qtbot, window, tmp_path):
    window.document.set_project(fixture_project(), modified=True)
    assert window.isWindowModified() or window.document.is_modified()
    path = tmp_path / "interview.anonproj"
    assert window.files.save_as(path)
    assert not window.document.is_modified()
    assert window.document.path == path and "interview.anonproj" in window.windowTitle()
    window.document.set_field("P1", "hidden", False)
    assert window.document.is_modified()
    window.document.undo_stack.undo()
    assert not window.document.is_modified()  # back at the saved state

    window.document.set_project(None)
    with qtbot.waitSignal(window.files.document_loaded, timeout=30_000):
        window.files.open_path(path)
    assert window.document.path == path.resolve()
    assert window.document.project == load_project(path)
    assert path.resolve() in window.context.store.recent_files()
    recent = window.actions_.recent_menu.actions()
    assert recent and recent[0].data() == str(path.resolve())


def test_opening_an_unknown_file_type_explains_what_can_be_opened(qtbot, window, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    window.files.open_path(notes)
    (_title, message), *_ = window.messenger.errors
    assert "neither a video nor an AnonNET project" in message


def test_unsaved_changes_are_offered_for_saving_before_replacing(qtbot, worker, store, tmp_path):
    messenger = RecordingMessenger([Answer.CANCEL])
    window = make_window(qtbot, worker, store, tmp_path / "rec", messenger=messenger)
    window.document.set_project(fixture_project(), modified=True)
    assert not window.files.close_project()  # cancelled
    assert window.document.project is not None and messenger.questions


def test_autosave_writes_a_recovery_copy_elsewhere_and_never_the_users_file(
    qtbot, window, tmp_path
):
    user_file = tmp_path / "mine.anonproj"
    window.document.set_project(fixture_project())
    window.files.save_as(user_file)
    saved_bytes = user_file.read_bytes()
    window.document.set_field("P2", "method", "mask")
    recovery = window.autosave.autosave_now()
    assert recovery is not None and recovery.is_file()
    assert tmp_path / "recovery" in recovery.parents
    assert user_file.read_bytes() == saved_bytes  # the user's file is untouched
    assert load_project(recovery).identity("P2").method.value == "mask"
    assert window.autosave.autosave_now() is None  # nothing changed since
    window.files.save()
    assert not recovery.exists()  # saved: the recovery copy is gone


def test_after_a_crash_the_next_start_offers_the_autosaved_work(qtbot, worker, store, tmp_path):
    recovery_root = tmp_path / "recovery"
    first = make_window(qtbot, worker, store, recovery_root)
    first.document.set_project(fixture_project(), modified=True)
    first.document.rename("P1", "Anchor")
    assert first.autosave.autosave_now() is not None
    # A crash: the session ends without saving or discarding; its lock dies with it.
    lock = first.autosave._lock
    assert lock is not None
    lock.unlock()

    messenger = RecordingMessenger([Answer.YES])
    second = make_window(qtbot, worker, store, recovery_root, messenger=messenger)
    entries = second.autosave.pending_recoveries()
    assert len(entries) == 1 and "autosaved" in entries[0].title
    assert second.offer_recovery()
    assert "did not close normally" in messenger.questions[0]
    assert second.document.project.identity("P1").name == "Anchor"
    assert second.document.is_modified()  # restored work still needs saving
    assert second.autosave.pending_recoveries() == []


def test_a_running_session_is_not_mistaken_for_a_crash(qtbot, document, tmp_path):
    running = AutosaveManager(document, tmp_path / "rec")
    document.set_field("P1", "hidden", False)
    assert running.autosave_now() is not None
    other = AutosaveManager(document, tmp_path / "rec")
    assert other.pending_recoveries() == []
    running.discard()
    assert not any(Path(tmp_path / "rec").iterdir())


def test_settings_round_trip(store):
    from anonnet_studio.core.vision.selection import BackendChoice
    from anonnet_studio.project.schema import Method
    from anonnet_studio.ui.settings import EditorSettings

    chosen = EditorSettings(
        device="cpu",
        models_dir="/opt/models",
        offline=True,
        default_method=Method.PIXELATE,
        default_mask_margin=0.4,
        autosave_interval_s=30,
        face_models=BackendChoice(embedder="arcface", landmarks="dlib", race="off"),
        keep_preview_copies=True,
    )
    store.save(chosen)
    assert store.load() == chosen
    assert store.load().compute_config().backends.embedder == "arcface"


def test_settings_dialog_edits_the_face_model_choice(qtbot):
    from anonnet_studio.core.vision.selection import BackendChoice
    from anonnet_studio.ui.dialogs.settings_dialog import SettingsDialog
    from anonnet_studio.ui.settings import EditorSettings

    dialog = SettingsDialog(EditorSettings(face_models=BackendChoice(detector="yunet")))
    qtbot.addWidget(dialog)
    assert dialog.face_models["detector"].currentData() == "yunet"
    assert dialog.face_models["race"].currentData() == "auto"
    race = dialog.face_models["race"]
    race.setCurrentIndex(race.findData("deepface"))
    assert dialog.settings().face_models == BackendChoice(detector="yunet", race="deepface")


def test_unknown_face_model_values_in_the_settings_file_fall_back_to_auto(store, tmp_path):
    from PySide6.QtCore import QSettings

    from anonnet_studio.ui.settings import SettingsStore

    raw = QSettings(str(tmp_path / "odd.ini"), QSettings.Format.IniFormat)
    raw.setValue("face_models/embedder", "no-such-model")
    raw.setValue("face_models/detector", "yunet")
    loaded = SettingsStore(raw).load().face_models
    assert (loaded.embedder, loaded.detector) == ("auto", "yunet")


def test_preview_copies_show_original_faces_and_go_when_the_editor_closes(store, tmp_path, qtbot):
    from anonnet_studio.core.media.proxy import ProxyBuilder, ProxyCache
    from anonnet_studio.ui.app import forget_preview_copies
    from anonnet_studio.ui.dialogs.settings_dialog import SettingsDialog

    cache = ProxyCache(tmp_path / "proxies")
    cache.folder.mkdir()
    proxy = cache.folder / f"{'b' * 64}.mp4"
    proxy.write_bytes(b"a low-resolution copy of the source")
    other = cache.folder / "notes.txt"  # not ours: never deleted
    other.write_text("x")
    assert not store.load().keep_preview_copies  # off unless chosen
    forget_preview_copies(ProxyBuilder(cache), store)
    assert not proxy.exists() and other.exists()

    proxy.write_bytes(b"kept")
    dialog = SettingsDialog(store.load())
    qtbot.addWidget(dialog)
    dialog.keep_preview_copies.setChecked(True)
    store.save(dialog.settings())
    forget_preview_copies(ProxyBuilder(cache), store)
    assert proxy.exists()
