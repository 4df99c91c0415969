"""Ask what to import from the X API: a recent search, a user's timeline or the filtered stream.

The token is only ever typed here or on the settings page; the dialog shows its last four
characters at most.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from groundlens.core.ingest import credentials

MODES = {
    "search": "Recent search (last 7 days)",
    "timeline": "A user's timeline",
    "stream": "Filtered stream (until cancelled or the limit)",
}


@dataclass(frozen=True)
class XRequest:
    mode: str  # one of MODES
    query: str  # search query, username, or stream rule
    max_posts: int


class XImportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import from the X API")
        self.mode = QComboBox()
        for key, label in MODES.items():
            self.mode.addItem(label, key)
        self.query = QLineEdit()
        self.query.setPlaceholderText('X search syntax, e.g. "grace hopper" has:images -is:retweet')
        self.mode.currentIndexChanged.connect(self._update_placeholder)
        self.max_posts = QSpinBox()
        self.max_posts.setRange(1, 100_000)
        self.max_posts.setValue(500)
        saved = credentials.load_token()
        self.token_state = QLabel(f"Bearer token: {credentials.masked(saved)}")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(
            "Paste a bearer token (saved to the keyring, or a private file)"
            if not saved
            else "Leave empty to use the saved token"
        )
        self.error = QLabel()
        self.error.setObjectName("QueryError")
        form = QFormLayout()
        form.addRow("Import", self.mode)
        form.addRow("Query", self.query)
        form.addRow("At most", self.max_posts)
        form.addRow(self.token_state)
        form.addRow("Token", self.token)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _update_placeholder(self) -> None:
        self.query.setPlaceholderText(
            {
                "search": 'X search syntax, e.g. "grace hopper" has:images -is:retweet',
                "timeline": "username, e.g. @NASA",
                "stream": "a stream rule, e.g. (NASA OR SpaceX) has:images",
            }[self.mode.currentData()]
        )

    def _accept(self) -> None:
        if not self.query.text().strip():
            self.error.setText("Enter a query, a username or a rule.")
            return
        if self.token.text().strip():
            try:
                credentials.save_token(self.token.text())
            except (ValueError, OSError) as error:
                self.error.setText(f"Token not saved: {error}")
                return
        if not credentials.load_token():
            self.error.setText("A bearer token is needed (X developer portal → your app → Keys and tokens).")
            return
        self.accept()

    def request(self) -> XRequest:
        return XRequest(self.mode.currentData(), self.query.text().strip(), self.max_posts.value())
