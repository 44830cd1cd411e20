"""The embedded face models on real photos and footage (no mocks, offline)."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from anonnet_studio.core.analysis.tracking import box_iou
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from anonnet_studio.core.vision.pose import _wrap, eye_aspect_ratio, head_pose
from anonnet_studio.core.vision.types import FaceDetection, cosine_distance
from tests.conftest import fixture_image, fixture_video


@pytest.fixture(scope="module")
def vision(tmp_path_factory: pytest.TempPathFactory) -> VisionModels:
    tmp = tmp_path_factory.mktemp("models")
    manager = ModelManager.from_environment(
        models_dir=tmp / "user", environ={"ANONNET_MODELS_CACHE": str(tmp / "cache")}
    )
    return build_embedded_vision(manager.resolve)


def _image(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(fixture_image(name))), cv2.COLOR_BGR2RGB)


def _faces(vision: VisionModels, clip: str, every: int = 30, limit: int = 6):
    """(frame, most confident detection) on every `every`-th frame of a fixture clip."""
    found = []
    with VideoReader(fixture_video(clip)) as reader:
        for frame in reader.iter_frames(stride=every):
            detections = vision.detector.detect(frame.image, max_side=640)
            assert len(detections) == 1, f"{clip} frame {frame.index}: {len(detections)} faces"
            found.append((frame.image, detections[0]))
            if len(found) >= limit:
                break
    return found


@pytest.mark.parametrize(("name", "count"), [("deepface_couple.jpg", 2), ("fas_friends.jpg", 6)])
def test_group_photos_every_face_found(vision: VisionModels, name: str, count: int) -> None:
    assert len(vision.detector.detect(_image(name))) == count


def test_row_of_small_faces_all_found(vision: VisionModels) -> None:
    # Three panels (original, face-anonymized, full-body-anonymized) of 9 people each;
    # the faces are ~30 px wide in a 2771x683 image.
    image = _image("dp2_g7_leaders.jpg")
    faces = [d for d in vision.detector.detect(image) if d.score >= 0.85]
    panel_width = image.shape[1] / 3
    per_panel = [sum(1 for d in faces if k * panel_width <= d.box[0] < (k + 1) * panel_width)
                 for k in range(3)]  # fmt: skip
    assert per_panel == [9, 9, 9]
    assert all(25 <= d.width <= 45 for d in faces)


def test_embeddings_separate_people_and_match_the_same_person(vision: VisionModels) -> None:
    people = {clip: _faces(vision, clip) for clip in ("lp_d18.mp4", "lp_d3.mp4", "lp_d11.mp4")}
    vectors = {
        clip: [vision.embedder.embed(image, det) for image, det in faces]
        for clip, faces in people.items()
    }
    threshold = vision.embedder.threshold
    for clip, embeddings in vectors.items():
        for a, b in itertools.combinations(embeddings, 2):
            assert cosine_distance(a, b) < threshold, clip
    for (c1, e1), (c2, e2) in itertools.combinations(vectors.items(), 2):
        for a, b in itertools.product(e1, e2):
            assert cosine_distance(a, b) > threshold, (c1, c2)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-4 for e in vectors.values() for v in e)


def test_frontal_face_reads_near_zero_pose_not_180(vision: VisionModels) -> None:
    image, det = _faces(vision, "lp_d18.mp4", limit=1)[0]
    landmarks = vision.landmarks.landmarks68(image, det.box)
    pose = head_pose(landmarks, (image.shape[1], image.shape[0]))
    assert abs(pose.yaw) < 15 and abs(pose.pitch) < 15, pose
    assert eye_aspect_ratio(landmarks) > 0.15  # eyes open


def test_turned_head_has_larger_yaw_than_frontal(vision: VisionModels) -> None:
    poses = []
    for image, det in _faces(vision, "lp_d3.mp4", every=10, limit=35):
        landmarks = vision.landmarks.landmarks68(image, det.box)
        poses.append(head_pose(landmarks, (image.shape[1], image.shape[0])))
    yaws = sorted(abs(p.yaw) for p in poses)
    assert yaws[0] < 10 and yaws[-1] > 20, yaws


def test_pitch_is_wrapped_into_half_open_range() -> None:
    assert _wrap(180.0) == 180.0 and _wrap(-180.0) == 180.0
    assert _wrap(190.0) == -170.0 and _wrap(-190.0) == 170.0


def test_attributes_child_younger_and_genders(vision: VisionModels) -> None:
    def estimate(clip: str) -> dict:
        image, det = _faces(vision, clip, limit=1)[0]
        merged: dict = {}
        for estimator in vision.attributes:
            merged.update(estimator.estimate(image, det))
        return merged

    child, man, woman = estimate("lp_d11.mp4"), estimate("lp_d18.mp4"), estimate("lp_d3.mp4")
    assert child["age"].raw < 12 < man["age"].raw
    assert man["gender"].value == "man" and woman["gender"].value == "woman"
    for result in (child, man, woman):
        scores = result["expression"].scores
        assert set(scores) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
        assert all(0.0 <= p <= 1.0 for p in scores.values())
        assert abs(sum(scores.values()) - 1.0) < 1e-3


def test_detections_scale_back_to_full_resolution(vision: VisionModels) -> None:
    image = _image("fas_friends.jpg")
    full = sorted(vision.detector.detect(image), key=lambda d: d.box[0])
    small = sorted(vision.detector.detect(image, max_side=960), key=lambda d: d.box[0])
    assert len(small) == len(full)
    for a, b in zip(full, small, strict=True):
        assert isinstance(b, FaceDetection)
        # The int8 network's boxes vary a little with scale; a scaling bug would put the
        # downscaled detections far away (IoU near 0).
        assert box_iou(a.box, b.box) > 0.6
