"""The gallery of people: a list model over the document's identities and an icon-mode
view where dropping one person onto another merges them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QDragMoveEvent, QDropEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from anonnet_studio.core.anonymize.plan import RedactionMethod
from anonnet_studio.project.attention import (
    MODELS_MISSING_NOTE,
    attention_reason,
    shown_blurred_for_models,
)
from anonnet_studio.project.render_plan import effective_method
from anonnet_studio.project.schema import Identity, Method
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.icons import icon, method_icon
from anonnet_studio.ui.images import pixmap_from_rgb

IDENTITY_MIME = "application/x-anonnet-identity"
IDENTITY_ID_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIZE = 80
# The backend decides whether a synthetic person is badged blurred for missing models.
_SHOWN_FIELDS = frozenset(
    {"name", "color", "hidden", "method", "needs_attention", "thumbnail", "generation.backend"}
)

ModelIndex = QModelIndex | QPersistentModelIndex


class IdentityListModel(QAbstractListModel):
    """One row per identity, in document order. Renaming in place goes through the
    document's undoable rename; drops are reported, the panel decides what to do."""

    merge_requested = Signal(str, str)  # target id, source id

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._icons: dict[tuple[Any, ...], QPixmap] = {}
        self._synthetic_unavailable: frozenset[str] = frozenset()
        document.project_replaced.connect(self._reset)
        document.identities_changed.connect(self._reset)
        document.identity_changed.connect(self._on_identity_changed)

    def set_synthetic_unavailable(self, unavailable: frozenset[str]) -> None:
        """These backends' models are missing: their synthetic people are shown (and
        badged) blurred."""
        if unavailable != self._synthetic_unavailable:
            self._synthetic_unavailable = unavailable
            self._reset()

    def _method(self, identity: Identity) -> RedactionMethod:
        blurred = shown_blurred_for_models(identity, self._synthetic_unavailable)
        return effective_method(identity, frozenset() if blurred else None)

    def identity_at(self, row: int) -> Identity | None:
        project = self._document.project
        if project is None or not 0 <= row < len(project.identities):
            return None
        return project.identities[row]

    def row_of(self, identity_id: str) -> int | None:
        project = self._document.project
        if project is None or not project.has_identity(identity_id):
            return None
        return project.identity_index(identity_id)

    # -- Qt model API ---------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        project = self._document.project
        return 0 if parent.isValid() or project is None else len(project.identities)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        identity = self.identity_at(index.row()) if index.isValid() else None
        if identity is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return identity.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(identity)
        if role == IDENTITY_ID_ROLE:
            return identity.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(identity)
        return None

    def setData(self, index: ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        identity = self.identity_at(index.row()) if index.isValid() else None
        if identity is None or role != Qt.ItemDataRole.EditRole:
            return False
        name = str(value).strip()
        if not name or name == identity.name:
            return False
        return self._document.rename(identity.id, name)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        return (
            base
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsDropEnabled
        )

    def mimeTypes(self) -> list[str]:
        return [IDENTITY_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        if indexes:
            identity_id = str(indexes[0].data(IDENTITY_ID_ROLE))
            mime.setData(IDENTITY_MIME, QByteArray(identity_id.encode("utf-8")))
        return mime

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: ModelIndex
    ) -> bool:
        """A person dropped *onto* another person merges into them."""
        if not data.hasFormat(IDENTITY_MIME) or not parent.isValid():
            return False
        source_id = bytes(data.data(IDENTITY_MIME).data()).decode("utf-8")
        target = self.identity_at(parent.row())
        if target is None or target.id == source_id:
            return False
        self.merge_requested.emit(target.id, source_id)
        # The merge itself resets the model through the document's events; returning
        # False stops the view from also removing the dragged row on its own.
        return False

    # -- refresh --------------------------------------------------------------------------

    def _reset(self) -> None:
        self.beginResetModel()
        self._icons.clear()
        self.endResetModel()

    def _on_identity_changed(self, identity_id: str, fields: frozenset[str]) -> None:
        row = self.row_of(identity_id)
        if row is not None and fields & _SHOWN_FIELDS:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def _decoration(self, identity: Identity) -> QPixmap:
        method = self._method(identity)
        key = (
            identity.id,
            id(identity.thumbnail),
            identity.color,
            method,
            identity.needs_attention,
        )
        cached = self._icons.get(key)
        if cached is None:
            cached = _badged_thumbnail(identity, method.value, method.hides)
            self._icons[key] = cached
        return cached

    def _tooltip(self, identity: Identity) -> str:
        method = self._method(identity)
        state = f"hidden with {method.value}" if method.hides else "kept visible"
        lines = [f"{identity.name} ({identity.id}): {state}", f"{len(identity.track_ids)} track(s)"]
        if identity.needs_attention:
            lines.append("Needs attention. " + attention_reason(identity))
        if shown_blurred_for_models(identity, self._synthetic_unavailable):
            lines.append(MODELS_MISSING_NOTE)
        lines.append("Drag onto another person to merge them.")
        return "\n".join(lines)


def _badged_thumbnail(identity: Identity, method: str, hidden: bool) -> QPixmap:
    """Thumbnail framed in the person's colour with a method badge in the corner."""
    pixmap = QPixmap(THUMB_SIZE, THUMB_SIZE)
    pixmap.fill(QColor("#2a2f37"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if identity.thumbnail is not None:
        thumb = pixmap_from_rgb(identity.thumbnail, THUMB_SIZE - 6)
        painter.drawPixmap(
            (THUMB_SIZE - thumb.width()) // 2, (THUMB_SIZE - thumb.height()) // 2, thumb
        )
    painter.setPen(QPen(QColor(identity.color), 3))
    painter.drawRect(QRect(1, 1, THUMB_SIZE - 3, THUMB_SIZE - 3))
    badge = QRect(THUMB_SIZE - 24, THUMB_SIZE - 24, 20, 20)
    painter.setBrush(QColor(0, 0, 0, 170))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(badge)
    badge_icon = method_icon(Method(method)) if hidden else icon("kept", "#8ce99a")
    badge_icon.paint(painter, badge.adjusted(4, 4, -4, -4))
    if identity.needs_attention:
        icon("warning", "#fcc419").paint(painter, QRect(4, 4, 16, 16))
    painter.end()
    return pixmap


class IdentityGalleryView(QListView):
    """Icon-mode list of people; drag one onto another to merge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IdentityGallery")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setGridSize(QSize(THUMB_SIZE + 24, THUMB_SIZE + 30))
        self.setSpacing(4)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self.indexAt(event.position().toPoint())
        if event.mimeData().hasFormat(IDENTITY_MIME) and target.isValid():
            source = bytes(event.mimeData().data(IDENTITY_MIME).data()).decode("utf-8")
            if target.data(IDENTITY_ID_ROLE) != source:
                event.setDropAction(Qt.DropAction.MoveAction)
                event.accept()
                return
        event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.indexAt(event.position().toPoint())
        model = self.model()
        if target.isValid() and model is not None:
            model.dropMimeData(event.mimeData(), Qt.DropAction.MoveAction, -1, -1, target)
        # Accept as a copy so the view never deletes the dragged row itself.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
