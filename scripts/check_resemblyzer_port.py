#!/usr/bin/env python3
"""Check our GE2E loader against resemblyzer's own code (not part of CI).

Needs a Python environment where resemblyzer's own dependencies import: librosa and
webrtcvad (which needs setuptools<81 for pkg_resources), e.g. a throwaway venv that also
sees this project's packages. Compares, on the fixture clips with audio:
1. the mel front end: ours against librosa's melspectrogram on the same waveform;
2. the network: our LSTM + linear against resemblyzer.VoiceEncoder on the same mels;
3. the whole pipeline: our embedding against resemblyzer's embed_utterance of
   preprocess_wav (which uses librosa resampling and webrtcvad where we use
   scipy and an energy gate), as a cosine;
4. original against default-strength McAdams similarity by both pipelines, so the
   threshold's verdict can be seen to carry over.

    /tmp/venv/bin/python scripts/check_resemblyzer_port.py [--fixtures ../shared/fixtures]

Last run (librosa 0.11.0, webrtcvad-wheels, torch 2.14.1):
    lia_vox2  mel 8.3e-08 | network 0.0 | pipeline cosine 0.9968 | McAdams 0.609 vs 0.617
    lp_d11    mel 1.4e-07 | network 0.0 | pipeline cosine 1.0000 | McAdams 0.669 vs 0.670
    lp_s18    mel 1.2e-07 | network 0.0 | pipeline cosine 0.9916 | McAdams 0.628 vs 0.621
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anonnet_studio.app.runtime import model_manager  # noqa: E402
from anonnet_studio.core.media.pcm import decode_audio_tracks  # noqa: E402
from anonnet_studio.core.voice import speaker_encoder as ours  # noqa: E402
from anonnet_studio.core.voice.disguise import disguise_tracks  # noqa: E402
from anonnet_studio.core.voice.settings import VoiceMethod, VoiceSettings  # noqa: E402


def main() -> int:
    import torch
    from resemblyzer import VoiceEncoder, audio, preprocess_wav

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    args = parser.parse_args()
    theirs = VoiceEncoder(device="cpu", verbose=False)
    folder = model_manager(offline=True).resolve(ours.MODEL_NAME)
    encoder = ours.load_speaker_encoder(folder)
    filters = ours.mel_filterbank(ours.ENCODER_RATE, 400, 40)
    for video in sorted((args.fixtures / "video").glob("*.mp4")):
        tracks = decode_audio_tracks(video)
        if not tracks or np.max(np.abs(tracks[0].samples)) < 1e-4:
            continue
        mono = tracks[0].samples.astype(np.float64).mean(axis=0)
        wav16 = ours.prepare_speech(mono, tracks[0].rate).astype(np.float32)
        mel_ours = ours.mel_spectrogram(wav16.astype(np.float64), filters)
        mel_theirs = audio.wav_to_mel_spectrogram(wav16)
        mel_error = np.max(np.abs(mel_ours - mel_theirs)) / np.max(np.abs(mel_theirs))
        batch = torch.from_numpy(mel_theirs[None, :160].astype(np.float32))
        with torch.no_grad():
            reference = theirs(batch).numpy()[0]
            _, (hidden, _) = encoder._lstm(batch)
            raw = torch.relu(encoder._linear(hidden[-1]))
            mine = (raw / raw.norm(dim=1, keepdim=True)).numpy()[0]
        net_error = float(np.max(np.abs(reference - mine)))
        full = ours.cosine(
            encoder.embed(mono, tracks[0].rate),
            theirs.embed_utterance(preprocess_wav(mono.astype(np.float32), tracks[0].rate)),
        )
        (disguised,) = disguise_tracks(tracks[:1], VoiceSettings(VoiceMethod.MCADAMS))
        fake = disguised.samples.astype(np.float64).mean(axis=0)
        rate = tracks[0].rate
        ours_sim = ours.cosine(encoder.embed(mono, rate), encoder.embed(fake, rate))
        theirs_sim = ours.cosine(
            theirs.embed_utterance(preprocess_wav(mono.astype(np.float32), rate)),
            theirs.embed_utterance(preprocess_wav(fake.astype(np.float32), rate)),
        )
        print(
            f"{video.stem:<10} mel max rel. error {mel_error:.2e} | network max abs error "
            f"{net_error:.2e} | whole pipeline cosine {full:.4f} | McAdams default: "
            f"ours {ours_sim:.3f}, resemblyzer {theirs_sim:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
