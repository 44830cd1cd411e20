"""RetinaFace port: tiny random networks with serengil's layer names, loaded from .h5 files
through the real code, against NumPy references written from serengil's Keras code."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.retinaface import (
    RETINAFACE_FILE,
    RetinaFaceDetector,
    anchor_grid,
    base_anchors,
    decode,
    nms,
)
from anonnet_studio.core.vision.types import FaceDetector
from tests.conftest import fixture_image
from tests.core.vision.retinaface_reference import keras_reference_outputs
from tests.support.keras_h5_writer import LayerSpec, write_keras_weights
from tests.support.retinaface_weights import tiny_layers

# serengil's hard-coded anchor corners (RetinaFace.detect_faces, `_anchors_fpn`).
SERENGIL_ANCHORS = {
    32: [[-248.0, -248.0, 263.0, 263.0], [-120.0, -120.0, 135.0, 135.0]],
    16: [[-56.0, -56.0, 71.0, 71.0], [-24.0, -24.0, 39.0, 39.0]],
    8: [[-8.0, -8.0, 23.0, 23.0], [0.0, 0.0, 15.0, 15.0]],
}


def _write(path: Path, layers: list[LayerSpec]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return write_keras_weights(path / RETINAFACE_FILE, layers)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("tiny"), tiny_layers(np.random.default_rng(7)))


def _replace(layers: list[LayerSpec], name: str, **arrays: np.ndarray) -> list[LayerSpec]:
    out = []
    for layer_name, weights in layers:
        if layer_name == name:
            weights = [(short, arrays.get(short, value)) for short, value in weights]
        out.append((layer_name, weights))
    return out


# --- anchors and decoding ----------------------------------------------------------------


def _reference_decode(outputs, image_size, threshold):
    """serengil's per-stride loop: tiled anchor plane, bbox_pred, landmark_pred, clip."""
    height, width = image_size
    boxes, scores, points = [], [], []
    for (prob, bbox, landmark), stride in zip(outputs, (32, 16, 8), strict=True):
        base = np.array(SERENGIL_ANCHORS[stride], np.float32)
        fh, fw, count = bbox.shape[1], bbox.shape[2], base.shape[0]
        cx = np.tile(np.arange(fw)[None, :, None, None], (fh, 1, count, 1))
        cy = np.tile(np.arange(fh)[:, None, None, None], (1, fw, count, 1))
        plane = np.concatenate([cx, cy, cx, cy], -1) * stride + np.tile(base, (fh, fw, 1, 1))
        anchors = plane.reshape(-1, 4)
        s = prob[..., count:].reshape(-1)
        d = bbox.reshape(-1, 4)
        lm = landmark.reshape(-1, 5, 2)
        for i in np.flatnonzero(s >= threshold):
            w = anchors[i, 2] - anchors[i, 0] + 1
            h = anchors[i, 3] - anchors[i, 1] + 1
            x, y = anchors[i, 0] + 0.5 * (w - 1), anchors[i, 1] + 0.5 * (h - 1)
            px, py = d[i, 0] * w + x, d[i, 1] * h + y
            pw, ph = math.exp(d[i, 2]) * w, math.exp(d[i, 3]) * h
            box = [
                px - 0.5 * (pw - 1),
                py - 0.5 * (ph - 1),
                px + 0.5 * (pw - 1),
                py + 0.5 * (ph - 1),
            ]
            box = [min(max(v, 0), (width if k % 2 == 0 else height) - 1) for k, v in enumerate(box)]
            boxes.append(box)
            scores.append(s[i])
            points.append([[lm[i, k, 0] * w + x, lm[i, k, 1] * h + y] for k in range(5)])
    return np.array(boxes), np.array(scores), np.array(points)


def test_base_anchors_are_serengils() -> None:
    for stride, corners in SERENGIL_ANCHORS.items():
        np.testing.assert_array_equal(base_anchors(stride), corners)
    grid = anchor_grid(2, 3, 16).reshape(2, 3, 2, 4)  # (y, x, anchor) order
    np.testing.assert_array_equal(grid[1, 2, 0], np.add(SERENGIL_ANCHORS[16][0], [32, 16] * 2))


