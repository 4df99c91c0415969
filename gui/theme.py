"""One palette for the whole app, so a type has the same colour in text, chips, masks, boxes and charts.

Light or dark follows the OS (Qt's colour scheme, also when it changes while the app runs). Entity colours
are by type unless the analyst turns on per-instance colours (Settings), which give every entity of a post
its own colour so that two people in one photo can be told apart; that choice is kept in QSettings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from groundlens.core.palette import TYPE_COLORS, TYPE_NAMES  # noqa: F401 - the views import them from here

# Per-instance colours (Tableau 10): distinct from each other, each carries a white label on a photo.
INSTANCE_COLORS = (
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#59A14F",
    "#B07AA1",
    "#9C755F",
    "#FF9DA7",
    "#76B7B2",
    "#EDC948",
    "#BAB0AC",
)
GOLD_COLOR = "#F0E442"
GOLD_TEXT = "#7A6C00"  # gold on white backgrounds, where the yellow would not read (contrast 5.3)
ACCENT = "#2F6FEB"
ERROR_COLOR = "#C62828"
MUTED = "#6B7280"
CANVAS_BG = "#1F2328"

STATE_COLORS: dict[str, str] = {
    "done": "#2E7D32",
    "running": ACCENT,
    "pending": "#8A8F98",
    "failed": ERROR_COLOR,
}
PER_INSTANCE_KEY = "appearance/per_instance_colours"


@dataclass(frozen=True)
class Scheme:
    """The colours of one scheme, by role; painters and rich text ask `scheme()` at paint time."""

    dark: bool
    window: str  # page background
    base: str  # lists, text fields, cards
    alternate: str
    text: str
    secondary: str  # post snippets, table headers
    muted: str
    border: str
    divider: str  # row separators, grid lines
    hover: str
    selected: str
    badge: str  # thumbnail placeholder, key caps
    gold_text: str
    accent: str = ACCENT


LIGHT = Scheme(
    False,
    window="#F6F7F9",
    base="#FFFFFF",
    alternate="#F8F9FB",
    text="#1F2328",
    secondary="#4B5058",
    muted=MUTED,
    border="#E3E5E8",
    divider="#EEF0F2",
    hover="#F0F2F5",
    selected="#E8EFFD",
    badge="#E9ECEF",
    gold_text=GOLD_TEXT,
)
DARK = Scheme(
    True,
    window="#16181C",
    base="#1E2126",
    alternate="#23272D",
    text="#E6E8EB",
    secondary="#C3C8CF",
    muted="#9AA1AC",
    border="#30353D",
    divider="#2A2E35",
    hover="#272B32",
    selected="#1E3A66",
    badge="#2A2E35",
    gold_text="#E8D44D",
    accent="#5B8DEF",
)
_current = LIGHT


def scheme() -> Scheme:
    return _current


def type_color(entity_type: str) -> QColor:
    return QColor(TYPE_COLORS.get(entity_type, TYPE_COLORS["OTHER"]))


def tinted(hex_color: str, alpha: float) -> str:
    """CSS rgba() for a hex colour, for highlight backgrounds in rich text and stylesheets."""
    c = QColor(hex_color)
    return f"rgba({c.red()},{c.green()},{c.blue()},{alpha:.2f})"


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21; 4.5 is the floor for small text)."""

    def luminance(color: str) -> float:
        shade = QColor(color)
        channels = (shade.redF(), shade.greenF(), shade.blueF())
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(color: str, on: str | None = None) -> str:
    """`color` lightened (on a dark background) or darkened (on a light one) until small text in it reads
    on `on` (the scheme's base by default): a type's colour as text, in either scheme."""
    background = on or _current.base
    if contrast(color, background) >= 4.5:
        return color
    shade = QColor(color)
    lighten = contrast("#FFFFFF", background) > contrast("#000000", background)
    for _ in range(20):
        if contrast(shade.name(), background) >= 4.5:
            break
        shade = shade.lighter(112) if lighten else shade.darker(112)
    return shade.name()


# --- entity colours -------------------------------------------------------------------------------


class _Changes(QObject):
    changed = Signal()  # the scheme or the colour mode changed: re-render what was drawn with colours


_changes: _Changes | None = None


def changes() -> _Changes:
    global _changes
    if _changes is None:
        _changes = _Changes()
    return _changes


def per_instance() -> bool:
    return bool(QSettings().value(PER_INSTANCE_KEY, False, type=bool))


def set_per_instance(on: bool) -> None:
    QSettings().setValue(PER_INSTANCE_KEY, on)
    changes().changed.emit()


