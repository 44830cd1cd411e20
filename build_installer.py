#!/usr/bin/env python3
"""Build a self-contained desktop bundle of AnonNET Studio with PyInstaller.

    python build_installer.py            # -> dist/AnonNET-Studio/
    python build_installer.py --onefile  # single executable (slower start)

PyInstaller is not a runtime dependency; this script installs nothing and tells you how
to get it if it is missing. Name and version are read from pyproject.toml so the bundle,
the desktop entry and the package never disagree. Test fixtures are never bundled.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEC = ROOT / "packaging" / "anonnet_studio.spec"


def project_metadata() -> tuple[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["name"], data["project"]["version"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true", help="build a single executable")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    args = parser.parse_args(argv)

    if importlib.util.find_spec("PyInstaller") is None:
        print(
            "PyInstaller is not installed. Install it into the project's environment with\n"
            "  .venv/bin/python -m pip install pyinstaller\nand run this script again.",
            file=sys.stderr,
        )
        return 2
    name, version = project_metadata()
    print(f"Building {name} {version} ...")
    command = [
        sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm",
        "--distpath", str(args.dist), "--workpath", str(ROOT / "build" / "pyinstaller"),
    ]  # fmt: skip
    env_onefile = {"ANONNET_ONEFILE": "1"} if args.onefile else {}
    import os

    return subprocess.call(command, cwd=ROOT, env={**os.environ, **env_onefile})


if __name__ == "__main__":
    raise SystemExit(main())
