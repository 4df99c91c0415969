"""The "?" sheet: every shortcut, grouped, from gui.shortcuts."""

from __future__ import annotations

import html
from itertools import groupby

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from groundlens.gui.shortcuts import SHORTCUTS


def sheet_html() -> str:
    parts = ["<table cellspacing='0' cellpadding='4'>"]
    for group, items in groupby(SHORTCUTS, key=lambda s: s.group):
        parts.append(
            f"<tr><td colspan='2' style='padding-top:10px;color:#6B7280;font-weight:600'>{group.upper()}</td></tr>"
        )
        for shortcut in items:
            keys = " ".join(
                f"<span style='background:#EEF0F2;border:1px solid #D0D4D9;font-family:monospace'>&nbsp;{html.escape(k)}&nbsp;</span>"
                for k in shortcut.keys
            )
            parts.append(
                f"<tr><td style='padding-right:18px'>{keys}</td><td>{html.escape(shortcut.description)}</td></tr>"
            )
    parts.append("</table>")
    return "".join(parts)


class ShortcutSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        label = QLabel(sheet_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)