def entity_colors(entities: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A colour per entity key, from (key, type) pairs in display order: its type's colour, or with
    per-instance colours on, the next of INSTANCE_COLORS, so no two entities of a post share one."""
    if per_instance():
        return {key: INSTANCE_COLORS[i % len(INSTANCE_COLORS)] for i, (key, _) in enumerate(entities)}
    return {key: TYPE_COLORS.get(kind, TYPE_COLORS["OTHER"]) for key, kind in entities}


# --- application style ----------------------------------------------------------------------------


def stylesheet(s: Scheme) -> str:
    return f"""
QMainWindow, QDialog {{ background: {s.window}; }}
QToolBar {{ background: {s.base}; border: none; border-bottom: 1px solid {s.border}; spacing: 6px; padding: 4px 8px; }}
QListWidget#NavRail {{ background: {s.base}; border: none; border-right: 1px solid {s.border}; outline: none; padding-top: 6px; }}
QListWidget#NavRail::item {{ padding: 8px 10px; border-radius: 6px; margin: 1px 6px; color: {s.text}; }}
QListWidget#NavRail::item:selected {{ background: {s.selected}; color: {s.accent}; }}
QListWidget#NavRail::item:hover:!selected {{ background: {s.hover}; }}
QLineEdit#QueryEdit {{ border: 1px solid {s.border}; border-radius: 6px; padding: 5px 8px; background: {s.base}; color: {s.text}; font-size: 13px; }}
QLineEdit#QueryEdit:focus {{ border-color: {s.accent}; }}
QLineEdit#QueryEdit[invalid="true"] {{ border-color: {ERROR_COLOR}; }}
QLabel#QueryError {{ color: {readable(ERROR_COLOR, s.window)}; font-size: 12px; }}
QLabel#PageTitle {{ font-size: 18px; font-weight: 600; color: {s.text}; }}
QLabel#SectionTitle {{ font-size: 12px; font-weight: 600; color: {s.muted}; text-transform: uppercase; }}
QLabel#Muted {{ color: {s.muted}; }}
QFrame#Card {{ background: {s.base}; border: 1px solid {s.border}; border-radius: 8px; }}
QListView#Feed {{ background: {s.base}; border: none; border-right: 1px solid {s.border}; }}
QTextBrowser#PostText {{ background: {s.base}; color: {s.text}; border: 1px solid {s.border}; border-radius: 8px; padding: 8px; font-size: 14px; }}
QGraphicsView#Canvas {{ background: {CANVAS_BG}; border: none; }}
QTableView {{ background: {s.base}; border: 1px solid {s.border}; gridline-color: {s.divider}; selection-background-color: {s.selected}; selection-color: {s.text}; }}
QHeaderView::section {{ background: {s.window}; border: none; border-bottom: 1px solid {s.border}; padding: 4px 6px; color: {s.secondary}; }}
QToolBar#OverlayBar {{ background: {s.base}; border-bottom: 1px solid {s.border}; padding: 3px 6px; spacing: 3px; }}
QToolBar#OverlayBar QPushButton {{ padding: 3px 8px; }}
QPushButton {{ padding: 5px 12px; border: 1px solid {s.border}; border-radius: 6px; background: {s.base}; color: {s.text}; }}
QPushButton:hover {{ background: {s.hover}; }}
QPushButton:checked {{ background: {s.selected}; border-color: {s.accent}; color: {readable(s.accent, s.selected)}; }}
QPushButton#Primary {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton#Primary:disabled {{ background: {tinted(ACCENT, 0.45)}; border-color: {tinted(ACCENT, 0.45)}; }}
QProgressBar {{ border: 1px solid {s.border}; border-radius: 5px; text-align: center; background: {s.base}; height: 16px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QStatusBar {{ background: {s.base}; border-top: 1px solid {s.border}; color: {s.secondary}; }}
"""


def _palette(s: Scheme) -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, s.window),
        (QPalette.ColorRole.Base, s.base),
        (QPalette.ColorRole.AlternateBase, s.alternate),
        (QPalette.ColorRole.Text, s.text),
        (QPalette.ColorRole.WindowText, s.text),
        (QPalette.ColorRole.ButtonText, s.text),
        (QPalette.ColorRole.Highlight, s.selected),
        (QPalette.ColorRole.HighlightedText, s.text),
        (QPalette.ColorRole.Button, s.base),
        (QPalette.ColorRole.ToolTipBase, s.base),
        (QPalette.ColorRole.ToolTipText, s.text),
        (QPalette.ColorRole.PlaceholderText, s.muted),
        (QPalette.ColorRole.Link, readable(s.accent, s.base)),
    ):
        palette.setColor(role, QColor(color))
    return palette


def system_is_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, dark: bool | None = None) -> None:
    """Fusion + this app's palette: the same look on every OS, so screenshots match docs. `dark` None
    follows the OS, now and whenever it switches (Qt 6.5+ reports the scheme; elsewhere: light)."""
    global _current
    if dark is None:
        dark = system_is_dark(app)
        if not app.property("groundlens_follows_scheme"):
            app.setProperty("groundlens_follows_scheme", True)
            app.styleHints().colorSchemeChanged.connect(lambda chosen: apply_theme(app, chosen == Qt.ColorScheme.Dark))
    _current = DARK if dark else LIGHT
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    app.setStyleSheet(stylesheet(_current))
    changes().changed.emit()
