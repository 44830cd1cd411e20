"""The local runners with a toy task: every job reported once, failures and crashed
workers reported without stopping the batch, and the overall progress line."""

from __future__ import annotations

import os
from pathlib import Path

from anonnet_studio.core.batch.inputs import plan_jobs
from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.local import ProcessPoolRunner
from anonnet_studio.core.batch.runner import InlineRunner
from anonnet_studio.core.batch.threads import threads_per_worker
from anonnet_studio.core.batch.tracker import BatchTracker
from anonnet_studio.core.progress import Progress
from tests.support.batch_tasks import CopyTask


def _jobs(tmp_path: Path, contents: dict[str, bytes]) -> list[BatchJob]:
    sources = []
    for name, data in contents.items():
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sources.append(path)
    return plan_jobs(sources, tmp_path / "out")


def _run(runner, jobs: list[BatchJob]) -> tuple[dict[str, FileResult], list[str]]:
    results: dict[str, FileResult] = {}
    progressed: list[str] = []

    def on_result(job: BatchJob, result: FileResult) -> None:
        assert job.key not in results
        results[job.key] = result

    runner.run(CopyTask(), jobs, lambda key, _p: progressed.append(key), on_result)
    return results, progressed


def test_a_process_pool_runs_every_job_and_reports_a_failed_one(tmp_path: Path) -> None:
    contents = {f"c{i}.mp4": f"clip {i}".encode() for i in range(5)} | {"bad.mp4": b"fail"}
    jobs = _jobs(tmp_path, contents)
    results, progressed = _run(ProcessPoolRunner(2), jobs)
    assert set(results) == {j.key for j in jobs}
    assert results["bad"].status == "failed" and results["bad"].error == "bad file"
    for job in jobs:
        if job.key != "bad":
            assert job.video.read_bytes() == contents[job.source.name][::-1]
    workers = {r.people for r in results.values() if r.status == "done"}
    assert os.getpid() not in workers and 1 <= len(workers) <= 2
    assert set(progressed) >= {"c0", "bad"}  # progress came back from the workers


def test_a_worker_that_dies_fails_its_file_and_the_batch_goes_on(tmp_path: Path) -> None:
    contents = {"a.mp4": b"clip a", "boom.mp4": b"crash"} | {
        f"c{i}.mp4": f"clip {i}".encode() for i in range(4)
    }
    results, _ = _run(ProcessPoolRunner(2), _jobs(tmp_path, contents))
    assert results["boom"].status == "failed" and "died" in results["boom"].error
    # Whatever ran beside it when its worker died is retried, not blamed.
    assert {k for k, r in results.items() if r.status == "done"} == {"a", "c0", "c1", "c2", "c3"}


def test_a_worker_dying_while_it_sends_progress_does_not_hang_the_batch(tmp_path: Path) -> None:
    # It keeps its progress queue's write lock forever. Before: the workers left could
    # not exit (their queue waited for the lock to flush) and the pool's shutdown waited
    # for them without end: a CI run hung for 90 minutes on that race, made certain here.
    # One worker, so the file after it surely runs in a later pool.
    contents = {"lock.mp4": b"lock", "c0.mp4": b"clip 0", "c1.mp4": b"clip 1"}
    results, progressed = _run(ProcessPoolRunner(1), _jobs(tmp_path, contents))
    assert results["lock"].status == "failed" and "died" in results["lock"].error
    assert {k for k, r in results.items() if r.status == "done"} == {"c0", "c1"}
    # Each pool has a queue of its own, so progress still comes back after the break.
    assert {"c0", "c1"} <= set(progressed)


def test_the_inline_runner_runs_in_this_process(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, {"a.mp4": b"clip a", "bad.mp4": b"fail"})
    results, _ = _run(InlineRunner(), jobs)
    assert results["a"].people == os.getpid() and results["bad"].status == "failed"


def test_workers_share_the_cores_instead_of_each_taking_all() -> None:
    assert threads_per_worker(2, cores=16) == 8
    assert threads_per_worker(3, cores=2) == 1


def test_the_progress_line_counts_files_frames_per_second_and_eta() -> None:
    now = [0.0]
    shown: list[Progress] = []
    tracker = BatchTracker({"a": 100, "b": 300}, ("Analysing frames", "Rendering"),
                           shown.append, clock=lambda: now[0])  # fmt: skip
    now[0] = 10.0
    tracker.job_progress("a", Progress("Analysing frames", 100, 100))
    tracker.job_progress("a", Progress("Hashing output", 5, 10))  # not a frame stage
    assert tracker.frames_done() == 50
    assert shown[-1].done == 0 and shown[-1].total == 2
    assert shown[-1].message == "5.0 frames/s, ETA 0:01:10"
    now[0] = 20.0
    tracker.job_finished("a")
    assert shown[-1].done == 1 and shown[-1].message == "5.0 frames/s, ETA 0:01:00"
