"""One palette for the whole app, so a type has the same colour in text, chips, masks, boxes and charts."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from groundlens.core.palette import TYPE_COLORS, TYPE_NAMES  # noqa: F401 - the views import them from here

GOLD_COLOR = "#F0E442"
GOLD_TEXT = "#8A7A00"  # gold on white backgrounds, where the yellow would not read
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


def type_color(entity_type: str) -> QColor:
    return QColor(TYPE_COLORS.get(entity_type, TYPE_COLORS["OTHER"]))


def tinted(hex_color: str, alpha: float) -> str:
    """CSS rgba() for a hex colour, for highlight backgrounds in rich text and stylesheets."""
    c = QColor(hex_color)
    return f"rgba({c.red()},{c.green()},{c.blue()},{alpha:.2f})"


STYLESHEET = f"""
QMainWindow, QDialog {{ background: #F6F7F9; }}
QToolBar {{ background: #FFFFFF; border: none; border-bottom: 1px solid #E3E5E8; spacing: 6px; padding: 4px 8px; }}
QListWidget#NavRail {{ background: #FFFFFF; border: none; border-right: 1px solid #E3E5E8; outline: none; padding-top: 6px; }}
QListWidget#NavRail::item {{ padding: 8px 10px; border-radius: 6px; margin: 1px 6px; color: #30343B; }}
QListWidget#NavRail::item:selected {{ background: #E8EFFD; color: {ACCENT}; }}
QListWidget#NavRail::item:hover:!selected {{ background: #F0F2F5; }}
QLineEdit#QueryEdit {{ border: 1px solid #CBD0D6; border-radius: 6px; padding: 5px 8px; background: #FFFFFF; font-size: 13px; }}
QLineEdit#QueryEdit:focus {{ border-color: {ACCENT}; }}
QLineEdit#QueryEdit[invalid="true"] {{ border-color: {ERROR_COLOR}; }}
QLabel#QueryError {{ color: {ERROR_COLOR}; font-size: 12px; }}
QLabel#PageTitle {{ font-size: 18px; font-weight: 600; color: #1F2328; }}
QLabel#SectionTitle {{ font-size: 12px; font-weight: 600; color: {MUTED}; text-transform: uppercase; }}
QLabel#Muted {{ color: {MUTED}; }}
QFrame#Card {{ background: #FFFFFF; border: 1px solid #E3E5E8; border-radius: 8px; }}
QListView#Feed {{ background: #FFFFFF; border: none; border-right: 1px solid #E3E5E8; }}
QTextBrowser#PostText {{ background: #FFFFFF; border: 1px solid #E3E5E8; border-radius: 8px; padding: 8px; font-size: 14px; }}
QGraphicsView#Canvas {{ background: {CANVAS_BG}; border: none; }}
QTableView {{ background: #FFFFFF; border: 1px solid #E3E5E8; gridline-color: #EEF0F2; selection-background-color: #E8EFFD; selection-color: #1F2328; }}
QHeaderView::section {{ background: #F6F7F9; border: none; border-bottom: 1px solid #E3E5E8; padding: 4px 6px; color: #4B5058; }}
QToolBar#OverlayBar {{ background: #FFFFFF; border-bottom: 1px solid #E3E5E8; padding: 3px 6px; spacing: 3px; }}
QToolBar#OverlayBar QPushButton {{ padding: 3px 8px; }}
QPushButton {{ padding: 5px 12px; border: 1px solid #CBD0D6; border-radius: 6px; background: #FFFFFF; }}
QPushButton:hover {{ background: #F0F2F5; }}
QPushButton:checked {{ background: #E8EFFD; border-color: {ACCENT}; color: {ACCENT}; }}
QPushButton#Primary {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton#Primary:disabled {{ background: #9DB7F0; border-color: #9DB7F0; }}
QProgressBar {{ border: 1px solid #CBD0D6; border-radius: 5px; text-align: center; background: #FFFFFF; height: 16px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QStatusBar {{ background: #FFFFFF; border-top: 1px solid #E3E5E8; color: #4B5058; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion + a light palette: identical look on every OS, so screenshots match docs."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#F6F7F9"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#F8F9FB"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#1F2328"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#1F2328"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#E8EFFD"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#1F2328"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#1F2328"))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
