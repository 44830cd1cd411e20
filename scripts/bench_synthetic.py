"""Benchmark synthetic-face generation: seconds per keyframe and peak GPU memory.

    python scripts/bench_synthetic.py                # real models on CUDA (fp16)
    python scripts/bench_synthetic.py --tiny         # tiny random models on the CPU

The real run needs a CUDA GPU and the downloaded models (found by the model manager:
`$ANONNET_MODELS_DIR`, its cache, or folders chosen in the app). On a machine without
CUDA it says so and, with --tiny, times the pipeline's own overhead with tiny models.
Keyframe: frame 30 of ../shared/fixtures/video/lp_d18.mp4.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from anonnet_studio.core.models.manager import ModelManager  # noqa: E402
from anonnet_studio.core.synthetic.devices import ComputeDevice, select_device  # noqa: E402
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator  # noqa: E402
from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS  # noqa: E402
from anonnet_studio.core.synthetic.prompts import load_negative_prompt  # noqa: E402
from anonnet_studio.core.synthetic.settings import GenerationSettings  # noqa: E402
from anonnet_studio.core.vision.factory import build_embedded_vision  # noqa: E402
from tests.core.synthetic.conftest import Keyframe, find_keyframe, read_frame  # noqa: E402

PROMPT = "A photorealistic portrait of a young adult White man, with a neutral expression"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=35)
    parser.add_argument(
        "--size", type=int, default=None, help="crop side in pixels, /8 (512; --tiny: 128)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="tiny random models on the CPU")
    parser.add_argument("--offload", action="store_true", help="model CPU offload (CUDA)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (1 on a busy machine)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    manager = ModelManager.from_environment(offline=True)
    vision = build_embedded_vision(manager.resolve)
    keyframe = find_keyframe(read_frame("lp_d18.mp4", 30), vision)
    # Tiny models at 512 px spend minutes per keyframe in full-resolution CPU attention.
    size = args.size or (128 if args.tiny else 512)
    # strength 1.0 so that all --steps denoising steps run.
    settings = GenerationSettings(steps=args.steps, strength=1.0, max_side=size, min_side=size)
    if args.tiny:
        return bench_tiny(keyframe, settings, args.repeats)
    if not torch.cuda.is_available():
        print(
            "No CUDA GPU here: the real benchmark (fp16, peak VRAM) needs one. "
            "Run with --tiny to time the pipeline with tiny random models on the CPU."
        )
        return 1
    missing = [name for name in REQUIRED_MODELS if not manager.is_available(name)]
    if missing:
        print(f"Models not installed: {', '.join(missing)}. Download them first:")
        print("  anonnet-studio models download " + " ".join(missing))
        return 1
    device = select_device("cuda", cpu_offload=args.offload)
    started = time.perf_counter()
    generator = SyntheticFaceGenerator.load(manager.resolve, device)
    print(f"loaded on {device.describe()} in {time.perf_counter() - started:.1f} s")
    return run(generator, device, keyframe, settings, args.repeats)


def bench_tiny(keyframe: Keyframe, settings: GenerationSettings, repeats: int) -> int:
    from tests.core.synthetic.tiny_models import build_tiny_models

    with tempfile.TemporaryDirectory() as tmp:
        folders = build_tiny_models(Path(tmp))
        device = select_device("cpu")
        generator = SyntheticFaceGenerator.load(lambda name: folders[name], device)
        print("tiny random models (pipeline overhead only, not real-model speed)")
        return run(generator, device, keyframe, settings, repeats)


def run(
    generator: SyntheticFaceGenerator,
    device: ComputeDevice,
    keyframe: Keyframe,
    settings: GenerationSettings,
    repeats: int,
) -> int:
    negative = load_negative_prompt()

    def once(seed: int) -> float:
        started = time.perf_counter()
        generator.generate(
            keyframe.frame,
            keyframe.box,
            keyframe.landmarks68,
            PROMPT,
            negative,
            settings.with_overrides(seed=seed),
        )
        if device.kind == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started

    once(0)  # warm-up: kernel selection, allocator growth
    if device.kind == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = [once(seed) for seed in range(1, repeats + 1)]
    size = settings.crop_limits[1]
    print(
        f"{settings.steps} steps, {size}x{size} crop, {device.describe()}: "
        f"{statistics.median(times):.2f} s per keyframe (median of {repeats}; "
        f"min {min(times):.2f}, max {max(times):.2f}); "
        f"{statistics.median(times) / settings.steps * 1000:.0f} ms per step incl. overhead"
    )
    if device.kind == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
        reserved = torch.cuda.max_memory_reserved() / 2**30
        print(f"peak GPU memory: {peak:.2f} GiB allocated, {reserved:.2f} GiB reserved")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
