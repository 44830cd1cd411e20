"""Every hostile or odd media input gets a correct anonymized video or one clear line
(issue 16, item 5), through the real CLI (`probe`, then `anonymize`).

Each case asserts: the documented exit code (0, or 2 with a one-line `error:` and no
traceback); for a video, the output decodes to the right number of upright frames of the
right size, with the fixture face covered (an independent Haar detector finds it in the
source frame and not in the output, and its detail is gone); nothing else in the output
folder (no temp file) and nothing new beside the source; the source's bytes unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from anonnet_studio.cli import main
from tests.bad_input.cli_runs import listing, run_cli, sha256
from tests.bad_input.media_cases import (
    CASES,
    FRAMES,
    MediaCase,
    Refused,
    Valid,
    encode,
    source_frames,
)

_HAAR = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return source_frames()


@pytest.fixture(autouse=True)
def _crash_logs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANONNET_LOG_DIR", str(tmp_path / "logs"))


def test_the_suite_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c.slow else c for c in CASES], ids=str
)
def test_media_input(
    case: MediaCase, frames: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    source = case.build(inputs, frames)
    before, names = sha256(source), listing(inputs)
    out = tmp_path / "out"
    out.mkdir()
    output = out / "anonymized.mp4"

    probed = _run(["probe", str(source), "--json"], capsys)
    ran = _run(["anonymize", str(source), "-o", str(output), "-q"], capsys)

    if isinstance(case.expect, Refused):
        for code, _, err in (probed, ran):
            _assert_one_line_error(code, err, case.expect.phrase)
        assert listing(out) == []
    else:
        assert probed[0] == 0, probed[2]
        assert ran[0] == 0, ran[2]
        assert "Traceback" not in ran[2]
        announced = json.loads(probed[1])["video"]["frame_count"]
        expected = case.expect.frames if case.expect.frames is not None else announced
        assert announced == expected
        if case.expect.frames is None:  # a cut file: what decodes, fewer than were written
            assert 0 < expected < len(frames)
        assert listing(out) == ["anonymized.mp4"]
        _check_output(output, case.expect, expected, frames)
    assert sha256(source) == before
    assert listing(inputs) == names
    assert not (tmp_path / "logs").exists(), "a bug was logged"


def test_a_unicode_path_in_a_real_process_with_a_c_locale(
    frames: np.ndarray, tmp_path: Path
) -> None:
    """argv and file names of a real process under LC_ALL=C (Python coerces it to UTF-8)."""
    folder = tmp_path / "données 'ü' \"q\""
    folder.mkdir()
    source = encode(folder / "видео 顔.mp4", list(frames[:4]))
    before = sha256(source)
    output = folder / "аноним ✓.mp4"
    result = run_cli(["anonymize", source, "-o", output, "-q"], tmp_path, tmp_path / "models")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(listing(folder)) == sorted([source.name, output.name])
    assert sha256(source) == before
    _check_output(output, Valid(4, (160, 160)), 4, frames)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(code: int, err: str, phrase: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase in lines[0], err


def _check_output(output: Path, expect: Valid, count: int, frames: np.ndarray) -> None:
    with av.open(str(output)) as container:
        kinds = [s.type for s in container.streams]
        assert kinds == ["video"] + ["audio"] * expect.audio
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(decoded) == count
    # Odd sizes are padded by one pixel (the H.264 output is 4:2:0).
    padded = tuple(side + side % 2 for side in expect.size)
    assert all(image.shape[1::-1] == padded for image in decoded)
    if expect.face:
        for index, image in enumerate(decoded):
            original = expect.upright(frames[index])
            _assert_face_covered(original, image[: expect.size[1], : expect.size[0]], index)


def _assert_face_covered(original: np.ndarray, rendered: np.ndarray, index: int) -> None:
    found = _faces(original)
    assert len(found) == 1, f"frame {index}: the check cannot see the source face"
    assert len(_faces(rendered)) == 0, f"frame {index}: a face is still detectable"
    x, y, w, h = found[0]
    detail = [
        cv2.Laplacian(cv2.cvtColor(im[y : y + h, x : x + w], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
        for im in (original, rendered)
    ]
    assert detail[1] < 0.2 * detail[0], f"frame {index}: the face keeps its detail {detail}"


def _faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found = _HAAR.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(24, 24))
    return [tuple(int(v) for v in box) for box in np.asarray(found).reshape(-1, 4)]


def test_a_voice_disguise_changes_every_audio_stream_of_a_short_clip(
    frames: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three 0.32 s tracks: shorter than the speaker check's pause gate, which crashed the
    audit; no track may be copied with the voice still in it."""
    source = encode(tmp_path / "three_tracks.mp4", list(frames[:FRAMES]), audio_streams=3)
    output = tmp_path / "out" / "v.mp4"
    output.parent.mkdir()
    code, out, err = _run(["anonymize", str(source), "-o", str(output), "--voice", "pitch",
                           "-q"], capsys)  # fmt: skip
    # 3: the audit says FAIL, as a pure tone stays "the same speaker" after any disguise.
    assert code in (0, 3), err
    assert "Traceback" not in err and "Voice: pitch" in out
    before, after = _audio_packets(source), _audio_packets(output)
    assert len(before) == len(after) == 3
    assert all(a != b for a, b in zip(before, after, strict=True))


def _audio_packets(path: Path) -> list[bytes]:
    tracks = []
    with av.open(str(path)) as container:
        indices = [stream.index for stream in container.streams.audio]
    for index in indices:
        with av.open(str(path)) as container:
            stream = container.streams[index]
            tracks.append(b"".join(bytes(p) for p in container.demux(stream) if p.size))
    return tracks
