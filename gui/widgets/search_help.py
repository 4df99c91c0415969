"""Search syntax help: a short tooltip and a dialog with the store's own reference text.

The dialog shows docs/SEARCH.md when the checkout has it, otherwise the syntax table that
storage/search.py documents, so the help can never describe a language the store does not parse.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import groundlens.storage.search
from groundlens.core.config import REPO_ROOT

SEARCH_DOC = REPO_ROOT / "docs" / "SEARCH.md"

SEARCH_TOOLTIP = (
    "<b>Search syntax</b> (all terms must match)<br>"
    '<code>hopper</code> word · <code>"grace hopper"</code> phrase · <code>warri*</code> prefix · '
    "<code>-word</code> exclude · <code>a OR b</code><br>"
    '<code>type:PER</code> · <code>entity:"Grace Hopper"</code> · <code>groundable:yes</code> · '
    "<code>has:image</code> · <code>author:@name</code> · <code>is:retweet</code> · <code>-is:retweet</code><br>"
    "<code>ocr:word</code> (text read in the image) · "
    "<code>after:2026-11-01</code> · <code>before:2026-11-15</code> · <code>date:2026-11</code><br>"
    "Press <b>?</b> beside the bar for the full reference."
)


def reference_html() -> str:
    """The syntax table from storage/search.py, for checkouts without docs/SEARCH.md."""
    reference = (groundlens.storage.search.__doc__ or "").strip()
    return f"<pre style='font-size:12px'>{html.escape(reference)}</pre>"


class SearchHelpDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Search syntax")
        self.resize(820, 620)
        browser = QTextBrowser()
        browser.setOpenExternalLinks(True)
        if SEARCH_DOC.exists():
            browser.setMarkdown(SEARCH_DOC.read_text(encoding="utf-8"))
        else:
            browser.setHtml(reference_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(browser)
        layout.addWidget(buttons)
