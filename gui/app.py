"""Desktop entry point: `launch(paths, demo)` is what `python main.py [--demo]` calls."""

from __future__ import annotations

import os
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from core.config import AppPaths
from core.demo import prepare_demo
from gui.context import open_context
from gui.main_window import ICONS_DIR, MainWindow
from gui.theme import apply_theme
from storage import SchemaError


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("GroundLens")
    app.setOrganizationName("GroundLens")
    app.setWindowIcon(QIcon(str(ICONS_DIR / "app.svg")))
    apply_theme(app)
    return app


def missing_display() -> str | None:
    """Why a window cannot open here, if it cannot: Qt itself aborts with a plugin error instead."""
    if not sys.platform.startswith("linux"):
        return None
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return (
        "no display: $DISPLAY and $WAYLAND_DISPLAY are unset. Run GroundLens in a desktop session, "
        "or set QT_QPA_PLATFORM=offscreen; `python main.py --help` lists the headless commands."
    )


def launch(paths: AppPaths, demo: bool = False) -> int:
    problem = missing_display()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = application()
    try:
        if demo:
            setup = prepare_demo(paths)
            window = MainWindow(open_context(setup.paths), " — demo")
            if setup.pending:
                window.jobs.start_pipeline()
        else:
            window = MainWindow(open_context(paths))
    except (SchemaError, OSError, ValueError) as error:  # ValueError: a malformed settings.json
        QMessageBox.critical(None, "GroundLens", f"Cannot open the data folder {paths.data_dir}:\n{error}")
        return 1
    window.show()
    return app.exec()
