"""Small building blocks every page uses, so headings and cards look the same everywhere."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout


def label(text: str, role: str) -> QLabel:
    """A QLabel styled by the theme's object name: PageTitle, SectionTitle, Muted or QueryError."""
    widget = QLabel(text)
    widget.setObjectName(role)
    return widget


def section(text: str) -> QLabel:
    return label(text, "SectionTitle")


def card(title: str) -> tuple[QFrame, QVBoxLayout]:
    """A white rounded panel with a section heading; returns the frame and its layout."""
    frame = QFrame()
    frame.setObjectName("Card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(14, 12, 14, 12)
    layout.addWidget(section(title))
    return frame, layout
