"""`PreviewPanel`: view-mode switches, overlay toggles, the comparison canvas and the
transport bar (play, step, scrub slider, timecode)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.project.attention import shown_blurred_for_models
from anonnet_studio.project.render_plan import effective_method
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.icons import icon
from anonnet_studio.ui.preview.banner import ModelsBanner
from anonnet_studio.ui.preview.box_editing import CanvasTool
from anonnet_studio.ui.preview.canvas import (
    ANALYSING_TEXT,
    FIRST_RUN_HINT,
    RENDERING_TEXT,
    ComparisonCanvas,
    FaceOverlay,
    ViewMode,
)
from anonnet_studio.ui.preview.frame_source import PreviewFrameSource
from anonnet_studio.ui.preview.playback import PlaybackController
from anonnet_studio.ui.timecode import frame_to_timecode

_MODES = (
    (ViewMode.SIDE_BY_SIDE, "Side by side"),
    (ViewMode.SINGLE, "Single"),
    (ViewMode.OVERLAY, "Overlay"),
    (ViewMode.WIPE, "Wipe"),
)


REGION_COLOR = "#ced4da"


class PreviewPanel(QWidget):
    face_drawn = Signal(int, object)  # frame, (x0, y0, x1, y1) video pixels
    region_drawn = Signal(int, object)  # frame, box
    box_edited = Signal(object, int, object)  # ("track" | "region", id), frame, box
    models_requested = Signal()  # the banner's button: open the Models dialog

    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        frames: PreviewFrameSource,
        playback: PlaybackController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._frames = frames
        self._playback = playback
        # The frame whose picture is on the canvas. While scrubbing it lags the playhead
        # (the picture stays until the next one arrives); boxes must follow the picture.
        self._shown_frame: int | None = None
        self._synthetic_unavailable: frozenset[str] = frozenset()
        self.canvas = ComparisonCanvas(self)
        self.banner = ModelsBanner(self)
        self.banner.models_requested.connect(self.models_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self.banner)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self._build_transport())

        state.frame_changed.connect(self._show_frame)
        frames.frame_ready.connect(self._on_frame_ready)
        frames.failed.connect(self.canvas.set_message)
        document.project_replaced.connect(self._on_project_replaced)
        document.render_changed.connect(self._refresh)
        document.identity_changed.connect(lambda *_: self._update_overlays())
        document.identity_changed.connect(lambda *_: self._update_banner())
        document.identities_changed.connect(self._update_banner)
        document.tracks_changed.connect(lambda _ids: self._update_overlays())
        document.regions_changed.connect(self._update_overlays)
        state.track_selected.connect(lambda _t: self._update_overlays())
        state.region_selected.connect(lambda _r: self._update_overlays())
        playback.playing_changed.connect(self._on_playing_changed)
        self.canvas.box_drawn.connect(self._on_box_drawn)
        self.canvas.box_edited.connect(
            lambda key, box: self.box_edited.emit(key, self.edited_frame, box)
        )
        self.canvas.box_clicked.connect(self._on_box_clicked)
        self.canvas.tool_changed.connect(self._sync_tool_buttons)
        self._on_project_replaced()

    # -- layout ---------------------------------------------------------------------------

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        title = QLabel("Preview")
        title.setObjectName("PanelTitle")
        bar.addWidget(title)
        bar.addSpacing(12)
        self.mode_buttons = QButtonGroup(self)
        for mode, label in _MODES:
            button = QToolButton(self)
            button.setText(label)
            button.setCheckable(True)
            button.setChecked(mode is ViewMode.SIDE_BY_SIDE)
            button.setObjectName(f"mode-{mode.value}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must reach play/pause
            self.mode_buttons.addButton(button)
            button.toggled.connect(lambda on, m=mode: self.set_mode(m) if on else None)
            bar.addWidget(button)
        self.single_source = QToolButton(self)
        self.single_source.setCheckable(True)
        self.single_source.setText("Showing: anonymized")
        self.single_source.setToolTip("Switch the single view between original and anonymized")
        self.single_source.toggled.connect(self._on_single_source)
        bar.addWidget(self.single_source)
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("Opacity of the anonymized frame over the original")
        self.opacity.valueChanged.connect(lambda v: self.canvas.set_overlay_opacity(v / 100))
        bar.addWidget(self.opacity)
        bar.addStretch(1)
        self.face_tool = self._tool_button(
            bar, "Add face", CanvasTool.DRAW_FACE, "Draw a box around a missed face (F)"
        )
        self.region_tool = self._tool_button(
            bar,
            "Add region",
            CanvasTool.DRAW_REGION,
            "Draw a region to redact, e.g. a name tag (R)",
        )
        self.boxes_button = self._toggle(bar, "boxes", "Show face boxes", True)
        self.labels_button = self._toggle(bar, "labels", "Show identity labels", True)
        self._sync_mode_widgets()
        return bar

    def _toggle(self, bar: QHBoxLayout, name: str, tip: str, checked: bool) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(name))
        button.setCheckable(True)
        button.setChecked(checked)
        button.setToolTip(tip)
        button.toggled.connect(self._on_overlay_toggles)
        bar.addWidget(button)
        return button

    def _tool_button(self, bar: QHBoxLayout, text: str, tool: CanvasTool, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.setObjectName(f"tool-{tool.value}")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.toggled.connect(lambda on: self.set_tool(tool if on else CanvasTool.SELECT))
        bar.addWidget(button)
        return button

    def set_tool(self, tool: CanvasTool) -> None:
        """Pause and arm a drawing tool (or go back to selecting boxes)."""
        if tool is not CanvasTool.SELECT:
            self._playback.pause()
        self.canvas.set_tool(tool)
        self._sync_tool_buttons(self.canvas.tool)

    def _sync_tool_buttons(self, tool: CanvasTool) -> None:
        for button, mine in ((self.face_tool, CanvasTool.DRAW_FACE),
                             (self.region_tool, CanvasTool.DRAW_REGION)):  # fmt: skip
            button.blockSignals(True)
            button.setChecked(tool is mine)
            button.blockSignals(False)

    def _on_box_drawn(self, tool: CanvasTool, box: object) -> None:
        if tool is CanvasTool.DRAW_FACE:
            self.face_drawn.emit(self.edited_frame, box)
        elif tool is CanvasTool.DRAW_REGION:
            self.region_drawn.emit(self.edited_frame, box)

    def _on_box_clicked(self, key: tuple[str, int]) -> None:
        kind, domain_id = key
        if kind == "track":
            self._state.select_track(domain_id)
        else:
            self._state.select_region(domain_id)

    def _build_transport(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 4)
        self.play_button = QToolButton(self)
        for name, tip, slot in (
            ("to-start", "Go to the first frame (Home)", lambda: self._state.set_frame(0)),
            ("step-back", "Previous frame (Left)", lambda: self._state.step(-1)),
            ("play", "Play / pause (Space)", self._playback.toggle),
            ("step-forward", "Next frame (Right)", lambda: self._state.step(1)),
            ("to-end", "Go to the last frame (End)",
             lambda: self._state.set_frame(self._state.frame_count - 1)),
        ):  # fmt: skip
            button = self.play_button if name == "play" else QToolButton(self)
            button.setIcon(icon(name))
            button.setIconSize(QSize(14, 14))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            bar.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("ScrubSlider")
        self.slider.valueChanged.connect(self._state.set_frame)
        bar.addWidget(self.slider, 1)
        self.timecode = QLabel("00:00:00:00", self)
        self.timecode.setObjectName("Timecode")
        bar.addWidget(self.timecode)
        self.audio_note = QLabel(self)
        self.audio_note.setObjectName("Hint")
        bar.addWidget(self.audio_note)
        return bar

    # -- behaviour ------------------------------------------------------------------------

    def set_mode(self, mode: ViewMode) -> None:
        self.canvas.set_mode(mode)
        self._sync_mode_widgets()

    def _sync_mode_widgets(self) -> None:
        mode = self.canvas.mode
        self.single_source.setVisible(mode is ViewMode.SINGLE)
        self.opacity.setVisible(mode is ViewMode.OVERLAY)

    def _on_single_source(self, original: bool) -> None:
        self.single_source.setText("Showing: original" if original else "Showing: anonymized")
        self.canvas.set_single_shows_original(original)

    def _on_overlay_toggles(self) -> None:
        self.canvas.set_overlay_visibility(
            boxes=self.boxes_button.isChecked(), labels=self.labels_button.isChecked()
        )

    def _on_project_replaced(self) -> None:
        project = self._document.project
        count = self._state.frame_count
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(self._state.frame)
        self.slider.blockSignals(False)
        self.slider.setEnabled(project is not None)
        self.canvas.set_images(None, None)
        self.canvas.set_pending_text(RENDERING_TEXT)
        self._shown_frame = None
        self._update_banner()
        if project is None:
            self.canvas.set_message(FIRST_RUN_HINT)
            self.audio_note.setText("")
            return
        self.canvas.set_message("Loading frame…")
        self.audio_note.setText("" if self._playback.has_audio else "(no audio output)")
        self._show_frame(self._state.frame)

    def set_synthetic_unavailable(self, unavailable: frozenset[str]) -> None:
        """The synthetic backends whose models are missing (after the worker's check)."""
        self._synthetic_unavailable = unavailable
        self._update_banner()

    def _update_banner(self) -> None:
        project = self._document.project
        people = [] if project is None else [
            i.name for i in project.identities
            if shown_blurred_for_models(i, self._synthetic_unavailable)
        ]  # fmt: skip
        self.banner.show_people(people)

    def show_analysing(self, video: Path) -> None:
        """While a video is analysed and no project is open, show its picture (the original;
        the anonymized side says it comes after the analysis)."""
        if self._document.project is not None:
            return  # the open project stays on screen until the new one replaces it
        self.canvas.set_message(f"Opening {video.name}…")
        self.canvas.set_pending_text(ANALYSING_TEXT)
        self._frames.show_video_without_project(video)

    def stop_analysing(self) -> None:
        """The analysis failed or was cancelled: back to the empty window."""
        if self._frames.video_without_project is None or self._document.project is not None:
            return
        self._frames.show_video_without_project(None)
        self._on_project_replaced()

    def _refresh(self) -> None:
        if self._document.project is not None:
            self._show_frame(self._state.frame)

    def _show_frame(self, frame: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(frame)
        self.slider.blockSignals(False)
        self.timecode.setText(
            f"{frame_to_timecode(frame, self._state.fps)}  ·  frame {frame + 1} / "
            f"{max(1, self._state.frame_count)}"
        )
        if self._document.project is None:
            return
        self._frames.request(frame)
        self._paint_cached(frame)
        self._update_overlays()

    def _on_frame_ready(self, frame: int) -> None:
        if self._document.project is None and self._frames.video_without_project is None:
            return  # a late frame of a closed project or a stopped analysis
        if frame == self._state.frame:
            self._paint_cached(frame)

    def _paint_cached(self, frame: int) -> None:
        images = self._frames.images(frame)
        if images.original is None and images.anonymized is None:
            return  # keep showing the previous frame until this one arrives
        self.canvas.set_images(images.original, images.anonymized, stale=images.anonymized_is_stale)
        if frame != self._shown_frame:
            self._shown_frame = frame
            self._update_overlays()

    @property
    def shown_frame(self) -> int | None:
        """The frame whose picture (and boxes) the canvas shows."""
        return self._shown_frame

    @property
    def edited_frame(self) -> int:
        """A box drawn or dragged on the canvas belongs to the picture the user sees."""
        return self._state.frame if self._shown_frame is None else self._shown_frame

    def _update_overlays(self) -> None:
        project = self._document.project
        frame = self._shown_frame
        if project is None or frame is None:
            self.canvas.set_overlays([], QSize())
            return
        overlays = []
        for track in project.tracks_at(frame):
            box = track.box_at(frame)
            if box is None or not project.has_identity(track.identity_id):
                continue
            identity = project.identity(track.identity_id)
            overlays.append(
                FaceOverlay(
                    box=tuple(float(v) for v in box),  # type: ignore[arg-type]
                    label=identity.name + (" (added by hand)" if track.manual else ""),
                    color=identity.color,
                    hidden=effective_method(identity).hides and not track.kept,
                    key=("track", track.id),
                    selected=track.id == self._state.track_id,
                )
            )
        for region in project.regions:
            box = region.box_at(frame)
            if box is None:
                continue
            overlays.append(
                FaceOverlay(
                    box=tuple(float(v) for v in box),  # type: ignore[arg-type]
                    label=f"{region.name} ({region.method.value})",
                    color=REGION_COLOR,
                    hidden=True,
                    key=("region", region.id),
                    shape=region.shape.value,
                    selected=region.id == self._state.region_id,
                )
            )
        video = project.source.media_info.get("video", {})
        size = QSize(int(video.get("width", 0) or 0), int(video.get("height", 0) or 0))
        self.canvas.set_overlays(overlays, size)

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_button.setIcon(icon("pause" if playing else "play"))
