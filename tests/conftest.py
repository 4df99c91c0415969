"""Fixtures shared by the whole suite."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Commands run without --data-dir must not write logs or crash reports into the user's own data folder.
os.environ["GROUNDLENS_DATA_DIR"] = tempfile.mkdtemp(prefix="groundlens-tests-")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "twitter-gmner"


@pytest.fixture(autouse=True)
def _no_lasting_log_or_crash_hooks():
    """The CLI installs a log file and crash hooks per run; each test starts and ends without them."""
    hooks = sys.excepthook, threading.excepthook
    yield
    from groundlens.core.diagnostics import close_logging

    close_logging()
    sys.excepthook, threading.excepthook = hooks


@pytest.fixture(autouse=True, scope="session")
def _own_qt_preferences(tmp_path_factory):
    """Qt's per-user preferences (QSettings: per-instance colours) in a folder of the test run, so the suite
    neither reads the user's choices (tests would depend on them) nor writes over them."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("qt")))


@pytest.fixture(scope="session")
def gmner_data() -> Path:
    """The Twitter-GMNER train/dev data beside the repo (CI has it; a user's clone may not)."""
    if not (SHARED_DATA / "txt" / "dev.txt").exists():
        pytest.skip(f"Twitter-GMNER data not found at {SHARED_DATA} (only CI and developer machines have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mobile_sam_weights() -> Path:
    """The installed MobileSAM checkpoint, found through the model store. The README's set-up installs
    it, so a missing file fails (with the command to run) instead of skipping."""
    from groundlens.core.config import resolve_paths
    from groundlens.core.modelstore import ModelNotInstalledError, require

    try:
        return require("mobile_sam", resolve_paths())
    except ModelNotInstalledError as error:
        pytest.fail(f"MobileSAM weights missing: {error}. Run `python main.py models install` first.")


# --- the demo in the real main window (the GUI tests) ----------------------------------------------


@pytest.fixture
def demo_paths(tmp_path):
    """The real demo import, then predictions (and one post's gold) saved through the store."""
    from tests.helpers.demo import demo_with_predictions

    return demo_with_predictions(tmp_path)


@pytest.fixture
def window(qtbot, demo_paths):
    """The main window on the demo, shown, with its feed and inspector filled."""
    from groundlens.gui.app import application
    from groundlens.gui.context import open_context
    from groundlens.gui.main_window import MainWindow

    application()
    win = MainWindow(open_context(demo_paths))
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    qtbot.waitUntil(lambda: win.feed.model.rowCount() == 10 and win.inspector.bundle is not None, timeout=10_000)
    yield win
    win.close()


# --- X API on recorded payloads (tests.helpers.x_api) ------------------------------------------------


@pytest.fixture
def token_never_logged(caplog):
    """Every test runs with DEBUG logging (where tweepy prints request headers); none may show the token."""
    from tests.helpers.x_api import TOKEN

    caplog.set_level(logging.DEBUG)
    yield
    assert TOKEN not in caplog.text


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The retry waits x_api asks for, recorded instead of slept."""
    from groundlens.core.ingest import x_api

    asked: list[float] = []
    monkeypatch.setattr(x_api, "_cancellable_sleep", lambda cancel: asked.append)
    return asked


@pytest.fixture
def stream_waits(monkeypatch) -> list[float]:
    """The waits tweepy's stream asks for before reconnecting, recorded instead of slept."""
    import tweepy.streaming

    asked: list[float] = []
    monkeypatch.setattr(tweepy.streaming, "sleep", asked.append)
    return asked


# --- a local image host ------------------------------------------------------------------------------


@pytest.fixture()
def served(tmp_path, monkeypatch):
    """A static http server on 127.0.0.1 over tmp_path/www (so private hosts are allowed for these tests)."""
    monkeypatch.setenv("GROUNDLENS_ALLOW_PRIVATE_HOSTS", "1")
    www = tmp_path / "www"
    www.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
