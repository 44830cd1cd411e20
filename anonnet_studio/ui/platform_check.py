"""Before the editor creates its QApplication: can Qt open a window here?

On Linux, Qt's X11 plugin (xcb) needs a dozen system libraries that a minimal or fresh
install may lack. Qt then aborts with a long plugin dump that does not say which library
is missing. This check runs first and says it in one line, with the apt-get command: a
DISPLAY that is not set, or the libraries `ldd` cannot find for the plugin.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# Every system library Qt's xcb plugin needs (directly or through a library it loads) that
# a Debian/Ubuntu install may lack -> the package that provides it. The README's
# apt-get line lists these packages; tests/ui/test_platform_check.py keeps the two in step.
SONAME_PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_CANNOT_OPEN = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, if this build has one (only Linux builds do)."""
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def parse_ldd(output: str) -> list[str]:
    """The libraries `ldd` reports as "not found", each once, in its order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def missing_libraries(plugin: Path) -> list[str]:
    """Libraries the plugin (or a library it needs) cannot find: all of them by `ldd`;
    without ldd, the first one the dynamic loader stops at."""
    ldd = shutil.which("ldd")
    if ldd is not None:
        try:
            run = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20)
            return parse_ldd(run.stdout)
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        found = _CANNOT_OPEN.search(str(exc))
        return [found.group(1)] if found else []
    return []


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will use the xcb plugin: asked for, or Linux's default outside Wayland."""
    asked = env.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def platform_problem(
    env: Mapping[str, str] | None = None,
    *,
    system: str = sys.platform,
    missing: Callable[[], list[str]] | None = None,
) -> str | None:
    """One line saying why the editor cannot open a window here, or None when it can (or
    when this check cannot tell: another platform plugin, another OS). `missing` lists
    the libraries the xcb plugin lacks (default: ask `ldd`)."""
    env = os.environ if env is None else env
    if not system.startswith("linux") or not uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return (
            "the editor needs a display and DISPLAY is not set: start it from a desktop "
            "session (or ssh -X), or use the command-line tool (anonnet-studio --help); "
            "for a headless run set QT_QPA_PLATFORM=offscreen"
        )
    if missing is None:
        plugin = xcb_plugin()
        libraries = missing_libraries(plugin) if plugin is not None else []
    else:
        libraries = missing()
    if not libraries:
        return None
    packages = list(dict.fromkeys(SONAME_PACKAGES.get(lib, lib) for lib in libraries))
    return (
        f"the editor cannot open a window: Qt's X11 plugin needs {', '.join(libraries)}, "
        f"which {'is' if len(libraries) == 1 else 'are'} not installed; on Debian/Ubuntu: "
        f"sudo apt-get install {' '.join(packages)} "
        "(the README lists every system library it needs)"
    )
