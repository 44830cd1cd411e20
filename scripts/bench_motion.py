"""Benchmark one LivePortrait animation step (per driving frame) at 256x256 network input.

Uses the full official configuration with random weights (timing does not depend on the
weight values) and real face crops from ../shared/fixtures when present. One step is what
every driving frame costs: motion extraction, relative keypoints + stitching, warping and
SPADE decoding to the 512x512 output crop. Source preparation (once per shot) is timed
separately.

    python scripts/bench_motion.py                     # CPU, fp32
    python scripts/bench_motion.py --device cuda --dtype fp16
    python scripts/bench_motion.py --device all         # every available device
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from anonnet_studio.core.motion.liveportrait import (  # noqa: E402
    LivePortraitAnimator,
    build_liveportrait,
    official_config,
)

FIXTURE = REPO_ROOT.parent / "shared" / "fixtures" / "video" / "lp_d3.mp4"
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def driving_crops(count: int) -> tuple[np.ndarray, str]:
    """`count` 256x256 RGB crops: real footage if the fixture exists, else noise."""
    if FIXTURE.is_file():
        import av
        import cv2

        crops = []
        with av.open(str(FIXTURE)) as container:
            for frame in container.decode(video=0):
                image = frame.to_ndarray(format="rgb24")
                crops.append(cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA))
                if len(crops) == count:
                    break
        return np.stack(crops), FIXTURE.name
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (count, 256, 256, 3), dtype=np.uint8), "random noise"


def _sync(device: torch.device) -> float:
    """Current time in ms, after queued GPU work has finished."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() * 1000


def bench(device: torch.device, dtype: torch.dtype, frames: int, warmup: int) -> None:
    models = build_liveportrait(official_config(), device=device, dtype=dtype)
    animator = LivePortraitAnimator(models)
    crops, origin = driving_crops(frames + warmup + 1)
    start = _sync(device)
    source = animator.prepare_source(crops[0])
    prepare_ms = _sync(device) - start  # includes first-call overhead; indicative only
    reference = animator.extract_motion(crops[1])

    stages: dict[str, list[float]] = {"motion": [], "keypoints": [], "warp+decode": [], "step": []}
    step_cpu: list[float] = []  # process CPU time of the step, all threads (load-independent)
    for index in range(warmup + frames):
        crop = crops[1 + index]
        t0 = _sync(device)
        motion = animator.extract_motion(crop)
        t1 = _sync(device)
        kp = animator.final_keypoints(source, motion, reference)
        t2 = _sync(device)
        animator.render_tensor(source, kp)
        t3 = _sync(device)
        cpu_start = time.process_time()
        animator.drive(source, crop, reference)  # the public per-frame call, uint8 out
        t4 = _sync(device)
        cpu_seconds = time.process_time() - cpu_start
        if index >= warmup:
            step_cpu.append(cpu_seconds * 1000)
            for name, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                stages[name].append(value)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    print(f"\n{name} ({device}{threads}), {str(dtype).removeprefix('torch.')}, input: {origin}")
    print(f"  frames timed: {frames} after {warmup} warm-up")
    print(f"  {'prepare_source (once per shot)':38s} {prepare_ms:8.1f} ms")
    for stage, values in stages.items():
        label = "one animation step (drive, uint8 out)" if stage == "step" else stage
        print(
            f"  {label:38s} median {statistics.median(values):8.1f} ms  min {min(values):8.1f} ms"
        )
    if device.type == "cpu":
        cpu_ms = statistics.median(step_cpu)
        print(f"  {'step CPU time, all threads':38s} median {cpu_ms:8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or all")
    parser.add_argument("--dtype", default="fp32", choices=sorted(DTYPES))
    parser.add_argument("--frames", type=int, default=5, help="timed frames per device")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "all":
        devices = [torch.device("cpu")]
        if torch.cuda.is_available():
            devices.append(torch.device("cuda"))
    else:
        devices = [torch.device(args.device)]
    if any(d.type == "cuda" for d in devices) and not torch.cuda.is_available():
        print("CUDA is not available on this machine.", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    with torch.inference_mode():
        for device in devices:
            dtype = DTYPES[args.dtype]
            if device.type == "cpu" and dtype == torch.float16:
                print("fp16 is not a sensible CPU dtype; using fp32 on CPU.")
                dtype = torch.float32
            bench(device, dtype, args.frames, args.warmup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
