"""Paints one feed row: thumbnail, author and date, two lines of text, entity-count badges per
type and the pipeline state. Painting only (no widgets per row) keeps 100k rows smooth."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from groundlens.gui.context import AppContext
from groundlens.gui.models.feed_model import SUMMARY_ROLE
from groundlens.gui.theme import ACCENT, STATE_COLORS, scheme
from groundlens.gui.widgets.entity_list import draw_pill

ROW_HEIGHT = 88
THUMB = 68


class PostDelegate(QStyledItemDelegate):
    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 (Qt override)
        return QSize(120, ROW_HEIGHT)  # rows take the viewport's width

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(scheme().selected))
            painter.fillRect(QRect(rect.left(), rect.top(), 3, rect.height()), QColor(ACCENT))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor(scheme().hover))
        painter.setPen(QColor(scheme().divider))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())

        summary = index.data(SUMMARY_ROLE)
        thumb_rect = QRect(rect.left() + 10, rect.top() + (rect.height() - THUMB) // 2, THUMB, THUMB)
        self._paint_thumbnail(painter, thumb_rect, summary)
        text_left = thumb_rect.right() + 12
        body = QRect(text_left, rect.top() + 8, rect.right() - text_left - 10, rect.height() - 16)
        if summary is None:
            painter.setPen(QColor(scheme().muted))
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "Loading…")
            painter.restore()
            return

        base = QFont(option.font)
        head = QFont(base)
        head.setBold(True)
        painter.setFont(head)
        painter.setPen(QColor(scheme().text))
        when = summary.created_at.strftime("%d %b %Y") if summary.created_at else ""
        when_width = painter.fontMetrics().horizontalAdvance(when)
        who = (summary.author or summary.source) + (" retweeted" if summary.retweet else "")
        author = painter.fontMetrics().elidedText(who, Qt.TextElideMode.ElideRight, body.width() - when_width - 12)
        line = painter.fontMetrics().height()
        painter.drawText(QRect(body.left(), body.top(), body.width(), line), Qt.AlignmentFlag.AlignLeft, author)
        painter.setFont(base)
        painter.setPen(QColor(scheme().muted))
        painter.drawText(QRect(body.left(), body.top(), body.width(), line), Qt.AlignmentFlag.AlignRight, when)

        painter.setPen(QColor(scheme().secondary))
        text_rect = QRect(body.left(), body.top() + line + 2, body.width(), line * 2 + 2)
        text = " ".join(summary.snippet.split())
        # Eliding to two lines: elide to twice the width, then let word wrap split it.
        elided = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(body.width() * 1.9))
        painter.drawText(text_rect, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop, elided)

        badge_font = QFont(base)
        badge_font.setPointSizeF(max(7.0, base.pointSizeF() - 1.5))
        badge_font.setBold(True)
        painter.setFont(badge_font)
        badges = QRect(body.left(), body.bottom() - 16, body.width(), 18)
        x = badges.left()
        for text, color, filled in summary_badges(summary):
            x += draw_pill(painter, QRect(x, badges.top(), 0, badges.height()), text, QColor(color), filled) + 4
        state = summary.pipeline_state or "not queued"
        width = painter.fontMetrics().horizontalAdvance(state) + 14
        draw_pill(
            painter,
            QRect(badges.right() - width, badges.top(), width, badges.height()),
            state,
            QColor(STATE_COLORS.get(state, "#9CA3AF")),
            filled=False,
            dashed=state != "done",
        )
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, rect: QRect, summary) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 6, 6)
        painter.fillPath(path, QColor(scheme().badge))
        image_file = self.ctx.media_file(summary.thumbnail_path) if summary is not None else None
        pixmap = self.ctx.thumbnails.get(str(image_file)) if image_file is not None else None
        if pixmap is None:
            if summary is not None and image_file is None:
                painter.setPen(QColor(scheme().muted))
                painter.drawText(
                    rect, Qt.AlignmentFlag.AlignCenter, "image\nnot cached" if summary.has_image else "text\nonly"
                )
            return
        painter.setClipPath(path)
        source = QRect(0, 0, pixmap.width(), pixmap.height())
        side = min(source.width(), source.height())
        source = QRect((source.width() - side) // 2, (source.height() - side) // 2, side, side)
        painter.drawPixmap(rect, pixmap, source)
        painter.setClipping(False)


def summary_badges(summary) -> list[tuple[str, str, bool]]:
    """The feed row's badges as (text, colour, filled): "1 entity", "3 entities", "2 in image", ..."""
    noun = "entity" if summary.n_entities == 1 else "entities"
    badges = [(f"{summary.n_entities} {noun}", scheme().secondary, False)]
    if summary.n_groundable:
        badges.append((f"{summary.n_groundable} in image", ACCENT, True))
    if summary.n_gold:
        badges.append((f"{summary.n_gold} gold", scheme().gold_text, False))
    return badges
