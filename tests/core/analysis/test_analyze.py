"""End-to-end analysis on a montage of real footage with known cuts and people.

Montage: d18, d19, d18 again, d3, then a two-shot with d11 and s18 side by side:
5 shots, 4 cuts, 5 distinct people, d18 recurring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.analysis.result import AnalysisResult
from anonnet_studio.core.analysis.tracking import box_iou
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from tests.conftest import fixture_video
from tests.media_factory import make_montage, make_side_by_side

FRAMES_PER_CLIP = 60
SIZE = (960, 540)


@pytest.fixture(scope="module")
def vision(tmp_path_factory: pytest.TempPathFactory) -> VisionModels:
    tmp = tmp_path_factory.mktemp("models")
    manager = ModelManager.from_environment(
        models_dir=tmp / "user", environ={"ANONNET_MODELS_CACHE": str(tmp / "cache")}
    )
    return build_embedded_vision(manager.resolve)


@pytest.fixture(scope="module")
def montage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    folder = tmp_path_factory.mktemp("montage")
    two_shot = make_side_by_side(
        fixture_video("lp_d11.mp4"),
        fixture_video("lp_s18.mp4"),
        folder / "two_shot.mp4",
        size=SIZE,
        max_frames=FRAMES_PER_CLIP,
    )
    clips = [fixture_video(n) for n in ("lp_d18.mp4", "lp_d19.mp4", "lp_d18.mp4", "lp_d3.mp4")]
    path = folder / "montage.mp4"
    cuts = make_montage([*clips, two_shot], path, size=SIZE, max_frames_per_clip=FRAMES_PER_CLIP)
    return path, cuts


@pytest.fixture(scope="module")
def result(montage: tuple[Path, list[int]], vision: VisionModels) -> AnalysisResult:
    return analyze_video(montage[0], vision)


def _people_in_shot(result: AnalysisResult, shot: int) -> set[int]:
    owner = {tid: n for n, ident in enumerate(result.identities) for tid in ident.track_ids}
    return {owner[t.id] for t in result.tracks if t.shot_index == shot}


def test_cuts_found_within_one_frame(result: AnalysisResult, montage) -> None:
    _, cuts = montage
    found = [start for start, _ in result.shots[1:]]
    assert len(found) == len(cuts), (found, cuts)
    assert all(abs(f - c) <= 1 for f, c in zip(found, cuts, strict=True)), (found, cuts)


def test_identities_are_the_distinct_people(result: AnalysisResult) -> None:
    assert len(result.shots) == 5
    shots = [_people_in_shot(result, i) for i in range(5)]
    assert all(len(people) == 1 for people in shots[:4]), shots
    assert len(shots[4]) == 2, "both people of the two-shot are found, as two identities"
    # d18 in shots 0 and 2 is one identity; everyone else is distinct.
    assert shots[0] == shots[2]
    distinct = [shots[0], shots[1], shots[3], *({p} for p in shots[4])]
    people = set().union(*distinct)
    assert len(people) == 5
    assert len(result.identities) == 5


def test_face_recall_against_a_full_per_frame_detector_pass(
    result: AnalysisResult, montage, vision: VisionModels
) -> None:
    covered = 0
    total = 0
    boxes_at: dict[int, list[np.ndarray]] = {}
    for track in result.tracks:
        for frame, box in zip(track.frames, track.boxes, strict=True):
            boxes_at.setdefault(int(frame), []).append(box)
    with VideoReader(montage[0]) as reader:
        for frame in reader.iter_frames():
            for detection in vision.detector.detect(frame.image):
                total += 1
                if any(box_iou(detection.box, b) >= 0.3 for b in boxes_at.get(frame.index, [])):
                    covered += 1
    assert total > 0
    assert covered / total >= 0.99, f"recall {covered}/{total}"


def test_keyframes_are_frontal(result: AnalysisResult) -> None:
    keyframes = [t.keyframe for t in result.tracks if t.keyframe is not None]
    assert len(keyframes) >= len(result.shots)
    for keyframe in keyframes:
        assert abs(keyframe.pose.yaw) < 25 and abs(keyframe.pose.pitch) < 25, keyframe.pose


def test_attributes_and_thumbnails(result: AnalysisResult) -> None:
    for identity in result.identities:
        assert identity.thumbnail.shape == (96, 96, 3)
        assert identity.attributes["age_group"].value != "unknown"
        assert identity.attributes["gender"].value in ("man", "woman")
        scores = identity.attributes["expression"].scores
        assert abs(sum(scores.values()) - 1.0) < 1e-3
