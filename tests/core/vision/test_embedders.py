"""Identity embedders on real footage: same person close, different people far."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.errors import ModelUnavailableError
from anonnet_studio.core.vision.align import align_face
from anonnet_studio.core.vision.embedder import (
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
    pruned_sface_graph,
)
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.types import FaceEmbedder, cosine_distance
from tests.core.vision.conftest import clip_frames, single_face

# Frames spread over each clip, including lp_d3's winks, grimaces and head turns.
PEOPLE = {
    "lp_d18.mp4": [0, 90, 200],
    "lp_d3.mp4": [20, 150, 260, 310],
    "lp_d11.mp4": [0, 120, 220],
    "lp_s18.mp4": [0, 140, 280],
}


@pytest.fixture(scope="module")
def faces(vision: VisionModels) -> dict[str, list[tuple[np.ndarray, object]]]:
    result = {}
    for clip, indices in PEOPLE.items():
        frames = clip_frames(clip, indices)
        result[clip] = [(image, single_face(vision, image)) for image in frames]
    return result


@pytest.fixture(params=["sface", "dlib"])
def embedder(
    request: pytest.FixtureRequest, sface: SFaceEmbedder, dlib_embedder: DlibEmbedder
) -> FaceEmbedder:
    return sface if request.param == "sface" else dlib_embedder


def test_same_person_within_threshold_and_different_people_beyond(
    embedder: FaceEmbedder, faces: dict
) -> None:
    assert isinstance(embedder, FaceEmbedder)
    vectors = {
        clip: [embedder.embed(image, det) for image, det in found] for clip, found in faces.items()
    }
    for found in vectors.values():
        for vector in found:
            assert vector.shape == (128,) and vector.dtype == np.float32
            assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    same = [
        cosine_distance(a, b) for v in vectors.values() for a, b in itertools.combinations(v, 2)
    ]
    different = [
        cosine_distance(a, b)
        for (_, va), (_, vb) in itertools.combinations(vectors.items(), 2)
        for a, b in itertools.product(va, vb)
    ]
    assert max(same) < embedder.threshold, (embedder.name, max(same))
    assert min(different) > embedder.threshold, (embedder.name, min(different))


def test_batch_matches_single_embeddings(embedder: FaceEmbedder, faces: dict) -> None:
    (image, det), (other_image, other_det) = faces["lp_d18.mp4"][:2]
    # Two faces in one image: the second frame's face pasted beside the first's.
    both = np.concatenate([image, other_image], axis=1)
    shifted = type(other_det)(
        other_det.box + np.array([image.shape[1], 0, image.shape[1], 0], np.float32),
        other_det.landmarks5 + np.array([image.shape[1], 0], np.float32),
        other_det.score,
    )
    batch = embedder.embed_batch(both, [det, shifted])  # type: ignore[attr-defined]
    assert batch.shape == (2, 128)
    assert cosine_distance(batch[0], embedder.embed(image, det)) < 1e-3
    assert cosine_distance(batch[1], embedder.embed(other_image, other_det)) < 1e-3
    assert embedder.embed_batch(image, []).shape == (0, 128)  # type: ignore[attr-defined]


def test_sface_matches_opencv_reference_pipeline(
    model_dir, sface: SFaceEmbedder, faces: dict, tmp_path: Path
) -> None:
    """Our alignment + onnxruntime equals OpenCV's FaceRecognizerSF on the pruned graph
    (OpenCV rejects the original file; that is why it is pruned)."""
    pruned = tmp_path / "sface_pruned.onnx"
    pruned.write_bytes(pruned_sface_graph(model_dir("sface") / SFACE_FILE))
    recognizer = cv2.FaceRecognizerSF.create(str(pruned), "")
    image, det = faces["lp_d3.mp4"][0]
    row = np.concatenate(
        [det.box[:2], det.box[2:] - det.box[:2], det.landmarks5.ravel(), [det.score]]
    ).astype(np.float32)[None]
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    reference_crop = recognizer.alignCrop(bgr, row)
    our_crop = align_face(image, det.landmarks5)
    assert np.abs(reference_crop[:, :, ::-1].astype(int) - our_crop.astype(int)).max() <= 2
    reference = recognizer.feature(reference_crop).ravel()
    assert cosine_distance(reference, sface.embed(image, det)) < 1e-4


def test_missing_embedder_model_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="SFace"):
        SFaceEmbedder(tmp_path / "absent.onnx")
    with pytest.raises(ModelUnavailableError, match="dlib"):
        DlibEmbedder(tmp_path / "absent.dat", tmp_path / "absent5.dat")
