"""Zoomable, pannable image with per-entity overlays (mask, box, label) that can be toggled and hovered.

The canvas knows nothing of the store: the inspector hands it an image and `Overlay`s
(mask already rendered to a QImage off the main thread) and listens to hover/select signals.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QContextMenuEvent, QImage, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from groundlens.gui.models.presentation import Overlay
from groundlens.gui.theme import GOLD_COLOR, type_color

LAYERS = ("masks", "boxes", "labels")
# What the image showed besides the entities: text read in it, people or objects tied to no name.
FINDING_LAYERS = {"text": "Text in image", "unidentified": "Not identified"}
FINDING_COLORS = {"text": "#E5E7EB", "unidentified": "#F97316"}
ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 40.0


class _RegionBox(QGraphicsRectItem):
    """The box doubles as the hover target for its entity. It takes no mouse press: a drag that
    starts inside a box pans the image like anywhere else (the view turns a click into a selection)."""

    def __init__(self, canvas: ImageCanvas, overlay: Overlay, rect: QRectF) -> None:
        super().__init__(rect)
        self.canvas = canvas
        self.overlay = overlay
        self.key = overlay.key
        self.setAcceptHoverEvents(True)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.canvas.entity_hovered.emit(self.key)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.canvas.entity_hovered.emit("")


class _Label(QGraphicsRectItem):
    """A filled tag with the entity text; ignores zoom so it stays readable."""

    def __init__(
        self, text: str, color: QColor, parent: QGraphicsItem | None = None, text_color: str = "white"
    ) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.text = QGraphicsSimpleTextItem(text, self)
        self.text.setBrush(QBrush(QColor(text_color)))
        font = self.text.font()
        font.setPointSizeF(9)
        font.setBold(True)
        self.text.setFont(font)
        bounds = self.text.boundingRect()
        self.setRect(QRectF(0, -bounds.height() - 4, bounds.width() + 8, bounds.height() + 4))
        self.text.setPos(4, -bounds.height() - 2)
        self.setBrush(QBrush(color))
        self.setPen(QPen(Qt.PenStyle.NoPen))


def kept_inside(rect: QRectF, bounds: QRectF) -> QRectF:
    """`rect` shifted (not resized) back inside `bounds` where it sticks out."""
    dx = max(bounds.left() - rect.left(), 0.0) + min(bounds.right() - rect.right(), 0.0)
    dy = max(bounds.top() - rect.top(), 0.0) + min(bounds.bottom() - rect.bottom(), 0.0)
    return rect.translated(dx, dy)


CLICK_SLOP = 4  # pixels the pointer may move between press and release and still be a click
MIN_BOX_SIDE = 4.0  # image pixels: a smaller drawn box is a slip of the hand, not a box


class ImageCanvas(QGraphicsView):
    """Drag pans (also inside a box), click selects. In box-edit mode a drag draws a box, and a drag
    inside a box of the selected entity (of any entity when none is selected) moves it; the canvas only
    reports them (box_drawn, box_moved): the inspector stores them as corrections."""

    entity_hovered = Signal(str)  # "" when the pointer leaves a region
    entity_selected = Signal(str)
    zoom_changed = Signal(float)
    box_drawn = Signal(tuple)  # (x0, y0, x1, y1) in image pixels
    box_moved = Signal(object, tuple)  # the Overlay moved, its new box
    context_requested = Signal(object, QPoint)  # the Overlay under the pointer (None: empty image), global position
    edit_mode_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Canvas")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self._image_item: QGraphicsPixmapItem | None = None
        self._items: list[tuple[Overlay, dict[str, QGraphicsItem]]] = []
        self.layers = {layer: True for layer in LAYERS} | {"text": False, "unidentified": True}
        self.hidden_types: set[str] = set()
        self.show_gold = False
        self.mask_opacity = 0.35
        self._highlight = ""
        self._fit_on_resize = True
        self.edit_mode = False
        self.selected = ""  # the entity the analyst picked: in box-edit mode a drag draws its box
        self._press: QPointF | None = None  # where a left press began, in view coordinates
        self._drag: tuple[QGraphicsRectItem, QPointF, QRectF] | None = None  # item drawn or moved, start, first rect
        self._moving: _RegionBox | None = None

    # content -------------------------------------------------------------------------------
    def clear_content(self) -> None:
        self.scene().clear()
        self._image_item = None
        self._items.clear()
        self._highlight = ""
        self._drag = self._moving = None

    def set_image(self, image: QImage | None) -> None:
        self.clear_content()
        if image is None or image.isNull():
            return
        self._image_item = self.scene().addPixmap(QPixmap.fromImage(image))
        self._image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        margin = 0.03 * max(image.width(), image.height())  # room for labels at the edges
        self.scene().setSceneRect(QRectF(image.rect()).adjusted(-margin, -margin, margin, margin))
        self.fit()

    def has_image(self) -> bool:
        return self._image_item is not None

    def set_overlays(self, overlays: list[Overlay]) -> None:
        """Several overlays may share a key (one entity, several regions)."""
        if self._moving is not None:  # the box being moved is about to go: the drag ends with it
            self._drag = self._moving = None
        for _overlay, items in self._items:
            for item in items.values():
                self.scene().removeItem(item)
        # Larger regions first so small ones stay on top and hoverable.
        ordered = sorted(overlays, key=lambda o: -(o.box[2] - o.box[0]) * (o.box[3] - o.box[1]))
        self._items = [(overlay, self._build(overlay, z)) for z, overlay in enumerate(ordered)]
        self.highlight(self._highlight)

    def _build(self, overlay: Overlay, z: int) -> dict[str, QGraphicsItem]:
        if overlay.kind in FINDING_COLORS:
            color = QColor(FINDING_COLORS[overlay.kind])
        elif overlay.gold:
            color = QColor(GOLD_COLOR)
        else:
            color = QColor(overlay.color) if overlay.color else type_color(overlay.type)
        x0, y0, x1, y1 = overlay.box
        items: dict[str, QGraphicsItem] = {}
        if overlay.mask is not None:
            mask = self.scene().addPixmap(QPixmap.fromImage(overlay.mask))
            mask.setOffset(*overlay.mask_offset)
            mask.setZValue(10 + z)
            mask.setOpacity(self.mask_opacity)
            items["masks"] = mask
        box = _RegionBox(self, overlay, QRectF(x0, y0, x1 - x0, y1 - y0))
        pen = QPen(color, 2.5)
        pen.setCosmetic(True)  # constant on-screen width at any zoom
        if overlay.gold or overlay.kind != "entity":
            pen.setStyle(Qt.PenStyle.DashLine)
        box.setPen(pen)
        box.setZValue(1000 + z)
        self.scene().addItem(box)
        items["boxes"] = box
        text = ("gold: " if overlay.gold else "") + overlay.label + (" ✎" if overlay.corrected else "")
        label = _Label(text, color, text_color="#111827" if overlay.kind == "text" else "white")
        label.setPos(QPointF(x0, y0))
        label.setZValue(2000 + z)
        self.scene().addItem(label)
        items["labels"] = label
        return items

    # visibility ----------------------------------------------------------------------------
    def set_layer_visible(self, layer: str, visible: bool) -> None:
        self.layers[layer] = visible
        self._apply_visibility()

    def toggle_layer(self, layer: str) -> None:
        self.set_layer_visible(layer, not self.layers[layer])

    def set_type_visible(self, entity_type: str, visible: bool) -> None:
        (self.hidden_types.discard if visible else self.hidden_types.add)(entity_type)
        self._apply_visibility()

    def set_gold_visible(self, visible: bool) -> None:
        self.show_gold = visible
        self._apply_visibility()

    def set_mask_opacity(self, opacity: float) -> None:
        self.mask_opacity = opacity
        self.highlight(self._highlight)

    def _apply_visibility(self) -> None:
        for overlay, items in self._items:
            key = overlay.key
            if overlay.kind != "entity":  # a finding follows its own layer toggle only
                for item in items.values():
                    item.setVisible(self.layers[overlay.kind])
                continue
            shown = overlay.type not in self.hidden_types and (self.show_gold or not overlay.gold)
            for layer, item in items.items():
                # The box stays (invisible pen) when boxes are off so hovering still works.
                item.setVisible(shown and (self.layers[layer] or layer == "boxes"))
                if layer == "boxes":
                    item.setOpacity(1.0 if self.layers["boxes"] or key == self._highlight else 0.0)

    def visible_keys(self, layer: str) -> list[str]:
        return [
            o.key
            for o, items in self._items
            if layer in items and items[layer].isVisible() and items[layer].opacity() > 0
        ]

    def highlight(self, key: str) -> None:
        """Emphasise one entity's region and dim the others; "" (or an entity with no region) restores all."""
        self._highlight = key
        located = any(overlay.key == key for overlay, _items in self._items)
        for overlay, items in self._items:
            other = overlay.key
            dim = located and other != key
            for layer, item in items.items():
                if layer == "masks":
                    factor = 0.3 if dim else (1.25 if other == key else 1.0)
                    item.setOpacity(min(1.0, self.mask_opacity * factor))
                elif layer == "boxes":
                    pen = item.pen()
                    pen.setWidthF(4.0 if other == key else 2.5)
                    item.setPen(pen)
        self._apply_visibility()

    def overlay_at(self, view_pos: QPoint) -> Overlay | None:
        """The topmost shown region (entity or finding) under a point of the view."""
        for item in self.items(view_pos):
            if isinstance(item, _RegionBox) and item.isVisible():
                return item.overlay
        return None

    def overlays(self) -> list[Overlay]:
        return [overlay for overlay, _items in self._items]

    # editing boxes -------------------------------------------------------------------------
    def set_edit_mode(self, on: bool) -> None:
        self.edit_mode = on
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor)
        self.edit_mode_changed.emit(on)

    def _image_rect(self) -> QRectF:
        return self._image_item.boundingRect() if self._image_item is not None else QRectF()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
        if self.edit_mode and event.button() == Qt.MouseButton.LeftButton and self._image_item is not None:
            start = self.mapToScene(event.position().toPoint())
            target = next(
                (
                    item
                    for item in self.items(event.position().toPoint())
                    if isinstance(item, _RegionBox)
                    and item.overlay.kind == "entity"
                    and not item.overlay.gold
                    and item.isVisible()
                    and self.selected in ("", item.overlay.key)
                ),
                None,
            )
            if target is not None:
                self._moving = target
                self._drag = (target, start, target.rect())
            elif self._image_rect().contains(start):
                pen = QPen(QColor("#FFFFFF"), 2, Qt.PenStyle.DashLine)
                pen.setCosmetic(True)
                drawn = self.scene().addRect(QRectF(start, start), pen)
                drawn.setZValue(5000)
                self._drag = (drawn, start, QRectF(start, start))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        item, start, first = self._drag
        here = self.mapToScene(event.position().toPoint())
        if self._moving is not None:
            item.setRect(kept_inside(first.translated(here - start), self._image_rect()))
        else:
            item.setRect(QRectF(start, here).normalized().intersected(self._image_rect()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        press, self._press = self._press, None
        if self._drag is not None:
            self._finish_drag()
            return
        super().mouseReleaseEvent(event)
        moved = press is None or (event.position() - press).manhattanLength() > CLICK_SLOP
        if event.button() == Qt.MouseButton.LeftButton and not moved:
            overlay = self.overlay_at(event.position().toPoint())
            self.entity_selected.emit(overlay.key if overlay is not None and overlay.kind == "entity" else "")

    def _finish_drag(self) -> None:
        (item, _start, first), moving = self._drag, self._moving
        self._drag = self._moving = None
        rect = item.rect()
        box = (round(rect.left(), 1), round(rect.top(), 1), round(rect.right(), 1), round(rect.bottom(), 1))
        if moving is None:
            self.scene().removeItem(item)  # the stored correction brings the real overlay
            if rect.width() >= MIN_BOX_SIDE and rect.height() >= MIN_BOX_SIDE:
                self.box_drawn.emit(box)
        elif rect != first:
            self.box_moved.emit(moving.overlay, box)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        if self._image_item is not None:
            self.context_requested.emit(self.overlay_at(event.pos()), event.globalPos())

    # zoom ----------------------------------------------------------------------------------
    def current_scale(self) -> float:
        return self.transform().m11()

    def _scale_to(self, scale: float) -> None:
        scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        factor = scale / self.current_scale()
        self.scale(factor, factor)
        self.zoom_changed.emit(self.current_scale())

    def zoom_in(self) -> None:
        self._fit_on_resize = False
        self._scale_to(self.current_scale() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._fit_on_resize = False
        self._scale_to(self.current_scale() / ZOOM_STEP)

    def actual_size(self) -> None:
        self._fit_on_resize = False
        self._scale_to(1.0)

    def fit(self) -> None:
        self._fit_on_resize = True
        if self._image_item is not None:
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.current_scale())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if event.angleDelta().y() == 0:
            return super().wheelEvent(event)
        (self.zoom_in if event.angleDelta().y() > 0 else self.zoom_out)()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._fit_on_resize:
            self.fit()
