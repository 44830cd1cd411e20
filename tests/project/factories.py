"""`make_demo_project()`: a realistic Project built without running the analysis.

Other packages' tests may import it (`from tests.project.factories import make_demo_project`)
to get a document with several shots, a recurring identity, sparse 68-point landmarks, a
keyframe per track and a synthetic-stage attempt with its candidate image.
"""

from __future__ import annotations

import random

import numpy as np

from anonnet_studio.project.schema import (
    Attributes,
    AttributeValue,
    FacePlacement,
    GenerationAttempt,
    Identity,
    Keyframe,
    Method,
    Project,
    Shot,
    SourceMedia,
    Track,
)

EMBEDDING_DIM = 128
DEMO_SHOTS = ((0, 300), (300, 540), (540, 900))
# (identity number, shot index, first frame offset in the shot, frame count)
DEMO_TRACKS = (
    (1, 0, 0, 300),
    (2, 0, 40, 200),
    (3, 1, 10, 230),
    (1, 2, 0, 360),
)


def demo_source(width: int = 1280, height: int = 720, frame_count: int = 900) -> SourceMedia:
    """A source record for a video that does not exist (the document never needs it)."""
    return SourceMedia(
        path="/nonexistent/demo/interview.mp4",
        sha256="0" * 64,
        size_bytes=12_345_678,
        media_info={
            "path": "/nonexistent/demo/interview.mp4",
            "container": "mov,mp4,m4a,3gp,3g2,mj2",
            "video": {
                "codec": "h264",
                "width": width,
                "height": height,
                "fps": 29.97002997002997,
                "fps_rational": "30000/1001",
                "frame_count": frame_count,
            },
            "audio": {"codec": "aac", "sample_rate": 48000, "channels": 2},
        },
    )


def make_demo_project(
    *,
    seed: int = 0,
    source: SourceMedia | None = None,
    shots: tuple[tuple[int, int], ...] = DEMO_SHOTS,
    tracks: tuple[tuple[int, int, int, int], ...] = DEMO_TRACKS,
    frame_size: tuple[int, int] = (1280, 720),
) -> Project:
    """A deterministic project (same `seed`, same document).

    Defaults: 3 shots over 900 frames; person P1 appears in shots 0 and 2, P2 shares shot 0
    with P1, P3 is alone in shot 1. P1 uses the synthetic method and has one attempt.
    """
    rng = np.random.default_rng(seed)
    id_rng = random.Random(seed)
    width, height = frame_size
    project = Project(
        source=source or demo_source(width, height, shots[-1][1]),
        shots=[Shot(i, start, end) for i, (start, end) in enumerate(shots)],
        analysis={
            "models": {"detector": "yunet 2023mar", "embedder": "sface 2021dec"},
            "settings": {"detection_threshold": 0.85, "cluster_threshold": 0.4},
            "timings_s": {"detection": 12.5, "clustering": 0.25},
        },
    )
    centres = {n: rng.normal(size=EMBEDDING_DIM) for n, *_ in tracks}
    for track_id, (number, shot_index, offset, count) in enumerate(tracks, start=1):
        start = shots[shot_index][0] + offset
        project.tracks[track_id] = _demo_track(
            rng, track_id, shot_index, f"P{number}", start, count, centres[number], width, height
        )
    for number in sorted(centres):
        track_ids = [t.id for t in project.tracks.values() if t.identity_id == f"P{number}"]
        identity = Identity.create(
            number,
            rng=id_rng,
            embedding=project.representative_embedding(track_ids),
            track_ids=track_ids,
            attributes=_demo_attributes(number),
            thumbnail=rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8),
        )
        project.identities.append(identity)
    _add_synthetic_attempt(project, rng)
    project.leak_frames = [17, 18, 600]
    return project


def _demo_track(
    rng: np.random.Generator,
    track_id: int,
    shot_index: int,
    identity_id: str,
    start: int,
    count: int,
    centre: np.ndarray,
    width: int,
    height: int,
) -> Track:
    frames = np.arange(start, start + count, dtype=np.int32)
    size = rng.uniform(80, 200)
    # A slow random walk of the face centre, like a person moving while talking.
    walk = np.cumsum(rng.normal(scale=1.5, size=(count, 2)), axis=0)
    cx = np.clip(rng.uniform(0.3, 0.7) * width + walk[:, 0], size, width - size)
    cy = np.clip(rng.uniform(0.3, 0.6) * height + walk[:, 1], size, height - size)
    boxes = np.stack([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], axis=1)
    template = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]])
    landmarks5 = boxes[:, None, :2] + template[None] * size
    interpolated = np.zeros(count, dtype=bool)
    interpolated[count // 3 : count // 3 + 4] = True  # a short bridged detector miss
    scores = np.where(interpolated, 0.0, rng.uniform(0.86, 0.99, size=count))
    embedding = centre + rng.normal(scale=0.2, size=centre.shape)
    embedding /= np.linalg.norm(embedding)
    key_row = count // 2
    landmarks68_rows = np.array([0, key_row, count - 1])
    landmarks68 = boxes[landmarks68_rows, None, :2] + rng.uniform(0, size, size=(3, 68, 2))
    return Track(
        id=track_id,
        shot_index=shot_index,
        identity_id=identity_id,
        frames=frames,
        boxes=boxes,
        landmarks5=landmarks5,
        scores=scores,
        interpolated=interpolated,
        embedding=embedding,
        landmarks68=landmarks68,
        landmarks68_frames=frames[landmarks68_rows],
        keyframe=Keyframe(
            frame_index=int(frames[key_row]),
            yaw=float(rng.uniform(-8, 8)),
            pitch=float(rng.uniform(-6, 6)),
            roll=float(rng.uniform(-3, 3)),
            score=float(scores[key_row]),
            landmarks68=landmarks68[1],
        ),
    )


def _demo_attributes(number: int) -> Attributes:
    genders = ("man", "woman")
    return Attributes(
        age_group=AttributeValue("adult", 0.71),
        gender=AttributeValue(genders[number % 2], 0.97),
        race=AttributeValue("asian" if number == 3 else "white", 0.64),
        expression=AttributeValue("neutral", 0.58, override="happy" if number == 2 else None),
        age_years=29.0 + number,
        expression_scores={"neutral": 0.58, "happy": 0.31, "sad": 0.11},
    )


def _add_synthetic_attempt(project: Project, rng: np.random.Generator) -> None:
    """One kept attempt with its image and its placement in the keyframe of P1's track."""
    person = project.identities[0]
    person.method = Method.SYNTHETIC
    project.images["P1-attempt-0"] = rng.integers(0, 256, size=(64, 48, 3), dtype=np.uint8)
    track = project.tracks[person.track_ids[0]]
    assert track.keyframe is not None
    frame = track.keyframe.frame_index
    placement = FacePlacement.from_arrays(
        track_id=track.id,
        frame_index=frame,
        image_to_frame=[[1.5, 0.0, 100.25], [0.0, 1.5, 40.5]],
        landmarks68=rng.uniform(0, 48, size=(68, 2)),
        box=track.box_at(frame),
        landmarks5=track.landmarks5_at(frame),
    )
    person.attempts.append(
        GenerationAttempt(
            seed=person.generation.seed,
            strength=1.0,
            steps=35,
            guidance=8.0,
            distance=0.4123456789,
            threshold=0.0805,
            face_found=True,
            passed=True,
            image_key="P1-attempt-0",
            placement=placement,
            created_at="2026-01-02T03:04:05+00:00",
        )
    )
    person.selected_attempt = 0
