"""What every view shares: where the data is, the database thread and the thumbnail cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from groundlens.core.config import AppPaths
from groundlens.gui.workers import DbWorker, ThumbnailCache
from groundlens.storage import Store


@dataclass
class AppContext:
    paths: AppPaths
    db: DbWorker
    thumbnails: ThumbnailCache

    def media_file(self, local_path: str | None) -> Path | None:
        """Where a cached image lives; relative paths are inside the data folder. No disk access,
        so the feed delegate can call it while painting (readers report a missing file)."""
        if not local_path:
            return None
        path = Path(local_path)
        return path if path.is_absolute() else self.paths.data_dir / path


def open_context(paths: AppPaths) -> AppContext:
    """Create or migrate the data folder's database here, before any view reads it, so a schema problem
    (or a file that is no database, full or read-only) surfaces once, as StoreError, instead of in every
    background read."""
    paths.ensure()
    Store.open(paths.db_path).close()  # no quick_check: it would cost seconds of a 1M-post first paint
    return AppContext(paths=paths, db=DbWorker(paths.db_path), thumbnails=ThumbnailCache())
