"""Cost of checking model files before loading them (prints numbers, asserts nothing).

    python scripts/bench_model_verify.py [--repeats N]

For the embedded models the analysis loads (YuNet, SFace, dlib, age/gender, FER), each
timed in this run against the baseline of only locating the files (what `resolve` did
before it verified anything):
  * cold: a fresh manager with an empty download cache hashes every file,
  * warm: a fresh manager (as a new CLI run) finds each hash in the verification cache.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import load_manifest_dir
from anonnet_studio.core.resources import resources_dir

MODELS = ("yunet", "sface", "dlib-face-models", "age-gender", "fer-emotion")


def _manager(home: Path) -> ModelManager:
    return ModelManager(
        load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "user",
        cache_dir=home / "cache",
        settings_path=home / "model-locations.json",
    )


def _best(repeats: int, run: Callable[[], object], before: Callable[[], None]) -> float:
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="anonnet-bench-verify-"))
    try:
        cache = home / "cache" / "verified-files.json"

        def locate_all() -> object:
            return [_manager(home).locate(name) for name in MODELS]

        def resolve_all() -> object:
            return [_manager(home).resolve(name) for name in MODELS]

        def keep_cache() -> None:
            pass

        def forget_cache() -> None:
            cache.unlink(missing_ok=True)

        locate = _best(args.repeats, locate_all, keep_cache)
        cold = _best(args.repeats, resolve_all, forget_cache)
        warm = _best(args.repeats, resolve_all, keep_cache)
        manager = _manager(home)
        files = [manager.resolve(n) / f.path for n in MODELS for f in manager.spec(n).files]
        size = sum(path.stat().st_size for path in files)
        print(f"{len(MODELS)} models, {size / 1e6:.0f} MB; best of {args.repeats}")
        print(f"locate only (baseline)    {locate * 1000:8.1f} ms   1.0x")
        print(f"verify, cold (hash all)   {cold * 1000:8.1f} ms  {cold / locate:5.1f}x")
        print(f"verify, warm (cache hit)  {warm * 1000:8.1f} ms  {warm / locate:5.1f}x")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
