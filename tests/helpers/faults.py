"""main.py run in its own process, and its database looked at from outside while it writes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

MAIN = Path(__file__).resolve().parents[2] / "main.py"


def assert_sound(db_path: Path) -> None:
    """What a crash could have broken: pages, foreign keys, and the full-text index against its posts."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")  # raises if not
    finally:
        conn.close()


def read_only(db_path: Path, sql: str) -> int | None:
    """One number from the database as another process is writing it; None while it does not exist yet."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return None
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.OperationalError:  # no tables yet
        return None
    finally:
        conn.close()
    return row[0] if row else None


def app(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, str(MAIN), "--data-dir", str(data_dir), *args]


def wait_for(condition, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process is None or process.poll() is None, "the process ended before the moment to kill it"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
