"""Database faults that no retry and no other record can get past, named with what the analyst can do.

A full disk, a read-only file, a damaged file or one that is not a database fail every later
statement the same way. Callers that isolate bad records (catching sqlite3.Error per item) would
otherwise retry each remaining record against the same wall; raising `StoreError` instead, which is
not a sqlite3.Error, lets them stop at once with one message while what was committed stays.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreError(RuntimeError):
    """Where GroundLens stores things (the database, the image cache beside it) cannot be used, or no
    longer written, as things stand; str() says why and what to do."""


class DamagedDatabase(StoreError):
    """SQLite found the file's pages inconsistent: writing more into it could only spread the damage."""


def recovery_advice(path: Path) -> str:
    return (
        f"GroundLens will not write into it. Keep a copy of {path} as it is, then restore a backup, or "
        f"salvage what is readable with the sqlite3 shell (`sqlite3 '{path}' .recover | sqlite3 recovered.db`, "
        "then put recovered.db in its place), or move it aside and import your sources again. "
        "`main.py doctor` checks the whole file."
    )


def damaged(path: Path, detail: str) -> DamagedDatabase:
    return DamagedDatabase(f"the database {path} is damaged ({detail}). {recovery_advice(path)}")


def _explain(error: sqlite3.Error, path: Path) -> StoreError | None:
    """The StoreError for a fault that will repeat, or None for one that belongs to this statement alone."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary result code of an extended one
    if code == sqlite3.SQLITE_FULL:
        return StoreError(
            f"the database {path} cannot grow: the disk is full ({error}). Free some space and run "
            "the command again; everything stored before this point is kept."
        )
    if code == sqlite3.SQLITE_READONLY:
        return StoreError(
            f"the database {path} is read-only ({error}): check the permissions of the file and of "
            "its folder, and that the disk is not mounted read-only."
        )
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(
            f"the database {path} could not be read or written ({error}): the disk may be full, "
            "over a file-size limit, failing or removed. Everything stored before this point is kept."
        )
    if code == sqlite3.SQLITE_CORRUPT:
        return damaged(path, str(error))
    if code == sqlite3.SQLITE_NOTADB:
        return StoreError(
            f"{path} is not a GroundLens database ({error}): move it away or choose another data folder (--data-dir)."
        )
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        what = "a folder" if path.is_dir() else "not openable"
        return StoreError(
            f"the database {path} cannot be opened ({error}; it is {what}): check the path and its permissions."
        )
    return None


@contextmanager
def named_faults(path: Path) -> Iterator[None]:
    """Turns the sqlite3 errors that will repeat into a StoreError naming `path`; others pass unchanged."""
    try:
        yield
    except sqlite3.Error as error:
        fault = _explain(error, path)
        if fault is None:
            raise
        raise fault from error
