"""Undoable edits of the project's voice settings: the disguise and the mute/bleep ranges.

`VoiceSettings` is frozen, so every command swaps the whole value: undo puts the old one
back exactly, whatever happened in between.
"""

from __future__ import annotations

from anonnet_studio.core.voice.settings import (
    MuteKind,
    MuteRange,
    VoiceMethod,
    VoiceSettings,
    VoiceSettingsError,
)
from anonnet_studio.core.voice.timecode import fit_ranges_to_clip
from anonnet_studio.project.command_base import Command, EditCommand, ProjectEditError
from anonnet_studio.project.events import ProjectEvents, VoiceChanged
from anonnet_studio.project.schema import Project


def has_audio(project: Project) -> bool:
    """Whether the source has an audio stream (a video without one has no voice)."""
    return bool(project.source.media_info.get("audio"))


def clip_duration_s(project: Project) -> float | None:
    """The video's length, against which the export checks mute ranges (None: unknown)."""
    info = project.source.media_info
    video = info.get("video") or {}
    duration = video.get("duration_s") or info.get("duration_s")
    if not duration and video.get("frame_count") and video.get("fps"):
        duration = video["frame_count"] / video["fps"]
    return float(duration) if duration else None


class _VoiceCommand(EditCommand):
    """Swaps `project.voice` between the value before and the value after the edit."""

    def __init__(self, events: ProjectEvents | None) -> None:
        super().__init__(events)
        self._before: VoiceSettings | None = None
        self._after: VoiceSettings | None = None

    def redo(self, project: Project) -> None:
        if self._after is None:
            after = self._change(project.voice, project)  # raises before changing anything
            self._before, self._after = project.voice, after
        project.voice = self._after
        self._publish(VoiceChanged())

    def undo(self, project: Project) -> None:
        assert self._before is not None, "undo() before redo()"
        project.voice = self._before
        self._publish(VoiceChanged())

    def _change(self, voice: VoiceSettings, project: Project) -> VoiceSettings:
        raise NotImplementedError


class SetVoiceDisguise(_VoiceCommand):
    """Choose the disguise method and its strength; consecutive strength changes of one
    method (a slider drag) merge into one undo step."""

    def __init__(
        self, method: VoiceMethod | str, strength: float, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        try:
            self.method = VoiceMethod(method)
            VoiceSettings(self.method, float(strength))  # checks the strength now
        except ValueError:
            choices = ", ".join(m.value for m in VoiceMethod)
            raise ProjectEditError(f"Unknown voice method {method!r}; choose {choices}.") from None
        except VoiceSettingsError as exc:
            raise ProjectEditError(exc.message) from None
        self.strength = float(strength)
        self.text = f"Voice: {self.method.value}"

    def _change(self, voice: VoiceSettings, project: Project) -> VoiceSettings:
        if self.method is not VoiceMethod.OFF and not has_audio(project):
            raise ProjectEditError(
                "The video has no audio stream, so there is no voice to disguise."
            )
        return VoiceSettings(self.method, self.strength, voice.mute_ranges)

    def merge_with(self, other: Command) -> bool:
        if not isinstance(other, SetVoiceDisguise) or other.method is not self.method:
            return False
        if self._before is None or self._before.method is not self.method:
            return False  # a change of method stays its own undo step
        self._after = other._after
        self.strength = other.strength
        return True


class AddMuteRange(_VoiceCommand):
    """Silence (or bleep) `start_s`..`end_s` of the source. A range that runs past the end
    of the clip is cut there; one that starts after it is refused (it would remove nothing,
    and the words meant are somewhere else)."""

    def __init__(
        self,
        start_s: float,
        end_s: float,
        kind: MuteKind | str = MuteKind.MUTE,
        *,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        try:
            self.range = MuteRange(float(start_s), float(end_s), MuteKind(kind))
        except VoiceSettingsError as exc:
            raise ProjectEditError(exc.message) from None
        except ValueError:
            raise ProjectEditError(f"Unknown range kind {kind!r}; choose mute or bleep.") from None
        self.text = f"{self.range.kind.value.capitalize()} {start_s:.2f}–{end_s:.2f} s"

    def _change(self, voice: VoiceSettings, project: Project) -> VoiceSettings:
        if not has_audio(project):
            raise ProjectEditError("The video has no audio stream, so there is nothing to mute.")
        duration = clip_duration_s(project)
        if duration is not None:  # unknown: the export checks against the real file
            try:
                (self.range,), _ = fit_ranges_to_clip((self.range,), duration)
            except VoiceSettingsError as exc:
                raise ProjectEditError(exc.message) from None
        ranges = sorted((*voice.mute_ranges, self.range), key=lambda r: (r.start_s, r.end_s))
        return VoiceSettings(voice.method, voice.strength, tuple(ranges))


class RemoveMuteRange(_VoiceCommand):
    """Remove one mute or bleep range (the first equal to `item`)."""

    def __init__(self, item: MuteRange, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        self.range = item
        self.text = f"Remove {item.kind.value} {item.start_s:.2f}–{item.end_s:.2f} s"

    def _change(self, voice: VoiceSettings, project: Project) -> VoiceSettings:
        ranges = list(voice.mute_ranges)
        if self.range not in ranges:
            raise ProjectEditError("That mute range is no longer in the project.")
        ranges.remove(self.range)
        return VoiceSettings(voice.method, voice.strength, tuple(ranges))
