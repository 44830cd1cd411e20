"""FanLandmarks68 on tiny TorchScript networks saved in the real on-disk layout.

The real 2DFAN4 archive cannot be downloaded here; these stand-ins go through the same
`torch.jit.load` path. Where face_alignment (test-only, --no-deps) is installed, its own
crop and heatmap decoding are the reference.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning")
from torch import nn  # noqa: E402

from anonnet_studio.core.errors import ModelIntegrityError, ModelUnavailableError  # noqa: E402
from anonnet_studio.core.vision.fan_landmarks import (  # noqa: E402
    FAN_FILE,
    HEATMAP_SIZE,
    S3FD_REFERENCE_SCALE,
    FanLandmarks68,
    crop_face,
    crop_geometry,
    heatmap_peaks,
)
from anonnet_studio.core.vision.types import LandmarkPredictor  # noqa: E402


class RedDotNet(nn.Module):
    """Heatmap = 4x4 mean of (red - blue), only when the input is in [0, 1]: a model fed
    0..255, or BGR, peaks somewhere other than the red dot."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal = torch.relu(x[:, 0:1] - x[:, 2:3])
        heat = nn.functional.avg_pool2d(signal, 4)
        in_range = (x.amax() <= 1.0).to(x.dtype)
        return heat.repeat(1, 68, 1, 1) * in_range


class FixedHeatmaps(nn.Module):
    def __init__(self, heatmaps: torch.Tensor) -> None:
        super().__init__()
        self.heatmaps = nn.Parameter(heatmaps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heatmaps.expand(x.shape[0], -1, -1, -1) + 0.0 * x.mean()


class WrongInput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(10, 68)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class SingleFaceOnly(nn.Module):
    """Like an archive traced with a fixed batch of one."""

    def __init__(self) -> None:
        super().__init__()
        self.net = RedDotNet()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.view(1, 3, 256, 256))