def test_decode_matches_serengils_formulas() -> None:
    rng = np.random.default_rng(3)
    height, width = 75, 101
    outputs = []
    for stride in (32, 16, 8):
        fh, fw = -(-height // stride), -(-width // stride)
        face = rng.uniform(0, 1, (1, fh, fw, 2)).astype(np.float32)
        prob = np.concatenate([1 - face, face], -1)
        bbox = rng.normal(0, 0.3, (1, fh, fw, 8)).astype(np.float32)
        landmark = rng.normal(0, 0.3, (1, fh, fw, 20)).astype(np.float32)
        outputs.append((prob, bbox, landmark))
    boxes, scores, points = decode(outputs, (height, width), 0.6)
    ref_boxes, ref_scores, ref_points = _reference_decode(outputs, (height, width), 0.6)
    assert len(scores) == len(ref_scores) > 10
    np.testing.assert_allclose(scores, ref_scores)
    np.testing.assert_allclose(boxes, ref_boxes, atol=1e-3)
    np.testing.assert_allclose(points, ref_points, atol=1e-3)


# --- NMS ---------------------------------------------------------------------------------


def _reference_nms(dets: np.ndarray, threshold: float) -> list[int]:
    """serengil's cpu_nms, loop for loop."""
    x1, y1, x2, y2, s = dets.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = s.argsort()[::-1]
    suppressed = np.zeros(len(dets), bool)
    keep = []
    for a, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(int(i))
        for j in order[a + 1 :]:
            w = max(0.0, min(x2[i], x2[j]) - max(x1[i], x1[j]) + 1)
            h = max(0.0, min(y2[i], y2[j]) - max(y1[i], y1[j]) + 1)
            if w * h / (areas[i] + areas[j] - w * h) >= threshold:
                suppressed[j] = True
    return keep


def test_nms_matches_serengils_cpu_nms() -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 80, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 40, (200, 2))], 1)
    scores = rng.permutation(200) / 200.0  # distinct: the order is well defined
    kept = nms(boxes, scores, 0.4)
    assert kept.tolist() == _reference_nms(np.column_stack([boxes, scores]), 0.4)
    assert 10 < len(kept) < 190


def test_nms_threshold_is_inclusive_with_plus_one_areas() -> None:
    # Inclusive areas: 10x10 and 10x5 pixels overlapping in 10x5: IoU exactly 0.5.
    boxes = np.array([[0, 0, 9, 9], [0, 0, 9, 4]], float)
    assert nms(boxes, np.array([0.9, 0.8]), 0.5).tolist() == [0]
    assert nms(boxes, np.array([0.9, 0.8]), 0.51).tolist() == [0, 1]


# --- the network against a NumPy Keras-semantics reference -------------------------------


def test_network_matches_numpy_keras_reference(tiny_file: Path) -> None:
    layers = tiny_layers(np.random.default_rng(7))
    image = np.random.default_rng(11).integers(0, 256, (45, 61, 3), dtype=np.uint8)  # odd
    ours = RetinaFaceDetector(tiny_file, device="cpu").raw_outputs(image)
    reference = keras_reference_outputs(dict(layers), image.astype(np.float64))
    for level, ref_level in zip(ours, reference, strict=True):
        for mine, ref in zip(level, ref_level, strict=True):
            assert mine.shape == ref.shape
            np.testing.assert_allclose(mine, ref, rtol=1e-4, atol=1e-5)


# --- crafted heads: one known face -------------------------------------------------------

# Anchor 1 at stride 32 (side 256) fires; deltas relative to it.
DX, DY, BOX_SIDE = 0.02, 0.01, 12.0
# serengil's order: right eye (image left), left eye, nose, right and left mouth corner.
POINTS = np.array([[-0.012, -0.01], [0.012, -0.01], [0.0, 0.003], [-0.008, 0.012], [0.008, 0.012]])


def _crafted_layers() -> list[LayerSpec]:
    layers = tiny_layers(np.random.default_rng(1))
    for stride in (32, 16, 8):
        cls = np.full(4, -8.0, np.float32)
        cls[:2] = 0.0  # background logits
        if stride == 32:
            cls[3] = 8.0  # face logit of anchor 1
        bbox = np.zeros(8, np.float32)
        bbox[4:] = [DX, DY, math.log(BOX_SIDE / 256), math.log(BOX_SIDE / 256)]
        landmark = np.zeros(20, np.float32)
        landmark[10:] = POINTS.ravel()
        for head, bias in (("cls_score", cls), ("bbox_pred", bbox), ("landmark_pred", landmark)):
            name = f"face_rpn_{head}_stride{stride}"
            kernel = dict(layers)[name][0][1]
            layers = _replace(layers, name, kernel=np.zeros_like(kernel), bias=bias)
    return layers


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> RetinaFaceDetector:
    path = _write(tmp_path_factory.mktemp("crafted"), _crafted_layers())
    return RetinaFaceDetector(path, device="cpu", max_side=None)


