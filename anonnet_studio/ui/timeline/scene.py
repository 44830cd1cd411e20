"""`TimelineScene`: rebuilt from the project document whenever it changes (otioview style)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from anonnet_studio.project.attention import (
    MODELS_MISSING_NOTE,
    attention_reason,
    shown_blurred_for_models,
)
from anonnet_studio.project.render_plan import effective_method
from anonnet_studio.project.schema import Identity, Project, RedactionRegion
from anonnet_studio.project.voice_commands import has_audio
from anonnet_studio.ui.timeline.audio_lane import (
    AUDIO_LANE_COLOR,
    AUDIO_LANE_ID,
    AudioLaneModel,
    add_audio_items,
)
from anonnet_studio.ui.timeline.items import (
    DOMAIN_ID,
    DOMAIN_KIND,
    REGION_LANE_COLOR,
    CutMarkerItem,
    LaneBackgroundItem,
    LeakMarkerItem,
    PlayheadItem,
    RegionSpanItem,
    RulerItem,
    ShotItem,
    SpanItem,
)

RULER_HEIGHT = 24.0
LEAK_HEIGHT = 6.0
SHOT_TOP = RULER_HEIGHT + LEAK_HEIGHT + 2
SHOT_HEIGHT = 24.0
LANES_TOP = SHOT_TOP + SHOT_HEIGHT + 6
LANE_HEIGHT = 44.0
LANE_GAP = 2.0


@dataclass(frozen=True, slots=True)
class LaneInfo:
    """What the lane header column shows for one person's lane."""

    identity_id: str
    name: str
    color: str
    top: float
    height: float
    hidden: bool  # anonymized in the export
    method: str  # the method the export uses (after fallbacks)
    needs_attention: bool
    kind: str = "person"  # or "region" (a region that is not a face; identity_id "R<id>")
    # or "audio" (the audio lane; `method` holds its status line)
    note: str = ""  # why the lane is flagged, for its tooltip
    models_missing: bool = False  # synthetic, shown blurred: the models are not installed


def frame_runs(frames: list[int] | np.ndarray) -> list[tuple[int, int]]:
    """Consecutive frame indices grouped into inclusive (first, last) runs."""
    values = np.unique(np.asarray(frames, dtype=np.int64))
    if values.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(values) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [values.size - 1]])
    return [(int(values[s]), int(values[e])) for s, e in zip(starts, ends, strict=True)]


