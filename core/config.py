"""Where GroundLens keeps its data and models, resolved once per process.

The data folder holds the SQLite database, the image cache and settings; model files live
in a separate folder so that several data folders (one per investigation) share them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs

from groundlens.core.private import private_folder

APP_NAME = "GroundLens"
DATA_DIR_ENV = "GROUNDLENS_DATA_DIR"
MODELS_DIR_ENV = "GROUNDLENS_MODELS_DIR"
IMAGE_CACHE_NAME = "images"  # inside the data folder, beside the database
DB_FILE_NAME = "groundlens.db"
SETTINGS_FILE_NAME = "settings.json"
# Shipped files are package data of groundlens.resources. pip always unpacks a wheel, so the traversable
# is a real folder: onnxruntime, safetensors and Qt can open its files by path.
RESOURCES_DIR = Path(str(files("groundlens.resources")))


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    models_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE_NAME

    @property
    def image_cache_dir(self) -> Path:
        return self.data_dir / IMAGE_CACHE_NAME

    @property
    def settings_file(self) -> Path:
        return self.data_dir / SETTINGS_FILE_NAME

    def ensure(self) -> AppPaths:
        """The folders made; the data folder and its image cache readable by the user alone (core.private)."""
        private_data_folder(self.data_dir)
        private_folder(self.image_cache_dir)
        self.models_dir.mkdir(parents=True, exist_ok=True)  # shipped weights: nothing private
        return self


def private_data_folder(data_dir: Path) -> Path:
    """The data folder, 0700; an existing one is narrowed only when it already holds GroundLens data
    (a --data-dir pointed at a folder with other things in it keeps its permissions)."""
    ours = any((data_dir / name).exists() for name in (DB_FILE_NAME, SETTINGS_FILE_NAME, IMAGE_CACHE_NAME))
    return private_folder(data_dir, tighten=ours)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Explicit argument, then $GROUNDLENS_DATA_DIR, then the per-user data folder."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    models = os.environ.get(MODELS_DIR_ENV) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"
    return AppPaths(data_dir=Path(chosen).expanduser().resolve(), models_dir=Path(models).expanduser().resolve())
