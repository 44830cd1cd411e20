"""numpy RGB arrays -> QImage/QPixmap. The only place where pixels become Qt objects."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPixmap


def qimage_from_rgb(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of an (H, W, 3) uint8 RGB array (or (H, W) grey)."""
    array = np.ascontiguousarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {array.dtype}")
    if array.ndim == 2:
        height, width = array.shape
        view = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_Grayscale8)
    elif array.ndim == 3 and array.shape[2] == 3:
        height, width = array.shape[:2]
        view = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGB888)
    else:
        raise ValueError(f"expected (H, W, 3) RGB or (H, W) grey, got shape {array.shape}")
    # The view borrows numpy's buffer; copy() gives Qt its own, so the array may go away.
    return view.copy()


def pixmap_from_rgb(image: np.ndarray, size: int | None = None) -> QPixmap:
    """A pixmap of the image, scaled (aspect kept, smoothly) to fit `size` when given."""
    pixmap = QPixmap.fromImage(qimage_from_rgb(image))
    if size is not None:
        pixmap = pixmap.scaled(
            size,
            size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return pixmap


def icon_from_rgb(image: np.ndarray | None, size: int = 96) -> QIcon:
    """An icon for a thumbnail; an empty icon when there is no image."""
    if image is None:
        return QIcon()
    return QIcon(pixmap_from_rgb(image, size))
