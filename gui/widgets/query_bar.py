"""The one search bar: the store's query language, with errors shown inline under it.

A malformed query never opens a dialog: the bar turns red, the message (and where in the
query it went wrong) appears beneath it, and the last good results stay on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from groundlens.gui.widgets.search_help import SEARCH_TOOLTIP, SearchHelpDialog

DEBOUNCE_MS = 300


class QueryBar(QWidget):
    submitted = Signal(str)  # stripped query text; "" means everything

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setObjectName("QueryEdit")
        self.edit.setPlaceholderText("Search posts and entities   (e.g.  hopper type:PER  —  press / or Ctrl+F)")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(SEARCH_TOOLTIP)
        self.edit.setMinimumWidth(300)
        self.help_button = QPushButton("?")
        self.help_button.setToolTip("Search syntax")
        self.help_button.setFixedWidth(30)
        self.help_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.help_button.clicked.connect(self.show_help)
        self.error = QLabel()
        self.error.setObjectName("QueryError")
        self.error.setWordWrap(True)
        self.error.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.help_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.submit)
        self.edit.textEdited.connect(lambda _text: self._debounce.start())
        self.edit.returnPressed.connect(self.submit)
        self._last = ""

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self.submit()

    def submit(self) -> None:
        self._debounce.stop()
        self._last = self.text()
        self.submitted.emit(self._last)

    def show_error(self, exc: Exception) -> None:
        """Inline only; the position (when the store gives one) is pointed at with a caret."""
        position = getattr(exc, "position", None)
        message = getattr(exc, "message", None) or str(exc)
        if isinstance(position, int) and 0 <= position <= len(self._last):
            message += f"  (at column {position + 1}: “{self._last[:position]}▸{self._last[position:]}”)"
        self.error.setText(message)
        self.error.show()
        self._set_invalid(True)

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()
        self._set_invalid(False)

    def _set_invalid(self, invalid: bool) -> None:
        self.edit.setProperty("invalid", invalid)
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def show_help(self) -> None:
        SearchHelpDialog(self.window()).exec()
