"""Done-records: a file is skipped only when its outputs, source content and options match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonnet_studio.core.batch.engine import BatchRun, exit_code, plan_batch
from anonnet_studio.core.batch.inputs import plan_jobs
from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.state import completed_result, settings_key, write_done_record
from anonnet_studio.core.batch.summary import BatchSummary, write_summary


@pytest.fixture
def finished_job(tmp_path: Path) -> BatchJob:
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir()
    source.write_bytes(b"original content")
    (job,) = plan_jobs([source], tmp_path / "out")
    job.out_dir.mkdir(parents=True)
    for path in job.outputs():
        path.write_text(f"output {path.name}")
    result = FileResult(job.key, str(source), "done", verdict="PASS", leaks=0, people=2)
    from anonnet_studio.core.batch.state import source_sha256

    write_done_record(job, result, source_sha256(source), settings_key({"method": "blur"}))
    return job


def test_a_complete_job_is_recognised(finished_job: BatchJob) -> None:
    result = completed_result(finished_job, settings_key({"method": "blur"}))
    assert result is not None and result.people == 2 and result.verdict == "PASS"


def test_changed_options_redo_the_job(finished_job: BatchJob) -> None:
    assert completed_result(finished_job, settings_key({"method": "mask"})) is None


def test_a_changed_source_redoes_the_job(finished_job: BatchJob) -> None:
    finished_job.source.write_bytes(b"original contenT")  # same size, other content
    assert completed_result(finished_job, settings_key({"method": "blur"})) is None


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_missing_or_changed_output_redoes_the_job(finished_job: BatchJob, damage: str) -> None:
    if damage == "delete":
        finished_job.report_html.unlink()
    else:
        finished_job.video.write_text("short")
    assert completed_result(finished_job, settings_key({"method": "blur"})) is None


def test_the_summary_lists_every_file_with_links_relative_to_it(
    finished_job: BatchJob, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    bad = BatchJob(tmp_path / "in" / "bad.mp4", "bad", out, "bad")
    plan = plan_batch([finished_job, bad], settings_key({"method": "blur"}))
    assert set(plan.done) == {"clip"} and [j.key for j in plan.todo] == ["bad"]
    run = BatchRun(plan, out, {"method": "blur"}, ("Rendering",))
    run.results["bad"] = FileResult("bad", str(bad.source), "failed", error="not <a> video")
    summary = run.summary(1.0)
    write_summary(out, summary)
    data = json.loads((out / "batch_summary.json").read_text())
    assert [(f["status"], f["verdict"]) for f in data["files"]] == [
        ("skipped", "PASS"),
        ("failed", ""),
    ]
    assert data["files"][0]["report"] == "clip.anonymized.report.html"
    csv_lines = (out / "batch_summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("source,status,verdict,leaks,people,duration_s")
    assert len(csv_lines) == 3
    page = (out / "index.html").read_text()
    assert 'href="clip.anonymized.report.html"' in page and "not &lt;a&gt; video" in page
    assert exit_code(summary) == 1


def test_exit_code_says_whether_every_file_passed() -> None:
    job = BatchJob(Path("/x/a.mp4"), "a", Path("/o"), "a")

    def code(*results: FileResult) -> int:
        return exit_code(BatchSummary(tuple((job, r) for r in results), 0.0, {}))

    passed = FileResult("a", "/x/a.mp4", "done", verdict="PASS")
    assert code(passed, FileResult("a", "/x/a.mp4", "skipped", verdict="PASS")) == 0
    assert code(passed, FileResult("a", "/x/a.mp4", "done", verdict="FAIL")) == 3
    assert code(passed, FileResult("a", "/x/a.mp4", "not run")) == 1
