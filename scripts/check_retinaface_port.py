"""One-off check: our PyTorch RetinaFace port against serengil's real Keras model.

Not part of CI (it needs TensorFlow, which the project does not install). Two halves:

* Keras half (run with an interpreter that has tensorflow, tf-keras and retina-face):
  builds serengil's `retinaface_model.build_model()` without downloading weights, gives
  it random weights (random BatchNorm statistics too), saves them as a Keras 2 `.h5`,
  runs the model on a photo and serengil's own `detect_faces` (threshold lowered so that
  random weights yield detections), and writes everything to a work folder.
* Torch half (the project venv): loads that `.h5` with `RetinaFaceDetector`, runs it on
  the same pixels and compares the nine raw outputs and the final detections.

Usage (from the repository root):

    .venv/bin/python scripts/check_retinaface_port.py --keras-python /tmp/tfvenv/bin/python

The photo is shrunk to a long side of `--side` first, and serengil is called with
`allow_upscaling=False`, so both sides see the same input without resampling.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = REPO.parent / "shared" / "fixtures" / "images"


def keras_half(work: Path, quantile: float, seed: int, cls_scale: float) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import cv2
    from retinaface import RetinaFace
    from retinaface.commons import preprocess
    from retinaface.model import retinaface_model

    retinaface_model.load_weights = lambda model: model  # no download: keep random init
    retinaface_model.tf.keras.utils.set_random_seed(seed)  # reproducible kernel init
    model = retinaface_model.build_model()
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ != "BatchNormalization":
            continue
        gamma, beta, mean, var = (w.numpy() for w in layer.weights)
        n = gamma.shape[0]
        if layer.name == "bn_data":  # raw 0..255 pixels come in
            mean, var = rng.uniform(100, 140, n), rng.uniform(50, 70, n) ** 2
        else:
            mean, var = rng.normal(0, 0.2, n), rng.uniform(0.5, 1.5, n)
        gamma, beta = rng.uniform(0.6, 1.2, n), rng.normal(0, 0.1, n)
        layer.set_weights([a.astype(np.float32) for a in (gamma, beta, mean, var)])
    for layer in model.layers:  # moderate logits, so that probabilities do not tie at 1
        if layer.name.startswith("face_rpn_cls_score"):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * cls_scale, bias])
    model.save_weights(str(work / "retinaface.h5"))

    bgr = cv2.imread(str(work / "input.png"))
    tensor, _, scale = preprocess.preprocess_image(bgr, allow_upscaling=False)
    assert scale == 1.0, scale
    raw = [t.numpy() for t in model(tensor)]
    np.savez(work / "keras_raw.npz", *raw)
    faces = np.concatenate([raw[i][..., raw[i].shape[-1] // 2 :].ravel() for i in (0, 3, 6)])
    threshold = float(np.quantile(faces, quantile))
    found = RetinaFace.detect_faces(bgr, threshold=threshold, model=model, allow_upscaling=False)
    detections = (
        [
            {
                "score": float(face["score"]),
                # serengil rounds boxes to int; compare with its unrounded landmarks too.
                "box": [float(v) for v in face["facial_area"]],
                "landmarks": [[float(c) for c in face["landmarks"][key]] for key in _KEYS],
            }
            for face in found.values()
        ]
        if isinstance(found, dict)
        else []
    )
    (work / "keras.json").write_text(json.dumps({"threshold": threshold, "faces": detections}))


_KEYS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


def torch_half(work: Path) -> int:
    import cv2

    sys.path.insert(0, str(REPO))
    from anonnet_studio.core.vision.retinaface import RetinaFaceDetector

    keras = json.loads((work / "keras.json").read_text())
    rgb = cv2.cvtColor(cv2.imread(str(work / "input.png")), cv2.COLOR_BGR2RGB)
    detector = RetinaFaceDetector(
        work / "retinaface.h5", score_threshold=keras["threshold"], max_side=None, device="cpu"
    )
    ours = [a for level in detector.raw_outputs(rgb) for a in level]
    theirs = np.load(work / "keras_raw.npz")
    names = ("cls_prob", "bbox", "landmark")
    worst = 0.0
    for index, mine in enumerate(ours):
        ref = theirs[f"arr_{index}"]
        assert mine.shape == ref.shape, (index, mine.shape, ref.shape)
        diff = float(np.abs(mine - ref).max())
        rel = diff / (float(np.abs(ref).max()) or 1.0)
        worst = max(worst, rel)
        stride = (32, 16, 8)[index // 3]
        print(
            f"stride {stride:2d} {names[index % 3]:8s} {ref.shape}: max|diff| {diff:.2e}"
            f" (relative to max|ref| {rel:.2e})"
        )
    found = detector.detect(rgb)
    print(
        f"threshold {keras['threshold']:.4f}: keras {len(keras['faces'])} faces, port {len(found)}"
    )
    box_err = lm_err = score_err = 0.0
    for ref in keras["faces"]:
        # Random weights give near-equal scores, whose order float noise may swap: pair
        # each Keras face with the port's nearest one (by landmarks, which are unrounded).
        ref_points = np.asarray(ref["landmarks"])
        det = min(found, key=lambda d: float(np.abs(d.landmarks5 - ref_points).max()))
        # serengil truncates boxes with astype(int); ours are floats.
        box_err = max(box_err, float(np.abs(np.asarray(ref["box"]) - np.trunc(det.box)).max()))
        lm_err = max(lm_err, float(np.abs(np.asarray(ref["landmarks"]) - det.landmarks5).max()))
        score_err = max(score_err, abs(ref["score"] - det.score))
    print(
        f"detections (paired): max box diff {box_err:.3f} px (after truncation), "
        f"landmarks {lm_err:.4f} px, score {score_err:.2e}"
    )
    ok = (
        worst < 1e-4
        and len(found) == len(keras["faces"])
        and box_err <= 1.0
        and lm_err < 0.05
        and score_err < 1e-4
    )
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keras-python", help="interpreter with tensorflow + retina-face")
    parser.add_argument("--image", type=Path, default=None, help="photo (default: a fixture)")
    parser.add_argument("--side", type=int, default=640, help="long side fed to both models")
    parser.add_argument("--quantile", type=float, default=0.995, help="of face probabilities")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cls-scale", type=float, default=0.05, help="class kernel factor")
    parser.add_argument("--work", type=Path, default=None, help="folder to keep the files")
    parser.add_argument("--keras-half", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_half:
        keras_half(args.work, args.quantile, args.seed, args.cls_scale)
        return 0
    if not args.keras_python:
        parser.error("--keras-python is required")
    import cv2

    work = args.work or Path(tempfile.mkdtemp(prefix="retinaface-check-"))
    work.mkdir(parents=True, exist_ok=True)
    image = args.image or sorted(DEFAULT_IMAGE.glob("*.jpg"))[0]
    bgr = cv2.imread(str(image))
    factor = args.side / max(bgr.shape[:2])
    size = (round(bgr.shape[1] * factor), round(bgr.shape[0] * factor))
    cv2.imwrite(str(work / "input.png"), cv2.resize(bgr, size, interpolation=cv2.INTER_AREA))
    print(f"{image.name} at {size[0]}x{size[1]}, work folder {work}")
    subprocess.run(
        [
            args.keras_python,
            __file__,
            "--keras-half",
            "--work",
            str(work),
            "--quantile",
            str(args.quantile),
            "--seed",
            str(args.seed),
            "--cls-scale",
            str(args.cls_scale),
        ],
        check=True,
    )
    return torch_half(work)


if __name__ == "__main__":
    sys.exit(main())
