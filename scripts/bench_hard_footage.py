"""Recall on hard footage, per condition, for the leak check with and without its extra looks.

    ANONNET_FIXTURES=../shared/fixtures python scripts/bench_hard_footage.py [--only crowd ...]

Builds the hard-footage clips from the fixtures at run time (tests/support/hard_footage.py:
crowd, rotation, motion blur, dark, JPEG noise, occlusion, profile, edge), analyses each,
and exports it twice with everyone blurred under "hide everyone": the baseline check (the
analysis detector at the analysis scale only) and the full check (plus CenterFace and the
small-face pass). Per condition it prints, against the true face places (faces at least
half inside the frame):

  analysis   share of true faces the analysis tracked
  check      share the leak check's looks find on the source frames (baseline | full)
  judge      share dlib's HOG detector finds (the independent judge, another family)
  recog src  faces the judge's dlib ResNet recognises in the source (what there is to hide)
  protected  share of true faces changed in the output (baseline | full)
  recog out  faces the judge still recognises in the output (baseline | full)
  ms/frame   leak check time per frame (baseline | full), this machine, this run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from anonnet_studio.core.models.manager import ModelManager  # noqa: E402
from anonnet_studio.core.vision.factory import build_embedded_vision  # noqa: E402
from tests.support.hard_footage import CONDITIONS, build_clip, face_patches  # noqa: E402
from tests.support.hard_scoring import analyse, score_export, score_source  # noqa: E402
from tests.support.independent_check import IndependentJudge  # noqa: E402

BASELINE = {"second_look_side": 0, "small_face_side": 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CONDITIONS), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="anonnet-hard-") as tmp:
        folder = Path(tmp)
        manager = ModelManager.from_environment(models_dir=folder / "models", offline=True)
        vision = build_embedded_vision(manager.resolve)
        judge = IndependentJudge()
        patches = face_patches()
        header = (
            f"{'condition':<12} {'faces':>5} {'analysis':>8} {'check base|full':>15} "
            f"{'judge':>6} {'recog src':>9} {'protected base|full':>19} "
            f"{'recog out b|f':>13} {'ms/frame base|full':>18}  verdict b|f"
        )
        print(header)
        print("-" * len(header))
        covered_lines = []
        for condition in args.only or list(CONDITIONS):
            clip = build_clip(condition, patches, folder)
            analysis, _ = analyse(clip, vision)
            source = score_source(clip, vision, judge, analysis)
            base, _ = score_export(
                clip, vision, judge, analysis, folder / f"{condition}_base.mp4", **BASELINE
            )
            full, _ = score_export(clip, vision, judge, analysis, folder / f"{condition}.mp4")
            n = max(1, source.faces)
            print(
                f"{condition:<12} {source.faces:>5} {source.analysis_found / n:>8.0%} "
                f"{source.first_look_found / n:>7.0%}|{source.check_found / n:<7.0%} "
                f"{source.judge_found / n:>6.0%} {source.recognisable_in_source:>9} "
                f"{base.protected / n:>10.0%}|{full.protected / n:<8.0%} "
                f"{base.recognisable:>6}|{full.recognisable:<6} "
                f"{base.check_ms_per_frame:>9.0f}|{full.check_ms_per_frame:<8.0f}  "
                f"{_ok(base.verdict_ok)}|{_ok(full.verdict_ok)}"
            )
            covered_lines.append(f"  {condition}: covered by the check {full.covered_by}")
            if full.recognised:
                covered_lines.append(
                    f"    still recognised (frame, person, px, dist): {full.recognised}"
                )
        print("\nFaces the full check covered, by detector (face-frames):")
        print("\n".join(covered_lines))
    return 0


def _ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


if __name__ == "__main__":
    raise SystemExit(main())
