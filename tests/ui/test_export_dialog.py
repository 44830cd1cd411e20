"""Export dialog: runs on the worker, writes video + report, opens the folder, can cancel."""

from __future__ import annotations

import json

import pytest

from anonnet_studio.core.media.probe import probe
from anonnet_studio.project.schema import Method
from anonnet_studio.ui.dialogs.export_dialog import (
    ExportDialog,
    apply_method_default,
    open_folder,
)
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 120_000


def test_export_writes_the_video_and_report_and_opens_the_folder(qtbot, worker, store, tmp_path):
    opened = []
    window = make_window(qtbot, worker, store, tmp_path / "rec", folder_opener=opened.append)
    window.document.set_project(fixture_project(real_hash=True))
    dialog = window.show_export_dialog()
    assert isinstance(dialog, ExportDialog)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    dialog.output.setText(str(out_dir / "clip.mp4"))
    dialog.leak_check.setChecked(False)  # these tests load no face models
    dialog.method.setCurrentIndex(dialog.method.findData("pixelate"))
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
        assert dialog.running and not dialog.export_button.isEnabled()
    result = dialog.outcome
    assert result is not None and (out_dir / "clip.mp4").is_file()
    assert probe(out_dir / "clip.mp4").video.frame_count == 216
    report_json, report_html = result.report_paths
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert {e["method"] for e in report["identities"]} == {"pixelate"}
    assert report_html.is_file()
    assert opened == [out_dir]
    assert "Wrote 216 frames" in dialog.result_view.toPlainText()
    # The export worked on a snapshot: the person's own method is unchanged.
    assert window.document.project.identity("P2").method is Method.BLUR


def test_cancel_stops_the_export_and_writes_nothing(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.document.set_project(fixture_project(real_hash=True))
    dialog = window.show_export_dialog()
    dialog.output.setText(str(tmp_path / "never.mp4"))
    dialog.leak_check.setChecked(False)
    worker.job_started.connect(lambda _job: dialog.cancel_export())
    with qtbot.waitSignal(worker.job_cancelled, timeout=TIMEOUT_MS):
        dialog.start_export()
    assert not dialog.running and dialog.export_button.isEnabled()
    assert "cancelled" in dialog.status.text()
    assert not list(tmp_path.glob("never*"))


def test_the_source_video_can_never_be_the_output(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    project = fixture_project()
    window.document.set_project(project)
    dialog = window.show_export_dialog()
    dialog.output.setText(project.source.path)
    dialog.start_export()
    assert not dialog.running and "cannot replace the source" in dialog.status.text()


def test_method_default_applies_to_hidden_people_only(document):
    project = document.project
    project.identity("P2").hidden = False
    apply_method_default(project, "mask")
    assert project.identity("P1").method is Method.MASK
    assert project.identity("P3").method is Method.MASK
    assert project.identity("P2").method is Method.BLUR  # kept visible: untouched


def _no_file_manager(_folder):
    raise OSError("xdg-open was not found (install the xdg-utils package).")


def test_the_outcome_leaves_the_fields_their_size_and_a_failed_folder_open_is_said(
    qtbot, worker, store, tmp_path
):
    window = make_window(qtbot, worker, store, tmp_path / "rec", folder_opener=_no_file_manager)
    window.document.set_project(fixture_project(real_hash=True))
    dialog = window.show_export_dialog()
    qtbot.waitExposed(dialog)
    dialog.output.setText(str(tmp_path / "clip.mp4"))
    dialog.leak_check.setChecked(False)
    fields = (dialog.output, dialog.method, dialog.leak_check, dialog.quality, dialog.notes)
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.result_view.isVisible())
    for field in fields:  # several lines of outcome, and nothing above it shrank
        assert field.height() >= field.sizeHint().height(), field
    result = dialog.result_view
    assert result.geometry().top() >= dialog.status.geometry().bottom()
    text = result.toPlainText()
    assert "Wrote 216 frames" in text
    assert "Could not open the folder" in text and "xdg-utils" in text
    assert str(tmp_path) in text
    assert "Could not open the folder" in dialog.status.text()


def test_open_folder_says_why_when_no_file_manager_can_start(monkeypatch, tmp_path, qtbot):
    monkeypatch.setenv("PATH", str(tmp_path))  # no xdg-open, nothing else either
    with pytest.raises(OSError, match="file manager"):
        open_folder(tmp_path)