class WrongShape(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.avg_pool2d(x, 4)  # (B, 3, 64, 64)


def save_scripted(module: nn.Module, folder: Path) -> Path:
    path = folder / FAN_FILE
    torch.jit.save(torch.jit.script(module.eval()), str(path))
    return path


def dot_image(height: int, width: int, red: tuple[float, float], blue: tuple[float, float]):
    """Black RGB image with a Gaussian red dot and a brighter blue distractor."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    image[..., 0] = 200 * np.exp(-((xx - red[0]) ** 2 + (yy - red[1]) ** 2) / (2 * 2.0**2))
    image[..., 2] = 255 * np.exp(-((xx - blue[0]) ** 2 + (yy - blue[1]) ** 2) / (2 * 2.0**2))
    return image.round().astype(np.uint8)


@pytest.fixture(scope="module")
def dot_model(tmp_path_factory: pytest.TempPathFactory) -> FanLandmarks68:
    return FanLandmarks68(save_scripted(RedDotNet(), tmp_path_factory.mktemp("dot")), "cpu")


@pytest.mark.parametrize(
    ("size", "box", "red", "blue"),
    [
        ((240, 320), (120, 70, 190, 150), (150.3, 118.6), (170, 95)),  # middle
        ((240, 320), (-20, 150, 50, 232), (8.0, 220.2), (30, 180)),  # past the left/bottom
        ((480, 200), (110, 10, 200, 115), (185.5, 40.0), (130, 90)),  # tall, top-right
    ],
)
def test_every_point_lands_on_the_dot(dot_model, size, box, red, blue) -> None:
    image = dot_image(*size, red, blue)
    points = dot_model.landmarks68(image, np.array(box, np.float32))
    assert points.shape == (68, 2) and points.dtype == np.float32
    assert isinstance(dot_model, LandmarkPredictor)
    error = np.linalg.norm(points - np.array(red, np.float32), axis=1)
    assert error.max() < 2.0, error.max()


def test_batch_matches_single_faces(dot_model) -> None:
    image = dot_image(240, 320, (150.3, 118.6), (170, 95))
    boxes = [np.array(b, np.float32) for b in [(120, 70, 190, 150), (110, 60, 200, 160)]]
    batch = dot_model.landmarks68_batch(image, boxes)
    assert batch.shape == (2, 68, 2)
    for box, points in zip(boxes, batch, strict=True):
        np.testing.assert_allclose(points, dot_model.landmarks68(image, box), atol=1e-4)
    assert dot_model.landmarks68_batch(image, []).shape == (0, 68, 2)


def test_single_face_archive_runs_faces_one_by_one(dot_model, tmp_path: Path) -> None:
    model = FanLandmarks68(save_scripted(SingleFaceOnly(), tmp_path), "cpu")
    image = dot_image(240, 320, (150.3, 118.6), (170, 95))
    boxes = [np.array(b, np.float32) for b in [(120, 70, 190, 150), (110, 60, 200, 160)]]
    np.testing.assert_allclose(
        model.landmarks68_batch(image, boxes), dot_model.landmarks68_batch(image, boxes)
    )


def test_fixed_heatmaps_map_to_expected_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cells = rng.integers(0, HEATMAP_SIZE, size=(68, 2))
    cells[:4] = [[0, 10], [63, 63], [30, 0], [5, 62]]  # on the edge: no quarter step
    heatmaps = np.zeros((1, 68, HEATMAP_SIZE, HEATMAP_SIZE), np.float32)
    step = np.zeros((68, 2), np.float32)
    for k, (cx, cy) in enumerate(cells):
        heatmaps[0, k, cy, cx] = 1.0
        if 0 < cx < 63 and 0 < cy < 63:  # a weaker right or lower neighbour: +0.25 there
            if k % 2:
                heatmaps[0, k, cy, cx + 1] = 0.5
                step[k, 0] = 0.25
            else:
                heatmaps[0, k, cy + 1, cx] = 0.5
                step[k, 1] = 0.25
    path = save_scripted(FixedHeatmaps(torch.from_numpy(heatmaps)), tmp_path)
    model = FanLandmarks68(path, "cpu")
    box = np.array([100.0, 80.0, 180.0, 190.0], np.float32)
    points = model.landmarks68(np.zeros((300, 400, 3), np.uint8), box)

    # Written out independently: a crop of 200 * (w + h) / 165 pixels centred 0.12 h above
    # the box centre; heatmap cell k (0-based) sits at (k + 0.5) / 64 of it.
    side = 200.0 * (80.0 + 110.0) / 165.0  # the default, for YuNet boxes
    origin = np.array([140.0, 135.0 - 0.12 * 110.0]) - side / 2
    expected = origin + (cells + 0.5 + step) * side / HEATMAP_SIZE
    np.testing.assert_allclose(points, expected, atol=1e-3)


def test_missing_corrupt_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        FanLandmarks68(tmp_path / FAN_FILE, "cpu")
    corrupt = tmp_path / FAN_FILE
    corrupt.write_bytes(b"PK\x03\x04 not really a zip" + bytes(100))
    with pytest.raises(ModelIntegrityError, match="TorchScript"):
        FanLandmarks68(corrupt, "cpu")
    torch.save({"weight": torch.zeros(3)}, str(corrupt))  # a state dict, not TorchScript
    with pytest.raises(ModelIntegrityError, match="TorchScript"):
        FanLandmarks68(corrupt, "cpu")


def test_wrong_output_shape_is_an_integrity_error(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match=r"\(1, 3, 64, 64\)"):
        FanLandmarks68(save_scripted(WrongShape(), tmp_path), "cpu")
    with pytest.raises(ModelIntegrityError, match="does not accept"):
        FanLandmarks68(save_scripted(WrongInput(), tmp_path), "cpu")


# --- face_alignment's own functions as the reference --------------------------------------


@pytest.fixture(scope="module")
def fa_utils() -> types.ModuleType:
    """face_alignment.utils; its numba `jit` is only an accelerator, stubbed when absent."""
    if importlib.util.find_spec("face_alignment") is None:
        pytest.skip("face_alignment not installed (test-only reference, requirements/no-deps)")
    stubbed = importlib.util.find_spec("numba") is None
    if stubbed:
        stub = types.ModuleType("numba")
        stub.jit = lambda *args, **kwargs: lambda function: function  # type: ignore[attr-defined]
        sys.modules["numba"] = stub
    try:
        from face_alignment import utils
    finally:
        if stubbed:
            del sys.modules["numba"]  # nothing else should see the stub
    return utils


BOXES = [
    (120.3, 70.8, 190.1, 150.6),
    (-20.0, 150.0, 50.0, 232.0),
    (250.5, -30.2, 340.0, 70.0),
    (10.0, 10.0, 310.0, 230.0),
    (150.0, 100.0, 158.0, 109.0),
]


@pytest.mark.parametrize("box", BOXES)
def test_crop_matches_face_alignment(fa_utils, box) -> None:
    image = np.random.default_rng(1).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    center, scale = crop_geometry(np.array(box), S3FD_REFERENCE_SCALE)
    theirs = fa_utils.crop(image, torch.tensor(center, dtype=torch.float32), scale)
    np.testing.assert_array_equal(crop_face(image, center, scale), theirs)


def test_decoding_matches_face_alignment(fa_utils, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    heatmaps = rng.random((3, 68, 64, 64), dtype=np.float32)
    heatmaps[0, :, 0, :] += 2.0  # peaks on the edge row
    theirs, _ = fa_utils.get_preds_fromhm(heatmaps.copy())[:2]
    np.testing.assert_allclose(heatmap_peaks(heatmaps), theirs, atol=1e-6)

    # Through the model, in image pixels: face_alignment truncates to integers, we don't.
    path = save_scripted(FixedHeatmaps(torch.from_numpy(heatmaps[1:2])), tmp_path)
    model = FanLandmarks68(path, "cpu", reference_scale=S3FD_REFERENCE_SCALE)
    box = np.array(BOXES[0], np.float32)
    points = model.landmarks68(np.zeros((240, 320, 3), np.uint8), box)
    center, scale = crop_geometry(box, S3FD_REFERENCE_SCALE)
    _, theirs_img = fa_utils.get_preds_fromhm(heatmaps[1:2].copy(), center, scale)[:2]
    np.testing.assert_array_equal(np.trunc(points), theirs_img[0])
