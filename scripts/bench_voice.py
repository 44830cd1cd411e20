#!/usr/bin/env python3
"""Voice disguise: speed, speaker similarity and intelligibility per fixture speaker.

For every fixture clip with non-silent audio, each method at each strength: real-time
factor (processing seconds per second of audio, 2-core CPU; below 1 is faster than real
time), its ratio to decoding the same track (the baseline every re-encode pays, measured
in this run), the GE2E cosine similarity of the original and disguised speech against the
same-speaker threshold, and STOI. The first rows give each speaker's two halves (same
speaker, must be above the threshold).

    .venv/bin/python scripts/bench_voice.py [--fixtures ../shared/fixtures] [--strengths 0.5 0.75 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import model_manager  # noqa: E402
from anonnet_studio.core.media.pcm import decode_audio_tracks  # noqa: E402
from anonnet_studio.core.voice.disguise import disguise_tracks  # noqa: E402
from anonnet_studio.core.voice.settings import (  # noqa: E402
    DEFAULT_STRENGTH,
    VoiceMethod,
    VoiceSettings,
)
from anonnet_studio.core.voice.speaker_encoder import (  # noqa: E402
    MODEL_NAME,
    cosine,
    load_speaker_encoder,
)
from anonnet_studio.core.voice.verify import SAME_SPEAKER_THRESHOLD, check_voice  # noqa: E402

SILENT_PEAK = 1e-4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    args = parser.parse_args()
    encoder = load_speaker_encoder(model_manager(offline=True).resolve(MODEL_NAME))
    threshold = SAME_SPEAKER_THRESHOLD
    print(f"same-speaker threshold {threshold:.3f}; default strength {DEFAULT_STRENGTH:g}")
    header = (
        f"{'speaker':<10} {'method':<8} {'strength':>8} {'RTF':>7} {'x decode':>9} "
        f"{'similarity':>10} {'verifies':>8} {'STOI':>6}"
    )
    print(header)
    print("-" * len(header))
    for video in sorted((args.fixtures / "video").glob("*.mp4")):
        started = time.perf_counter()
        tracks = decode_audio_tracks(video)
        decode_s = time.perf_counter() - started
        if not tracks or np.max(np.abs(tracks[0].samples)) < SILENT_PEAK:
            print(f"{video.stem:<10} (no audio or silent audio: skipped)")
            continue
        track = tracks[0]
        mono = track.samples.astype(np.float64).mean(axis=0)
        half = mono.size // 2
        first, second = (encoder.embed(m, track.rate) for m in (mono[:half], mono[half:]))
        halves = cosine(first, second)
        print(
            f"{video.stem:<10} {'halves':<8} {'-':>8} {'-':>7} {'-':>9} {halves:>10.3f} "
            f"{_yes(halves >= threshold):>8} {'-':>6}"
        )
        for method in (VoiceMethod.MCADAMS, VoiceMethod.PITCH):
            for strength in args.strengths:
                settings = VoiceSettings(method, strength)
                t0 = time.perf_counter()
                (disguised,) = disguise_tracks([track], settings)
                seconds = time.perf_counter() - t0
                check = check_voice(track, disguised, encoder)
                rtf = seconds / track.duration_s
                similarity = check.similarity if check.similarity is not None else float("nan")
                print(
                    f"{video.stem:<10} {method!s:<8} {strength:>8.2f} {rtf:>7.3f} "
                    f"{seconds / decode_s:>9.1f} {similarity:>10.3f} "
                    f"{_yes(check.recognisable):>8} {check.stoi or float('nan'):>6.3f}"
                )
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    raise SystemExit(main())
