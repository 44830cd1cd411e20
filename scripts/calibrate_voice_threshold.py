#!/usr/bin/env python3
"""Calibrate the same-speaker threshold of the GE2E voice check on the fixture clips.

Each fixture clip shows a different person. Clips whose audio is digital silence are
skipped (lp_d18, lp_d19 and lp_d3 have silent tracks). Each remaining clip is cut into
`--segment` second pieces; same-speaker pairs are pieces of one clip, different-speaker
pairs are pieces of two clips. The threshold is the middle of the gap between the
highest different-speaker and the lowest same-speaker similarity (or, when they
overlap, the value with the fewest errors). It lives in SAME_SPEAKER_THRESHOLD in
`anonnet_studio/core/voice/verify.py`.

    .venv/bin/python scripts/calibrate_voice_threshold.py [--fixtures ../shared/fixtures]

Last run (3 s segments of lia_vox2, lp_d11, lp_s18: 7 same / 21 different pairs):
    same-speaker      min 0.871 median 0.890 max 0.919
    different-speaker min 0.396 median 0.467 max 0.574
    threshold 0.722 (gap 0.574..0.871)
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import model_manager  # noqa: E402
from anonnet_studio.core.media.pcm import decode_audio_tracks  # noqa: E402
from anonnet_studio.core.voice.speaker_encoder import (  # noqa: E402
    MODEL_NAME,
    cosine,
    load_speaker_encoder,
)

SILENT_PEAK = 1e-4


def speech_clips(fixtures: Path) -> dict[str, tuple[np.ndarray, int]]:
    """Mono audio of every fixture clip whose first audio track is not silent."""
    clips = {}
    for video in sorted((fixtures / "video").glob("*.mp4")):
        tracks = decode_audio_tracks(video)
        if not tracks or np.max(np.abs(tracks[0].samples)) < SILENT_PEAK:
            print(f"skipped {video.stem}: no audio or silent audio")
            continue
        clips[video.stem] = (tracks[0].samples.astype(np.float64).mean(axis=0), tracks[0].rate)
    return clips


def threshold_between(same: list[float], different: list[float]) -> float:
    if max(different) < min(same):
        return (max(different) + min(same)) / 2
    candidates = sorted(same + different)
    errors = [sum(s < t for s in same) + sum(d >= t for d in different) for t in candidates]
    return candidates[int(np.argmin(errors))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--segment", type=float, default=3.0, help="seconds per piece")
    args = parser.parse_args()
    encoder = load_speaker_encoder(model_manager(offline=True).resolve(MODEL_NAME))
    pieces: dict[str, list[np.ndarray]] = {}
    for name, (signal, rate) in speech_clips(args.fixtures).items():
        length = int(args.segment * rate)
        starts = range(0, signal.size - length + 1, length)
        pieces[name] = [encoder.embed(signal[s : s + length], rate) for s in starts]
        print(f"{name}: {len(pieces[name])} pieces of {args.segment:g} s")
    same = [cosine(a, b) for p in pieces.values() for a, b in itertools.combinations(p, 2)]
    different = [
        cosine(a, b)
        for first, second in itertools.combinations(pieces.values(), 2)
        for a in first
        for b in second
    ]
    for label, values in (("same-speaker", same), ("different-speaker", different)):
        print(
            f"{label:<18} min {min(values):.3f} median {np.median(values):.3f} "
            f"max {max(values):.3f} ({len(values)} pairs)"
        )
    threshold = threshold_between(same, different)
    print(f"threshold {threshold:.3f} (gap {max(different):.3f}..{min(same):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
