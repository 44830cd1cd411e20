"""The licences of the models a download will fetch, and the user's consent to them.

Several models are for non-commercial use only. Before anything is downloaded the user is
shown what each licence is and asked to accept; scripts accept up front with a flag. The
CLI and the editor's model dialog share this code (it has no Qt): the dialog passes its
own yes/no question as `ask`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.models.manifest import ModelSpec


class LicencesNotAccepted(AnonNetError):
    """The user did not accept (or could not be asked to accept) the models' licences."""


@dataclass(frozen=True, slots=True)
class LicenceNotice:
    """One model's licence as shown before its download."""

    model: str
    purpose: str
    licence: str
    non_commercial: bool
    size: int | None  # bytes still to download; None when unknown


def licence_notices(
    specs: Iterable[ModelSpec], sizes: dict[str, int | None] | None = None
) -> tuple[LicenceNotice, ...]:
    """A notice per model; `sizes` (bytes left per model name) is shown when given."""
    sizes = sizes or {}
    return tuple(
        LicenceNotice(
            spec.name, spec.purpose, spec.licence, spec.non_commercial, sizes.get(spec.name)
        )
        for spec in specs
    )


def licence_text(
    notices: Iterable[LicenceNotice], format_size: Callable[[int | None], str]
) -> list[str]:
    """Lines listing each model, its download size and licence, non-commercial ones marked."""
    notices = tuple(notices)
    lines = ["These models will be downloaded, under these licences:"]
    width = max((len(n.model) for n in notices), default=0)
    for notice in notices:
        marker = "  [NON-COMMERCIAL]" if notice.non_commercial else ""
        lines.append(
            f"  {notice.model:<{width}}  {format_size(notice.size):>9}  {notice.licence}{marker}"
        )
    if any(n.non_commercial for n in notices):
        lines.append(
            "Models marked NON-COMMERCIAL may not be used for commercial work; check each "
            "licence before you use the results."
        )
    return lines


def confirm_licences(
    notices: Iterable[LicenceNotice],
    *,
    accepted: bool,
    ask: Callable[[str], bool] | None,
    how_to_accept: str,
) -> None:
    """Return when the user accepts the licences; raise `LicencesNotAccepted` otherwise.

    `accepted`: consent given up front (a command-line flag). `ask`: shows a yes/no question
    and returns the answer, or None when nobody can be asked (no terminal); then consent
    must have been given up front, and `how_to_accept` says how (one line).
    """
    notices = tuple(notices)
    if not notices or accepted:
        return
    if ask is None:
        raise LicencesNotAccepted(
            f"Downloading needs you to accept the licences listed above: {how_to_accept}"
        )
    count = len(notices)
    question = f"Accept the licence{'s' if count > 1 else ''} above and download {count} model"
    if not ask(question + ("s?" if count > 1 else "?")):
        raise LicencesNotAccepted("The licences were not accepted; nothing was downloaded.")
