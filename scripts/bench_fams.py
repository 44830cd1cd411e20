"""Benchmark the FAMS backend: seconds per face, against the SD 1.5 backend in the same run.

    python scripts/bench_fams.py                 # tiny random models on the CPU, both backends
    python scripts/bench_fams.py --real          # the downloaded FAMS models on CUDA (fp16)

Tiny: both backends load tiny random-weight models saved in their real layouts, through
their real loaders, and anonymize the same face (frame 30 of lp_d18.mp4) at the same crop
size with the same number of denoising steps; the face parser is off for both. The ratio
says what the FAMS pipeline costs around the networks compared with SD 1.5's (which also
runs its lineart and OpenPose annotators), not what real models cost.
Real: needs a CUDA GPU and `anonnet-studio models download face-anon-simple
stable-diffusion-2-1 clip-vit-large-patch14`; prints seconds per face and peak GPU memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from anonnet_studio.core.models.manager import ModelManager  # noqa: E402
from anonnet_studio.core.synthetic.devices import select_device  # noqa: E402
from anonnet_studio.core.synthetic.fams.generator import FamsFaceGenerator  # noqa: E402
from anonnet_studio.core.synthetic.fams.loading import FAMS_MODELS  # noqa: E402
from anonnet_studio.core.synthetic.fams.settings import FamsSettings  # noqa: E402
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator  # noqa: E402
from anonnet_studio.core.synthetic.settings import GenerationSettings  # noqa: E402
from anonnet_studio.core.vision.factory import build_embedded_vision  # noqa: E402
from tests.core.synthetic.conftest import Keyframe, find_keyframe, read_frame  # noqa: E402

PROMPT = "A photorealistic portrait of a young adult White man, with a neutral expression"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (25; tiny: 10)")
    parser.add_argument("--size", type=int, default=None, help="face crop side (512; tiny: 128)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", action="store_true", help="downloaded models on CUDA")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    manager = ModelManager.from_environment(offline=True)
    keyframe = find_keyframe(read_frame("lp_d18.mp4", 30), build_embedded_vision(manager.resolve))
    if args.real:
        return bench_real(manager, keyframe, args.steps or 25, args.size or 512, args.repeats)
    return bench_tiny(keyframe, args.steps or 10, args.size or 128, args.repeats)


def bench_tiny(keyframe: Keyframe, steps: int, size: int, repeats: int) -> int:
    from tests.core.synthetic.fams.tiny_fams import build_tiny_fams
    from tests.core.synthetic.tiny_models import build_tiny_models

    device = select_device("cpu")
    with tempfile.TemporaryDirectory(prefix="bench-fams-") as tmp:
        fams_folders = build_tiny_fams(Path(tmp) / "fams")
        sd_folders = build_tiny_models(Path(tmp) / "sd15")
        fams = FamsFaceGenerator.load(fams_folders.__getitem__, device, use_face_parser=False)
        sd15 = SyntheticFaceGenerator.load(sd_folders.__getitem__, device, use_face_parser=False)
        fams_settings = FamsSettings(steps=steps, face_size=size)
        sd_settings = GenerationSettings(steps=steps, strength=1.0, max_side=size, min_side=size)

        def run_fams(seed: int) -> None:
            fams.generate(
                keyframe.frame,
                keyframe.box,
                keyframe.landmarks68,
                replace(fams_settings, seed=seed),
            )

        def run_sd15(seed: int) -> None:
            sd15.generate(
                keyframe.frame,
                keyframe.box,
                keyframe.landmarks68,
                PROMPT,
                "",
                sd_settings.with_overrides(seed=seed),
            )

        print(
            f"tiny random models on the CPU ({torch.get_num_threads()} threads), "
            f"{size}x{size} face, {steps} steps, median of {repeats}:"
        )
        fams_s = _median_seconds(run_fams, repeats, "FAMS (SD 2.1 UNet + 2 ReferenceNets)")
        sd_s = _median_seconds(run_sd15, repeats, "SD 1.5 + 3 ControlNets (baseline)")
    print(f"FAMS / SD 1.5: {fams_s / sd_s:.2f}x the time per face")
    print("No GPU timing in this run; on a CUDA machine use --real.")
    return 0


def bench_real(
    manager: ModelManager, keyframe: Keyframe, steps: int, size: int, repeats: int
) -> int:
    if not torch.cuda.is_available():
        print("No CUDA GPU here: --real needs one (fp16, peak VRAM).")
        return 1
    missing = [name for name in FAMS_MODELS if not manager.is_available(name)]
    if missing:
        print("Models not installed. Download them first:")
        print("  anonnet-studio models download " + " ".join(missing))
        return 1
    device = select_device("cuda")
    started = time.perf_counter()
    generator = FamsFaceGenerator.load(manager.resolve, device, use_face_parser=False)
    print(f"loaded on {device.describe()} in {time.perf_counter() - started:.1f} s")
    settings = FamsSettings(steps=steps, face_size=size)

    def run(seed: int) -> None:
        generator.generate(
            keyframe.frame, keyframe.box, keyframe.landmarks68, replace(settings, seed=seed)
        )
        torch.cuda.synchronize()

    run(0)  # warm-up: kernel selection, allocator growth
    torch.cuda.reset_peak_memory_stats()
    _median_seconds(run, repeats, f"FAMS, {size}x{size}, {steps} steps")
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"peak GPU memory: {peak:.2f} GiB allocated")
    return 0


def _median_seconds(run: Callable[[int], None], repeats: int, label: str) -> float:
    run(0)  # warm-up
    times = []
    for seed in range(1, repeats + 1):
        started = time.perf_counter()
        run(seed)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"  {label}: {median:.2f} s per face (min {min(times):.2f}, max {max(times):.2f})")
    return median


if __name__ == "__main__":
    raise SystemExit(main())
