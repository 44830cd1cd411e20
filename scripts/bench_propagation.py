"""Propagation benchmark (prints numbers, asserts nothing).

    python scripts/bench_propagation.py [--fixtures DIR] [--frames N] [--repeats R]

For lp_s18.mp4 (720p, a woman in a wide shot) and a 1080p copy made from it in a temp
folder, a box is seeded on her face (YuNet's box) in the middle of a stretch of N frames
and followed backward and forward through it, as the editor does after a face is drawn:

  * face propagation (CSRT + YuNet re-run on a crop + SFace veto) in frames/s,
  * region propagation (the CSRT tracker alone, as for a name tag) in frames/s,
  * bare PyAV decode of the same frames (`container.decode` + `to_ndarray("rgb24")`),

each the best of R runs, alternated so machine noise hits all alike, with the ratio of
propagation speed to bare decode speed measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anonnet_studio.core.correction.propagation import propagate_box  # noqa: E402
from anonnet_studio.core.media.reader import VideoReader  # noqa: E402
from anonnet_studio.core.models.manager import ModelManager  # noqa: E402
from anonnet_studio.core.vision.factory import build_embedded_vision  # noqa: E402

DEFAULT_FIXTURES = Path(os.environ.get("ANONNET_FIXTURES", REPO.parent / "shared" / "fixtures"))


def make_1080p(src: Path, dest: Path) -> Path:
    with av.open(str(src)) as source, av.open(str(dest), "w") as target:
        in_stream = source.streams.video[0]
        out = target.add_stream("libx264", rate=in_stream.average_rate, options={"crf": "16"})
        out.width, out.height, out.pix_fmt = 1920, 1080, "yuv420p"
        for frame in source.decode(in_stream):
            image = cv2.resize(frame.to_ndarray(format="rgb24"), (1920, 1080), cv2.INTER_CUBIC)
            target.mux(out.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        target.mux(out.encode(None))
    return dest


def bare_decode(path: Path, start: int, end: int) -> float:
    """Seconds to decode frames start..end-1 to RGB with plain PyAV (from the file start,
    as a decoder must without an index)."""
    began = time.perf_counter()
    with av.open(str(path)) as container:
        container.streams.video[0].thread_type = "AUTO"
        for index, frame in enumerate(container.decode(video=0)):
            if index >= end:
                break
            if index >= start:
                frame.to_ndarray(format="rgb24")
    return time.perf_counter() - began


def timed_propagation(reader, seed, box, span, detector, embedder) -> tuple[float, int, str]:
    began = time.perf_counter()
    result = propagate_box(reader, seed, box, span, detector, embedder)
    return time.perf_counter() - began, len(result.frames), result.describe()


def bench_file(path: Path, frames: int, repeats: int, vision) -> None:
    with VideoReader(path) as reader:
        count = reader.frame_count
        span = (max(0, count // 2 - frames // 2), min(count, count // 2 + frames // 2))
        seed = (span[0] + span[1]) // 2
        faces = vision.detector.detect(reader.frame_at(seed))
        if not faces:
            print(f"{path.name}: no face at frame {seed}; skipped")
            return
        box = max(faces, key=lambda d: d.score).box
        width, height = reader.info.video.width, reader.info.video.height
        print(f"\n{path.name}: {width}x{height}, frames {span[0]}..{span[1] - 1}, seed {seed}, "
              f"face {box[2] - box[0]:.0f}x{box[3] - box[1]:.0f} px")  # fmt: skip
        decode_runs, face_runs, region_runs = [], [], []
        for _ in range(repeats):
            decode_runs.append(bare_decode(path, *span))
            face_runs.append(
                timed_propagation(reader, seed, box, span, vision.detector, vision.embedder)
            )
            region_runs.append(timed_propagation(reader, seed, box, span, None, None))
    n = span[1] - span[0]
    decode_s = min(decode_runs)
    decode_fps = n / decode_s
    print(f"  bare PyAV decode+RGB      {decode_fps:7.1f} fps")
    for label, runs in (("face propagation", face_runs), ("region (tracker only)", region_runs)):
        seconds, followed, description = min(runs, key=lambda run: run[0])
        fps = followed / seconds
        print(f"  {label:<25} {fps:7.1f} fps  ({followed} frames; {fps / decode_fps:.3f}x of "
              f"bare decode speed)")  # fmt: skip
        if label == "face propagation":
            print(f"    {description}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--frames", type=int, default=120, help="frames around the seed")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    source = args.fixtures / "video" / "lp_s18.mp4"
    print(f"OpenCV {cv2.__version__}, PyAV {av.__version__}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_propagation_") as tmp:
        folder = Path(tmp)
        manager = ModelManager.from_environment(models_dir=folder / "models", offline=True)
        vision = build_embedded_vision(manager.resolve)
        bench_file(source, args.frames, args.repeats, vision)
        bench_file(make_1080p(source, folder / "lp_s18_1080p.mp4"), args.frames, args.repeats,
                   vision)  # fmt: skip


if __name__ == "__main__":
    main()
