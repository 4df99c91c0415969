"""Turn a decoded mask into a coloured, semi-transparent overlay image in one numpy step.

A 2048x2048 mask is 4 M pixels: per-pixel Python or QPainter work would take seconds, a single
vectorised multiply takes a few milliseconds (see bench/bench_gui.py).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage


def premultiplied_argb(color: QColor, alpha: float) -> np.uint32:
    """The 32-bit ARGB32_Premultiplied pixel for `color` at opacity `alpha` (0..1)."""
    a = round(255 * max(0.0, min(1.0, alpha)))
    r, g, b = (round(channel * a / 255) for channel in (color.red(), color.green(), color.blue()))
    return np.uint32((a << 24) | (r << 16) | (g << 8) | b)


def mask_to_qimage(mask: np.ndarray, color: QColor, alpha: float = 1.0) -> QImage:
    """A QImage the size of `mask` (bool HxW): `color` where True, transparent elsewhere.

    Opacity is better applied later with QGraphicsItem.setOpacity so a slider never re-colours;
    `alpha` exists for callers that composite masks themselves.
    """
    height, width = mask.shape
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    # Write straight into the QImage's own buffer: no intermediate array, no copy.
    pixels = np.frombuffer(image.bits(), dtype=np.uint32, count=height * image.bytesPerLine() // 4)
    pixels = pixels.reshape(height, image.bytesPerLine() // 4)[:, :width]
    np.multiply(mask.astype(bool, copy=False), premultiplied_argb(color, alpha), out=pixels)
    return image


def mask_bounds(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end exclusive, of the True pixels; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def cropped_mask_image(mask: np.ndarray, color: QColor) -> tuple[QImage, tuple[int, int]] | None:
    """The overlay for only the mask's bounding rectangle, and where it goes: ten full-size
    overlays of a 4000x3000 photo would hold half a gigabyte of pixmaps."""
    bounds = mask_bounds(mask)
    if bounds is None:
        return None
    x0, y0, x1, y1 = bounds
    return mask_to_qimage(mask[y0:y1, x0:x1], color), (x0, y0)
