"""Test helpers: render plans from a real analysis, and the measurements the tests assert."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from anonnet_studio.core.analysis.result import AnalysisResult
from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
)
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.types import FaceDetection, cosine_distance
from tests.media_factory import decode_rgb


def people_by_side(analysis: AnalysisResult) -> list[PersonPlan]:
    """One blur-planned person per analysed identity, ordered left to right."""
    tracks = {t.id: t for t in analysis.tracks}
    people = []
    for number, identity in enumerate(analysis.identities):
        members = [tracks[i] for i in identity.track_ids]
        people.append(
            PersonPlan(
                identity_id=f"person-{number}",
                method=RedactionMethod.BLUR,
                embedding=identity.embedding,
                tracks=[TrackGeometry(t.frames, t.boxes, t.landmarks5) for t in members],
            )
        )
    return sorted(people, key=_mean_x)


def _mean_x(person: PersonPlan) -> float:
    return float(np.mean([np.mean(t.boxes[:, [0, 2]]) for t in person.tracks]))


def with_method(person: PersonPlan, method: RedactionMethod | str, **changes: object) -> PersonPlan:
    fields = {
        "identity_id": person.identity_id,
        "method": RedactionMethod(method),
        "embedding": person.embedding,
        "tracks": person.tracks,
        "mask_margin": person.mask_margin,
        "blur_strength": person.blur_strength,
        "pixel_blocks": person.pixel_blocks,
        "mask_color": person.mask_color,
    }
    fields.update(changes)
    return PersonPlan(**fields)  # type: ignore[arg-type]


def plan_with(people: list[PersonPlan], **options: object) -> RenderPlan:
    return RenderPlan(people, **options)  # type: ignore[arg-type]


def frames_of(path: Path) -> list[np.ndarray]:
    """Every frame of a (short) video as RGB, decoded with plain PyAV."""
    return [image for _, image in decode_rgb(path)]


def stream_facts(path: Path) -> dict[str, float]:
    """Frame count, video duration and audio duration (0 without audio) of a file."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        pts = [p.pts for p in container.demux(video) if p.pts is not None]
        step = float(1 / video.average_rate) if video.average_rate else 0.0
        video_s = float((max(pts) - min(pts)) * video.time_base) + step
        audio_s = 0.0
        if container.streams.audio:
            audio = container.streams.audio[0]
            container.seek(0)
            ends = [
                float((p.pts + p.duration) * p.time_base)
                for p in container.demux(audio)
                if p.pts is not None and p.duration
            ]
            audio_s = max(ends, default=0.0)
        return {"frames": len(pts), "video_s": video_s, "audio_s": audio_s}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def box_crop(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    return image[y0:y1, x0:x1]


def faces_left_to_right(vision: VisionModels, image: np.ndarray) -> list[FaceDetection]:
    return sorted(vision.detector.detect(image), key=lambda d: float(d.box[0]))


def verification_distance(
    vision: VisionModels,
    original: np.ndarray,
    output: np.ndarray,
    face: FaceDetection,
) -> float:
    """SFace distance between an original face and the output at the same place, aligned
    with the original's landmarks (so the check works even where no face is detected)."""
    return cosine_distance(
        vision.embedder.embed(original, face), vision.embedder.embed(output, face)
    )
