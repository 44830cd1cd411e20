"""One file of `anonnet-studio batch`: the same path as `anonymize` (or `export` with
--projects), run in a worker with the models it loaded for the files before."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.recorded import FileOutcome, run_recorded
from anonnet_studio.core.batch.state import source_sha256

if TYPE_CHECKING:
    from anonnet_studio.core.progress import ProgressCallback
    from anonnet_studio.core.vision.factory import VisionModels
    from anonnet_studio.core.vision.selection import BackendChoice

# Options of the batch itself, not of each file's export.
BATCH_ONLY = ("handler", "command", "inputs", "output_dir", "workers", "ray", "dry_run",
              "projects", "quiet", "overwrite")  # fmt: skip

# Per worker process: the face models by backend choice, loaded on first use.
_MODELS: dict[tuple[BackendChoice, str], VisionModels] = {}


@dataclass(frozen=True)
class AnonymizeTask:
    """Picklable: the parsed per-file options and the settings key of the done-records."""

    options: dict[str, Any]
    projects: bool
    settings: str

    def setup(self) -> None:
        if not self.projects:  # a project's embedder is only known when it is opened
            from anonnet_studio.cli.common import backend_choice

            self._load(backend_choice(self._args()))

    def needs_gpu(self, job: BatchJob) -> bool:
        if self.projects:
            return _project_wants_synthetic(job.source)
        return self.options.get("method") == "synthetic"

    def run(self, job: BatchJob, on_progress: ProgressCallback) -> FileResult:
        return run_recorded(job, self.settings, lambda log: self._process(job, log, on_progress))

    def _process(
        self, job: BatchJob, log: io.StringIO, on_progress: ProgressCallback
    ) -> FileOutcome:
        from anonnet_studio.cli.anonymize_cmd import _report_outcome, anonymize_file, export_file

        args = argparse.Namespace(**self._args_for(job))
        sha = source_sha256(job.source) if self.projects else None
        with contextlib.redirect_stdout(log):
            if self.projects:
                outcome, stage, project = export_file(
                    job.source, args, save_back=False, load_models=self._load,
                    on_progress=on_progress,
                )  # fmt: skip
            else:
                outcome, stage, project = anonymize_file(
                    job.source, args, load_models=self._load, on_progress=on_progress
                )
            _report_outcome(outcome, stage, args, saved_to=None, project=project)
        return FileOutcome(
            # A video's hash was taken by the analysis, before any other work.
            source_sha256=sha or project.source.sha256,
            verdict=outcome.verdict,
            leaks=outcome.leaks_covered,
            people=len(project.identities),
            duration_s=float(project.source.media_info.get("duration_s", 0.0)),
            frames=outcome.frames_written,
            notes=tuple(f"{k}: {v}" for k, v in outcome.fallbacks.items()),
        )

    def _args(self) -> argparse.Namespace:
        return argparse.Namespace(**self.options)

    def _args_for(self, job: BatchJob) -> dict[str, Any]:
        # The batch owns its output tree: a job's old outputs are replaced, never kept
        # half-way (its done-record is gone until it finishes).
        return {**self.options, "output": job.video, "report": job.report, "project": None,
                "overwrite": True, "quiet": True}  # fmt: skip

    def _load(self, choice: BackendChoice) -> VisionModels:
        from anonnet_studio.app.runtime import load_vision_models, model_manager

        args = self._args()
        for (loaded_choice, device), models in _MODELS.items():
            # The export pins the embedder the analysis resolved "auto" to: the same models.
            same = all(
                wanted in (loaded_choice.as_dict()[role], models.backends.get(role))
                for role, wanted in choice.as_dict().items()
            )
            if same and device == str(args.device):
                return models
        manager = model_manager(args.models_dir, args.offline)
        models = load_vision_models(manager, choice, args.device)
        _MODELS[(choice, str(args.device))] = models
        return models


def per_file_options(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if k not in BATCH_ONLY}


def _project_wants_synthetic(path: Path) -> bool:
    """A quick look into the project file (no arrays loaded)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["project"]
        return any(
            i.get("hidden", True) and i.get("method") == "synthetic"
            for i in data.get("identities", [])
        )
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return False
