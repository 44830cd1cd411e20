"""The default negative prompt, kept as editable text in `resources/prompts/negative.txt`."""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.resources import resources_dir

NEGATIVE_PROMPT_FILE = Path("prompts") / "negative.txt"


def load_negative_prompt(resources: Path | None = None) -> str:
    """Default negative prompt (suppresses deformities and cartoon looks) as one line.

    Blank lines and lines starting with '#' are ignored, so the file can carry comments.
    """
    path = (resources or resources_dir()) / NEGATIVE_PROMPT_FILE
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return ", ".join(line.rstrip(",") for line in lines if line and not line.startswith("#"))
