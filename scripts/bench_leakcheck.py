"""The leak check's share of render time on the interview montage, and where it goes.

    python scripts/bench_leakcheck.py [--only 720p] [--frames-per-shot 50] [--keep DIR]
        [--method blur]

Builds the montage (tests/support/montage.py; 9 shots, `--frames-per-shot` frames each at
30 fps), analyses it once (cached in --keep as a pickle, so a rerun times the render
alone), and renders it like scripts/bench_anonymize.py (every person hidden with
`--method`, hide-everyone policy, leak check on). Prints the render stages (decode, redact,
leak check, encode) and, inside the leak check, each look's detection, the embedding,
covering, the checker-sight probe and the rest (matching, bookkeeping), in seconds and as
a share of the render, with the load average and CPU time beside them.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from anonnet_studio.core.analysis.pipeline import analyze_video  # noqa: E402
from anonnet_studio.core.analysis.result import AnalysisResult  # noqa: E402
from anonnet_studio.core.anonymize.plan import (  # noqa: E402
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
)
from anonnet_studio.core.anonymize.renderer import render  # noqa: E402
from anonnet_studio.core.models.manager import ModelManager  # noqa: E402
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision  # noqa: E402
from tests.support.benchmarks import load_average, print_profile  # noqa: E402
from tests.support.montage import FIXTURES_DIR, build_interview_montage  # noqa: E402

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
RENDER_STAGES = {
    "decode_s": "render decode",
    "redact_s": "redact",
    "encode_s": "encode",
}


def analysed(clip: Path, cache: Path, vision: VisionModels) -> AnalysisResult:
    if cache.exists():
        with cache.open("rb") as file:
            result: AnalysisResult = pickle.load(file)  # our own cache, written below
            return result
    result = analyze_video(clip, vision)
    with cache.open("wb") as file:
        pickle.dump(result, file)
    return result


def plan_for(analysis: AnalysisResult, method: RedactionMethod) -> RenderPlan:
    tracks = {t.id: t for t in analysis.tracks}
    people = [
        PersonPlan(
            identity_id=f"person-{n}",
            method=method,
            embedding=identity.embedding,
            tracks=[
                TrackGeometry(tracks[i].frames, tracks[i].boxes, tracks[i].landmarks5)
                for i in identity.track_ids
            ],
        )
        for n, identity in enumerate(analysis.identities)
    ]
    return RenderPlan(people)


def bench(label: str, clip: Path, work: Path, vision: VisionModels, method: str) -> None:
    print(f"\n== {label}: {clip.name}", flush=True)
    analysis = analysed(clip, work / f"{clip.stem}.analysis.pickle", vision)
    plan = plan_for(analysis, RedactionMethod(method))
    print(f"  {len(analysis.identities)} people, {len(analysis.tracks)} tracks; {method}")
    print(f"  before: {load_average()}", flush=True)
    cpu_started = time.process_time()
    result = render(clip, work / f"{clip.stem}_out.mp4", plan, vision)
    cpu = time.process_time() - cpu_started
    print(f"  after:  {load_average()}")
    timings = result.timings
    total = timings["total_s"]
    stages = {name: timings.get(key, 0.0) for key, name in RENDER_STAGES.items()}
    stages["leak check"] = timings.get("leak_check_s", 0.0)
    print(
        f"  {result.frames_written} frames, {len(result.leaks)} leaks covered, "
        f"render wall {total:.1f} s ({result.frames_written / total:.1f} fps), CPU {cpu:.1f} s"
    )
    print_profile("render", stages, total)
    parts = {k.removeprefix("leak_check.")[:-2]: v for k, v in timings.items() if "." in k}
    parts["(rest of the check)"] = stages["leak check"] - sum(parts.values())
    print_profile("leak check, as a share of the render", parts, total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=list(SIZES), help="one size only")
    parser.add_argument("--frames-per-shot", type=int, default=50, help="montage shot length")
    parser.add_argument("--keep", type=Path, help="keep montage, analysis and output here")
    parser.add_argument(
        "--method", default="blur", choices=[m.value for m in RedactionMethod if m.hides]
    )
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_leakcheck_"))
    work.mkdir(parents=True, exist_ok=True)
    manager = ModelManager.from_environment(models_dir=work / "models", offline=True)
    vision = build_embedded_vision(manager.resolve)
    try:
        for label, size in SIZES.items():
            if args.only not in (None, label):
                continue
            clip = work / f"montage_{label}_{args.frames_per_shot}.mp4"
            if not clip.exists():
                build_interview_montage(
                    FIXTURES_DIR, clip, size, frames_per_shot=args.frames_per_shot
                )
            bench(f"montage {label}", clip, work, vision, args.method)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
