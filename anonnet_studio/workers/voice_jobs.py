"""The voice preview job: decode and disguise a few seconds on the compute thread, so the
GUI stays responsive while McAdams or WORLD runs."""

from __future__ import annotations

from collections.abc import Callable

from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.workers.requests import VoicePreviewRequest
from anonnet_studio.workers.results import VoicePreviewDone
from anonnet_studio.workers.services import ComputeServices


def preview_voice(
    request: VoicePreviewRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> VoicePreviewDone:
    from anonnet_studio.core.voice.preview import preview_voice as disguise_window

    check_cancel(cancel)
    on_progress(Progress("Disguising the voice", 0, None))
    _, disguised = disguise_window(
        request.video_path,
        request.settings,
        request.center_s,
        request.duration_s,
        cancel=cancel,
    )
    return VoicePreviewDone(
        disguised.samples, disguised.rate, disguised.start_s, request.settings.method.value
    )


# Merged into the worker's handler table (handlers.py).
VOICE_HANDLERS: dict[type, Callable[..., object]] = {VoicePreviewRequest: preview_voice}
