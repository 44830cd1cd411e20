"""One synthetic identity per person, generated once from their best keyframe and reused
for every shot they appear in (the motion stage animates it per shot).

The reference re-inpainted each scene from its own crop, so the "same" anonymized person
changed face between scenes; `IdentityBook` makes that impossible within a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from anonnet_studio.core.synthetic.verify import VerifiedResult


@dataclass(frozen=True, slots=True)
class SyntheticIdentity:
    person_id: str
    keyframe_index: int  # frame the identity was generated from
    prompt: str
    verified: VerifiedResult

    @property
    def needs_attention(self) -> bool:
        """True when no attempt passed the anonymity check (redact instead)."""
        return self.verified.needs_attention

    @property
    def face_crop(self) -> np.ndarray:
        """The anonymized keyframe crop the motion stage animates."""
        return self.verified.chosen.composited_crop

    @property
    def seed(self) -> int:
        return self.verified.chosen.settings.seed


class IdentityBook:
    """Synthetic identities of one run, keyed by person id. Not global: the job that
    renders a project owns one and drops it when done."""

    def __init__(self) -> None:
        self._identities: dict[str, SyntheticIdentity] = {}

    def get(self, person_id: str) -> SyntheticIdentity | None:
        return self._identities.get(person_id)

    def get_or_create(
        self,
        person_id: str,
        keyframe_index: int,
        prompt: str,
        create: Callable[[], VerifiedResult],
    ) -> SyntheticIdentity:
        """The person's identity; `create` runs only the first time the person is seen."""
        existing = self._identities.get(person_id)
        if existing is not None:
            return existing
        identity = SyntheticIdentity(person_id, keyframe_index, prompt, create())
        self._identities[person_id] = identity
        return identity

    def forget(self, person_id: str) -> None:
        """Drop a person's identity (after the user edits their prompt or keyframe)."""
        self._identities.pop(person_id, None)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._identities

    def __len__(self) -> int:
        return len(self._identities)

    def __iter__(self) -> Iterator[SyntheticIdentity]:
        return iter(list(self._identities.values()))
