"""Shared pieces of the speed benchmarks (scripts/bench_*.py): baselines measured in the
same run, CPU time beside wall time, and the per-stage profile table.

The machine may be shared: wall time then depends on the other load, so every figure
comes with the process CPU time and the load average.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av


@dataclass
class Timed:
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + system of this process (all threads), or of the child
    frames: int | None = None  # frames processed, when fewer than the whole clip


@contextmanager
def timed() -> Iterator[Timed]:
    result = Timed()
    wall, cpu = time.perf_counter(), time.process_time()
    yield result
    result.wall_s, result.cpu_s = time.perf_counter() - wall, time.process_time() - cpu


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def bare_decode(path: Path) -> Timed:
    """Plain PyAV decode of every frame to full-size RGB (frame threads on)."""
    with timed() as result, av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
    return result


def deface_detector(path: Path, max_frames: int | None = None) -> Timed | None:
    """deface's CenterFace detector (onnxruntime, its default) on every frame (the first
    `max_frames` at most: it is slow); None when deface is not installed."""
    try:
        from deface.centerface import CenterFace
    except ImportError:
        return None
    centerface = CenterFace(in_shape=None, backend="onnxrt")
    with timed() as result, av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for count, frame in enumerate(container.decode(stream)):
            if max_frames is not None and count >= max_frames:
                break
            centerface(frame.to_ndarray(format="rgb24"), threshold=0.2)
            result.frames = count + 1
    return result


def deface_cli(clip: Path, dest: Path) -> Timed | None:
    """The `deface` command with its defaults (detect + blur + encode); None when absent."""
    beside = Path(sys.executable).parent / "deface"
    program = str(beside) if beside.exists() else shutil.which("deface")
    if program is None:
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [program, str(clip), "-o", str(dest)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(time.perf_counter() - started, cpu)


def print_profile(title: str, stages: Mapping[str, float], total_s: float) -> None:
    """Seconds and share of `total_s` per stage (wall time, exclusive), plus what no
    stage accounts for."""
    print(f"  {title}: stage             seconds   share")
    for stage, seconds in stages.items():
        print(f"    {stage:26} {seconds:8.2f} {100 * seconds / total_s:6.1f} %")
    rest = total_s - sum(stages.values())
    if rest >= 0:
        print(f"    {'(other)':26} {rest:8.2f} {100 * rest / total_s:6.1f} %")
    else:  # stages on two threads overlap
        print(f"    {'(overlap of threads)':26} {rest:8.2f} {100 * rest / total_s:6.1f} %")
    print(f"    {'total':26} {total_s:8.2f}  100.0 %")


def ratio_line(label: str, frames: int, ours: Timed, theirs: Timed | None) -> str:
    if theirs is None:
        return f"  {label:16} not installed"
    their_frames = theirs.frames or frames
    fps, cpu_fps = their_frames / theirs.wall_s, their_frames / max(theirs.cpu_s, 1e-9)
    ours_fps, ours_cpu_fps = frames / ours.wall_s, frames / max(ours.cpu_s, 1e-9)
    on = f" (on {their_frames} frames)" if their_frames != frames else ""
    return (
        f"  {label:16} {fps:7.1f} frames/s wall, {cpu_fps:7.1f} per CPU-second{on};"
        f"  our speed / theirs: wall {ours_fps / fps:.2f}x, CPU {ours_cpu_fps / cpu_fps:.2f}x"
    )
