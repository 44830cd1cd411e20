"""An interview-style montage built at run time from the fixture clips, for benchmarks.

Nine hard-cut shots of six people: a wide room shot, close-ups, one two-shot (two people
side by side in one frame) and recurring people, each shot letterboxed to the target size
at 30 fps. Every clip is a different person (see the fixtures README), so the expected
people are known: six identities, one of them in two shots at once with another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from tests.media_factory import make_montage, make_side_by_side

# Where the fixture clips are: $ANONNET_FIXTURES, else ../shared/fixtures beside the repo.
FIXTURES_DIR = Path(
    os.environ.get(
        "ANONNET_FIXTURES", Path(__file__).resolve().parents[2].parent / "shared/fixtures"
    )
)

# (label, clips): one clip is a single-person shot, two clips make a two-shot.
MONTAGE_SHOTS: tuple[tuple[str, ...], ...] = (
    ("lp_s18.mp4",),  # wide shot, small face
    ("lp_d18.mp4",),
    ("lp_d19.mp4", "lp_d3.mp4"),  # two-shot
    ("lp_d11.mp4",),
    ("lia_vox2.mp4",),  # low-resolution source, upscaled
    ("lp_d18.mp4",),  # recurs
    ("lp_d3.mp4",),
    ("lp_s18.mp4",),  # recurs
    ("lp_d19.mp4",),
)


@dataclass(frozen=True)
class Montage:
    path: Path
    size: tuple[int, int]
    cuts: list[int]  # first frame of every shot after the first
    people: int  # distinct people shown
    shots: int
    frames: int


def build_interview_montage(
    fixtures: Path,
    dest: Path,
    size: tuple[int, int],
    *,
    frames_per_shot: int = 200,
) -> Montage:
    """Write the montage to `dest` (.mp4) at size=(W, H); the two-shot is built beside it."""
    video = fixtures / "video"
    clips: list[Path] = []
    for number, shot in enumerate(MONTAGE_SHOTS):
        if len(shot) == 1:
            clips.append(video / shot[0])
            continue
        two_shot = dest.with_name(f"{dest.stem}.twoshot{number}.mp4")
        make_side_by_side(
            video / shot[0], video / shot[1], two_shot, size, max_frames=frames_per_shot
        )
        clips.append(two_shot)
    cuts = make_montage(clips, dest, size, fps=Fraction(30), max_frames_per_clip=frames_per_shot)
    people = {name for shot in MONTAGE_SHOTS for name in shot}
    frames = _frame_count(dest)
    return Montage(dest, size, cuts, len(people), len(MONTAGE_SHOTS), frames)


def _frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.demux(container.streams.video[0]) if _.size)
