"""Batch throughput with 1 and 2 local workers: frames/s, clips/hour and their ratio.

    python scripts/bench_batch.py [--clips DIR] [--max-frames N] [--workers 1 2] [--json OUT]

Copies the fixture clips (cut to --max-frames each, so a run takes minutes, not hours)
into a temp folder and runs `anonnet-studio batch` on them as a fresh process per worker
count, the way a user would: model loading and process start are part of the time. Each
run writes into its own empty output folder (nothing is skipped as done). Wall time is
what counts for a batch; the CPU time of the run is printed beside it because on a
shared machine the wall time depends on what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = (
    Path(os.environ.get("ANONNET_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures")) / "video"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--max-frames", type=int, default=90)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    from tests.media_factory import make_variant

    if not list(args.clips.glob("*.mp4")):
        raise SystemExit(f"no .mp4 clips in {args.clips} (pass --clips or set ANONNET_FIXTURES)")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        clips = Path(tmp) / "in"
        clips.mkdir()
        for source in sorted(args.clips.glob("*.mp4")):
            make_variant(source, clips / source.name, max_frames=args.max_frames)
        results = [_run(clips, Path(tmp) / f"out{n}", n) for n in args.workers]
    print(f"{os.cpu_count()} CPU cores; {len(list(args.clips.glob('*.mp4')))} clips, "
          f"up to {args.max_frames} frames each")  # fmt: skip
    print(f"{'workers':>7} {'wall s':>8} {'CPU s':>8} {'frames':>7} {'frames/s':>9} "
          f"{'clips/h':>8} {'vs 1':>6}")  # fmt: skip
    base = results[0]["frames_per_s"]
    for r in results:
        r["ratio_to_first"] = r["frames_per_s"] / base if base else 0.0
        print(f"{r['workers']:>7} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['frames']:>7} "
              f"{r['frames_per_s']:>9.2f} {r['clips_per_hour']:>8.0f} "
              f"{r['ratio_to_first']:>5.2f}x")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _run(clips: Path, out: Path, workers: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "anonnet_studio", "batch", str(clips), "-o", str(out),
               "--workers", str(workers), "-q"]  # fmt: skip
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"batch with {workers} worker(s) exited {completed.returncode}")
    files = json.loads((out / "batch_summary.json").read_text())["files"]
    frames = sum(f["frames"] or 0 for f in files)
    return {
        "workers": workers,
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "frames": frames,
        "clips": len(files),
        "frames_per_s": frames / wall,
        "clips_per_hour": len(files) * 3600 / wall,
    }


if __name__ == "__main__":
    raise SystemExit(main())
