"""Desktop entry point: `launch(paths, demo)` is what `python main.py [--demo]` calls."""

from __future__ import annotations

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


def launch(paths: AppPaths, demo: bool = False) -> int:
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
