"""One SQLite connection per Store, tuned for one writer at a time and many readers (WAL).

Workers in other processes write while the GUI reads, so every operation runs inside an
explicit transaction that is retried when SQLite still reports "locked" after busy_timeout.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, overload

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from groundlens.storage.normalize import fold

if TYPE_CHECKING:
    import sqlite_utils

T = TypeVar("T")
BUSY_TIMEOUT_MS = 15_000
DAY_SECONDS = 86_400
# SQL for "these ids", bound as one JSON array: any number of ids in one parameter (no 999-variable limit)
IDS = "(SELECT value FROM json_each(?))"


def day_sql(column: str) -> str:
    """SQL for floor(column / 86400): SQLite's `/` truncates toward zero, wrong before 1970."""
    return f"(({column}) - ((({column}) % {DAY_SECONDS}) + {DAY_SECONDS}) % {DAY_SECONDS}) / {DAY_SECONDS}"


def _make_private(path: Path) -> None:
    """What analysts collect is theirs alone: a new database (an empty file is a valid one) is created 0600,
    an existing one loses its group and other permissions; SQLite gives -wal and -shm the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:
        return  # a missing folder, no permission: SQLite's own open says what is wrong
    if path.is_file() and (mode := stat.S_IMODE(path.stat().st_mode)) & 0o077:
        with contextlib.suppress(OSError):  # another user's file: not ours to change
            os.chmod(path, mode & ~0o077)


def connect(path: Path) -> sqlite3.Connection:
    _make_private(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        _tune(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _tune(conn: sqlite3.Connection) -> None:
    for pragma in (
        f"busy_timeout = {BUSY_TIMEOUT_MS}",
        "journal_mode = WAL",
        "synchronous = NORMAL",  # durable at checkpoints; a power cut loses at most the last commits
        "foreign_keys = ON",
        "temp_store = MEMORY",
        "cache_size = -65536",  # 64 MiB page cache
        "wal_autocheckpoint = 10000",  # 40 MB: bulk imports copy hot index pages back to the file less often
    ):
        conn.execute(f"PRAGMA {pragma}")
    register_functions(conn)


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the schema relies on: search_fold(text) is what the post full-text index holds
    (storage.normalize.fold), so the index, its delete trigger and the queries fold text alike."""
    conn.create_function("search_fold", 1, _fold_or_null, deterministic=True)


def _fold_or_null(text: str | None) -> str | None:
    return None if text is None else fold(text)  # a post's OCR text is NULL until its image is read


def introspect(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils over this connection, for reading the schema (tables, columns, full-text indexes).

    Imported here, not at module level: sqlite-utils imports pandas and numpy when they are installed
    (0.5-1.8 s here), which the app, CLI and worker starts must not pay; only cold paths (doctor,
    migrations) call this. No plugins and no recursive triggers: the connection keeps the Store's behaviour.
    """
    import sqlite_utils

    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


def _is_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and any(
        word in str(error).lower() for word in ("locked", "busy")
    )


def _retrying() -> Retrying:
    return Retrying(
        retry=retry_if_exception(_is_busy),
        stop=stop_after_attempt(6),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )


def run_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
    """Run `work` in one transaction (BEGIN IMMEDIATE for writers), retrying the whole of it if busy."""

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = work(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    return _retrying()(attempt)


@overload
def to_epoch(moment: datetime) -> int: ...
@overload
def to_epoch(moment: None) -> None: ...
def to_epoch(moment: datetime | None) -> int | None:
    """Whole UTC seconds; a naive datetime is taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def from_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)
