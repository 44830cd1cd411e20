import h5py
import numpy as np
import pytest

from anonnet_studio.core.errors import ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.vision.keras_h5 import (
    conv_kernel_to_torch,
    dense_kernel_to_torch,
    depthwise_kernel_to_torch,
    read_keras_weights,
)
from tests.support.keras_h5_writer import random_array, write_keras_weights


@pytest.mark.parametrize("full_model", [False, True])
def test_reads_weight_layers_in_model_order(tmp_path, full_model):
    rng = np.random.default_rng(0)
    kernel, bias = random_array(rng, 3, 3, 3, 8), random_array(rng, 8)
    dense = random_array(rng, 8, 2)
    path = write_keras_weights(
        tmp_path / "m.h5",
        [
            ("zero_padding2d_1", []),
            ("conv2d_1", [("kernel", kernel), ("bias", bias)]),
            ("flatten_1", []),
            ("a_dense", [("kernel", dense)]),  # sorts first in the file, last in the model
        ],
        full_model=full_model,
    )
    weights = read_keras_weights(path)
    assert [layer.name for layer in weights] == ["conv2d_1", "a_dense"]
    np.testing.assert_array_equal(weights.layer("conv2d_1").get("kernel"), kernel)
    np.testing.assert_array_equal(weights.layer("conv2d_1").get("bias"), bias)
    assert "flatten_1" not in weights
    with pytest.raises(ModelIntegrityError, match="no 'gamma'"):
        weights.layer("a_dense").get("gamma")
    with pytest.raises(ModelIntegrityError, match="no layer 'missing'"):
        weights.layer("missing")


def test_chunked_layer_names_attribute(tmp_path):
    path = tmp_path / "chunked.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names0"] = np.array([b"a"])
        handle.attrs["layer_names1"] = np.array([b"b"])
        for name in ("a", "b"):
            group = handle.create_group(name)
            group.attrs["weight_names"] = np.array([f"{name}/bias:0".encode()])
            group.create_dataset(f"{name}/bias:0", data=np.ones(2, np.float32))
    assert [layer.name for layer in read_keras_weights(path)] == ["a", "b"]


def test_bad_files_raise_readable_errors(tmp_path):
    with pytest.raises(ModelUnavailableError):
        read_keras_weights(tmp_path / "absent.h5")
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("not hdf5")
    with pytest.raises(ModelIntegrityError, match="cannot be read"):
        read_keras_weights(not_hdf5)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as handle:
        handle.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ModelIntegrityError, match="not a Keras 2 weight file"):
        read_keras_weights(foreign)


def test_kernel_layout_conversions_match_torch_semantics():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    image = rng.standard_normal((1, 5, 5, 3)).astype(np.float32)  # NHWC, as Keras sees it
    kernel = random_array(rng, 3, 3, 3, 4)
    # Keras conv (cross-correlation, 'valid') at output pixel (0, 0), channel c.
    expected = np.einsum("hwi,hwio->o", image[0, :3, :3], kernel)
    conv = torch.nn.functional.conv2d(
        torch.from_numpy(image.transpose(0, 3, 1, 2)),
        torch.from_numpy(conv_kernel_to_torch(kernel)),
    )
    np.testing.assert_allclose(conv[0, :, 0, 0].numpy(), expected, rtol=1e-5, atol=1e-5)

    depthwise = random_array(rng, 3, 3, 3, 2)
    expected_dw = np.einsum("hwi,hwim->im", image[0, :3, :3], depthwise).reshape(-1)
    conv_dw = torch.nn.functional.conv2d(
        torch.from_numpy(image.transpose(0, 3, 1, 2)),
        torch.from_numpy(depthwise_kernel_to_torch(depthwise)),
        groups=3,
    )
    np.testing.assert_allclose(conv_dw[0, :, 0, 0].numpy(), expected_dw, rtol=1e-5, atol=1e-5)

    dense = random_array(rng, 4, 2)
    vector = rng.standard_normal(4).astype(np.float32)
    linear = torch.from_numpy(dense_kernel_to_torch(dense)) @ torch.from_numpy(vector)
    np.testing.assert_allclose(linear.numpy(), vector @ dense, rtol=1e-5, atol=1e-5)
