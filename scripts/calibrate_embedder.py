#!/usr/bin/env python3
"""Calibrate the identity embedders' same-person thresholds on the fixture clips.

Each fixture video shows a different person. Faces are sampled every `--every` frames;
same-person and different-person cosine distances are printed per embedder, so the
threshold in `core/vision/embedder.py` can sit in the gap between them.

    .venv/bin/python scripts/calibrate_embedder.py [--fixtures ../shared/fixtures]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.core.media.reader import VideoReader  # noqa: E402
from anonnet_studio.core.vision.embedder import DlibEmbedder, SFaceEmbedder  # noqa: E402
from anonnet_studio.core.vision.types import cosine_distance  # noqa: E402
from anonnet_studio.runtime import model_manager  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    manager = model_manager()
    from anonnet_studio.core.vision.factory import build_embedded_vision

    detector = build_embedded_vision(manager.resolve).detector
    dlib_dir = manager.resolve("dlib-face-models")
    embedders = {
        "sface": SFaceEmbedder(
            manager.resolve("sface") / "face_recognition_sface_2021dec_int8bq.onnx"
        ),
        "dlib": DlibEmbedder(
            dlib_dir / "dlib_face_recognition_resnet_model_v1.dat",
            dlib_dir / "shape_predictor_5_face_landmarks.dat",
        ),
    }
    samples: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in embedders}
    for clip in sorted((args.fixtures / "video").glob("*.mp4")):
        with VideoReader(clip) as reader:
            for frame in reader.iter_frames(stride=args.every):
                faces = detector.detect(frame.image, max_side=640)
                if not faces:
                    continue
                face = max(faces, key=lambda d: d.score)
                for name, embedder in embedders.items():
                    samples[name].setdefault(clip.stem, []).append(
                        embedder.embed(frame.image, face)
                    )
    for name, per_clip in samples.items():
        same = [
            cosine_distance(a, b)
            for faces in per_clip.values()
            for a, b in itertools.combinations(faces, 2)
        ]
        different = [
            cosine_distance(a, b)
            for (_, fa), (_, fb) in itertools.combinations(per_clip.items(), 2)
            for a in fa
            for b in fb
        ]
        print(
            f"{name}: same person max {max(same):.3f} p99 {np.percentile(same, 99):.3f} "
            f"median {np.median(same):.3f} | different people min {min(different):.3f} "
            f"p1 {np.percentile(different, 1):.3f} median {np.median(different):.3f} "
            f"| threshold {embedders[name].threshold}"
        )
    print("faces per clip:", {clip: len(f) for clip, f in samples["sface"].items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
