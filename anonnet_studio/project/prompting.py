"""The prompt a person is generated with: the user's text, or the reference template
filled from the effective (detected or overridden) attributes."""

from __future__ import annotations

from anonnet_studio.core.analysis.prompt import build_prompt
from anonnet_studio.project.schema import Identity


def auto_prompt(identity: Identity) -> str:
    a = identity.attributes
    return build_prompt(
        a.age_group.effective, a.race.effective, a.gender.effective, a.expression.effective
    )


def effective_prompt(identity: Identity) -> str:
    override = identity.generation.prompt_override
    return override if override is not None else auto_prompt(identity)
