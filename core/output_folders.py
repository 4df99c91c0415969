"""Where the app's save dialogs open: the folder last used for each kind of output (exports, reports,
network files), kept in the data folder's settings.json under `output_folders`. Never the install
folder or the working directory an app launcher happens to give: by default the user's Documents
(else Downloads, else home), through platformdirs."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import platformdirs

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.settings import Settings

SETTINGS_KEY = "output_folders"


def default_folder() -> Path:
    for candidate in (platformdirs.user_documents_path(), platformdirs.user_downloads_path()):
        if candidate.is_dir():
            return candidate
    return Path.home()


def _usable(folder: Path) -> bool:
    """An existing folder outside GroundLens's own files (shipped resources, the Python installation)."""
    installed = (RESOURCES_DIR.parent.resolve(), Path(sys.prefix).resolve())
    resolved = folder.resolve()
    return folder.is_dir() and not any(resolved == root or root in resolved.parents for root in installed)


def remembered_folder(settings: Settings, kind: str) -> Path:
    """The folder last used for `kind`, while it exists and is usable; else default_folder()."""
    folders = settings.extra.get(SETTINGS_KEY)
    chosen = folders.get(kind) if isinstance(folders, dict) else None
    folder = Path(chosen) if isinstance(chosen, str) and chosen else None
    return folder if folder is not None and _usable(folder) else default_folder()


def remembering(settings: Settings, kind: str, folder: Path) -> Settings | None:
    """`settings` with `folder` kept for `kind` (its other keys untouched), for the settings' owner to save;
    None when the folder is not one to offer again (GroundLens's own files, the Python installation)."""
    if not _usable(folder):
        return None
    folders = settings.extra.get(SETTINGS_KEY)
    extra = {
        **settings.extra,
        SETTINGS_KEY: {**(folders if isinstance(folders, dict) else {}), kind: str(folder.resolve())},
    }
    return replace(settings, extra=extra)
