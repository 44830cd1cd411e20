"""Named qtawesome icons, so widgets ask for "play" rather than a font glyph name."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QColor, QIcon

from anonnet_studio.project.schema import Method

_GLYPHS = {
    "open": "fa5s.folder-open",
    "open-video": "fa5s.film",
    "save": "fa5s.save",
    "save-as": "fa5s.file-export",
    "export": "fa5s.file-video",
    "undo": "fa5s.undo",
    "redo": "fa5s.redo",
    "settings": "fa5s.cog",
    "play": "fa5s.play",
    "pause": "fa5s.pause",
    "step-back": "fa5s.step-backward",
    "step-forward": "fa5s.step-forward",
    "to-start": "fa5s.fast-backward",
    "to-end": "fa5s.fast-forward",
    "cancel": "fa5s.times-circle",
    "dice": "fa5s.dice",
    "reset": "fa5s.eraser",
    "regenerate": "fa5s.magic",
    "merge": "fa5s.object-group",
    "split": "fa5s.cut",
    "rename": "fa5s.i-cursor",
    "hidden": "fa5s.user-secret",
    "kept": "fa5s.eye",
    "boxes": "fa5s.vector-square",
    "labels": "fa5s.tag",
    "zoom-fit": "fa5s.expand-arrows-alt",
    "analyse": "fa5s.search",
    "warning": "fa5s.exclamation-triangle",
    "quit": "fa5s.sign-out-alt",
}

_METHOD_GLYPHS = {
    Method.SYNTHETIC: "fa5s.magic",
    Method.BLUR: "fa5s.tint",
    Method.PIXELATE: "fa5s.th",
    Method.MASK: "fa5s.square",
    Method.KEEP: "fa5s.eye",
}

DEFAULT_COLOR = "#d0d4da"


def icon(name: str, color: str = DEFAULT_COLOR) -> QIcon:
    """The icon called `name` (see `_GLYPHS`), drawn in `color`."""
    return qta.icon(_GLYPHS[name], color=QColor(color))


def method_icon(method: Method, color: str = DEFAULT_COLOR) -> QIcon:
    return qta.icon(_METHOD_GLYPHS[Method(method)], color=QColor(color))
