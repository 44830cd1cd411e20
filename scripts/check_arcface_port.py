#!/usr/bin/env python3
"""One-off check: our torch ArcFace port against DeepFace's real Keras ArcFace (not CI).

The real weights cannot be downloaded here, so DeepFace's own builder makes the network
with random weights (BatchNorm moving statistics, gammas, betas and PReLU alphas are
randomised too, so every part of the formula matters), saves them with Keras 2
`save_weights` and runs DeepFace's `ArcFaceClient.forward` on a real aligned face, fed as
DeepFace feeds it (BGR, 0..1). The project venv then loads that .h5 with
`ArcFaceEmbedder` and compares, and times the port at the real size on the CPU.

Two interpreters: the project venv runs this file and starts the Keras half in a
throwaway venv with tensorflow-cpu, tf-keras and deepface
(`python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras deepface`):

    .venv/bin/python scripts/check_arcface_port.py --tf-python /tmp/tfvenv/bin/python

Last run (deepface 0.0.103, TF 2.21 / tf-keras 2.21, torch 2.14 CPU, 2 shared cores):
110 weighted layers, the .h5 is 137,067,592 bytes (the real file: 137,026,640);
raw 512-d outputs (|max| 34) differ by at most 1.5e-4 (relative 4.4e-6), unit vectors by
6.8e-7, cosine similarity 1.0000000. Port at full size: ~60 ms for one face, ~360-390 ms
for a batch of 8 (45-50 ms per face), best of 15 on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_NAME = "arcface_weights.h5"


# --- Keras half (runs in the TensorFlow venv; imports nothing from the project) -------------


def keras_half(folder: Path, seed: int) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # Keras 2 (tf-keras): save_weights in its layout
    import numpy as np
    from deepface.commons import weight_utils
    from deepface.models.facial_recognition.tf import ArcFace

    # DeepFace's own builder, minus the download: weight loading becomes a no-op.
    weight_utils.download_weights_if_necessary = lambda **_: ""
    weight_utils.load_model_weights = lambda model, weight_file: model
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)  # the conv/dense initialisers
    client = ArcFace.ArcFaceClient()
    model = client.model
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        names = [w.name for w in layer.weights]
        values = []
        for name, value in zip(names, layer.get_weights(), strict=True):
            shape = value.shape
            if "moving_mean" in name or "beta" in name:
                value = rng.normal(0, 0.2, shape)
            elif "moving_variance" in name:
                value = rng.uniform(0.5, 2.0, shape)
            elif "gamma" in name:
                value = rng.uniform(0.5, 1.5, shape)
            elif "alpha" in name:
                value = rng.uniform(0.05, 0.5, shape)
            elif "bias" in name:
                value = rng.normal(0, 0.1, shape)
            values.append(np.asarray(value, np.float32))
        if values:
            layer.set_weights(values)
    model.save_weights(str(folder / WEIGHTS_NAME))
    crop_rgb = np.load(folder / "crop.npy")
    # What DeepFace's represent() feeds the model: BGR, float 0..1, (1, 112, 112, 3).
    batch = (crop_rgb[None, :, :, ::-1] / 255.0).astype(np.float32)
    np.save(folder / "keras.npy", np.asarray(client.forward(batch), np.float64))
    names = [layer.name for layer in model.layers if layer.weights]
    print(json.dumps({"weighted_layers": len(names), "head": names[-3:]}))


# --- torch half (project venv) ---------------------------------------------------------------


def aligned_face(image_name: str):
    import cv2

    sys.path.insert(0, str(ROOT))
    from anonnet_studio.app.runtime import model_manager
    from anonnet_studio.core.vision.align import align_face
    from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
    from tests.conftest import fixture_image

    image = cv2.cvtColor(cv2.imread(str(fixture_image(image_name))), cv2.COLOR_BGR2RGB)
    detector = YuNetDetector(model_manager().resolve("yunet") / YUNET_FILE)
    face = max(detector.detect(image), key=lambda d: d.width * d.height)
    return align_face(image, face.landmarks5, 112)


def compare(folder: Path, repeats: int) -> None:
    import numpy as np
    import torch

    from anonnet_studio.core.vision.arcface import ArcFaceEmbedder

    crop = np.load(folder / "crop.npy")
    keras = np.load(folder / "keras.npy").reshape(1, -1)
    embedder = ArcFaceEmbedder(folder / WEIGHTS_NAME, device="cpu")
    bgr = (crop[None, :, :, ::-1] / 255.0).astype(np.float32).transpose(0, 3, 1, 2)
    with torch.inference_mode():
        raw = embedder._net(torch.from_numpy(bgr.copy())).double().numpy()
    ours = embedder.embed_crops(crop[None])
    unit = keras / np.linalg.norm(keras, axis=1, keepdims=True)
    print(f"embedding size {raw.shape[1]}, Keras |raw| max {np.abs(keras).max():.4g}")
    print(f"raw max abs diff {np.abs(raw - keras).max():.3g}")
    print(f"raw max rel diff {np.abs(raw - keras).max() / np.abs(keras).max():.3g}")
    print(f"unit-vector max abs diff {np.abs(ours - unit).max():.3g}")
    print(f"cosine similarity {float((ours * unit).sum()):.8f}")

    print(f"torch CPU threads {torch.get_num_threads()}")
    for count in (1, 8):
        crops = np.repeat(crop[None], count, axis=0)
        embedder.embed_crops(crops)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            embedder.embed_crops(crops)
            times.append((time.perf_counter() - start) * 1000)
        # The minimum is what the port costs; the median shows how busy the machine was.
        fastest, median = min(times), float(np.median(times))
        print(
            f"batch {count}: min {fastest:.0f} ms ({fastest / count:.0f} ms per face), "
            f"median {median:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf-python", type=Path, help="interpreter of the TensorFlow venv")
    parser.add_argument("--image", default="deepface_couple.jpg", help="fixture photo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--keras-half", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_half:
        keras_half(args.keras_half, args.seed)
        return
    if args.tf_python is None:
        parser.error("--tf-python is required")
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "crop.npy", aligned_face(args.image))
        command = [str(args.tf_python), __file__, "--keras-half", tmp, "--seed", str(args.seed)]
        subprocess.run(command, check=True)
        compare(folder, args.repeats)


if __name__ == "__main__":
    main()
