"""NumPy reference of serengil's Keras RetinaFace graph, written from its layer list:
NHWC, ZeroPadding2D + 'valid' Conv2D, unfolded BatchNormalization, UpSampling2D + tf.slice
crop, and the class head's concatenate / stack / transpose / softmax steps done literally.
Slow and float64; only for tiny test networks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1.9999999494757503e-05
Weights = Mapping[str, Sequence[tuple[str, np.ndarray]]]


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, ((p, p), (p, p), (0, 0)))


def _conv(w: Weights, name: str, x: np.ndarray, pad: int = 0, stride: int = 1) -> np.ndarray:
    params = dict(w[name])
    kernel = params["kernel"].astype(np.float64)  # (kh, kw, in, out)
    kh, kw = kernel.shape[:2]
    windows = sliding_window_view(_pad(x, pad), (kh, kw), axis=(0, 1))[::stride, ::stride]
    out = np.einsum("hwcij,ijco->hwo", windows, kernel)
    return out + params["bias"] if "bias" in params else out


def _bn(w: Weights, name: str, x: np.ndarray) -> np.ndarray:
    p = {k: v.astype(np.float64) for k, v in w[name]}
    return (x - p["moving_mean"]) / np.sqrt(p["moving_variance"] + EPS) * p["gamma"] + p["beta"]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def _unit(w: Weights, p: str, x: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    relu1 = _relu(_bn(w, f"{p}_bn1", x))
    relu2 = _relu(_bn(w, f"{p}_bn2", _conv(w, f"{p}_conv1", relu1)))
    relu3 = _relu(_bn(w, f"{p}_bn3", _conv(w, f"{p}_conv2", relu2, pad=1, stride=stride)))
    out = _conv(w, f"{p}_conv3", relu3)
    short = _conv(w, f"{p}_sc", relu1, stride=stride) if f"{p}_sc" in w else x
    return out + short, relu2


def _up_crop(coarse: np.ndarray, like: np.ndarray) -> np.ndarray:
    up = coarse.repeat(2, axis=0).repeat(2, axis=1)
    top = (up.shape[0] - like.shape[0]) // 2
    left = (up.shape[1] - like.shape[1]) // 2
    return up[top : top + like.shape[0], left : left + like.shape[1]]


def _ssh(w: Weights, m: str, x: np.ndarray) -> np.ndarray:
    conv1 = _bn(w, f"{m}_conv1_bn", _conv(w, f"{m}_conv1", x, pad=1))
    c1 = _relu(_bn(w, f"{m}_context_conv1_bn", _conv(w, f"{m}_context_conv1", x, pad=1)))
    c2 = _bn(w, f"{m}_context_conv2_bn", _conv(w, f"{m}_context_conv2", c1, pad=1))
    c3 = _relu(_bn(w, f"{m}_context_conv3_1_bn", _conv(w, f"{m}_context_conv3_1", c1, pad=1)))
    c3 = _bn(w, f"{m}_context_conv3_2_bn", _conv(w, f"{m}_context_conv3_2", c3, pad=1))
    return _relu(np.concatenate([conv1, c2, c3], axis=-1))


def _cls_prob(score: np.ndarray) -> np.ndarray:
    """The Keras model's steps for 2 anchors, on one image (H, W, 4)."""
    inter_1 = np.concatenate([score[:, :, 0], score[:, :, 1]], axis=0)  # (2H, W)
    inter_2 = np.concatenate([score[:, :, 2], score[:, :, 3]], axis=0)
    reshaped = np.stack([inter_1, inter_2]).transpose(1, 2, 0)  # (2H, W, 2)
    e = np.exp(reshaped - reshaped.max(-1, keepdims=True))
    prob = e / e.sum(-1, keepdims=True)
    sz = prob.shape[0] // 2
    final = np.stack([prob[:sz, :, 0], prob[sz:, :, 0], prob[:sz, :, 1], prob[sz:, :, 1]])
    return final.transpose(1, 2, 0)


def keras_reference_outputs(w: Weights, image: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per stride 32/16/8: (cls_prob, bbox, landmark) with a batch axis, NHWC."""
    x = _bn(w, "bn_data", image)
    x = _relu(_bn(w, "bn0", _conv(w, "conv0", x, pad=3, stride=2)))
    x = sliding_window_view(_pad(x, 1), (3, 3), axis=(0, 1))[::2, ::2].max(axis=(-2, -1))
    relu2_of_unit1 = {}
    for stage in (1, 2, 3, 4):
        unit = 1
        while f"stage{stage}_unit{unit}_conv1" in w:
            stride = 2 if unit == 1 and stage > 1 else 1
            x, relu2 = _unit(w, f"stage{stage}_unit{unit}", x, stride)
            if unit == 1:
                relu2_of_unit1[stage] = relu2
            unit += 1
    relu1 = _relu(_bn(w, "bn1", x))
    c3 = _relu(_bn(w, "ssh_c3_lateral_bn", _conv(w, "ssh_c3_lateral", relu1)))
    c2 = _relu(_bn(w, "ssh_c2_lateral_bn", _conv(w, "ssh_c2_lateral", relu2_of_unit1[4])))
    c2 = _relu(_bn(w, "ssh_c2_aggr_bn", _conv(w, "ssh_c2_aggr", c2 + _up_crop(c3, c2), pad=1)))
    c1 = _relu(_bn(w, "ssh_m1_red_conv_bn", _conv(w, "ssh_m1_red_conv", relu2_of_unit1[3])))
    c1 = _relu(_bn(w, "ssh_c1_aggr_bn", _conv(w, "ssh_c1_aggr", c1 + _up_crop(c2, c1), pad=1)))
    outputs = []
    for stride, feature, m in (
        (32, c3, "ssh_m3_det"),
        (16, c2, "ssh_m2_det"),
        (8, c1, "ssh_m1_det"),
    ):
        ssh = _ssh(w, m, feature)
        prob = _cls_prob(_conv(w, f"face_rpn_cls_score_stride{stride}", ssh))
        bbox = _conv(w, f"face_rpn_bbox_pred_stride{stride}", ssh)
        landmark = _conv(w, f"face_rpn_landmark_pred_stride{stride}", ssh)
        outputs.append(tuple(a[None] for a in (prob, bbox, landmark)))
    return outputs
