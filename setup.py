"""Puts the top-level `resources/` folder (model manifests, prompts, styles) into the
wheel as `anonnet_studio/resources/`, where `core/resources.py` finds it once installed.

The folder stays at the top of the repository, where the developer guide keeps it; an
editable install and a source checkout read it there. Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # the checkout's own resources/ is used (core/resources.py)
        target = Path(self.build_lib) / "anonnet_studio" / "resources"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(RESOURCES, target, ignore=shutil.ignore_patterns("*~", ".*"))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        target = Path(self.build_lib) / "anonnet_studio" / "resources"
        return outputs + [str(target / p.relative_to(RESOURCES)) for p in _files(RESOURCES)]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


setup(cmdclass={"build_py": BuildWithResources})
