"""The editor's composition root: builds settings, model manager, worker and main window.

This is the only place that creates long-lived objects; everything else receives them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

from anonnet_studio import __version__
from anonnet_studio.core.media.proxy import ProxyBuilder, ProxyCache, default_proxy_dir
from anonnet_studio.ui.context import EditorContext
from anonnet_studio.ui.dialogs.crash_dialog import install_crash_hook
from anonnet_studio.ui.main_window import MainWindow
from anonnet_studio.ui.platform_check import platform_problem
from anonnet_studio.ui.settings import SettingsStore
from anonnet_studio.ui.theme import apply_theme
from anonnet_studio.workers.requests import WarmUpRequest
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker

ORGANIZATION = "AnonNET"
APPLICATION = "AnonNET Studio"


def recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


def build_main_window(store: SettingsStore, worker: ComputeWorker) -> MainWindow:
    """The window with its context; the worker must already be running."""
    return MainWindow(EditorContext(worker=worker, store=store, recovery_dir=recovery_dir()))


def show_editor(window: MainWindow, store: SettingsStore, file: Path | None = None) -> None:
    """Restore the window's layout, show it, and open `file` (a video or a project)
    unless the user takes up the offer to recover autosaved work instead."""
    geometry, state = store.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)  # type: ignore[arg-type]
    if state is not None:
        window.restoreState(state)  # type: ignore[arg-type]
    window.show()
    window.context.worker.submit(WarmUpRequest())
    if not window.offer_recovery() and file is not None:
        window.files.open_path(file)


def run_editor(argv: Sequence[str] | None = None) -> int:
    """Open the editor; an optional argument is a video or project to open. Returns the
    exit code of the event loop, or 1 (with one line on stderr) when no window can be
    opened here."""
    args = list(sys.argv if argv is None else ["anonnet-studio", *argv])
    problem = platform_problem()
    if problem is not None and QApplication.instance() is None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(args)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    apply_theme(app)

    store = SettingsStore(QSettings())
    # Scrubbing proxies live in the app's cache folder (see core/media/proxy.py). They
    # show the original faces: unless kept by choice, none outlives a session (also
    # not one that crashed, hence the clearing at start as well).
    proxies = ProxyBuilder(ProxyCache(default_proxy_dir()))
    forget_preview_copies(proxies, store)
    worker = ComputeWorker(ComputeServices(store.load().compute_config(), proxies=proxies))
    worker.start()
    window = build_main_window(store, worker)
    # A bug in a slot or event handler: a dialog with the details, not a dead window.
    restore_hook = install_crash_hook(lambda report: window.messenger.crash(report))
    try:
        show_editor(window, store, Path(args[1]) if len(args) > 1 else None)
        return int(app.exec())
    finally:
        restore_hook()
        worker.shutdown()
        forget_preview_copies(proxies, store)


def forget_preview_copies(proxies: ProxyBuilder, store: SettingsStore) -> None:
    """Delete the scrubbing proxies unless the user chose to keep them."""
    if not store.load().keep_preview_copies:
        proxies.stop()
        proxies.cache.clear()
