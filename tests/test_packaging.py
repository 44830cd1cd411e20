"""The package as users get it: every imported distribution is declared, and the wheel
installs into a fresh virtual environment (not editable) and runs from there."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import fixture_video
from tests.media_factory import make_variant

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "anonnet_studio"
# Modules whose distribution the installed metadata does not name (dlib-bin ships the
# extension module without a top_level/RECORD entry importlib can map).
KNOWN_PROVIDERS = {"dlib": {"dlib-bin"}}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = project["project"]["dependencies"]
    return {_normalised(re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0]) for req in requirements}


def _optional() -> set[str]:
    """Distributions of the runtime extras (e.g. [cluster]): imported only by the feature
    that needs them, so they may be absent here."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"].get("optional-dependencies", {})
    return {
        _normalised(re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0])
        for extra, requirements in extras.items()
        if extra != "dev"
        for req in requirements
    }


def _imported_modules() -> dict[str, str]:
    """Top-level third-party module -> one file of the package that imports it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "anonnet_studio":
                    found.setdefault(top, str(path.relative_to(REPO_ROOT)))
    return found


def test_every_imported_distribution_is_declared() -> None:
    declared = _declared()
    providers = metadata.packages_distributions()
    problems = []
    optional = _optional()
    for module, where in _imported_modules().items():
        if _normalised(module) in optional:
            continue
        candidates = {_normalised(d) for d in providers.get(module, [])}
        candidates |= KNOWN_PROVIDERS.get(module, set())
        if not candidates:
            problems.append(f"{module} (imported in {where}) is not installed at all")
        elif not candidates & declared:
            problems.append(
                f"{module} (imported in {where}) comes from {', '.join(sorted(candidates))}, "
                "which pyproject.toml's dependencies do not list"
            )
    assert not problems, "\n".join(problems)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    """Build the wheel from a copy of the tracked files, install it without -e and without
    dependencies into a new venv that sees the test environment's packages through a .pth
    file (so torch & co. are not installed again), then run the CLI from there, outside
    the source tree."""
    source = tmp_path / "source"
    listed = _run(["git", "ls-files", "-co", "--exclude-standard"], REPO_ROOT, dict(os.environ))
    for name in listed.splitlines():
        wanted = name.startswith(("anonnet_studio/", "resources/")) or "/" not in name
        if wanted and (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANONNET_RESOURCES")}
    env |= {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "ANONNET_MODELS_DIR": str(tmp_path / "models"),
        "ANONNET_MODELS_CACHE": str(tmp_path / "cache"),
    }
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(dist), str(source)], tmp_path, env)  # fmt: skip
    (wheel,) = dist.glob("anonnet_studio-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    venv_site = Path(_run([str(python), "-c", purelib], tmp_path, env).strip())
    # After the venv's own site-packages on sys.path, so the wheel's package wins.
    (venv_site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
         tmp_path, env)  # fmt: skip

    where = _run(
        [str(python), "-c", "import anonnet_studio, anonnet_studio.core.resources as r; "
         "print(anonnet_studio.__file__); print(r.resources_dir())"], tmp_path, env,
    ).split()  # fmt: skip
    assert all(Path(p).is_relative_to(venv_site / "anonnet_studio") for p in where), where
    cli = str(venv / ("Scripts" if os.name == "nt" else "bin") / "anonnet-studio")
    listing = _run([cli, "models", "list", "--offline"], tmp_path, env)
    assert "realistic-vision-v5" in listing and "liveportrait" in listing  # the manifests

    clip = make_variant(fixture_video("lp_d18.mp4"), tmp_path / "clip.mp4", max_frames=15)
    out = tmp_path / "out.mp4"
    printed = _run([cli, "anonymize", str(clip), "-o", str(out), "--offline", "-q"], tmp_path, env)
    assert "Verdict: PASS" in printed and out.is_file()
