"""Where GroundLens writes down what went wrong: a rotating log file and crash reports, never a secret.

Both live in the data folder, `logs/groundlens.log` (5 MB, three older files kept) and
`crash-reports/crash-YYYYmmdd-HHMMSS.txt`, so that an analyst can attach them to a bug report;
both are readable by the user alone (0600 files in 0700 folders, core.private). The CLI, the app
and the pipeline worker process each set them up, so a worker failure lands there with its traceback.
Everything either one writes goes through `core.redact` as whole text (message, arguments,
traceback, the reprs of a crashed frame's local variables): the X bearer token cannot reach them
even where it sits in an exception's message or in a local variable. Writing them must never be
what stops the work, so a data folder that cannot hold them is reported once and left alone.
"""

from __future__ import annotations

import importlib.metadata
import logging
import logging.handlers
import os
import platform
import reprlib
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from groundlens.core.config import private_data_folder
from groundlens.core.private import open_private, private_folder
from groundlens.core.redact import RedactingFilter, redact, register_environment_secrets

LOG_DIR_NAME = "logs"
LOG_FILE_NAME = "groundlens.log"
CRASH_DIR_NAME = "crash-reports"
LOG_LEVEL_ENV = "GROUNDLENS_LOG_LEVEL"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 3
_PACKAGES = (
    "groundlens",
    "torch",
    "transformers",
    "PySide6-Essentials",
    "Pillow",
    "requests",
    "tweepy",
    "sqlite-utils",
)


class _RedactingRepr(reprlib.Repr):
    """Short reprs (a post list or a megabyte of text stays one line) redacted before they are cut,
    so a cut can never leave part of a secret behind."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = 200

    def repr_str(self, x: str, level: int) -> str:
        return super().repr_str(redact(x), level)

    def repr_instance(self, x: object, level: int) -> str:
        text = redact(repr(x))
        return text if len(text) <= self.maxother else f"{text[: self.maxother // 2]}...{text[-self.maxother // 2 :]}"


_LOCALS = _RedactingRepr()

log = logging.getLogger(__name__)
CrashCallback = Callable[[Path], None]


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record: RedactingFilter sees only the message, not the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateLogFile(logging.handlers.RotatingFileHandler):
    """The rotating log, each file created (or found) readable by the user alone."""

    def _open(self) -> TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return cast(TextIOWrapper, open(fd, self.mode, encoding=self.encoding, errors=self.errors))  # text mode


def _handler() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if getattr(h, "groundlens", False)), None)


def log_file() -> Path | None:
    """The file this process logs to, if any."""
    handler = _handler()
    return Path(handler.baseFilename) if isinstance(handler, logging.FileHandler) else None


def configure_logging(data_dir: Path, level: str | int | None = None) -> Path | None:
    """Log to `<data_dir>/logs/groundlens.log` from here on (INFO, or $GROUNDLENS_LOG_LEVEL); returns the
    file, or None when the folder cannot be written. Calling it again moves the log to the new folder."""
    register_environment_secrets()
    chosen = level or os.environ.get(LOG_LEVEL_ENV, "").strip().upper() or logging.INFO
    path = Path(data_dir) / LOG_DIR_NAME / LOG_FILE_NAME
    close_logging()
    try:
        private_folder(private_data_folder(Path(data_dir)) / LOG_DIR_NAME)
        handler = _PrivateLogFile(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True)
        handler.setLevel(chosen)
    except (OSError, ValueError) as error:  # ValueError: an unknown level name
        print(f"warning: no log file: {error}", file=sys.stderr)
        return None
    handler.groundlens = True  # type: ignore[attr-defined]  # marks the handler ours, for close_logging to find
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.getEffectiveLevel() > handler.level:
        root.setLevel(handler.level)
    return path


def close_logging() -> None:
    """Stop writing the log file (tests; before the data folder moves)."""
    handler = _handler()
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _versions() -> str:
    found = []
    for name in _PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return (
        f"Python {platform.python_version()} on {platform.platform()}; SQLite {sqlite3.sqlite_version}\n"
        + ", ".join(found)
    )


def _frame_locals(tb: TracebackType | None) -> list[str]:
    lines = []
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}')
        for name, value in tb.tb_frame.f_locals.items():
            if name.startswith("__"):  # a module's __builtins__, __loader__...
                continue
            try:
                shown = _LOCALS.repr(value)
            except Exception as error:  # noqa: BLE001 - a broken __repr__ must not lose the report
                shown = f"<repr failed: {type(error).__name__}>"
            lines.append(f"    {name} = {shown}")
        tb = tb.tb_next
    return lines


def crash_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, thread: str) -> str:
    """The report's text, already redacted: when, where, versions, the traceback, each frame's locals."""
    text = "\n".join(
        [
            "GroundLens crash report",
            f"time: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
            f"thread: {thread}",
            f"command: {' '.join(sys.argv)}",
            _versions(),
            "",
            "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
            "",
            "Local variables, innermost frame last:",
            *_frame_locals(tb),
        ]
    )
    return redact(text) + "\n"


def write_crash_report(crash_dir: Path, text: str) -> Path:
    private_folder(private_data_folder(crash_dir.parent) / crash_dir.name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):  # two threads crashing in the same second keep both reports
        path = crash_dir / f"crash-{stamp}{'' if n == 1 else f'-{n}'}.txt"
        try:
            with open(open_private(path, os.O_WRONLY | os.O_EXCL), "w", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"too many crash reports for {stamp} in {crash_dir}")


@dataclass
class _CrashHandler:
    crash_dir: Path
    on_crash: CrashCallback | None
    previous_hook: Callable[..., Any]

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, thread: str) -> None:
        if _handler() is not None:  # only to the log file: Python's last-resort stderr handler does not redact
            log.critical("uncaught %s in %s", exc_type.__name__, thread, exc_info=(exc_type, exc, tb))
        print(redact("".join(traceback.format_exception(exc_type, exc, tb))), file=sys.stderr, end="")
        try:
            path = write_crash_report(self.crash_dir, crash_report(exc_type, exc, tb, thread))
        except OSError as error:
            print(f"GroundLens stopped on an error and could not write a crash report: {error}", file=sys.stderr)
            return
        print(f"GroundLens stopped on an error; the report is in {path}", file=sys.stderr)
        if self.on_crash is not None:
            self.on_crash(path)

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl-C is not a crash
            self.previous_hook(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb, threading.current_thread().name)

    def threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.handle(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback, name)


_installed: _CrashHandler | None = None


def install_crash_handler(data_dir: Path, on_crash: CrashCallback | None = None) -> None:
    """From here on an uncaught exception, in any thread, writes `<data_dir>/crash-reports/crash-*.txt`,
    prints it (redacted) and its path to stderr, and calls `on_crash(path)` (the GUI's message box).
    Calling it again points it at the new folder and callback."""
    global _installed
    crash_dir = Path(data_dir) / CRASH_DIR_NAME
    if _installed is not None and sys.excepthook == _installed.excepthook:
        _installed.crash_dir, _installed.on_crash = crash_dir, on_crash
        return
    _installed = _CrashHandler(crash_dir, on_crash, previous_hook=sys.excepthook)
    sys.excepthook = _installed.excepthook
    threading.excepthook = _installed.threading_hook
