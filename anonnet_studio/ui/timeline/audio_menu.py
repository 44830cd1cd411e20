"""The audio lane's context menu: mute or bleep the selected range, remove a range.

Every entry pushes an undoable command on the document; a refused edit (a range after the
end of the clip, a video without audio) comes back through `edit_rejected`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from anonnet_studio.core.voice.settings import MuteKind
from anonnet_studio.project.voice_commands import AddMuteRange, RemoveMuteRange, has_audio
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.timeline.audio_lane import AudioLaneModel


def fill_audio_menu(
    menu: QMenu,
    document: ProjectDocument,
    model: AudioLaneModel,
    fps: float,
    kind: str,
    index: int,
) -> None:
    """Entries for the lane (`kind` "audio") or for mute range `index` (`kind` "mute")."""
    project = document.project
    if project is None:
        return
    audio = has_audio(project)
    seconds = model.selection_seconds(fps)
    for range_kind, verb in ((MuteKind.MUTE, "Mute"), (MuteKind.BLEEP, "Bleep")):
        if seconds is None:
            text = f"{verb} selection (drag on the audio lane to select)"
        else:
            text = f"{verb} selection ({seconds[0]:.2f}–{seconds[1]:.2f} s)"
        action = menu.addAction(text)
        action.setObjectName(f"{range_kind.value}-selection")
        action.setEnabled(audio and seconds is not None)
        if seconds is not None:
            start, end = seconds
            action.triggered.connect(
                lambda _=False, k=range_kind, a=start, b=end: _add(document, model, a, b, k)
            )
    if not audio:
        menu.addAction("The video has no audio stream").setEnabled(False)
    ranges = project.voice.mute_ranges
    if kind == "mute" and 0 <= index < len(ranges):
        item = ranges[index]
        menu.addSeparator()
        remove = menu.addAction(
            f"Remove this {item.kind.value} ({item.start_s:.2f}–{item.end_s:.2f} s)"
        )
        remove.setObjectName("remove-mute")
        remove.triggered.connect(
            lambda: document.push_built(lambda: RemoveMuteRange(item, events=document.events))
        )


def _add(
    document: ProjectDocument, model: AudioLaneModel, start: float, end: float, kind: MuteKind
) -> None:
    if document.push_built(lambda: AddMuteRange(start, end, kind, events=document.events)):
        model.clear()
