"""Every file GroundLens writes for the analyst: whole or not at all, and never over its own source.

Opening an output with "w" truncates it before the first byte is written, so an export aimed at
the database (or `analyze X -o X`) destroyed what it was about to read, and an error half-way
left half a file that looks complete. Here an output is written to a temporary file in the
target's folder and renamed over the target only when complete (a rename within one folder is
atomic); on any error, Ctrl-C included, the temporary file goes and the old target stays.
`refuse_overwriting` is checked first: an output that is the database, its SQLite side files or
the input is refused with a message before anything is opened.

Where an output goes is the user's choice, so a missing folder, a read-only place or a full device
is their input error: `describe_write_error` gives the one sentence, naming the path, that the CLI
and the GUI show for it (never a traceback), and `check_writable` finds the first two before a long run.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

_WRITE_REASONS = {
    errno.ENOENT: "the folder {folder} does not exist",
    errno.ENOTDIR: "{folder} is not a folder",
    errno.EISDIR: "it is a folder",
    errno.EACCES: "permission denied (is {folder} read-only or not yours?)",
    errno.EPERM: "permission denied (is {folder} read-only or not yours?)",
    errno.EROFS: "{folder} is on a read-only file system",
    errno.ENOSPC: "no space left on the device holding {folder}",
    errno.EDQUOT: "disk quota exceeded on the device holding {folder}",
}


class OutputError(ValueError):
    """An output path that must not be written; the message says why, for the analyst."""


def database_files(db_path: Path) -> list[Path]:
    """The database and the side files SQLite keeps beside it while it is open."""
    return [db_path, *(db_path.with_name(db_path.name + side) for side in SQLITE_SIDE_FILES)]


def _same_file(a: Path, b: Path) -> bool:
    """Same file by identity when both exist (hard links, symlinks), else by resolved path."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    return a.resolve() == b.resolve()


def refuse_overwriting(target: Path, protected: Mapping[str, Iterable[Path]]) -> None:
    """OutputError when `target` is one of the protected files, which are grouped by what they are
    ("the input", "the database") for the message."""
    target = Path(target)
    for what, paths in protected.items():
        for path in paths:
            if _same_file(target, Path(path)):
                raise OutputError(f"refusing to write {target}: it is {what} ({path}); choose another file")


def _set_mode(temporary: str, target: Path, permissions: int | None) -> None:
    """`permissions` when given; else a replaced file keeps its own and a new one stays private (mkstemp's 0600)."""
    with suppress(FileNotFoundError):
        os.chmod(temporary, permissions if permissions is not None else target.stat().st_mode & 0o7777)


@contextmanager
def atomic_output(
    target: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    permissions: int | None = None,
) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside `target`, renamed onto it when the block ends without error."""
    target = Path(target)
    binary = "b" in mode
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:  # name the file the analyst chose, not our temporary one
        raise OSError(error.errno, error.strerror, str(target)) from None
    try:
        with open(fd, mode, encoding=None if binary else encoding, newline=None if binary else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _set_mode(temporary, target, permissions)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    with atomic_output(target, encoding=encoding) as handle:
        handle.write(text)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_output(target, "wb") as handle:
        handle.write(data)


def check_writable(path: Path) -> None:
    """Raise the OSError that writing `path` would raise for a missing or read-only folder, before a long
    run rather than after it (a full device can only show itself while writing)."""
    folder = path.expanduser().absolute().parent
    if not folder.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))


def describe_write_error(path: Path, error: OSError) -> str:
    """'cannot write OUT: the folder X does not exist' and the like; unknown errors keep the system's words."""
    folder = path.expanduser().absolute().parent
    reason = _WRITE_REASONS.get(error.errno or -1)
    why = reason.format(folder=folder) if reason else (error.strerror or str(error))
    return f"cannot write {path}: {why}"
