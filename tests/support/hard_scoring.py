"""Scores of one hard-footage clip: analysis and leak-check recall against the true face
places, the independent judge's recall, and what the exported frames still show."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.analysis.result import AnalysisResult
from anonnet_studio.core.anonymize.leakcheck import primary_look
from anonnet_studio.core.anonymize.looks import Look, extra_looks, faces_seen
from anonnet_studio.core.anonymize.plan import PersonPlan, RedactionMethod, RenderPlan
from anonnet_studio.core.anonymize.plan import TrackGeometry as Geometry
from anonnet_studio.core.anonymize.renderer import RenderResult, render
from anonnet_studio.core.vision.factory import VisionModels
from tests.media_factory import decode_rgb
from tests.support.hard_footage import HardClip, TruthFace
from tests.support.independent_check import SAME_PERSON, IndependentJudge

# A true face box counts as changed when its mean absolute change (grey levels) reaches
# this share of its own contrast (std), and at least CODEC_NOISE: a blur removes about as
# much as the face has detail, in a dim frame too, and the encoder alone changes 1-2 levels.
CHANGED_SHARE = 0.2
CODEC_NOISE = 2.5


@dataclass(frozen=True, slots=True)
class ExportScore:
    looks: list[str]
    check_ms_per_frame: float
    protected: int  # true faces (at least half in frame) changed in the output
    recognisable: int  # ... still recognised by the judge in the output
    verdict_ok: bool  # not blind and nothing left uncovered
    covered_by: dict[str, int]
    # (frame, person, face width px, judge distance) of each face still recognised
    recognised: list[tuple[int, str, float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClipScore:
    condition: str
    faces: int  # true faces with at least half of them inside the frame
    analysis_found: int
    first_look_found: int  # the analysis detector at the analysis scale (the old check)
    check_found: int  # any look of the leak check
    judge_found: int
    recognisable_in_source: int


def in_frame(face: TruthFace, shape: tuple[int, ...]) -> bool:
    h, w = shape[:2]
    x0, y0, x1, y1 = (float(v) for v in face.box)
    inside = max(0.0, min(x1, w) - max(x0, 0)) * max(0.0, min(y1, h) - max(y0, 0))
    return inside >= 0.5 * (x1 - x0) * (y1 - y0)


def hits(face: TruthFace, boxes: list[np.ndarray]) -> bool:
    """A box found at the true place: its centre inside the true box, or vice versa."""
    x0, y0, x1, y1 = (float(v) for v in face.box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for b in boxes:
        bx, by = float(b[0] + b[2]) / 2, float(b[1] + b[3]) / 2
        if (x0 <= bx <= x1 and y0 <= by <= y1) or (b[0] <= cx <= b[2] and b[1] <= cy <= b[3]):
            return True
    return False


def check_looks(vision: VisionModels, plan: RenderPlan) -> list[Look]:
    extra = extra_looks(vision.detector, vision.check_detector, plan)
    return [primary_look(vision.detector, plan), *extra]


def look_boxes(looks: list[Look], frame: np.ndarray) -> list[np.ndarray]:
    return [box for _, _, box in faces_seen(looks, frame)]


def plan_for(analysis: AnalysisResult, **options: object) -> RenderPlan:
    """Everyone blurred, hide-everyone policy: the product's default."""
    tracks = {t.id: t for t in analysis.tracks}
    people = [
        PersonPlan(
            identity_id=f"person-{n}",
            method=RedactionMethod.BLUR,
            embedding=identity.embedding,
            tracks=[
                Geometry(tracks[i].frames, tracks[i].boxes, tracks[i].landmarks5)
                for i in identity.track_ids
            ],
        )
        for n, identity in enumerate(analysis.identities)
    ]
    return RenderPlan(people, hide_everyone_else=True, **options)  # type: ignore[arg-type]


def score_source(
    clip: HardClip, vision: VisionModels, judge: IndependentJudge, analysis: AnalysisResult
) -> ClipScore:
    sources = [image for _, image in decode_rgb(clip.path)]
    plan = plan_for(analysis)
    first, every = [primary_look(vision.detector, plan)], check_looks(vision, plan)
    counts = dict(faces=0, analysis=0, first=0, check=0, judge=0, recognisable=0)
    for index, (image, truth) in enumerate(zip(sources, clip.truth, strict=True)):
        tracked = [
            t.boxes[int(np.searchsorted(t.frames, index))]
            for t in analysis.tracks
            if index in set(t.frames.tolist())
        ]
        first_boxes, every_boxes = look_boxes(first, image), look_boxes(every, image)
        for face in truth:
            if not in_frame(face, image.shape):
                continue
            counts["faces"] += 1
            counts["analysis"] += hits(face, tracked)
            counts["first"] += hits(face, first_boxes)
            counts["check"] += hits(face, every_boxes)
            counts["judge"] += judge.detects(image, face)
            counts["recognisable"] += judge.recognisable(image, face)
    return ClipScore(
        clip.condition,
        counts["faces"],
        counts["analysis"],
        counts["first"],
        counts["check"],
        counts["judge"],
        counts["recognisable"],
    )


def score_export(
    clip: HardClip,
    vision: VisionModels,
    judge: IndependentJudge,
    analysis: AnalysisResult,
    dest: Path,
    **plan_options: object,
) -> tuple[ExportScore, RenderResult]:
    plan = plan_for(analysis, **plan_options)
    result = render(clip.path, dest, plan, vision)
    sources = [image for _, image in decode_rgb(clip.path)]
    outputs = [image for _, image in decode_rgb(dest)]
    assert len(outputs) == len(sources)
    protected = recognisable = 0
    recognised = []
    for index, (source, output, truth) in enumerate(zip(sources, outputs, clip.truth, strict=True)):
        for face in truth:
            if not in_frame(face, source.shape):
                continue
            protected += _changed(source, output, face)
            distance = judge.distance(output, face)
            if distance is not None and distance < SAME_PERSON:
                recognisable += 1
                width = float(face.box[2] - face.box[0])
                recognised.append((index, face.person, round(width), round(distance, 3)))
    sight = result.checker_sight
    covered: dict[str, int] = {}
    for leak in result.leaks:
        covered[leak.detector] = covered.get(leak.detector, 0) + int(leak.covered)
    score = ExportScore(
        looks=list(result.leak_check_looks),
        check_ms_per_frame=1000 * result.timings.get("leak_check_s", 0.0) / len(sources),
        protected=protected,
        recognisable=recognisable,
        verdict_ok=not (sight is not None and sight.blind)
        and all(leak.covered for leak in result.leaks),
        covered_by=covered,
        recognised=recognised,
    )
    return score, result


def _changed(source: np.ndarray, output: np.ndarray, face: TruthFace) -> bool:
    h, w = source.shape[:2]
    x0, y0 = max(0, int(face.box[0])), max(0, int(face.box[1]))
    x1, y1 = min(w, int(np.ceil(face.box[2]))), min(h, int(np.ceil(face.box[3])))
    a = source[y0:y1, x0:x1].astype(np.float32)
    b = output[y0:y1, x0:x1].astype(np.float32)
    if a.size == 0:
        return False
    return float(np.abs(a - b).mean()) >= max(CODEC_NOISE, CHANGED_SHARE * float(a.std()))


def analyse(clip: HardClip, vision: VisionModels) -> tuple[AnalysisResult, float]:
    started = time.perf_counter()
    analysis = analyze_video(clip.path, vision)
    return analysis, time.perf_counter() - started
