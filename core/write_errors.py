"""One sentence for an output that could not be written, shared by the CLI and the GUI.

Where the output goes is the user's choice, so a missing folder, a read-only place or a full
device is their input error: it is reported naming the path, never as a traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

_REASONS = {
    errno.ENOENT: "the folder {folder} does not exist",
    errno.ENOTDIR: "{folder} is not a folder",
    errno.EISDIR: "it is a folder",
    errno.EACCES: "permission denied (is {folder} read-only or not yours?)",
    errno.EPERM: "permission denied (is {folder} read-only or not yours?)",
    errno.EROFS: "{folder} is on a read-only file system",
    errno.ENOSPC: "no space left on the device holding {folder}",
    errno.EDQUOT: "disk quota exceeded on the device holding {folder}",
}


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
    reason = _REASONS.get(error.errno or -1)
    why = reason.format(folder=folder) if reason else (error.strerror or str(error))
    return f"cannot write {path}: {why}"
