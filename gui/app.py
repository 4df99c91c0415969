"""Desktop entry point: `launch(paths, demo)` is what `python main.py [--demo]` calls."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from groundlens.core.config import AppPaths
from groundlens.core.demo import prepare_demo
from groundlens.core.diagnostics import install_crash_handler
from groundlens.gui.context import open_context
from groundlens.gui.main_window import ICONS_DIR, MainWindow
from groundlens.gui.theme import apply_theme
from groundlens.storage import StoreError

log = logging.getLogger(__name__)
# libraries the GUI process must never load: the models run in worker processes (pyproject's import contracts)
MODEL_LIBRARIES = ("torch", "transformers", "cv2", "onnxruntime", "segment_anything", "rapidocr")


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("GroundLens")
    app.setOrganizationName("GroundLens")
    app.setWindowIcon(QIcon(str(ICONS_DIR / "app.svg")))
    apply_theme(app)
    return app


class CrashNotice(QObject):
    """Tells the analyst, in a non-modal box, that something failed and where its report is, instead of
    the error going by unseen. `report` may be called from any thread: the box opens on the GUI thread."""

    reported = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.boxes: list[QMessageBox] = []  # kept alive while shown
        self.reported.connect(self._show)

    def report(self, path: Path) -> None:
        self.reported.emit(str(path))

    def _show(self, path: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "GroundLens",
            "Something went wrong. GroundLens wrote a report of the error (without your X token) to:\n"
            f"{path}\n\nYou can keep working; if the app misbehaves, restart it.",
        )
        box.setModal(False)
        box.finished.connect(lambda _result, shown=box: self.boxes.remove(shown))
        self.boxes.append(box)
        box.show()


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
    notice = CrashNotice(app)
    install_crash_handler(paths.data_dir, on_crash=notice.report)
    try:
        if demo:
            setup = prepare_demo(paths)
            window = MainWindow(open_context(setup.paths), " — demo")
            if setup.pending:
                window.jobs.start_pipeline()
        else:
            window = MainWindow(open_context(paths))
    except (StoreError, OSError, ValueError) as error:  # ValueError: a malformed settings.json
        QMessageBox.critical(None, "GroundLens", f"Cannot open the data folder {paths.data_dir}:\n{error}")
        return 1
    window.show()
    loaded = [name for name in MODEL_LIBRARIES if name in sys.modules]
    log.info(
        "main window shown: %d modules loaded, model libraries loaded: %s",
        len(sys.modules),
        ", ".join(loaded) or "none",
    )
    return app.exec()