class TimelineScene(QGraphicsScene):
    """Ruler, leak strip, shot lane, one lane per person, cut markers and the playhead."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lanes: list[LaneInfo] = []
        self.frame_count = 0
        self.fps = 30.0
        self.playhead: PlayheadItem | None = None
        self.audio = AudioLaneModel(self)  # the audio lane's range selection
        self._frame = 0
        self._synthetic_unavailable: frozenset[str] = frozenset()

    @property
    def content_height(self) -> float:
        return LANES_TOP + max(1, len(self.lanes)) * (LANE_HEIGHT + LANE_GAP)

    def _add_region_lane(self, region: RedactionRegion, row: int) -> None:
        top = LANES_TOP + row * (LANE_HEIGHT + LANE_GAP)
        self.lanes.append(
            LaneInfo(
                identity_id=f"R{region.id}",
                name=region.name,
                color=REGION_LANE_COLOR,
                top=top,
                height=LANE_HEIGHT,
                hidden=True,
                method=region.method.value,
                needs_attention=False,
                kind="region",
            )
        )
        self.addItem(LaneBackgroundItem(self.frame_count, top, LANE_HEIGHT, row % 2 == 1))
        label = f"{region.method.value.capitalize()}" + (" · tracked" if region.tracked else "")
        self.addItem(
            RegionSpanItem(
                region.id, region.start_frame, region.end_frame, top + 4, LANE_HEIGHT - 8,
                label, tooltip=f"{region.name}: frames {region.start_frame}–"
                f"{region.end_frame - 1}, {region.method.value} {region.shape.value}",
            )
        )  # fmt: skip

    def _add_audio_lane(self, project: Project, row: int) -> None:
        top = LANES_TOP + row * (LANE_HEIGHT + LANE_GAP)
        voice = project.voice
        status = f"voice {voice.method.value}" if has_audio(project) else "no audio"
        if voice.mute_ranges and has_audio(project):  # short: the header column is narrow
            status = f"{voice.method.value} · {len(voice.mute_ranges)} cut"
        self.lanes.append(
            LaneInfo(AUDIO_LANE_ID, "Audio", AUDIO_LANE_COLOR, top, LANE_HEIGHT, False,
                     status, False, kind="audio")
        )  # fmt: skip
        add_audio_items(self, self.audio, project, self.frame_count, self.fps, top, LANE_HEIGHT)

    def rebuild(
        self,
        project: Project | None,
        frame_count: int,
        fps: float,
        *,
        synthetic_unavailable: frozenset[str] = frozenset(),
    ) -> None:
        """Throw every item away and build them again from `project`; with
        `synthetic_unavailable` (backends whose models are missing) their synthetic people
        show as blurred, with the reason."""
        self._synthetic_unavailable = synthetic_unavailable
        self.clear()
        self.lanes = []
        self.playhead = None
        self.frame_count = max(0, frame_count)
        self.fps = fps
        if project is None or self.frame_count == 0:
            self.setSceneRect(QRectF(0, 0, 1, LANES_TOP))
            return
        width = self.frame_count
        self.addItem(RulerItem(width, fps, RULER_HEIGHT))
        for first, last in frame_runs(project.leak_frames):
            self.addItem(LeakMarkerItem(first, last, RULER_HEIGHT, LEAK_HEIGHT))
        for shot in project.shots:
            self.addItem(
                ShotItem(shot.index, shot.start_frame, shot.end_frame, SHOT_TOP, SHOT_HEIGHT)
            )
        for row, identity in enumerate(project.identities):
            self._add_lane(project, identity, row)
        for row, region in enumerate(project.regions, start=len(project.identities)):
            self._add_region_lane(region, row)
        self._add_audio_lane(project, len(self.lanes))
        bottom = self.content_height
        for shot in project.shots[1:]:
            self.addItem(CutMarkerItem(shot.start_frame, SHOT_TOP, bottom))
        self.playhead = PlayheadItem(bottom)
        self.playhead.set_frame(self._frame)
        self.addItem(self.playhead)
        self.setSceneRect(QRectF(0, 0, width, bottom))

    def set_frame(self, frame: int) -> None:
        self._frame = frame
        if self.playhead is not None:
            self.playhead.set_frame(frame)

    def items_for(self, kind: str, domain_id: object) -> list[QGraphicsItem]:
        """Items showing the domain object (e.g. ("shot", 2) or ("track", 7))."""
        return [
            item
            for item in self.items()
            if item.data(DOMAIN_KIND) == kind and item.data(DOMAIN_ID) == domain_id
        ]

    def lane_at(self, y: float) -> LaneInfo | None:
        for lane in self.lanes:
            if lane.top <= y < lane.top + lane.height:
                return lane
        return None

    def _add_lane(self, project: Project, identity: Identity, row: int) -> None:
        top = LANES_TOP + row * (LANE_HEIGHT + LANE_GAP)
        unavailable = self._synthetic_unavailable
        blurred = shown_blurred_for_models(identity, unavailable)
        method = effective_method(identity, frozenset() if blurred else None)
        notes = [attention_reason(identity)]
        if shown_blurred_for_models(identity, unavailable):
            notes.append(MODELS_MISSING_NOTE)
        self.lanes.append(
            LaneInfo(
                identity_id=identity.id,
                name=identity.name,
                color=identity.color,
                top=top,
                height=LANE_HEIGHT,
                hidden=method.hides,
                method=method.value,
                needs_attention=identity.needs_attention,
                note="\n".join(n for n in notes if n),
                models_missing=shown_blurred_for_models(identity, unavailable),
            )
        )
        self.addItem(LaneBackgroundItem(self.frame_count, top, LANE_HEIGHT, row % 2 == 1))
        for track in project.tracks_of(identity.id):
            kept = not method.hides or track.kept
            label = "Kept" if kept else method.value.capitalize()
            if track.manual:
                label = f"Added by hand · {label.lower()}"
            tooltip = (
                f"{identity.name}, track {track.id} (shot {track.shot_index + 1}): "
                f"frames {track.start_frame}–{track.end_frame - 1}, {label.lower()}"
            )
            self.addItem(
                SpanItem(
                    track.id,
                    identity.id,
                    track.start_frame,
                    track.end_frame,
                    top + 4,
                    LANE_HEIGHT - 8,
                    identity.color,
                    label,
                    kept=kept,
                    tooltip=tooltip,
                )
            )
