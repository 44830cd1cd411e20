"""Undoable edits of regions that are not faces, and of the review state."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from anonnet_studio.core.correction.geometry import keyframe_correction
from anonnet_studio.project.command_base import ProjectEditError
from anonnet_studio.project.correction_state import SnapshotCommand
from anonnet_studio.project.events import ProjectEvent, ProjectEvents, RegionsChanged, ReviewChanged
from anonnet_studio.project.regions import (
    MAX_REGION_NAME_LENGTH,
    RedactionRegion,
    RegionMethod,
    RegionShape,
    dense_boxes,
)
from anonnet_studio.project.schema import Project
from anonnet_studio.project.track_commands import user_box

EDITABLE_REGION_FIELDS = ("name", "shape", "method")


def find_region(project: Project, region_id: int) -> RedactionRegion:
    try:
        return project.region(region_id)
    except KeyError:
        raise ProjectEditError(
            f"There is no region {region_id} (it may have been deleted)."
        ) from None


def _check_range(project: Project, start: int, end: int) -> tuple[int, int]:
    video = project.source.media_info.get("video") or {}
    count = int(video.get("frame_count") or 0) or (
        project.shots[-1].end_frame if project.shots else 0
    )
    start, end = int(start), int(end)
    if not 0 <= start < end:
        raise ProjectEditError("A region needs at least one frame (start before end).")
    if count and end > count:
        raise ProjectEditError(f"The video has {count} frames; a region cannot run past them.")
    return start, end


def _replace(project: Project, region: RedactionRegion) -> None:
    project.regions[[r.id for r in project.regions].index(region.id)] = region


def coerce_region_field(field: str, value: Any) -> Any:
    if field == "name":
        if not isinstance(value, str) or not value.strip():
            raise ProjectEditError("A region's name cannot be empty.")
        if len(value.strip()) > MAX_REGION_NAME_LENGTH:
            raise ProjectEditError(f"A name can be at most {MAX_REGION_NAME_LENGTH} characters.")
        return value.strip()
    kinds = {"shape": RegionShape, "method": RegionMethod}
    if field not in kinds:
        raise ProjectEditError(f"{field!r} cannot be edited; choose one of name, shape, method.")
    try:
        return kinds[field](value)
    except ValueError:
        choices = ", ".join(m.value for m in kinds[field])
        raise ProjectEditError(f"Unknown {field} {value!r}; choose one of {choices}.") from None


class AddRegion(SnapshotCommand):
    """A static region (one box) redacted over frames start..end-1."""

    def __init__(
        self,
        box: object,
        start: int,
        end: int,
        *,
        name: str = "Region",
        shape: RegionShape | str = RegionShape.RECTANGLE,
        method: RegionMethod | str = RegionMethod.BLUR,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        self.box = np.asarray(box, dtype=np.float64)
        self.start, self.end = int(start), int(end)
        self.name = coerce_region_field("name", name)
        self.shape = coerce_region_field("shape", shape)
        self.method = coerce_region_field("method", method)
        self.text = f"Add region {self.name}"
        self.region_id: int | None = None

    def _change(self, project: Project) -> list[ProjectEvent]:
        start, end = _check_range(project, self.start, self.end)
        box = user_box(project, self.box)
        region = RedactionRegion(
            id=project.next_region_id(),
            name=self.name,
            shape=self.shape,
            method=self.method,
            start_frame=start,
            end_frame=end,
            frames=np.array([start], dtype=np.int32),
            boxes=box[None],
        )
        project.regions.append(region)
        self.region_id = region.id
        return [RegionsChanged()]


class RemoveRegion(SnapshotCommand):
    def __init__(self, region_id: int, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        self.region_id = region_id
        self.text = f"Delete region {region_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        region = find_region(project, self.region_id)
        project.regions.remove(region)
        self.text = f"Delete region {region.name}"
        return [RegionsChanged()]


class SetRegionField(SnapshotCommand):
    """Rename a region, or change its shape or redaction method."""

    def __init__(
        self, region_id: int, field: str, value: Any, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.region_id, self.field = region_id, field
        self.value = coerce_region_field(field, value)
        self.text = f"Change {field} of region {region_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        region = find_region(project, self.region_id)
        _replace(project, dataclasses.replace(region, **{self.field: self.value}))
        self.text = f"Change {self.field} of {region.name}"
        return [RegionsChanged()]


class SetRegionRange(SnapshotCommand):
    """Redact the region over frames start..end-1 (trims or extends it)."""

    def __init__(
        self, region_id: int, start: int, end: int, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.region_id, self.start, self.end = region_id, int(start), int(end)
        self.text = f"Change the frames of region {region_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        region = find_region(project, self.region_id)
        start, end = _check_range(project, self.start, self.end)
        _replace(project, dataclasses.replace(region, start_frame=start, end_frame=end))
        self.text = f"Redact {region.name} over frames {start}–{end - 1}"
        return [RegionsChanged()]


class SetRegionBox(SnapshotCommand):
    """Move or resize a region at one frame. A static region moves as a whole; a tracked
    one gets a keyframe there, interpolated towards its neighbouring keyframes."""

    def __init__(
        self, region_id: int, frame: int, box: object, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.region_id, self.frame = region_id, int(frame)
        self.box = np.asarray(box, dtype=np.float64)
        self.text = f"Move region {region_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        region = find_region(project, self.region_id)
        if not region.covers(self.frame):
            raise ProjectEditError(
                f"{region.name} covers frames {region.start_frame}–{region.end_frame - 1}; "
                f"frame {self.frame} is outside it."
            )
        box = user_box(project, self.box)
        if len(region.frames) == 1:
            _replace(project, dataclasses.replace(region, boxes=box[None]))
            return [RegionsChanged()]
        frames, boxes = region.frames, region.boxes
        if self.frame not in set(frames.tolist()):
            row = int(np.searchsorted(frames, self.frame))
            boxes = np.insert(
                boxes, row, dense_boxes(frames, boxes, self.frame, self.frame + 1)[0], 0
            )
            frames = np.insert(frames, row, self.frame)
        change = keyframe_correction(frames, boxes, region.corrected_frames, self.frame, box)
        boxes = change.boxes(boxes)
        boxes[int(np.searchsorted(frames, self.frame))] = box
        _replace(
            project,
            dataclasses.replace(
                region,
                frames=frames,
                boxes=boxes,
                corrected_frames=sorted({*region.corrected_frames, self.frame}),
            ),
        )
        return [RegionsChanged()]


class ApplyRegionTracking(SnapshotCommand):
    """Replace a region's geometry within the tracked frames by the tracker's boxes."""

    def __init__(
        self,
        region_id: int,
        frames: np.ndarray,
        boxes: np.ndarray,
        *,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        if len(frames) == 0:
            raise ProjectEditError("Tracking found no frames for the region.")
        self.region_id = region_id
        self.frames = np.asarray(frames, dtype=np.int32)
        self.boxes = np.asarray(boxes, dtype=np.float32)
        self.text = f"Track region {region_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        region = find_region(project, self.region_id)
        first, last = int(self.frames[0]), int(self.frames[-1])
        # Outside the tracked span the region keeps its own boxes (made explicit, so the
        # interpolation towards the tracked rows does not change what it covered there).
        frames, boxes = region.dense()
        outside = (frames < first) | (frames > last)
        all_frames = np.concatenate([frames[outside], self.frames])
        order = np.argsort(all_frames, kind="stable")
        _replace(
            project,
            dataclasses.replace(
                region,
                frames=all_frames[order],
                boxes=np.concatenate([boxes[outside], self.boxes])[order],
                tracked=True,
                corrected_frames=[],
            ),
        )
        self.text = f"Track {region.name} over frames {first}–{last}"
        return [RegionsChanged()]


class SetReviewed(SnapshotCommand):
    """Mark review items (by key) as reviewed, or as not reviewed."""

    def __init__(
        self, keys: list[str], reviewed: bool, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        if not keys or any(not isinstance(k, str) or not k.strip() for k in keys):
            raise ProjectEditError("Choose at least one review item.")
        self.keys, self.reviewed = list(dict.fromkeys(keys)), bool(reviewed)
        count = f"{len(self.keys)} review items" if len(self.keys) > 1 else "a review item"
        self.text = f"Mark {count} as {'reviewed' if reviewed else 'not reviewed'}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        marked = set(project.reviewed)
        marked = marked | set(self.keys) if self.reviewed else marked - set(self.keys)
        project.reviewed[:] = sorted(marked)
        return [ReviewChanged()]
