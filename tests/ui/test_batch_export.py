"""File > Batch export…: the batch engine on the compute thread for a list of projects,
with the same output tree and summary as `anonnet-studio batch --projects`."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from anonnet_studio.cli import main
from anonnet_studio.core.fileio import is_temp_name
from anonnet_studio.ui.dialogs.messages import RecordingMessenger
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.results import BatchExportDone
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video
from tests.media_factory import make_variant
from tests.ui.conftest import make_window


def _projects(folder: Path) -> list[Path]:
    projects = []
    (folder / "projects").mkdir()
    for fixture in ("lp_d18.mp4", "lia_vox2.mp4"):
        clip = make_variant(fixture_video(fixture), folder / fixture, max_frames=30)
        project = folder / "projects" / clip.with_suffix(".anonproj").name
        assert main(["analyze", str(clip), "-o", str(project), "-q"]) == 0
        projects.append(project)
    broken = folder / "projects" / "broken.anonproj"
    broken.write_text("{not a project")
    return [*projects, broken]


def test_batch_export_runs_on_the_worker_and_reports_every_project(
    qtbot, store, tmp_path, monkeypatch
) -> None:
    projects = _projects(tmp_path)
    before = {p: p.read_bytes() for p in projects}
    out = tmp_path / "out"
    out.mkdir()
    worker = ComputeWorker(ComputeServices(ComputeConfig(models_dir=tmp_path / "m", offline=True)))
    worker.start()
    try:
        messenger = RecordingMessenger()
        window = make_window(qtbot, worker, store, tmp_path / "recovery", messenger=messenger)
        assert window.actions_.batch_export in window.menuBar().actions()[0].menu().actions()
        monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                            lambda *a, **k: ([str(p) for p in projects], ""))  # fmt: skip
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
        with qtbot.waitSignal(window.batch_export.finished, timeout=300_000) as signal:
            window.actions_.batch_export.trigger()
        result: BatchExportDone = signal.args[0]
    finally:
        assert worker.shutdown(30_000)
    assert (result.counts["files"], result.counts["pass"], result.counts["failed"]) == (3, 2, 1)
    assert result.exit_code == 1 and result.failed[0].startswith("broken:")
    rows = {r["key"]: r for r in json.loads((out / "batch_summary.json").read_text())["files"]}
    for key in ("lp_d18", "lia_vox2"):
        assert rows[key]["verdict"] == "PASS" and rows[key]["people"] == 1
        assert (out / f"{key}.anonymized.mp4").is_file()
        assert (out / f"{key}.anonymized.report.html").is_file()
        assert (out / f"{key}.done.json").is_file()
    assert (out / "index.html").is_file() and (out / "broken.log").is_file()
    assert [p for p in out.rglob("*") if is_temp_name(p.name)] == []
    assert {p: p.read_bytes() for p in projects} == before  # inputs are never written
    (title, text), *_ = messenger.infos
    assert title == "Batch export finished" and "2 of 3 passed" in text
    assert str(out / "index.html") in text
