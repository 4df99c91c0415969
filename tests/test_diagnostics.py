"""The log file and crash reports: they exist where the README says, hold what a bug report needs,
and never the X bearer token, which is also absent from the database and from exports."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core import diagnostics
from groundlens.core.config import resolve_paths
from groundlens.core.diagnostics import (
    CRASH_DIR_NAME,
    LOG_LEVEL_ENV,
    close_logging,
    configure_logging,
    install_crash_handler,
)
from groundlens.core.ingest import credentials, x_api
from groundlens.core.jobs.worker import lock_for
from groundlens.core.settings import Settings
from groundlens.records import Entity
from groundlens.storage import Store
from tests.helpers.x_api import RecordedAdapter, fixture

TOKEN = "AAAAAAAAAAAAAAAAAAAAAGLdiag%2Bnostics-Qz7Xk2Lw0PmN4vR8tY6uJ3hF9sD1aW5eR7tG0yH2jK4lZ"
PIECES = [TOKEN[i : i + 12].encode() for i in range(21, len(TOKEN) - 11)]  # any 12 characters after the A's


@pytest.fixture
def token(tmp_path, monkeypatch):
    """The token saved the way the app's settings save it (no keyring here: the 0600 file)."""
    monkeypatch.setattr(credentials, "_keyring_usable", lambda: False)
    credentials.save_token(TOKEN, tmp_path / "config")
    return TOKEN


@pytest.fixture
def hooks(monkeypatch):
    """Whatever the test installs (excepthooks, the log handler, the root logger's level) is undone afterwards."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(diagnostics, "_installed", None)
    level = logging.getLogger().level
    yield
    close_logging()
    logging.getLogger().setLevel(level)


@pytest.fixture
def usual_umask():
    """The usual umask, under which files were 0644 and folders 0755; the test's own is restored."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def no_token_under(*roots: Path) -> None:
    """Not the token, nor any piece of it a cut repr or a wrapped line could leave."""
    files = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert not any(piece in data for piece in PIECES), path


def call_the_api(header: str) -> None:
    authorization = f"Bearer {header}"  # locals the crash report lists, this one cut short there
    sent = "GET /2/tweets/search/recent " + "." * 200 + f" Authorization: {authorization} " + "." * 40  # noqa: F841 - unused on purpose: a local the crash report must cut short
    raise RuntimeError(f"HTTP 401 sending Authorization: {authorization}")


def test_the_log_file_takes_every_level_but_never_the_token(tmp_path, token, hooks):
    path = configure_logging(tmp_path / "data", level="DEBUG")
    logger = logging.getLogger("groundlens.test")
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        logger.log(level, "level %s: Authorization: Bearer %s", logging.getLevelName(level), token)
    logger.info(f"formatted in place: {token}")
    try:
        call_the_api(token)
    except RuntimeError:
        logger.exception("request failed")
    close_logging()
    assert path == tmp_path / "data" / "logs" / "groundlens.log"
    text = path.read_text(encoding="utf-8")
    for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        assert f"{name} groundlens.test [MainThread] level {name}: Authorization: Bearer ***" in text
    assert "formatted in place: ***" in text
    assert "RuntimeError: HTTP 401 sending Authorization: Bearer ***" in text  # the traceback is redacted too
    no_token_under(path)


def test_crashes_in_any_thread_write_a_redacted_report(tmp_path, token, hooks, capsys):
    data = tmp_path / "data"
    log_file = configure_logging(data)
    seen: list[Path] = []
    install_crash_handler(data, on_crash=seen.append)
    try:
        call_the_api(token)
    except RuntimeError:
        sys.excepthook(*sys.exc_info())  # what Python does with an uncaught exception
    worker = threading.Thread(target=call_the_api, args=(token,), name="image-downloader")
    worker.start()
    worker.join()
    close_logging()
    reports = sorted((data / CRASH_DIR_NAME).glob("crash-*.txt"))
    assert len(reports) == 2 and sorted(seen) == reports
    texts = [report.read_text(encoding="utf-8") for report in reports]
    assert {t.splitlines()[2] for t in texts} == {"thread: MainThread", "thread: image-downloader"}
    for text in texts:
        assert "RuntimeError: HTTP 401 sending Authorization: Bearer ***" in text
        assert "authorization = 'Bearer ***'" in text and "header = '***'" in text  # the locals, redacted
        assert "sent = 'GET /2/tweets/search/recent ....." in text
        assert "Python 3." in text and "groundlens 0.1.0" in text
    assert "uncaught RuntimeError in image-downloader" in log_file.read_text(encoding="utf-8")
    printed = capsys.readouterr().err
    assert all(f"the report is in {report}" in printed for report in reports)
    assert token not in printed
    no_token_under(data)


def test_ctrl_c_is_not_a_crash(tmp_path, hooks):
    passed_on = []
    sys.excepthook = lambda *exc: passed_on.append(exc[0])
    install_crash_handler(tmp_path)
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert passed_on == [KeyboardInterrupt] and not (tmp_path / CRASH_DIR_NAME).exists()