def _expected(cell_x: int, cell_y: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Box (clipped to the image, inclusive ends) and landmarks of the face at a cell."""
    width, height = size
    centre = np.array([7.5 + 32 * cell_x, 7.5 + 32 * cell_y])
    box_centre = centre + 256 * np.array([DX, DY])
    half = 0.5 * (BOX_SIDE - 1)
    box = np.concatenate([box_centre - half, box_centre + half])
    box = box.clip(0, [width - 1, height - 1, width - 1, height - 1])
    return box, centre + 256 * POINTS


@pytest.mark.parametrize("size", [(29, 23), (58, 46), (87, 69), (100, 79)])
def test_one_face_lands_at_the_expected_pixels(
    crafted: RetinaFaceDetector, size: tuple[int, int]
) -> None:
    """29x23 (odd) has a 1x1 stride-32 map, so exactly one anchor fires; the larger
    images are downscaled to it by max_side and must map back (by x2, x3; 100x79 by
    100/29 and 79/23: rounding makes the two axes' factors differ)."""
    image = np.random.default_rng(2).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    found = crafted.detect(image, max_side=29)
    assert len(found) == 1
    factor = np.array([size[0] / 29, size[1] / 23])
    box, points = _expected(0, 0, (29, 23))
    np.testing.assert_allclose(found[0].box, box * np.tile(factor, 2), atol=1e-3)
    np.testing.assert_allclose(found[0].landmarks5, points * factor, atol=1e-3)
    assert found[0].score == pytest.approx(1 / (1 + math.exp(-8)), abs=1e-6)
    assert found[0].box.dtype == np.float32 and found[0].landmarks5.shape == (5, 2)


def test_landmarks_follow_our_order(crafted: RetinaFaceDetector) -> None:
    """types.FaceDetection: the eye and the mouth corner on the image's left come first,
    as serengil's "right_eye" / "mouth_right" (the person's right)."""
    face = crafted.detect(np.zeros((23, 29, 3), np.uint8))[0]
    right_eye, left_eye, nose, mouth_right, mouth_left = face.landmarks5
    assert right_eye[0] < nose[0] < left_eye[0]
    assert mouth_right[0] < nose[0] < mouth_left[0]
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_right[1], mouth_left[1])


def test_every_grid_cell_fires_on_an_odd_sized_image(crafted: RetinaFaceDetector) -> None:
    """101x70: stride-32 maps of ceil-halved sizes (4 x 3 cells); edge boxes are clipped."""
    width, height = 101, 70
    found = crafted.detect(np.zeros((height, width, 3), np.uint8))
    expected = [_expected(x, y, (width, height)) for y in range(3) for x in range(4)]
    got = sorted(found, key=lambda d: (d.landmarks5[2, 1], d.landmarks5[2, 0]))
    assert len(got) == len(expected)
    for det, (box, points) in zip(got, expected, strict=True):
        np.testing.assert_allclose(det.box, box, atol=1e-3)
        np.testing.assert_allclose(det.landmarks5, points, atol=1e-3)


# --- files that do not fit ---------------------------------------------------------------


def test_wrong_files_raise_model_integrity_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    other = _write(tmp_path / "other", [("dense", [("kernel", np.ones((2, 2), np.float32))])])
    with pytest.raises(ModelIntegrityError):
        RetinaFaceDetector(other)
    layers = tiny_layers(rng)
    kernel = dict(layers)["ssh_c2_aggr"][0][1]
    bad = _replace(layers, "ssh_c2_aggr", kernel=np.zeros((3, 3, kernel.shape[2] + 1, 8)))
    with pytest.raises(ModelIntegrityError):
        RetinaFaceDetector(_write(tmp_path / "channels", bad))
    three = layers
    for stride in (32, 16, 8):
        for head, per_anchor in (("cls_score", 2), ("bbox_pred", 4), ("landmark_pred", 10)):
            name = f"face_rpn_{head}_stride{stride}"
            kernel = dict(layers)[name][0][1]
            three = _replace(
                three,
                name,
                kernel=np.zeros((*kernel.shape[:3], 3 * per_anchor), np.float32),
                bias=np.zeros(3 * per_anchor, np.float32),
            )
    with pytest.raises(ModelIntegrityError):
        RetinaFaceDetector(_write(tmp_path / "anchors", three))
    garbage = tmp_path / "garbage" / RETINAFACE_FILE
    garbage.parent.mkdir()
    garbage.write_bytes(b"not an hdf5 file")
    with pytest.raises(ModelIntegrityError):
        RetinaFaceDetector(garbage)


# --- a real photo, end to end ------------------------------------------------------------


def test_photo_end_to_end(tiny_file: Path) -> None:
    image = cv2.cvtColor(cv2.imread(str(fixture_image("deepface_couple.jpg"))), cv2.COLOR_BGR2RGB)
    detector = RetinaFaceDetector(tiny_file, score_threshold=0.0, max_side=320, device="auto")
    assert isinstance(detector, FaceDetector) and detector.name == "retinaface"
    found = detector.detect(image)
    assert found
    height, width = image.shape[:2]
    boxes = np.array([d.box for d in found])
    assert np.isfinite(boxes).all() and (boxes >= 0).all()
    # Clipped at the downscaled image's last pixel, mapped back to full resolution.
    assert boxes[:, 2].max() <= width and boxes[:, 3].max() <= height
    assert all(0.0 <= d.score <= 1.0 for d in found)
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
