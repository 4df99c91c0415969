"""Small building blocks every page uses, so headings and cards look the same everywhere."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QFrame, QLabel, QVBoxLayout


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


# How Trends and the entity page count (their currentData: include retweets?); the first is the default.
COUNTING_CHOICES = (
    ("original posts only (default)", False),
    ("every post, retweets included", True),
)
COUNTING_HELP = (
    "Original posts only: each post once however often it was retweeted (retweets left out, as -is:retweet).\n"
    "Every post: each retweet counts again, which measures amplification."
)


def counting_choice(on_change: Callable[[], None]) -> QComboBox:
    """The originals / every-post choice; calls on_change when the analyst switches."""
    box = QComboBox()
    for text, include_retweets in COUNTING_CHOICES:
        box.addItem(text, include_retweets)
    box.setToolTip(COUNTING_HELP)
    box.currentIndexChanged.connect(lambda _index: on_change())
    return box