def test_an_unwritable_data_folder_costs_the_log_not_the_command(tmp_path, hooks, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert configure_logging(blocker) is None
    assert "no log file" in capsys.readouterr().err


def test_x_search_log_database_and_exports_never_hold_the_token(tmp_path, hooks, monkeypatch):
    """The real command line end to end: `x search` (recorded API, tweepy logging its request
    headers at DEBUG), then `export` as JSONL and CSV."""
    monkeypatch.setenv(credentials.TOKEN_ENV, TOKEN)
    monkeypatch.setenv(LOG_LEVEL_ENV, "DEBUG")
    make_client = x_api.make_client

    def recorded_client(token):
        client = make_client(token)
        client.session.mount(
            "https://",
            RecordedAdapter({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json")}),
        )
        return client

    monkeypatch.setattr(x_api, "make_client", recorded_client)
    data, runner = tmp_path / "data", CliRunner()
    searched = runner.invoke(cli, ["--data-dir", str(data), "x", "search", "nba", "--no-download"])
    assert searched.exit_code == 0, searched.output
    with Store.open(data / "groundlens.db") as store:
        for post_id in store.post_ids(None):
            text = store.get_post(post_id).text
            store.save_result(post_id, "cfg", [Entity(0, len(text.split()[0]), text.split()[0], "PER")], None)
    exports = [tmp_path / "posts.jsonl", tmp_path / "mentions.csv"]
    for out, fmt in zip(exports, ("jsonl", "csv")):
        exported = runner.invoke(cli, ["--data-dir", str(data), "export", str(out), "--format", fmt])
        assert exported.exit_code == 0, exported.output
        assert len(out.read_text(encoding="utf-8").splitlines()) > 1
    close_logging()
    log_text = (data / "logs" / "groundlens.log").read_text(encoding="utf-8")
    assert "Making API request" in log_text and "Bearer ***" in log_text  # the header was logged, redacted
    assert TOKEN not in searched.output
    no_token_under(data, *exports)


def test_the_app_shows_a_crash_in_a_non_modal_box(qtbot, tmp_path):
    from groundlens.gui.app import CrashNotice, application

    application()
    notice = CrashNotice()
    report = tmp_path / "crash-reports" / "crash-20260101-120000.txt"
    threading.Thread(target=notice.report, args=(report,)).start()  # crashes happen in worker threads too
    qtbot.waitUntil(lambda: len(notice.boxes) == 1)
    box = notice.boxes[0]
    assert str(report) in box.text() and not box.isModal() and box.isVisible()
    box.close()
    qtbot.waitUntil(lambda: notice.boxes == [])


def test_every_command_leaves_its_start_in_the_log(tmp_path, hooks):
    data = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "stats"])
    assert result.exit_code == 0, result.output
    close_logging()
    assert "INFO groundlens [MainThread] started: stats" in (data / "logs" / "groundlens.log").read_text("utf-8")


BACKSLASHED = 'AAAAAAAAAAAAAAAAAAAAAGLdiag\\nostics+Qz7Xk2"Lw0/PmN4vR8tY6uJ3hF9sD1aW5eR7tG0yH2jK4lZé'


def test_a_token_with_backslashes_quotes_or_url_characters_is_masked_in_every_form(tmp_path, hooks, monkeypatch):
    """A repr doubles the backslash and escapes the quote and the é, JSON escapes them otherwise, a URL
    percent-encodes them: each is how a library may log the token, and none may survive."""
    monkeypatch.setenv(credentials.TOKEN_ENV, BACKSLASHED)
    path = configure_logging(tmp_path / "data", level="DEBUG")
    logger = logging.getLogger("groundlens.test")
    headers = {"Authorization": f"Bearer {BACKSLASHED}"}
    logger.debug("sending %r", headers)  # how requests and urllib3 log their headers
    logger.debug("sending %s", repr(repr(headers)))  # a repr inside a repr
    logger.debug("body %s", json.dumps({"token": BACKSLASHED}))
    logger.debug("url https://example.com/?token=%s and %s", quote(BACKSLASHED, safe=""), quote_plus(BACKSLASHED))
    logger.debug("bytes %r", BACKSLASHED.encode())
    close_logging()
    text = path.read_text(encoding="utf-8")
    assert text.count("***") == 6, text  # each line, the URL line twice
    pieces = [BACKSLASHED[i : i + 12] for i in range(21, len(BACKSLASHED) - 11)]
    assert not any(piece in text for piece in pieces), text
    assert not any(p in text for p in ("Qz7Xk2", "PmN4vR8tY6", "9sD1aW5eR7")), text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_what_it_holds_are_private_to_the_user(tmp_path, hooks, usual_umask):
    data = tmp_path / "data"
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "text": "Paris"}\n', encoding="utf-8")
    assert CliRunner().invoke(cli, ["--data-dir", str(data), "import", str(posts)]).exit_code == 0
    Settings().save(data / "settings.json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    close_logging()
    (report,) = (data / CRASH_DIR_NAME).glob("crash-*.txt")
    with lock_for(resolve_paths(data)).acquire(timeout=5):
        lock = data / "pipeline.lock"
        assert mode(lock) == 0o600
    for folder in (data, data / "images", data / "logs", data / CRASH_DIR_NAME):
        assert mode(folder) == 0o700, folder
    for file in (data / "groundlens.db", data / "logs" / "groundlens.log", report, data / "settings.json"):
        assert mode(file) == 0o600, file


def test_an_existing_world_readable_data_folder_is_narrowed_but_a_foreign_folder_is_not(tmp_path, hooks, usual_umask):
    old, foreign = tmp_path / "old", tmp_path / "foreign"
    Store.open(tmp_path / "made.db").close()
    old.mkdir(mode=0o755)
    (tmp_path / "made.db").rename(old / "groundlens.db")
    os.chmod(old / "groundlens.db", 0o644)  # as an earlier GroundLens left it
    foreign.mkdir(mode=0o755)
    (foreign / "notes.txt").write_text("the analyst's own files")
    for folder in (old, foreign):
        assert CliRunner().invoke(cli, ["--data-dir", str(folder), "stats"]).exit_code == 0
    assert mode(old) == 0o700 and mode(old / "groundlens.db") == 0o600
    assert mode(foreign) == 0o755 and mode(foreign / "groundlens.db") == 0o600
