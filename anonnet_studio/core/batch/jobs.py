"""One file of a batch (`BatchJob`) and what became of it (`FileResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["done", "failed", "skipped", "not run"]


@dataclass(frozen=True, slots=True)
class BatchJob:
    """A source file and where its outputs go; `key` is its path in the mirrored tree."""

    source: Path  # absolute
    key: str  # e.g. "interviews/day1/clip" (posix, unique in the batch)
    out_dir: Path  # the folder of its outputs
    stem: str  # the start of every output name
    video_suffix: str = ".mp4"
    frames: int = 0  # from a quick probe when planning; 0 when unknown

    @property
    def video(self) -> Path:
        return self.out_dir / f"{self.stem}.anonymized{self.video_suffix}"

    @property
    def report(self) -> Path:
        # Named after the video, as the editor's export names its report.
        return self.out_dir / f"{self.stem}.anonymized.report.json"

    @property
    def report_html(self) -> Path:
        return self.report.with_suffix(".html")

    @property
    def log(self) -> Path:
        return self.out_dir / f"{self.stem}.log"

    @property
    def done_record(self) -> Path:
        """Written last, only when the video and the report are published."""
        return self.out_dir / f"{self.stem}.done.json"

    def outputs(self) -> tuple[Path, ...]:
        """The files that must exist for the job to count as done (besides the record)."""
        return (self.video, self.report, self.report_html, self.log)


@dataclass(frozen=True, slots=True)
class FileResult:
    """One row of the batch summary."""

    key: str
    source: str
    status: Status
    verdict: str = ""  # "PASS" / "FAIL" from the audit report; "" when it did not finish
    leaks: int | None = None
    people: int | None = None
    duration_s: float | None = None  # of the source video
    frames: int | None = None  # written
    seconds: float | None = None  # time taken to process it (in the run that did it)
    error: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Processed (now or in an earlier run) with a passing report."""
        return self.status in ("done", "skipped") and self.verdict == "PASS"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileResult:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["notes"] = tuple(known.get("notes", ()))
        return cls(**known)
