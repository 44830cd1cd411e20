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
from anonnet_studio.ui.main_window import MainWindow
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


def run_editor(argv: Sequence[str] | None = None) -> int:
    """Open the editor; an optional argument is a video or project to open. Returns the
    exit code of the event loop."""
    args = list(sys.argv if argv is None else ["anonnet-studio", *argv])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(args)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    apply_theme(app)

    store = SettingsStore(QSettings())
    # Scrubbing proxies live in the app's cache folder (see core/media/proxy.py).
    proxies = ProxyBuilder(ProxyCache(default_proxy_dir()))
    worker = ComputeWorker(ComputeServices(store.load().compute_config(), proxies=proxies))
    worker.start()
    window = build_main_window(store, worker)
    geometry, state = store.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)  # type: ignore[arg-type]
    if state is not None:
        window.restoreState(state)  # type: ignore[arg-type]
    window.show()
    worker.submit(WarmUpRequest())
    if not window.offer_recovery() and len(args) > 1:
        window.files.open_path(Path(args[1]))
    try:
        return int(app.exec())
    finally:
        worker.shutdown()
