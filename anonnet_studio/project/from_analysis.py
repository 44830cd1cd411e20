"""Build an editable project document from the analysis result."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from anonnet_studio.core.analysis.result import AnalysedIdentity, AnalysedTrack, AnalysisResult
from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.vision.types import AttributeEstimate
from anonnet_studio.project.hashing import describe_source
from anonnet_studio.project.schema import (
    Attributes,
    AttributeValue,
    Identity,
    Keyframe,
    Method,
    Project,
    Shot,
    Track,
)


def project_from_analysis(
    result: AnalysisResult,
    source_path: Path,
    *,
    rng: random.Random | None = None,
    default_method: Method = Method.BLUR,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Everyone starts hidden with `default_method` and a fresh seed in [1000, 9999]."""
    rng = rng or random.Random()
    source = describe_source(source_path, result.media_info, on_progress=on_progress, cancel=cancel)
    project = Project(
        source=source,
        shots=[Shot(i, start, end) for i, (start, end) in enumerate(result.shots)],
        analysis={
            "models": dict(result.models),
            "settings": dict(result.settings),
            "timings_s": dict(result.timings_s),
        },
    )
    owner: dict[int, str] = {}
    for number, analysed in enumerate(result.identities, start=1):
        identity = Identity.create(
            number,
            rng=rng,
            embedding=analysed.embedding,
            track_ids=list(analysed.track_ids),
            method=default_method,
            attributes=_attributes(analysed),
            thumbnail=analysed.thumbnail,
        )
        project.identities.append(identity)
        owner.update(dict.fromkeys(analysed.track_ids, identity.id))
    for track in result.tracks:
        project.tracks[track.id] = _track(track, owner[track.id])
    return project


def _track(track: AnalysedTrack, identity_id: str) -> Track:
    keyframe = None
    landmarks68 = landmarks68_frames = None
    if track.keyframe is not None:
        k = track.keyframe
        keyframe = Keyframe(
            frame_index=k.frame_index,
            yaw=k.pose.yaw,
            pitch=k.pose.pitch,
            roll=k.pose.roll,
            score=k.score,
            landmarks68=k.landmarks68,
        )
        landmarks68 = k.landmarks68[None]
        landmarks68_frames = np.asarray([k.frame_index], np.int32)
    return Track(
        id=track.id,
        shot_index=track.shot_index,
        identity_id=identity_id,
        frames=track.frames,
        boxes=track.boxes,
        landmarks5=track.landmarks5,
        scores=track.scores,
        interpolated=track.interpolated,
        embedding=track.embedding,
        landmarks68=landmarks68,
        landmarks68_frames=landmarks68_frames,
        keyframe=keyframe,
    )


def _attributes(identity: AnalysedIdentity) -> Attributes:
    found = identity.attributes

    def value(key: str) -> AttributeValue:
        estimate: AttributeEstimate | None = found.get(key)
        if estimate is None or estimate.value == "unknown":
            return AttributeValue()
        return AttributeValue(detected=estimate.value, confidence=estimate.confidence)

    age = found.get("age")
    expression = found.get("expression")
    return Attributes(
        age_group=value("age_group"),
        gender=value("gender"),
        race=value("race"),
        expression=value("expression"),
        age_years=age.raw if age is not None else None,
        expression_scores=dict(expression.scores) if expression is not None else {},
    )
