"""What a download of several models will fetch: sizes, bytes left, licences, disk space.

`plan_downloads` looks only at the manifest and the disk (no network), so its licence list
can be shown before anything is fetched. `with_remote_sizes` then asks the sources for
sizes the manifest lacks (after the user agreed to go online), and `check_free_space`
refuses a download that would fill the disk. `SetProgress` turns the per-model progress of
`ModelManager.download` into one bar for the whole set, with the bytes left.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.models.downloader import PART_SUFFIX
from anonnet_studio.core.models.licences import LicenceNotice, licence_notices
from anonnet_studio.core.models.location import ModelLocation
from anonnet_studio.core.models.manifest import ModelSpec
from anonnet_studio.core.progress import Progress, ProgressCallback

if TYPE_CHECKING:
    from anonnet_studio.core.models.manager import ModelManager

# Room kept free beyond the download itself: filesystems misbehave when full, and the
# verify pass and other programs need some space too.
MIN_FREE_MARGIN = 256 * 1000 * 1000
FREE_MARGIN_FRACTION = 0.05


def format_bytes(size: int | None) -> str:
    """Decimal units, as disk makers and the progress bar count: '96.3 MB', '3.4 GB'."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@dataclass(frozen=True, slots=True)
class FilePlan:
    """One file still to download."""

    path: str
    size: int | None  # the whole file; None when neither manifest nor source says
    have: int  # bytes already in its `.part` (resumed, not fetched again)

    @property
    def left(self) -> int | None:
        return None if self.size is None else max(0, self.size - self.have)


@dataclass(frozen=True, slots=True)
class ModelPlan:
    spec: ModelSpec
    folder: Path
    present: int  # bytes of the model's files that are already complete
    files: tuple[FilePlan, ...]

    @property
    def total(self) -> int | None:
        """All the model's bytes (present + to fetch), as its download progress counts."""
        sizes = [f.size for f in self.files]
        return None if None in sizes else self.present + sum(s or 0 for s in sizes)

    @property
    def left(self) -> int | None:
        lefts = [f.left for f in self.files]
        return None if None in lefts else sum(n or 0 for n in lefts)


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    models: tuple[ModelPlan, ...]  # what will be downloaded, in order
    available: tuple[ModelLocation, ...] = ()  # asked for, but already present
    not_downloadable: tuple[str, ...] = ()  # embedded models that are missing
    unpinned: tuple[tuple[str, str], ...] = ()  # (name, why) left out of a bulk download

    @property
    def total(self) -> int | None:
        totals = [m.total for m in self.models]
        return None if None in totals else sum(t or 0 for t in totals)

    @property
    def left(self) -> int | None:
        lefts = [m.left for m in self.models]
        return None if None in lefts else sum(n or 0 for n in lefts)

    @property
    def known_left(self) -> int:
        """Bytes left over the files whose size is known."""
        return sum(f.left or 0 for m in self.models for f in m.files)

    @property
    def unknown_sizes(self) -> int:
        return sum(1 for m in self.models for f in m.files if f.size is None)

    def licences(self) -> tuple[LicenceNotice, ...]:
        return licence_notices(
            (m.spec for m in self.models), {m.spec.name: m.left for m in self.models}
        )


def plan_downloads(
    manager: ModelManager, names: Iterable[str], *, skip_unpinned: bool = False
) -> DownloadPlan:
    """What downloading `names` would fetch; looks at the manifest and the disk only.

    `skip_unpinned` leaves out models whose revision cannot be pinned to a commit (a bulk
    `--all` should not fetch those unasked); they are listed in `unpinned`.
    """
    models, available, embedded, unpinned = [], [], [], []
    for name in dict.fromkeys(names):
        spec = manager.spec(name)
        location = manager.locate(name)
        if location is not None:
            available.append(location)
        elif spec.kind != "downloaded":
            embedded.append(name)
        elif skip_unpinned and spec.unpinned_reason:
            unpinned.append((name, spec.unpinned_reason))
        else:
            models.append(_model_plan(spec, manager.cache_folder(name)))
    return DownloadPlan(tuple(models), tuple(available), tuple(embedded), tuple(unpinned))


def with_remote_sizes(plan: DownloadPlan, manager: ModelManager) -> DownloadPlan:
    """The plan with sizes the manifest lacks asked from the sources (network)."""
    models = []
    for model in plan.models:
        files = tuple(
            f
            if f.size is not None
            else replace(f, size=manager.remote_size(model.spec.name, f.path))
            for f in model.files
        )
        models.append(replace(model, files=files))
    return replace(plan, models=tuple(models))


def required_space(left: int) -> int:
    """Bytes that must be free to download `left` bytes, margin included."""
    return left + max(MIN_FREE_MARGIN, int(left * FREE_MARGIN_FRACTION))


def check_free_space(plan: DownloadPlan, folder: Path, *, free: int | None = None) -> None:
    """Raise `ModelError` when `folder`'s disk lacks room for the plan (plus a margin)."""
    left = plan.known_left
    if not plan.models or left == 0:
        return
    if free is None:
        free = shutil.disk_usage(_existing_ancestor(folder)).free
    needed = required_space(left)
    if free >= needed:
        return
    unknown = plan.unknown_sizes
    not_counted = f" ({unknown} file(s) of unknown size not counted)" if unknown else ""
    raise ModelError(
        f"Not enough free disk space in {folder}: the download needs {format_bytes(left)} "
        f"plus {format_bytes(needed - left)} to spare{not_counted}, and "
        f"{format_bytes(free)} is free.",
        hint="Free some space, or download to a larger disk ($ANONNET_MODELS_CACHE).",
    )


def _model_plan(spec: ModelSpec, folder: Path) -> ModelPlan:
    present = 0
    files = []
    for model_file in spec.files:
        final = folder / model_file.path
        if final.is_file() and model_file.size in (None, final.stat().st_size):
            present += final.stat().st_size
            continue
        part = final.with_name(final.name + PART_SUFFIX)
        have = part.stat().st_size if part.is_file() else 0
        files.append(FilePlan(model_file.path, model_file.size, have))
    return ModelPlan(spec, folder, present, tuple(files))


def _existing_ancestor(folder: Path) -> Path:
    """The nearest folder that exists (the cache may not be created yet)."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


class SetProgress:
    """Per-model progress of a plan's downloads, each carrying the bytes left for the set.

    Every model gets its own stage ("[2/5] liveportrait"), with that model's bytes as done
    and total, and a message ending in the bytes still to come over all the models.
    """

    def __init__(self, plan: DownloadPlan, callback: ProgressCallback | None) -> None:
        self._plan = plan
        self._callback = callback
        self._total = plan.total
        self._finished = 0  # bytes of the models already done
        self._last = 0

    def model(self, index: int) -> ProgressCallback:
        """The callback to pass to the download of `plan.models[index]`."""
        model_plan = self._plan.models[index]
        stage = f"[{index + 1}/{len(self._plan.models)}] {model_plan.spec.name}"
        self._last = 0

        def forward(progress: Progress) -> None:
            self._last = progress.done
            if self._callback is None:
                return
            total = model_plan.total if model_plan.total is not None else progress.total
            message = progress.message
            if self._total is not None:
                left = max(0, self._total - self._finished - progress.done)
                message = f"{message}; {format_bytes(left)} of {format_bytes(self._total)} left"
            self._callback(Progress(stage, progress.done, total, message.lstrip("; "), unit="B"))

        return forward

    def finished(self, index: int) -> None:
        """Record that `plan.models[index]` is complete."""
        self._finished += self._plan.models[index].total or self._last
