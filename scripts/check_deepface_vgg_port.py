#!/usr/bin/env python3
"""One-off check: our torch VGG-Face ports (race, identity) against DeepFace's Keras code (not CI).

The real weights cannot be downloaded here, so DeepFace's own builders (`Race.load_model`,
`VGGFace.load_model`, with the download and weight loading patched out) make the real
networks at their real size with random weights (He-normal kernels, random biases), which
are saved with Keras 2 `save_weights` under the real file names. DeepFace then runs end to
end on a fixture photo: `DeepFace.analyze(actions=["race"])` and
`DeepFace.represent(model_name="VGG-Face")`, with its detector replaced by one returning our
YuNet detections (as a DeepFace detector would: integer boxes, in the black-bordered frame
DeepFace aligns in), and the inputs DeepFace's `resize_image` builds are recorded. The
project venv then loads the same .h5 files with our ports and compares:

* preprocessing: our `deepface_input` against the inputs DeepFace built;
* network only: our networks on DeepFace's own inputs against its outputs;
* end to end: `DeepFaceRaceEstimator.estimate` / `VggFaceEmbedder.embed` on the photo.

It also times the ports at the real size on the CPU.

Two interpreters: the project venv runs this file and starts the Keras half in a
throwaway venv with tensorflow-cpu, tf-keras and deepface
(`python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras deepface`):

    .venv/bin/python scripts/check_deepface_vgg_port.py --tf-python /tmp/tfvenv/bin/python

Writes about 1.1 GB of random weights to a temporary folder (deleted afterwards).

Last run (deepface 0.0.103, TF 2.21 / tf-keras 2.21, torch 2.14 CPU, deepface_couple.jpg,
2 faces, 2 shared cores): the VGG-Face .h5 is 580,085,792 bytes (the published file:
580,085,408), the race .h5 537,215,616. Our crop equals DeepFace's bit for bit under the
same OpenCV (5.0.0); across OpenCV builds (ours 4.14) inputs differ by at most 1/255 on
12% of values (uint8 cubic-warp rounding). Networks on DeepFace's own inputs: race
probabilities differ by at most 9.2e-7, unit embeddings by 2.2e-7. End to end (OpenCV
difference included): race scores 2.1e-4, embeddings 8.1e-5; same dominant race. CPU time
per face at the real size: race ~0.9-1.2 s, VGG-Face embed ~1.0 s alone, ~0.7 s batched.
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
RACE_FILE = "race_model_single_batch.h5"
VGG_FACE_FILE = "vgg_face_weights.h5"
DEFAULT_IMAGE = "deepface_couple.jpg"


# --- Keras half (runs in the TensorFlow venv; imports nothing from the project) -------------


def keras_half(folder: Path, seed: int) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # Keras 2 (tf-keras): save_weights in its layout
    import cv2
    import numpy as np
    from deepface import DeepFace
    from deepface.commons import weight_utils
    from deepface.models.Detector import FacialAreaRegion
    from deepface.modules import modeling, preprocessing

    base_models = []

    def no_weights(model: object, weight_file: str) -> object:
        base_models.append(model)  # VGG-Face: the base model, whose weights the file holds
        return model

    weight_utils.download_weights_if_necessary = lambda **_: ""
    weight_utils.load_model_weights = no_weights

    rng = np.random.default_rng(seed)

    def randomise(model: object) -> None:
        for layer in model.layers:  # type: ignore[attr-defined]
            values = layer.get_weights()
            if not values:
                continue
            kernel, bias = values
            fan_in = int(np.prod(kernel.shape[:-1]))
            kernel = rng.standard_normal(kernel.shape, np.float32) * np.float32((2 / fan_in) ** 0.5)
            layer.set_weights([kernel, rng.normal(0, 0.05, bias.shape).astype(np.float32)])

    race = modeling.build_model(task="facial_attribute", model_name="Race")
    randomise(race.model)
    race.model.save_weights(str(folder / RACE_FILE))
    vgg = modeling.build_model(task="facial_recognition", model_name="VGG-Face")
    [vgg_base] = base_models[-1:]
    randomise(vgg_base)
    vgg_base.save_weights(str(folder / VGG_FACE_FILE))

    image_rgb = np.load(folder / "image.npy")
    detections = json.loads((folder / "detections.json").read_text())

    class OurDetections:
        """Our YuNet detections, as a DeepFace detector reports them in its padded frame."""

        def detect_faces(self, img: np.ndarray) -> list:
            border_y = (img.shape[0] - image_rgb.shape[0]) // 2
            border_x = (img.shape[1] - image_rgb.shape[1]) // 2
            regions = []
            for d in detections:
                x0, y0, x1, y1 = d["box"]
                (rx, ry), (lx, ly) = d["landmarks5"][0], d["landmarks5"][1]
                regions.append(
                    FacialAreaRegion(
                        x=int(np.floor(x0)) + border_x,
                        y=int(np.floor(y0)) + border_y,
                        w=int(x1 - x0),
                        h=int(y1 - y0),
                        left_eye=(lx + border_x, ly + border_y),  # the person's left eye
                        right_eye=(rx + border_x, ry + border_y),
                        confidence=d["score"],
                    )
                )
            return regions

    original_build = modeling.build_model

    def build_model(task: str, model_name: str) -> object:
        return OurDetections() if task == "face_detector" else original_build(task, model_name)

    modeling.build_model = build_model
    inputs = []
    original_resize = preprocessing.resize_image

    def recording_resize(img: np.ndarray, target_size: tuple[int, int]) -> np.ndarray:
        out = original_resize(img, target_size)
        inputs.append(np.array(out[0]))
        return out

    preprocessing.resize_image = recording_resize
    image_bgr = np.ascontiguousarray(image_rgb[:, :, ::-1])
    analysed = DeepFace.analyze(image_bgr, actions=["race"], detector_backend="yunet")
    race_inputs = np.stack(inputs)
    inputs.clear()
    represented = DeepFace.represent(image_bgr, model_name="VGG-Face", detector_backend="yunet")
    vgg_inputs = np.stack(inputs)
    # Network only, on DeepFace's inputs, one face at a time (as analyze runs them).
    race_probs = np.stack([race.predict(x) for x in race_inputs])
    # Our crop under this venv's OpenCV too (it needs only numpy and cv2): separates our
    # logic from differences between OpenCV builds (cubic warps round uint8 differently).
    sys.path.insert(0, str(ROOT))
    from anonnet_studio.core.vision.deepface_crop import deepface_input
    from anonnet_studio.core.vision.types import FaceDetection

    ours_same_cv2 = np.stack(
        [
            deepface_input(
                image_rgb,
                FaceDetection(
                    np.array(d["box"], np.float32), np.array(d["landmarks5"], np.float32), 0.0
                ),
            )
            for d in detections
        ]
    )
    np.savez(
        folder / "keras.npz",
        race_inputs=race_inputs,
        ours_same_cv2=ours_same_cv2,
        vgg_inputs=vgg_inputs,
        race_percent=np.array([[obj["race"][k] for k in sorted(obj["race"])] for obj in analysed]),
        race_keys=np.array(sorted(analysed[0]["race"])),
        race_probs=race_probs,
        embeddings=np.array([obj["embedding"] for obj in represented], np.float64),
        embeddings_net=np.array(vgg.forward(vgg_inputs), np.float64),
    )
    (folder / "keras_opencv.txt").write_text(cv2.__version__)


# --- torch half (project venv) ------------------------------------------------------------------


def torch_half(tf_python: str, image_name: str, seed: int, runs: int) -> dict:
    import cv2
    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    from anonnet_studio.core.models.manager import ModelManager
    from anonnet_studio.core.vision.deepface_crop import deepface_input
    from anonnet_studio.core.vision.deepface_race import DeepFaceRaceEstimator
    from anonnet_studio.core.vision.deepface_vgg import VggFaceEmbedder
    from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
    from tests.core.vision.conftest import load_image

    image = load_image(image_name)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manager = ModelManager.from_environment(
            models_dir=folder / "user", environ={"ANONNET_MODELS_CACHE": str(folder / "cache")}
        )
        faces = YuNetDetector(manager.resolve("yunet") / YUNET_FILE).detect(image, max_side=1024)
        np.save(folder / "image.npy", image)
        (folder / "detections.json").write_text(
            json.dumps(
                [
                    {"box": f.box.tolist(), "landmarks5": f.landmarks5.tolist(), "score": f.score}
                    for f in faces
                ]
            )
        )
        command = [tf_python, __file__, "--keras-half", str(folder), "--seed", str(seed)]
        subprocess.run(command, check=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
        keras = dict(np.load(folder / "keras.npz"))
        race = DeepFaceRaceEstimator(folder / RACE_FILE, device="cpu")
        vgg = VggFaceEmbedder(folder / VGG_FACE_FILE, device="cpu")
        file_sizes = {p.name: p.stat().st_size for p in folder.glob("*.h5")}

        ours = np.stack([deepface_input(image, f) for f in faces])
        race_net = race.probabilities(keras["race_inputs"])
        vgg_net = vgg.embed_inputs(keras["vgg_inputs"])
        estimates = [race.estimate(image, f)["race"] for f in faces]
        keys = [str(k) for k in keras["race_keys"]]
        race_e2e = np.array([[e.scores[k.title()] for k in keys] for e in estimates])
        dominant_keras = [keys[i].title() for i in keras["race_percent"].argmax(1)]
        embeddings = np.stack([vgg.embed(image, f) for f in faces])
        report = {
            "faces": len(faces),
            "h5_bytes": file_sizes,
            "opencv": {
                "ours": cv2.__version__,
                "keras_venv": (folder / "keras_opencv.txt").read_text(),
            },
            "preprocessing_max_abs_diff": {
                "race_inputs": float(np.abs(ours - keras["race_inputs"]).max()),
                "vgg_inputs": float(np.abs(ours - keras["vgg_inputs"]).max()),
                "race_inputs_same_opencv": float(
                    np.abs(keras["ours_same_cv2"] - keras["race_inputs"]).max()
                ),
            },
            "network_on_deepface_inputs_max_abs_diff": {
                "race_probabilities": float(np.abs(race_net - keras["race_probs"]).max()),
                "vgg_embedding": float(np.abs(vgg_net - keras["embeddings_net"]).max()),
            },
            "end_to_end_max_abs_diff": {
                "race_scores": float(np.abs(race_e2e - keras["race_percent"] / 100).max()),
                "vgg_embedding": float(np.abs(embeddings - keras["embeddings"]).max()),
            },
            "race_dominant": {"ours": [e.value for e in estimates], "deepface": dominant_keras},
            "race_probs_example": keras["race_probs"][0].round(4).tolist(),
        }
        report["timing_ms"] = _timings(race, vgg, image, faces, runs)
        report["torch_threads"] = torch.get_num_threads()
    return report


def _timings(race: object, vgg: object, image: object, faces: list, runs: int) -> dict:
    def best_ms(call: object) -> float:
        call()  # warm-up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        return round(min(times), 1)

    face = faces[0]
    return {
        "race_estimate_one_face": best_ms(lambda: race.estimate(image, face)),
        "vgg_embed_one_face": best_ms(lambda: vgg.embed(image, face)),
        "vgg_embed_batch_per_face": round(
            best_ms(lambda: vgg.embed_batch(image, faces)) / len(faces), 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tf-python", help="interpreter with tensorflow, tf-keras, deepface")
    parser.add_argument("--keras-half", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--image", default=DEFAULT_IMAGE, help="fixture photo name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5, help="timing repetitions")
    args = parser.parse_args()
    if args.keras_half:
        keras_half(args.keras_half, args.seed)
        return
    if not args.tf_python:
        parser.error("--tf-python is required")
    print(json.dumps(torch_half(args.tf_python, args.image, args.seed, args.runs), indent=2))


if __name__ == "__main__":
    main()
