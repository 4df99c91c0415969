"""Where GroundLens keeps its data and models, resolved once per process.

The data folder holds the SQLite database, the image cache and settings; model files live
in a separate folder so that several data folders (one per investigation) share them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "GroundLens"
DATA_DIR_ENV = "GROUNDLENS_DATA_DIR"
MODELS_DIR_ENV = "GROUNDLENS_MODELS_DIR"
IMAGE_CACHE_NAME = "images"  # inside the data folder, beside the database
REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES_DIR = REPO_ROOT / "resources"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    models_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "groundlens.db"

    @property
    def image_cache_dir(self) -> Path:
        return self.data_dir / IMAGE_CACHE_NAME

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    def ensure(self) -> "AppPaths":
        for folder in (self.data_dir, self.models_dir, self.image_cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Explicit argument, then $GROUNDLENS_DATA_DIR, then the per-user data folder."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    models = os.environ.get(MODELS_DIR_ENV) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"
    return AppPaths(data_dir=Path(chosen).expanduser().resolve(), models_dir=Path(models).expanduser().resolve())
