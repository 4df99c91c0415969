"""The post's entities as rows of chips: type, text, and whether the image shows it.

"Not in image" is a first-class answer (most entities in real posts are not visible), so it
gets its own dashed chip rather than looking like a missing result. Every verdict shows its
confidence on the chip and its evidence in the tooltip (and the inspector's evidence panel).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from groundlens.gui.models.presentation import EntityRow
from groundlens.gui.theme import TYPE_COLORS, scheme

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2


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


CHIP_LINE = 32
PILL_GAP = 8


def chip_name(row: EntityRow) -> str:
    marks = ("✎ " if row.corrected else "") + ("gold · " if row.gold else "")
    suffix = f"  [{row.gold_mark}]" if row.gold_mark else ""
    return marks + row.text + suffix


class _ChipDelegate(QStyledItemDelegate):
    """One line (type, name, verdict) where the name fits; else the verdict moves to a second line,
    so a long name is shown whole rather than cut between two pills."""

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[QFontMetrics, QFontMetrics]:
        pill, name = QFont(option.font), QFont(option.font)
        pill.setPointSizeF(8.5)
        pill.setBold(True)
        name.setPointSizeF(10)
        return QFontMetrics(pill), QFontMetrics(name)

    def _two_lines(self, option: QStyleOptionViewItem, row: EntityRow, width: int) -> bool:
        pill, name = self._metrics(option)
        needed = (
            pill.horizontalAdvance(row.type)
            + 14
            + PILL_GAP
            + name.horizontalAdvance(chip_name(row))
            + PILL_GAP
            + pill.horizontalAdvance(row.status)
            + 14
            + 16
        )
        return needed > width

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 (Qt override)
        view = self.parent()
        width = view.viewport().width() if isinstance(view, QListWidget) else option.rect.width()
        lines = 2 if self._two_lines(option, index.data(ROW_ROLE), width) else 1
        return QSize(200, CHIP_LINE * lines)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row: EntityRow = index.data(ROW_ROLE)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & (QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_MouseOver):
            painter.fillRect(option.rect, QColor(scheme().selected))
        rect = option.rect.adjusted(8, 0, -8, 0)
        two_lines = rect.height() >= 2 * CHIP_LINE - 1
        first = QRect(rect.left(), rect.top(), rect.width(), CHIP_LINE)
        status_line = QRect(rect.left(), rect.top() + CHIP_LINE, rect.width(), CHIP_LINE) if two_lines else first
        own = row.color or TYPE_COLORS.get(row.type, TYPE_COLORS["OTHER"])
        color = QColor(scheme().gold_text if row.gold else own)
        font = painter.font()
        font.setPointSizeF(8.5)
        font.setBold(True)
        painter.setFont(font)
        x = first.left() + draw_pill(painter, first, row.type, QColor(own), True) + PILL_GAP
        status_color = {"in image": QColor(color), "not in image": QColor(scheme().muted)}.get(
            row.grounding, QColor("#9CA3AF")
        )
        status_width = painter.fontMetrics().horizontalAdvance(row.status) + 14
        draw_pill(
            painter,
            QRect(status_line.right() - status_width, status_line.top(), status_width, status_line.height()),
            row.status,
            status_color,
            row.grounding == "in image",
            dashed=row.grounding != "in image",
        )
        font.setBold(False)
        font.setPointSizeF(10)
        painter.setFont(font)
        painter.setPen(QColor(scheme().text))
        right = first.right() if two_lines else first.right() - status_width - PILL_GAP
        text_rect = QRect(x, first.top(), right - x, first.height())
        elided = painter.fontMetrics().elidedText(chip_name(row), Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()


def entity_tooltip(row: EntityRow) -> str:
    recognised = f"recognised with confidence {row.score:.2f}; " if row.score is not None else ""
    lines = [f"{row.text} ({row.type}): {recognised}{row.status}."]
    lines += [f"• {line}" for line in row.evidence]
    if row.gold_mark:
        lines.append(f"Against gold: {row.gold_mark}.")
    if row.corrected:
        lines.append(f"Corrected {row.corrected}.")
    return "\n".join([*lines, "Double-click for its entity page; right-click to correct it."])


class EntityList(QListWidget):
    entity_hovered = Signal(str)
    entity_selected = Signal(str)
    entity_opened = Signal(str)  # the entity's norm: open its entity page
    context_requested = Signal(str, QPoint)  # the key of the chip under the pointer ("" for none), global position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(_ChipDelegate(self))
        self.setMouseTracking(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)  # re-measure chips (one or two lines) on resize
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

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        item = self.itemAt(event.pos())
        self.context_requested.emit(item.data(KEY_ROLE) if item else "", event.globalPos())

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().leaveEvent(event)
        self.entity_hovered.emit("")

    def select_key(self, key: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(KEY_ROLE) == key:
                self.setCurrentRow(i)
                return
        self.clearSelection()
