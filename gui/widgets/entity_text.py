"""Post text with entity spans highlighted in their type colours, displaCy style.

Spans are anchors (`ent:<key>`), so QTextBrowser's own hover/click signals give the
entity under the pointer without any hit-testing code.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from groundlens.gui.models.presentation import Span
from groundlens.gui.theme import TYPE_COLORS, readable, scheme, tinted

ANCHOR_PREFIX = "ent:"


CORRECTED_MARK = "✎"
GOLD_MARKS = {"matches gold": "✓", "not in gold": "✗", "missed": "missed"}


def render_html(text: str, spans: list[Span], highlight: str = "") -> str:
    """HTML for `text` with each span marked; overlapping spans after the first are left plain.

    The highlighted span differs only in colour (a deeper background and an underline), never in
    font weight: a bold span is wider and would reflow the whole text under the pointer."""
    return _render(text, spans, highlight)[0]


def _render(text: str, spans: list[Span], highlight: str) -> tuple[str, list[int]]:
    """The HTML and, for each character of `text`, its position in the rendered document (which
    also holds padding and type tags), so a selection in the view maps back to text offsets."""
    parts: list[str] = []
    positions: list[int] = []
    doc = 0  # characters of the document so far: an escaped entity or &nbsp; or <br> counts as one

    def plain(start: int, end: int) -> None:
        nonlocal doc
        parts.append(html.escape(text[start:end]))
        positions.extend(range(doc, doc + end - start))
        doc += end - start

    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < cursor or span.end > len(text) or span.start >= span.end:
            continue
        plain(cursor, span.start)
        color = span.color or TYPE_COLORS.get(span.type, TYPE_COLORS["OTHER"])
        strong = span.key == highlight
        background = tinted(color, (0.6 if strong else 0.32) if scheme().dark else (0.45 if strong else 0.18))
        decoration = "underline" if strong else "none"  # not bold: a bolder word would reflow the text
        tag = span.type + (CORRECTED_MARK if span.corrected else "")
        mark = GOLD_MARKS.get(span.gold_mark, "")
        mark_html = f'<span style="color:{scheme().muted};font-size:9px;">&nbsp;{mark}</span>' if mark else ""
        parts.append(
            f'<a href="{ANCHOR_PREFIX}{span.key}" style="text-decoration:{decoration};color:{scheme().text};'
            f'background-color:{background};">&nbsp;{html.escape(text[span.start : span.end])}&nbsp;'
            f'<span style="color:{readable(color)};font-size:9px;font-weight:700;">{tag}</span>{mark_html}&nbsp;</a>'
        )
        positions.extend(range(doc + 1, doc + 1 + span.end - span.start))
        doc += 1 + (span.end - span.start) + 1 + len(tag) + (1 + len(mark) if mark else 0) + 1
        cursor = span.end
    plain(cursor, len(text))
    body = "".join(parts).replace("\n", "<br>")
    return f'<div style="line-height:150%;">{body}</div>', positions


class EntityText(QTextBrowser):
    entity_hovered = Signal(str)
    entity_selected = Signal(str)
    context_requested = Signal(str, QPoint)  # the entity key under the pointer ("" for none), global position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PostText")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self._text = ""
        self._spans: list[Span] = []
        self._highlight = ""
        self._positions: list[int] = []
        self.highlighted.connect(lambda url: self.entity_hovered.emit(self._key(url)))
        self.anchorClicked.connect(lambda url: self.entity_selected.emit(self._key(url)))

    @staticmethod
    def _key(url: QUrl) -> str:
        target = url.toString()
        return target[len(ANCHOR_PREFIX) :] if target.startswith(ANCHOR_PREFIX) else ""

    def set_content(self, text: str, spans: list[Span]) -> None:
        self._text, self._spans, self._highlight = text, spans, ""
        self._render()

    def highlight(self, key: str) -> None:
        """Re-render with another span emphasised; the analyst's text selection survives it (the document
        has the same characters), so hovering an entity never loses words selected for a correction."""
        if key != self._highlight:
            self._highlight = key
            self._render(keep_selection=True)

    def _render(self, keep_selection: bool = False) -> None:
        scroll = self.verticalScrollBar().value()
        cursor = self.textCursor()
        anchor, position = cursor.anchor(), cursor.position()
        markup, self._positions = _render(self._text, self._spans, self._highlight)
        self.setHtml(markup)
        if keep_selection:
            cursor = self.textCursor()
            cursor.setPosition(anchor)
            cursor.setPosition(position, QTextCursor.MoveMode.KeepAnchor)
            self.setTextCursor(cursor)
        self.verticalScrollBar().setValue(scroll)

    def selected_range(self) -> tuple[int, int] | None:
        """The selection as (start, end) offsets into the post's text, or None when it holds none of it."""
        cursor = self.textCursor()
        inside = [i for i, pos in enumerate(self._positions) if cursor.selectionStart() <= pos < cursor.selectionEnd()]
        if not inside:
            return None
        start, end = inside[0], inside[-1] + 1
        while start < end and self._text[start].isspace():  # a dragged selection often takes a space
            start += 1
        while end > start and self._text[end - 1].isspace():
            end -= 1
        return (start, end) if start < end else None

    def select_range(self, start: int, end: int) -> None:
        """Select text offsets [start, end) as the analyst would with the mouse."""
        cursor = self.textCursor()
        cursor.setPosition(self._positions[start])
        cursor.setPosition(self._positions[end - 1] + 1, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        self.context_requested.emit(self._key(QUrl(self.anchorAt(event.pos()))), event.globalPos())
