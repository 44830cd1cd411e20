#!/usr/bin/env python3
"""Calibrate the identity embedders' same-person thresholds on the fixture clips.

Each fixture video shows a different person. The most confident face is taken every
`--every` frames; same-person (pairs within a clip) and different-person (pairs across
clips) cosine distances are printed per embedder with a suggested threshold: the middle
of the gap between the two distributions, or, when they overlap, the value with the
fewest errors. The chosen values live in `threshold` of each class in
`anonnet_studio/core/vision/embedder.py`.

    .venv/bin/python scripts/calibrate_embedder.py [--fixtures ../shared/fixtures]

Last run (every 10th frame, 158 faces from 6 clips, 2,073 same / 10,330 different pairs):
    sface: same median 0.138 max 0.466 | different min 0.617 median 0.909 -> 0.54
    dlib:  same median 0.018 max 0.069 | different min 0.068 median 0.147 -> 0.07
           (overlap: 5 of 12,403 pairs wrong; lp_d3 vs lp_s18, two women)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import model_manager  # noqa: E402
from anonnet_studio.core.media.reader import VideoReader  # noqa: E402
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector  # noqa: E402
from anonnet_studio.core.vision.embedder import (  # noqa: E402
    DLIB_RESNET_FILE,
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
)
from anonnet_studio.core.vision.landmarks import SHAPE5_FILE  # noqa: E402
from anonnet_studio.core.vision.types import FaceEmbedder, cosine_distance  # noqa: E402


def distances(per_clip: dict[str, list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(same-person, different-person) cosine distances over all pairs."""
    same = [
        cosine_distance(a, b)
        for vectors in per_clip.values()
        for a, b in itertools.combinations(vectors, 2)
    ]
    different = [
        cosine_distance(a, b)
        for (_, va), (_, vb) in itertools.combinations(per_clip.items(), 2)
        for a, b in itertools.product(va, vb)
    ]
    return np.array(same), np.array(different)


def suggest_threshold(same: np.ndarray, different: np.ndarray) -> float:
    """Middle of the gap, or the fewest-errors cut when the distributions overlap."""
    if same.max() < different.min():
        return float((same.max() + different.min()) / 2)
    candidates = np.unique(np.concatenate([same, different]))
    errors = [(same >= t).mean() + (different < t).mean() for t in candidates]
    return float(candidates[int(np.argmin(errors))])


def summary(values: np.ndarray) -> str:
    return (
        f"min {values.min():.3f}  p1 {np.percentile(values, 1):.3f}  "
        f"median {np.median(values):.3f}  p99 {np.percentile(values, 99):.3f}  "
        f"max {values.max():.3f}  (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--every", type=int, default=10, help="sample every N-th frame")
    parser.add_argument("--max-side", type=int, default=640, help="detection scale")
    args = parser.parse_args()

    manager = model_manager()
    dlib_dir = manager.resolve("dlib-face-models")
    detector = YuNetDetector(manager.resolve("yunet") / YUNET_FILE)
    embedders: dict[str, FaceEmbedder] = {
        "sface": SFaceEmbedder(manager.resolve("sface") / SFACE_FILE),
        "dlib": DlibEmbedder(dlib_dir / DLIB_RESNET_FILE, dlib_dir / SHAPE5_FILE),
    }
    vectors: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in embedders}
    seconds: dict[str, float] = dict.fromkeys(embedders, 0.0)
    faces = 0
    for clip in sorted((args.fixtures / "video").glob("*.mp4")):
        with VideoReader(clip) as reader:
            for frame in reader.iter_frames(stride=args.every):
                found = detector.detect(frame.image, max_side=args.max_side)
                if not found:
                    print(f"  {clip.stem} frame {frame.index}: no face", file=sys.stderr)
                    continue
                face = max(found, key=lambda d: d.score)
                faces += 1
                for name, embedder in embedders.items():
                    start = time.perf_counter()
                    vector = embedder.embed(frame.image, face)
                    seconds[name] += time.perf_counter() - start
                    vectors[name].setdefault(clip.stem, []).append(vector)

    print(f"faces per clip: { {c: len(v) for c, v in vectors['sface'].items()} }")
    for name, per_clip in vectors.items():
        same, different = distances(per_clip)
        embedder = embedders[name]
        print(f"\n{name} ({embedder.name}), {1000 * seconds[name] / faces:.1f} ms per face")
        print(f"  same person      {summary(same)}")
        print(f"  different people {summary(different)}")
        suggested = suggest_threshold(same, different)
        errors = int((same >= embedder.threshold).sum() + (different < embedder.threshold).sum())
        print(
            f"  suggested threshold {suggested:.3f}; class threshold {embedder.threshold} "
            f"misclassifies {errors} of {len(same) + len(different)} pairs"
        )
        for clip, clip_vectors in per_clip.items():
            others = [v for c, vs in per_clip.items() if c != clip for v in vs]
            closest = min(cosine_distance(a, b) for a in clip_vectors for b in others)
            within = [cosine_distance(a, b) for a, b in itertools.combinations(clip_vectors, 2)]
            print(f"    {clip:10s} within max {max(within):.3f}  to others min {closest:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
