#!/usr/bin/env python3
"""Per-call cost of every face-model backend at its real size, against the embedded
baseline of the same role, all measured in one run.

The downloaded backends' weights cannot be fetched here, so each is built at its real
architecture size with random weights and loaded through the real loading code: Keras
.h5 files (RetinaFace-R50, ArcFace ResNet34, VGG-Face, DeepFace race) written with
tests/support, and face_alignment's 2D-FAN-4 traced to TorchScript. Random weights cost
the same arithmetic as trained ones (dense networks), so the timings stand; outputs are
meaningless (random RetinaFace heads pass a handful of anchors per frame, about what real
ones do, so its post-processing costs what it would).
Faces are YuNet's detections on real fixture media:
  - s18: frames of lp_s18.mp4 (720p) scaled to 640 px wide (one small face each);
  - couple: deepface_couple.jpg (2 large faces), at 640 px for the detectors, at full
    resolution for the per-face roles.
Timings exclude warm-up calls and file loading (load times are printed separately).
No assertions: numbers are printed for the issue notes.

    .venv/bin/python scripts/bench_backends.py [--repeats 5] [--device cpu|cuda]
        [--json out/bench_backends.json] [--fixtures ../shared/fixtures]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import model_manager  # noqa: E402
from anonnet_studio.core.vision.age_gender import (  # noqa: E402
    AGE_FILE,
    AGE_GENDER_MANIFEST,
    GENDER_FILE,
    AgeGenderEstimator,
)
from anonnet_studio.core.vision.arcface import ARCFACE_FILE, ArcFaceEmbedder  # noqa: E402
from anonnet_studio.core.vision.deepface_race import (  # noqa: E402
    LABELS,
    RACE_FILE,
    DeepFaceRaceEstimator,
)
from anonnet_studio.core.vision.deepface_vgg import (  # noqa: E402
    VGG_FACE_CLASSES,
    VGG_FACE_FILE,
    VggFaceEmbedder,
)
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector  # noqa: E402
from anonnet_studio.core.vision.embedder import (  # noqa: E402
    DLIB_RESNET_FILE,
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
)
from anonnet_studio.core.vision.fan_landmarks import FAN_FILE, FanLandmarks68  # noqa: E402
from anonnet_studio.core.vision.landmarks import (  # noqa: E402
    SHAPE5_FILE,
    SHAPE68_FILE,
    DlibLandmarks68,
)
from anonnet_studio.core.vision.retinaface import (  # noqa: E402
    RETINAFACE_FILE,
    RetinaFaceDetector,
)
from tests.support.deepface_weights import (  # noqa: E402
    REAL_ARCFACE_EMBEDDING,
    REAL_ARCFACE_STAGES,
    REAL_ARCFACE_STEM,
    REAL_VGG_BLOCKS,
    REAL_VGG_FC,
    tiny_arcface_layers,
    tiny_vgg_layers,
)
from tests.support.keras_h5_writer import write_keras_weights  # noqa: E402
from tests.support.retinaface_weights import REAL_SIZES, tiny_layers  # noqa: E402

DETECT_SIDE = 640  # the analysis runs its detector on frames scaled to 640 px
S18_FRAMES = 8  # frames spread over the clip, cycled through by the timed calls
BATCH = 8


# --- face_alignment's 2D-FAN-4 ------------------------------------------------------------
# face_alignment 1.4 ships only the TorchScript archive loader (no models.py), so the
# network is rebuilt here from its published architecture: 4 stacked hourglasses of
# depth 4 and 256 features (~24M parameters, like the 2DFAN4 archive), the archive
# returning the last stack's 68 heatmaps.


class _ConvBlock(nn.Module):
    """FAN's hierarchical residual block: three pre-activation 3x3 convs of out/2, out/4,
    out/4 channels, concatenated, plus the (1x1-projected when widths differ) input."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        widths = (cin, cout // 2, cout // 4, cout // 4)
        self.bns = nn.ModuleList(nn.BatchNorm2d(w) for w in widths[:3])
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, padding=1, bias=False) for a, b in itertools.pairwise(widths)
        )
        self.down = (
            None
            if cin == cout
            else nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs, y = [], x
        for bn, conv in zip(self.bns, self.convs, strict=True):
            y = conv(functional.relu(bn(y)))
            outs.append(y)
        return torch.cat(outs, 1) + (x if self.down is None else self.down(x))


class _HourGlass(nn.Module):
    def __init__(self, depth: int, features: int = 256) -> None:
        super().__init__()
        self.up = _ConvBlock(features, features)
        self.low1 = _ConvBlock(features, features)
        self.inner = _HourGlass(depth - 1, features) if depth > 1 else None
        self.low2 = _ConvBlock(features, features) if depth == 1 else None
        self.low3 = _ConvBlock(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.low1(functional.max_pool2d(x, 2, stride=2))
        low = self.inner(low) if self.inner is not None else self.low2(low)  # type: ignore[misc]
        up = functional.interpolate(self.low3(low), scale_factor=2.0, mode="nearest")
        return self.up(x) + up


class Fan(nn.Module):
    """(N, 3, 256, 256) RGB 0..1 -> (N, 68, 64, 64) heatmaps of the last stack."""

    def __init__(self, stacks: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64))
        self.conv2, self.conv3 = _ConvBlock(64, 128), _ConvBlock(128, 128)
        self.conv4 = _ConvBlock(128, 256)
        self.hourglasses = nn.ModuleList(_HourGlass(4) for _ in range(stacks))
        self.tops = nn.ModuleList(_ConvBlock(256, 256) for _ in range(stacks))
        self.lasts = nn.ModuleList(
            nn.Sequential(nn.Conv2d(256, 256, 1), nn.BatchNorm2d(256), nn.ReLU())
            for _ in range(stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(256, 68, 1) for _ in range(stacks))
        self.back_features = nn.ModuleList(nn.Conv2d(256, 256, 1) for _ in range(stacks - 1))
        self.back_heatmaps = nn.ModuleList(nn.Conv2d(68, 256, 1) for _ in range(stacks - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = functional.max_pool2d(self.conv2(functional.relu(self.stem(x))), 2)
        previous = self.conv4(self.conv3(x))
        heatmaps = previous
        for i, hourglass in enumerate(self.hourglasses):
            features = self.lasts[i](self.tops[i](hourglass(previous)))
            heatmaps = self.heads[i](features)
            if i < len(self.back_features):
                previous = (
                    previous + self.back_features[i](features) + self.back_heatmaps[i](heatmaps)
                )
        return heatmaps


def write_fan(path: Path) -> Path:
    net = Fan(4).eval()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 2.x: TorchScript deprecation
        traced = torch.jit.trace(net, torch.zeros(1, 3, 256, 256))
        traced.save(str(path))
    return path


# --- random real-size weight files ----------------------------------------------------------


DOWNLOADED: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "retinaface": (
        RETINAFACE_FILE,
        lambda p: write_keras_weights(p, tiny_layers(np.random.default_rng(0), **REAL_SIZES)),
    ),
    "arcface": (
        ARCFACE_FILE,
        lambda p: write_keras_weights(
            p,
            tiny_arcface_layers(
                stem=REAL_ARCFACE_STEM,
                stages=REAL_ARCFACE_STAGES,
                embedding=REAL_ARCFACE_EMBEDDING,
            ),
        ),
    ),
    "vgg-face": (
        VGG_FACE_FILE,
        lambda p: write_keras_weights(
            p, tiny_vgg_layers(head=VGG_FACE_CLASSES, blocks=REAL_VGG_BLOCKS, fc=REAL_VGG_FC)
        ),
    ),
    "race": (
        RACE_FILE,
        lambda p: write_keras_weights(
            p, tiny_vgg_layers(head=len(LABELS), blocks=REAL_VGG_BLOCKS, fc=REAL_VGG_FC)
        ),
    ),
    "fan": (FAN_FILE, write_fan),
}


# --- inputs ---------------------------------------------------------------------------------


def scaled(image: np.ndarray, side: int) -> np.ndarray:
    factor = side / max(image.shape[:2])
    size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def s18_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, S18_FRAMES).round().astype(int)
    return [scaled(frames[i], DETECT_SIDE) for i in picks]


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


# --- timing ---------------------------------------------------------------------------------


@dataclass
class Row:
    role: str
    case: str
    backend: str
    median_ms: float
    p90_ms: float
    ratio: float  # median / the baseline's median, same role and case
    note: str = ""


def measure(call: Callable[[int], object], repeats: int, warmup: int) -> np.ndarray:
    """Seconds per call; call(i) runs the i-th input (callers cycle through theirs)."""
    for i in range(warmup):  # first calls pay for lazy init, oneDNN kernel choice...
        call(i)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return np.asarray(times)


def compare(
    role: str,
    case: str,
    backends: Sequence[tuple[str, Callable[[int], object]]],
    repeats: int,
    warmup: int,
    note: str = "",
) -> list[Row]:
    """The first backend is the baseline."""
    rows: list[Row] = []
    for name, call in backends:
        times = measure(call, repeats, warmup) * 1000
        median = float(np.median(times))
        base = rows[0].median_ms if rows else median
        rows.append(
            Row(role, case, name, median, float(np.percentile(times, 90)), median / base, note)
        )
        print(f"  {role:10} {case:14} {name:12} {median:9.1f} ms", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per row first")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(
        f"torch {torch.__version__} device {device} threads {torch.get_num_threads()}; "
        f"OpenCV (YuNet) threads {cv2.getNumThreads()}; SFace/age-gender onnxruntime and "
        f"dlib 1 thread (as the app builds them); cpus {os.cpu_count()}; "
        f"loadavg {Path('/proc/loadavg').read_text().split()[:3]}"
    )
    if device.type == "cuda":
        print(f"  {torch.cuda.get_device_name(device)}")

    s18 = s18_frames(args.fixtures / "video" / "lp_s18.mp4")
    couple = read_rgb(args.fixtures / "images" / "deepface_couple.jpg")
    couple_small = scaled(couple, DETECT_SIDE)

    load_s: dict[str, float] = {}
    info: dict[str, str] = {}

    def load(name: str, build: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        model = build()
        load_s[name] = time.perf_counter() - start
        return model

    manager = model_manager()
    dlib_dir = manager.resolve("dlib-face-models")
    age_dir = manager.resolve("age-gender")
    yunet = load("yunet", lambda: YuNetDetector(manager.resolve("yunet") / YUNET_FILE))
    sface = load("sface", lambda: SFaceEmbedder(manager.resolve("sface") / SFACE_FILE))
    dlib_embedder = load(
        "dlib", lambda: DlibEmbedder(dlib_dir / DLIB_RESNET_FILE, dlib_dir / SHAPE5_FILE)
    )
    dlib68 = load("dlib-68", lambda: DlibLandmarks68(dlib_dir / SHAPE68_FILE))
    age_gender = load(
        "age-gender",
        lambda: AgeGenderEstimator(
            age_dir / AGE_FILE,
            age_dir / GENDER_FILE,
            shape_predictor5=dlib_dir / SHAPE5_FILE,
            manifest=age_dir / AGE_GENDER_MANIFEST,
        ),
    )

    # Faces from the embedded detector, as an analysis gets them.
    s18_faces = [(frame, d) for frame in s18 for d in yunet.detect(frame)]
    couple_faces = [(couple, d) for d in yunet.detect(couple)]
    for label, faces in (("s18", s18_faces), ("couple", couple_faces)):
        widths = [float(d.box[2] - d.box[0]) for _, d in faces]
        info[f"faces {label}"] = f"{len(faces)} faces, box width median {np.median(widths):.0f} px"
        print(f"  {label}: {info[f'faces {label}']}")
    if not s18_faces or not couple_faces:
        raise SystemExit("YuNet found no faces in a fixture; check --fixtures")

    tmp = Path(tempfile.mkdtemp(prefix="bench_backends_"))
    try:
        for name, (filename, writer) in DOWNLOADED.items():
            start = time.perf_counter()
            writer(tmp / filename)
            size = (tmp / filename).stat().st_size / 2**20
            info[f"written {name}"] = f"{size:.0f} MiB in {time.perf_counter() - start:.1f} s"
            print(f"  wrote random {filename}: {info[f'written {name}']}", flush=True)
        warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit deprecation
        dev = str(device)
        retina = load("retinaface", lambda: RetinaFaceDetector(tmp / RETINAFACE_FILE, device=dev))
        arcface = load("arcface", lambda: ArcFaceEmbedder(tmp / ARCFACE_FILE, device=dev))
        vgg = load("vgg-face", lambda: VggFaceEmbedder(tmp / VGG_FACE_FILE, device=dev))
        race = load("race", lambda: DeepFaceRaceEstimator(tmp / RACE_FILE, device=dev))
        fan = load("fan", lambda: FanLandmarks68(tmp / FAN_FILE, device=dev))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # ~1.5 GB of random weights

    def cycle(items: Sequence[Any], fn: Callable[[Any], object]) -> Callable[[int], object]:
        return lambda i: fn(items[i % len(items)])

    rep, warm = args.repeats, args.warmup
    rows: list[Row] = []
    print("timing (median per call):", flush=True)
    for case, images in (("s18 640px", s18), ("couple 640px", [couple_small])):
        rows += compare(
            "detector",
            case,
            [
                ("yunet", cycle(images, yunet.detect)),
                ("retinaface", cycle(images, retina.detect)),
            ],
            rep,
            warm,
            "per frame",
        )
    embedders = (
        ("sface", sface),
        ("dlib", dlib_embedder),
        ("arcface", arcface),
        ("vgg-face", vgg),
    )
    for case, faces in (("s18 face", s18_faces), ("couple face", couple_faces)):
        rows += compare(
            "embedder",
            case,
            [(name, cycle(faces, lambda f, m=model: m.embed(*f))) for name, model in embedders],
            rep,
            warm,
            "per face",
        )
    for case, faces in (("s18 face", s18_faces), ("couple face", couple_faces)):
        # One image, 8 faces (its faces repeated), one embed_batch call.
        image = faces[0][0]
        batch = [d for img, d in faces if img is image]
        batch = (batch * BATCH)[:BATCH]
        rows += compare(
            "embed x8",
            case,
            [
                (name, lambda _i, m=model, im=image, b=batch: m.embed_batch(im, b))
                for name, model in embedders
            ],
            rep,
            warm,
            f"per batch of {BATCH}",
        )
    for case, faces in (("s18 face", s18_faces), ("couple face", couple_faces)):
        rows += compare(
            "landmarks",
            case,
            [
                ("dlib-68", cycle(faces, lambda f: dlib68.landmarks68(f[0], f[1].box))),
                ("fan", cycle(faces, lambda f: fan.landmarks68(f[0], f[1].box))),
            ],
            rep,
            warm,
            "per face",
        )
        rows += compare(
            "race",
            case,
            [
                ("age-gender", cycle(faces, lambda f: age_gender.estimate(*f))),
                ("deepface", cycle(faces, lambda f: race.estimate(*f))),
            ],
            rep,
            warm,
            "per face; baseline: age+gender",
        )

    print_table(rows, load_s, rep, warm)
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    print(f"loadavg at the end {loadavg}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "device": str(device),
            "torch_threads": torch.get_num_threads(),
            "repeats": rep,
            "warmup": warm,
            "loadavg_end": loadavg,
            "load_s": load_s,
            "info": info,
            "rows": [asdict(r) for r in rows],
        }
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def print_table(rows: Sequence[Row], load_s: dict[str, float], repeats: int, warmup: int) -> None:
    print(
        f"\nper-call time over {repeats} calls ({warmup} warm-up excluded); "
        "ratio = median / the first (embedded) row of the same role and input"
    )
    header = f"{'role':10} {'input':13} {'backend':11} {'median ms':>10} {'p90 ms':>9} {'ratio':>7}"
    print(header + "  note")
    print("-" * (len(header) + 24))
    previous = None
    for r in rows:
        if previous is not None and (r.role, r.case) != previous:
            print()
        previous = (r.role, r.case)
        print(
            f"{r.role:10} {r.case:13} {r.backend:11} {r.median_ms:10.1f} {r.p90_ms:9.1f} "
            f"{r.ratio:6.1f}x  {r.note}"
        )
    print("\nload time (file -> ready model; random files were just written, so cached):")
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in load_s.items()))


if __name__ == "__main__":
    raise SystemExit(main())
