"""Which face backends a project was analysed with, so later steps use the same ones.

The export's leak check compares faces in rendered frames with each hidden person's
stored embedding. Embeddings from different networks are not comparable (SFace and dlib
are both 128-d, so a mix-up would not even fail loudly), so every step after the
analysis pins the embedder the project was analysed with.
"""

from __future__ import annotations

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.selection import BACKEND_MODELS, BackendChoice
from anonnet_studio.project.schema import Project

# Most specific first: "deepface-vgg-face" must not match a shorter key by accident.
_EMBEDDER_KEYS_BY_SPECIFICITY = ("vgg-face", "arcface", "dlib", "sface")


def embedder_key(name: str) -> str | None:
    """The backend key of an embedder name ("sface-2021dec-int8 (threshold …)" -> sface)."""
    lowered = name.lower()
    return next((key for key in _EMBEDDER_KEYS_BY_SPECIFICITY if key in lowered), None)


def analysed_embedder(project: Project) -> str | None:
    """The embedder behind the project's stored embeddings, or None when not recorded."""
    models = project.analysis.get("models") or {}
    recorded = models.get("backend:embedder")
    if recorded in BACKEND_MODELS["embedder"]:
        return str(recorded)
    return embedder_key(str(models.get("embedder", "")))


def choice_for_project(choice: BackendChoice, project: Project) -> BackendChoice:
    """`choice` with the embedder pinned to the one the project was analysed with."""
    embedder = analysed_embedder(project)
    return choice if embedder is None else choice.with_role("embedder", embedder)


def require_matching_embedder(project: Project, embedder_name: str) -> None:
    """Refuse to compare embeddings from different networks (see the module docstring)."""
    wanted = analysed_embedder(project)
    if wanted is not None and embedder_key(embedder_name) != wanted:
        raise ModelError(
            f"This project's people were recognised with the {wanted} embedder, but the "
            f"export was given {embedder_name}; their face signatures are not comparable.",
            hint=f"Export with the {wanted} embedder (its model must be installed), or "
            "analyse the video again.",
        )
