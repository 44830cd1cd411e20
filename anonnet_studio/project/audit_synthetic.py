"""The audit report's record of how a person's synthetic face was generated: the backend,
its parameters (FAMS's anonymization degree d included) and every attempt."""

from __future__ import annotations

from typing import Any

from anonnet_studio.core.synthetic.fams.settings import degree_for_strength
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.schema import Identity


def generation_entry(identity: Identity) -> dict[str, Any]:
    """The report's "generation" object of a person shown with a synthetic face."""
    settings = identity.generation
    backend = settings.effective_backend
    return {
        "backend": backend,
        # The degree the person's first attempt runs with; retries raise it (per attempt).
        "degree": degree_for_strength(settings.strength) if backend == "fams" else None,
        "strength": settings.strength,
        "steps": settings.steps,
        "guidance": settings.guidance,
        # Every attempt, also those the user never saw (retries of the anonymity check).
        "attempts": [
            {
                "backend": a.backend,
                "seed": a.seed,
                "strength": a.strength,
                "degree": a.degree,
                "steps": a.steps,
                "guidance": a.guidance,
                "distance": a.distance,
                "required_distance": a.threshold,
                "face_found": a.face_found,
                "passed": a.passed,
                "kept": a.image_key is not None,
                "created_utc": a.created_at,
            }
            for a in identity.attempts
        ],
        "selected_attempt": identity.selected_attempt,
    }


def generator_prompt(identity: Identity) -> str | None:
    """The description the generator is given; None for FAMS, which reads no prompt (it
    is guided by the original face)."""
    if identity.generation.effective_backend == "fams":
        return None
    return effective_prompt(identity)
