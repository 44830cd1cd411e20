"""Why a person is flagged "needs attention", in words, so no flag is shown without its
reason. Two things set the flag: a split (a track became a person of its own) and a
synthetic face that failed the anonymity check."""

from __future__ import annotations

from collections.abc import Collection

from anonnet_studio.project.schema import Identity, Method

SPLIT_REASON = (
    "Split off from another person: check that every face in this lane is one person and "
    "how they are hidden, then mark them checked."
)
SYNTHETIC_REASON = (
    "Their synthetic face still looks like the real person (it failed the anonymity "
    "check), so they are blurred until a new face passes: regenerate with another seed."
)


def failed_synthetic_face(identity: Identity) -> bool:
    """The flag comes from the anonymity check (the chosen attempt, or every one, failed)."""
    if not identity.attempts:
        return False
    index = identity.selected_attempt
    if index is not None and 0 <= index < len(identity.attempts):
        return not identity.attempts[index].passed
    return not any(attempt.passed for attempt in identity.attempts)


def attention_reason(identity: Identity) -> str:
    """The reason for `needs_attention` ("" when the person is not flagged)."""
    if not identity.needs_attention:
        return ""
    return SYNTHETIC_REASON if failed_synthetic_face(identity) else SPLIT_REASON


def can_mark_checked(identity: Identity) -> bool:
    """A split person may be cleared by the user once they looked. A failed synthetic face
    may not: clearing it would let a recognisable face into the export."""
    return identity.needs_attention and not failed_synthetic_face(identity)


MODELS_MISSING_NOTE = "Shown blurred: synthetic-face models not installed (Tools ▸ Models…)."


def shown_blurred_for_models(identity: Identity, unavailable_backends: Collection[str]) -> bool:
    """A hidden person set to "Synthetic face" while the models of their backend
    (`unavailable_backends`: those that cannot run) are missing: the editor and the export
    blur them, and every view says why."""
    return (
        identity.hidden
        and identity.method == Method.SYNTHETIC
        and identity.generation.effective_backend in unavailable_backends
    )
