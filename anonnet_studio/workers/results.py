"""Plain-data results and progress messages that the worker sends back to the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anonnet_studio.core.progress import format_duration
from anonnet_studio.project.schema import Project
from anonnet_studio.project.synthetic_faces import GeneratedFace
from anonnet_studio.workers.requests import JobKind, PropagationTarget


@dataclass(frozen=True, slots=True)
class JobInfo:
    """Identifies a job in every message about it."""

    job_id: int
    kind: JobKind
    description: str


@dataclass(frozen=True, slots=True)
class JobProgress:
    job: JobInfo
    stage: str
    percent: float | None  # 0..100, None when the amount of work is unknown
    eta_s: float | None  # seconds left in this stage, None until it can be estimated
    message: str = ""

    def describe(self) -> str:
        """One line for a status bar, e.g. "Analysing frames: 42 % (about 12 s left)"."""
        text = self.stage
        if self.percent is not None:
            text += f": {self.percent:.0f} %"
        if self.eta_s is not None:
            text += f" (about {format_duration(self.eta_s)} left)"
        if self.message:
            text += f", {self.message}"
        return text


@dataclass(frozen=True, slots=True)
class AnalysisDone:
    project: Project  # a new document, handed over to the GUI (the worker keeps no ref)
    timings_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProjectOpened:
    project: Project
    path: Path


@dataclass(frozen=True, slots=True, eq=False)
class PreviewFrame:
    frame_index: int
    plan_version: int
    original: np.ndarray  # RGB uint8
    anonymized: np.ndarray | None  # RGB uint8, None when no plan was given


@dataclass(frozen=True, slots=True)
class ExportDone:
    output: Path
    frames_written: int
    verdict: str
    leaks_covered: int
    report_paths: tuple[Path, ...]
    fallbacks: dict[str, str]
    leak_frames: tuple[int, ...]
    last_export: dict[str, Any]
    # Faces generated for this export (a generation job returns one `GeneratedFace`); the
    # editor records them as one undoable step so the next export reuses them.
    generated: tuple[GeneratedFace, ...] = ()
    voice: dict[str, Any] = field(default_factory=dict)  # the audit report's "voice" section


@dataclass(frozen=True, slots=True)
class Configured:
    description: str


@dataclass(frozen=True, slots=True)
class ModelStatus:
    missing_synthetic: tuple[str, ...]  # names of synthetic-stage models not on disk


@dataclass(frozen=True, slots=True, eq=False)
class PropagationDone:
    target: PropagationTarget
    target_id: int
    seed_frame: int
    frames: np.ndarray
    boxes: np.ndarray
    landmarks5: np.ndarray
    scores: np.ndarray
    embedding: np.ndarray
    stopped_early: bool  # the face was lost or vetoed before the shot ended
    message: str  # where and why it stopped, for the user
    thumbnail: np.ndarray | None = None  # of the face at the seed frame (faces only)


@dataclass(frozen=True, slots=True, eq=False)
class VoicePreviewDone:
    """A disguised clip to play: float32 (channels, n) in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int
    start_s: float
    method: str


@dataclass(frozen=True, slots=True, eq=False)
class ThumbnailDone:
    identity_id: str
    thumbnail: np.ndarray  # RGB uint8


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model as the Models dialog lists it."""

    name: str
    purpose: str
    licence: str
    non_commercial: bool
    size: int | None  # bytes of all its files; None when the manifest leaves one open
    installed: bool
    location: str  # the folder it loads from ("" when missing)
    looked_in: tuple[str, ...]  # every folder searched, in order
    downloadable: bool  # a download can fetch it (not embedded, not offline)
    synthetic: bool  # needed for synthetic faces
    chosen_folder: str = ""  # the folder the user picked for it ("" when none)


@dataclass(frozen=True, slots=True)
class ModelList:
    rows: tuple[ModelRow, ...]
    offline: bool


@dataclass(frozen=True, slots=True)
class ModelsDownloaded:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelFolderChosen:
    name: str
    folder: str  # "" when the choice was forgotten


@dataclass(frozen=True, slots=True)
class BatchExportDone:
    out_dir: Path
    summary_html: Path
    counts: dict[str, int]
    failed: tuple[str, ...]  # "key: error" per failed file
    exit_code: int  # as `anonnet-studio batch` would exit: 0 only when every file passed

    def describe(self) -> str:
        c = self.counts
        return (f"{c.get('pass', 0)} of {c.get('files', 0)} passed, {c.get('failed', 0)} "
                f"failed, {c.get('skipped', 0)} already done")  # fmt: skip
