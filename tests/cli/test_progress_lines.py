"""CLI progress without a terminal: a few plain lines per stage, bytes in MB."""

from __future__ import annotations

import io

from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.core.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_fast_stage_prints_a_line_per_tenth_not_per_update() -> None:
    stream, clock = io.StringIO(), _Clock()
    with TerminalProgress(stream=stream, clock=clock) as progress:
        for done in range(1001):
            clock.now = done * 0.01
            progress(Progress("Rendering", done, 1000))
        progress(Progress("Rendering", 1000, 1000))  # a repeated final update
    lines = _lines(stream)
    assert len(lines) == 11, lines
    assert lines[0] == "Rendering: 0% (0 of 1000)"
    assert lines[5].startswith("Rendering: 50% (500 of 1000), about 5 s left")
    assert lines[-1] == "Rendering: 100% (1000 of 1000), took 10 s"
    assert "\r" not in stream.getvalue() and "it/s" not in stream.getvalue()


def test_a_slow_stage_prints_at_most_every_ten_seconds() -> None:
    stream, clock = io.StringIO(), _Clock()
    progress = TerminalProgress(stream=stream, clock=clock)
    for second in range(61):  # 60 s for 1 % of the work
        clock.now = float(second)
        progress(Progress("Analysing frames", second, 6000))
    progress.close()
    lines = _lines(stream)
    assert [line.split(" (")[1].split(" of")[0] for line in lines] == [
        "0", "10", "20", "30", "40", "50", "60"
    ]  # fmt: skip


def test_bytes_are_shown_in_megabytes() -> None:
    stream, clock = io.StringIO(), _Clock()
    with TerminalProgress(stream=stream, clock=clock) as progress:
        progress(Progress("Downloading sd15", 0, 3_000_000, unit="B"))
        clock.now = 2.0
        progress(Progress("Downloading sd15", 1_500_000, 3_000_000, unit="B"))
    assert _lines(stream) == [
        "Downloading sd15: 0% (0.0 of 3.0 MB)",
        "Downloading sd15: 50% (1.5 of 3.0 MB), about 2 s left",
    ]


def test_a_new_stage_first_prints_where_the_last_one_ended() -> None:
    stream, clock = io.StringIO(), _Clock()
    with TerminalProgress(stream=stream, clock=clock) as progress:
        progress(Progress("Checking video", 0, 100))
        progress(Progress("Checking video", 5, 100))  # under a tenth: held back
        progress(Progress("Rendering", 0, None))
        progress(Progress("Rendering", 7, None))  # unknown total, under 10 s: held back
    assert _lines(stream) == [
        "Checking video: 0% (0 of 100)",
        "Checking video: 5% (5 of 100)",
        "Rendering: 0",
        "Rendering: 7",
    ]


def test_quiet_prints_nothing() -> None:
    stream = io.StringIO()
    with TerminalProgress(enabled=False, stream=stream) as progress:
        progress(Progress("Rendering", 1, 2))
    assert stream.getvalue() == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_bytes_scaled() -> None:
    stream = _Terminal()
    with TerminalProgress(stream=stream) as progress:
        progress(Progress("Downloading sd15", 1_500_000, 3_000_000, unit="B"))
    text = stream.getvalue()
    assert "\r" in text and "Downloading sd15" in text and "3.00M" in text and "it/s" not in text
