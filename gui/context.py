"""What every view shares: where the data is, the database thread and the thumbnail cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from groundlens.core.config import AppPaths
from groundlens.core.jobs.box_masks import BoxMasker
from groundlens.gui.models.correction_log import CorrectionLog
from groundlens.gui.workers import DbWorker, ThumbnailCache
from groundlens.storage import Store


@dataclass
class AppContext:
    paths: AppPaths
    db: DbWorker
    thumbnails: ThumbnailCache
    corrections: CorrectionLog = field(init=False)  # the analyst's corrections, undoable, shared by every view
    box_masker: BoxMasker = field(default_factory=BoxMasker)  # masks of drawn boxes, in a process of its own

    def __post_init__(self) -> None:
        self.corrections = CorrectionLog(self.db, parent=self.db)

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
