"""Before the editor starts: a missing display or system library is one clear line, and the
README's apt-get line covers every system library Qt's X11 plugin needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anonnet_studio.project.io import save_project
from anonnet_studio.ui import app as editor_app
from anonnet_studio.ui.platform_check import (
    SONAME_PACKAGES,
    missing_libraries,
    parse_ldd,
    platform_problem,
    xcb_plugin,
)
from tests.ui.fixture_projects import fixture_project

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
# Always there: glibc and the C++ runtime (apt itself needs them).
BASE_SYSTEM = {
    "linux-vdso.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libc.so.6",
    "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1",
    "libstdc++.so.6",
}  # fmt: skip
# Libraries that come with a listed package as its dependency (`apt-cache depends`, Debian
# 12): library -> the listed package that pulls it in.
PULLED_IN = {
    "libXau.so.6": "libxcb1",
    "libXdmcp.so.6": "libxcb1",
    "libbsd.so.0": "libxcb1",
    "libmd.so.0": "libxcb1",
    "libGLX.so.0": "libgl1",
    "libGLdispatch.so.0": "libgl1",
    "libbrotlicommon.so.1": "libfreetype6",
    "libbrotlidec.so.1": "libfreetype6",
    "libpng16.so.16": "libfreetype6",
    "libz.so.1": "libfreetype6",
    "libexpat.so.1": "libfontconfig1",
    "libpcre2-8.so.0": "libglib2.0-0",
    "libffi.so.8": "libglib2.0-0",
    "libmount.so.1": "libglib2.0-0",
    "libselinux.so.1": "libglib2.0-0",
    "libblkid.so.1": "libglib2.0-0",
    "libsystemd.so.0": "libdbus-1-3",
    "libcap.so.2": "libdbus-1-3",
    "libgcrypt.so.20": "libdbus-1-3",
    "libgpg-error.so.0": "libdbus-1-3",
    "liblz4.so.1": "libdbus-1-3",
    "liblzma.so.5": "libdbus-1-3",
    "libzstd.so.1": "libdbus-1-3",
}
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f10)
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f20)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def readme_packages() -> list[str]:
    lines = re.findall(r"^\s*sudo apt-get install (lib[^\n]+)$", README.read_text(), re.M)
    assert len(lines) == 1, "the README has one apt-get line for the system libraries"
    return lines[0].split()


def test_ldd_output_gives_each_missing_library_once() -> None:
    assert parse_ldd(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_missing_libraries_are_one_line_naming_them_and_the_packages() -> None:
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}
    problem = platform_problem(
        env, system="linux", missing=lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    )
    assert problem is not None and "\n" not in problem
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in problem
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 " in problem
    assert platform_problem(env, system="linux", missing=list) is None  # nothing missing


def test_no_display_is_named_and_other_platforms_are_left_to_qt() -> None:
    nothing_missing = list
    problem = platform_problem({}, system="linux", missing=nothing_missing)
    assert problem is not None and "DISPLAY is not set" in problem
    for env, system in (
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),  # Qt picks its Wayland plugin
        ({}, "darwin"),
        ({}, "win32"),
    ):
        assert platform_problem(env, system=system, missing=nothing_missing) is None, env


def test_the_editor_prints_the_problem_and_does_not_start_qt(monkeypatch, capsys) -> None:
    class _NoApp:
        @staticmethod
        def instance() -> None:
            return None

        def __init__(self, *_: object) -> None:
            raise AssertionError("QApplication must not be created")

    monkeypatch.setattr(editor_app, "QApplication", _NoApp)
    monkeypatch.setattr(editor_app, "platform_problem", lambda: "DISPLAY is not set")
    assert editor_app.run_editor([]) == 1
    assert capsys.readouterr().err == "error: DISPLAY is not set\n"


def _plugin_libraries() -> dict[str, str]:
    """Every library Qt's xcb plugins load here (by ldd), name -> where ldd found it."""
    plugin = xcb_plugin()
    if plugin is None or shutil.which("ldd") is None:
        pytest.skip("no xcb plugin or no ldd here (not Linux)")
    plugins = [plugin, *sorted((plugin.parents[1] / "xcbglintegrations").glob("*.so"))]
    found: dict[str, str] = {}
    for path in plugins:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True)
        for name, where in re.findall(r"^\s*(\S+)(?:\s+=>\s+(\S+))?", out.stdout, re.M):
            found.setdefault(Path(name).name, where)  # the loader is listed by its path
    return found


def test_readme_apt_line_covers_every_system_library_of_the_xcb_plugin() -> None:
    listed = set(readme_packages())
    bundled = str(Path(xcb_plugin() or ".").parents[2])  # PySide6/Qt: ships its own
    uncovered = []
    for name, where in _plugin_libraries().items():
        if name in BASE_SYSTEM or where.startswith(bundled):
            continue
        package = SONAME_PACKAGES.get(name)
        if package not in listed and PULLED_IN.get(name) not in listed:
            uncovered.append(f"{name} ({package or 'no package known'})")
    assert uncovered == [], "add to SONAME_PACKAGES and the README's apt-get line"
    assert set(SONAME_PACKAGES.values()) <= listed, "the README lacks a package the code names"


def test_what_ldd_cannot_find_here_maps_to_a_package() -> None:
    plugin = xcb_plugin()
    if plugin is None:
        pytest.skip("no xcb plugin here (not Linux)")
    for library in missing_libraries(plugin):
        assert library in SONAME_PACKAGES, library


# Started by xvfb-run: the real start-up (`run_editor`) on the xcb plugin, until the window
# shows the project, then quits.
_UNDER_X = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from anonnet_studio.ui.platform_check import platform_problem
problem = platform_problem()
if problem:
    sys.exit(problem)
app = QApplication(sys.argv[:1])
from anonnet_studio.ui import app as editor
from anonnet_studio.ui.main_window import MainWindow
def check():
    shown = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if shown and shown[0].document.path == Path(sys.argv[1]).resolve():
        print(f"opened {shown[0].document.path.name} on {app.platformName()}")
        app.quit()
    else:
        QTimer.singleShot(200, check)
QTimer.singleShot(200, check)
QTimer.singleShot(120_000, lambda: app.exit(3))
sys.exit(editor.run_editor([sys.argv[1]]))
"""


@pytest.mark.skipif(
    shutil.which("xvfb-run") is None, reason="xvfb-run is not installed (apt-get install xvfb)"
)
def test_the_editor_opens_a_project_under_a_real_x_server(tmp_path: Path) -> None:
    project = tmp_path / "interview.anonproj"
    save_project(fixture_project(), project)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "PYTHONPATH": str(REPO),
        # The editor's settings and recovery folder stay in the test's folder.
        **{
            f"XDG_{kind}_HOME": str(tmp_path / kind.lower()) for kind in ("CONFIG", "DATA", "CACHE")
        },
    }
    run = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-c", _UNDER_X, str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "opened interview.anonproj on xcb" in run.stdout
