"""Frame index -> timecode text for rulers, labels and the transport bar.

Timecode is non-drop-frame: frames are counted at the rounded rate (30 for 29.97), as
editing software labels NTSC material, so labels fall on whole numbers.
"""

from __future__ import annotations

import math


def timecode_base(fps: float) -> int:
    """Frames per timecode second: the rate rounded to a whole number (at least 1)."""
    return max(1, round(fps)) if fps > 0 else 30


def frame_to_timecode(frame: int, fps: float) -> str:
    """ "HH:MM:SS:FF"."""
    base = timecode_base(fps)
    seconds_total, frames = divmod(max(0, int(frame)), base)
    hours, rest = divmod(seconds_total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def frame_to_clock(frame: int, fps: float) -> str:
    """Short label for a ruler: "m:ss", or "m:ss+ff" between whole seconds."""
    base = timecode_base(fps)
    seconds_total, frames = divmod(max(0, int(frame)), base)
    minutes, seconds = divmod(seconds_total, 60)
    text = f"{minutes}:{seconds:02d}"
    return f"{text}+{frames:02d}" if frames else text


def nice_frame_step(pixels_per_frame: float, fps: float, min_pixels: float = 80.0) -> int:
    """A ruler tick spacing in frames that puts labels at least `min_pixels` apart and
    falls on round values (1, 2, 5, 10 frames; 1, 2, 5, 10, 15, 30 s; minutes)."""
    base = timecode_base(fps)
    needed = min_pixels / max(pixels_per_frame, 1e-6)
    candidates = [1, 2, 5, 10]
    candidates += [base * s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)]
    for step in candidates:
        if step >= needed:
            return step
    return base * 3600 * max(1, math.ceil(needed / (base * 3600)))
