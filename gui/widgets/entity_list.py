"""The post's entities as rows of chips: type, text, and whether the image shows it.

"Not in image" is a first-class answer (most entities in real posts are not visible), so it
gets its own dashed chip rather than looking like a missing result. Every verdict shows its
confidence on the chip and its evidence in the tooltip (and the inspector's evidence panel).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from groundlens.gui.theme import GOLD_TEXT, MUTED, TYPE_COLORS
from groundlens.records import Entity

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class EntityRow:
    key: str
    text: str
    type: str
    norm: str
    grounding: str  # see grounding_label
    score: float | None = None
    gold: bool = False
    confidence: float | None = None  # of the grounding verdict
    evidence: tuple[str, ...] = ()  # one line per observation behind the verdict

    @property
    def status(self) -> str:
        """The chip's text: the verdict and, where there is one, its confidence."""
        return self.grounding if self.confidence is None else f"{self.grounding} {self.confidence:.2f}"


VERDICT_LABELS = {"in_image": "in image", "probably": "probably, not located", "not_in_image": "not in image"}


def grounding_label(entity: Entity, has_image: bool, image_expected: bool = False) -> str:
    """'Is it in the photo?' as the pipeline answered it: its verdict where it gave one (an entity it
    believes is shown but cannot place is 'probably, not located'), else what groundability and the
    regions say (results stored before verdicts existed). image_expected: the post has an image that
    is not on disk (failed, missing or not fetched yet)."""
    if not has_image:
        return "image not downloaded" if image_expected else "no image"
    if entity.verdict is not None:
        label = VERDICT_LABELS[entity.verdict]
        return "in image, not located" if entity.verdict == "in_image" and not entity.regions else label
    if entity.regions:
        return "in image"
    if entity.groundable is False:
        return "not in image"
    if entity.groundable is True:
        return "in image, not located"
    return "undecided"


def evidence_lines(entity: Entity) -> tuple[str, ...]:
    """Each observation behind the verdict as the analyst reads it, with its score: "read 'NASA' in the
    image, 0.97" as the pipeline wrote it, or "1 person detected, not identified (0.90)" when the
    detail does not state it."""
    return tuple(e.detail if f"{e.score:.2f}" in e.detail else f"{e.detail} ({e.score:.2f})" for e in entity.evidence)


def draw_pill(painter: QPainter, rect: QRect, text: str, color: QColor, filled: bool, dashed: bool = False) -> int:
    """Draw a rounded label at rect's left; returns its width so callers can lay out the next one."""
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text) + 14
    pill = QRect(rect.left(), rect.center().y() - 9, width, 18)
    pen = QPen(color, 1.2)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(color if filled else Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(pill, 9, 9)
    painter.setPen(QColor("white") if filled else color)
    painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
    return width


class _ChipDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 (Qt override)
        return QSize(200, 32)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row: EntityRow = index.data(ROW_ROLE)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & (QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_MouseOver):
            painter.fillRect(option.rect, QColor("#EEF3FE"))
        rect = option.rect.adjusted(8, 0, -8, 0)
        color = QColor(GOLD_TEXT if row.gold else TYPE_COLORS.get(row.type, TYPE_COLORS["OTHER"]))
        font = painter.font()
        font.setPointSizeF(8.5)
        font.setBold(True)
        painter.setFont(font)
        x = rect.left() + draw_pill(painter, rect, row.type, QColor(TYPE_COLORS.get(row.type, MUTED)), True) + 8
        status_color = {"in image": QColor(color), "not in image": QColor(MUTED)}.get(row.grounding, QColor("#9CA3AF"))
        status_width = painter.fontMetrics().horizontalAdvance(row.status) + 14
        draw_pill(
            painter,
            QRect(rect.right() - status_width, rect.top(), status_width, rect.height()),
            row.status,
            status_color,
            row.grounding == "in image",
            dashed=row.grounding != "in image",
        )
        font.setBold(False)
        font.setPointSizeF(10)
        painter.setFont(font)
        painter.setPen(QColor("#1F2328"))
        text = ("gold · " if row.gold else "") + row.text
        text_rect = QRect(x, rect.top(), rect.right() - status_width - 8 - x, rect.height())
        elided = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()


def entity_tooltip(row: EntityRow) -> str:
    recognised = f"recognised with confidence {row.score:.2f}; " if row.score is not None else ""
    lines = [f"{row.text} ({row.type}): {recognised}{row.status}."]
    lines += [f"• {line}" for line in row.evidence]
    return "\n".join([*lines, "Double-click for its entity page."])


class EntityList(QListWidget):
    entity_hovered = Signal(str)
    entity_selected = Signal(str)
    entity_opened = Signal(str)  # the entity's norm: open its entity page

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(_ChipDelegate(self))
        self.setMouseTracking(True)
        self.setUniformItemSizes(True)
        self.setToolTip("Click to highlight in the image; double-click to open the entity page.")
        self.itemEntered.connect(lambda item: self.entity_hovered.emit(item.data(KEY_ROLE)))
        self.itemClicked.connect(lambda item: self.entity_selected.emit(item.data(KEY_ROLE)))
        self.itemActivated.connect(lambda item: self.entity_opened.emit(item.data(ROW_ROLE).norm))

    def set_rows(self, rows: list[EntityRow]) -> None:
        self.clear()
        for row in rows:
            item = QListWidgetItem()
            item.setData(KEY_ROLE, row.key)
            item.setData(ROW_ROLE, row)
            item.setToolTip(entity_tooltip(row))
            self.addItem(item)

    def rows(self) -> list[EntityRow]:
        return [self.item(i).data(ROW_ROLE) for i in range(self.count())]

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().leaveEvent(event)
        self.entity_hovered.emit("")

    def select_key(self, key: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(KEY_ROLE) == key:
                self.setCurrentRow(i)
                return
        self.clearSelection()
