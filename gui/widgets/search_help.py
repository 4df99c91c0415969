"""Search help written for analysts: examples first, in plain words, in a tooltip and a dialog.

Both are generated from the language's one description beside its parser (storage/query.py), so
the help lists exactly the filters the search bar accepts, with examples that are known to parse.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, unquote

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from groundlens.storage.query import FILTER_SPECS, SYNTAX_NOTES, TEXT_SYNTAX, Syntax

TOOLTIP_FILTERS = ("type", "entity", "author", "date")  # the ones a first search most often needs
TRY = "try:"
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    """Plain text with `code` in backquotes -> HTML."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


def _examples(line: Syntax) -> str:
    """Each example a link that puts it in the search bar (try:<example, percent-encoded>)."""
    return " &nbsp; ".join(
        f"<a href='{TRY}{quote(example)}' style='text-decoration:none'>"
        f"<code>{html.escape(example, quote=False)}</code></a>"
        for example in line.examples
    )


def _table(lines: tuple[Syntax, ...]) -> str:
    rows = "".join(
        f"<tr><td style='padding:3px 14px 3px 0'>{_examples(line)}</td><td>{_inline(line.meaning)}</td></tr>"
        for line in lines
    )
    return f"<table cellspacing=0>{rows}</table>"


def help_html() -> str:
    notes = "".join(f"<li>{_inline(note)}</li>" for note in SYNTAX_NOTES)
    return (
        "<h3>Find posts</h3>"
        "<p>Type words: you get the posts that contain all of them. Combine freely, for example "
        "<code>nasa type:PER -is:retweet date:2024-01</code>. Click an example to try it.</p>"
        f"{_table(TEXT_SYNTAX)}"
        "<h3>Narrow down</h3>"
        "<p>A filter is a word, a colon and a value, with no space after the colon.</p>"
        f"{_table(FILTER_SPECS)}"
        f"<h3>Good to know</h3><ul>{notes}</ul>"
        "<p>If a search cannot be read, the bar turns red and says where; your last results stay on screen.</p>"
    )


def tooltip_html() -> str:
    filters = {spec.key: spec for spec in FILTER_SPECS}
    lines = [*TEXT_SYNTAX[:4], *(filters[key] for key in TOOLTIP_FILTERS)]
    examples = "<br>".join(
        f"<code>{html.escape(line.examples[0], quote=False)}</code> &nbsp;{_inline(line.meaning)}" for line in lines
    )
    return f"<b>Search examples</b><br>{examples}<br>Press <b>?</b> beside the bar for every filter."


SEARCH_TOOLTIP = tooltip_html()


class SearchHelpDialog(QDialog):
    example_chosen = Signal(str)  # an example the analyst clicked: the dialog closes, the bar runs it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("How to search")
        self.resize(820, 620)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._clicked)
        self.browser.setHtml(help_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def _clicked(self, url: QUrl) -> None:
        link = url.toString(QUrl.ComponentFormattingOption.FullyEncoded)
        if link.startswith(TRY):
            self.example_chosen.emit(unquote(link[len(TRY) :]))
            self.accept()
