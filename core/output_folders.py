"""Where the app's save dialogs open: the folder last used for each kind of output (exports, reports,
network files), kept in the data folder's settings.json under `output_folders`. Never the install
folder or the working directory an app launcher happens to give: by default the user's Documents
(else Downloads, else home), through platformdirs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import platformdirs

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.settings import Settings

log = logging.getLogger(__name__)
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


def remembered_folder(settings_file: Path, kind: str) -> Path:
    """The folder last used for `kind`, while it exists and is usable; else default_folder()."""
    try:
        chosen = Settings.load(settings_file).extra.get(SETTINGS_KEY, {}).get(kind)
    except (ValueError, AttributeError):  # a malformed settings file is the Settings page's to report
        chosen = None
    folder = Path(chosen) if isinstance(chosen, str) and chosen else None
    return folder if folder is not None and _usable(folder) else default_folder()


def remember_folder(settings_file: Path, kind: str, folder: Path) -> bool:
    """Keep `folder` for `kind`, other settings untouched. Not kept (False, logged) when the folder is
    unusable or the settings file cannot be read or written: the output itself is already written, and a
    malformed settings file is left for the Settings page to report rather than replaced."""
    if not _usable(folder):
        return False
    try:
        settings = Settings.load(settings_file)
        folders = settings.extra.get(SETTINGS_KEY)
        settings.extra[SETTINGS_KEY] = {**(folders if isinstance(folders, dict) else {}), kind: str(folder.resolve())}
        settings.save(settings_file)
    except (ValueError, OSError) as error:
        log.warning("output folder for %s not remembered: %s", kind, error)
        return False
    return True
