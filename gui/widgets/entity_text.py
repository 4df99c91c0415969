"""Post text with entity spans highlighted in their type colours, displaCy style.

Spans are anchors (`ent:<key>`), so QTextBrowser's own hover/click signals give the
entity under the pointer without any hit-testing code.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from groundlens.gui.theme import TYPE_COLORS, tinted

ANCHOR_PREFIX = "ent:"


@dataclass(frozen=True)
class Span:
    key: str
    start: int
    end: int
    type: str


def render_html(text: str, spans: list[Span], highlight: str = "") -> str:
    """HTML for `text` with each span marked; overlapping spans after the first are left plain."""
    parts: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < cursor or span.end > len(text) or span.start >= span.end:
            continue
        parts.append(html.escape(text[cursor : span.start]))
        color = TYPE_COLORS.get(span.type, TYPE_COLORS["OTHER"])
        strong = span.key == highlight
        background = tinted(color, 0.45 if strong else 0.18)
        weight = "font-weight:600;" if strong else ""
        parts.append(
            f'<a href="{ANCHOR_PREFIX}{span.key}" style="text-decoration:none;color:#1F2328;'
            f'background-color:{background};{weight}">&nbsp;{html.escape(text[span.start : span.end])}&nbsp;'
            f'<span style="color:{color};font-size:9px;font-weight:700;">{span.type}</span>&nbsp;</a>'
        )
        cursor = span.end
    parts.append(html.escape(text[cursor:]))
    body = "".join(parts).replace("\n", "<br>")
    return f'<div style="line-height:150%;">{body}</div>'


class EntityText(QTextBrowser):
    entity_hovered = Signal(str)
    entity_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PostText")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self._text = ""
        self._spans: list[Span] = []
        self._highlight = ""
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
        if key != self._highlight:
            self._highlight = key
            self._render()

    def _render(self) -> None:
        scroll = self.verticalScrollBar().value()
        self.setHtml(render_html(self._text, self._spans, self._highlight))
        self.verticalScrollBar().setValue(scroll)
