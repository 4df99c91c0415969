"""What analysts collect (posts, results, logs, crash reports, settings) is readable by them alone.

Folders are made 0700 and files 0600 whatever the umask. An existing folder is narrowed only when it
is one GroundLens owns: a `--data-dir` pointed at a folder that holds other things is left as it is.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path, tighten: bool = True) -> Path:
    """`path`, made if missing (its parents as usual), 0700; an existing one narrowed to 0700 if `tighten`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=FOLDER_MODE)
        return path
    except FileExistsError:
        pass
    if tighten and path.is_dir():
        narrow(path)
    return path


def narrow(path: Path) -> None:
    """Takes the group's and others' permissions away, and nothing else (a read-only file stays read-only)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        with suppress(OSError):  # not ours to change (another owner): it keeps its mode
            os.chmod(path, mode & ~0o077)


def open_private(path: Path, flags: int) -> int:
    """os.open with O_CREAT and mode 0600; a file that existed with a wider mode is narrowed too."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    with suppress(OSError):
        os.fchmod(fd, FILE_MODE)
    return fd
