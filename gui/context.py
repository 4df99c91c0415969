"""What every view shares: where the data is, the database thread, the thumbnail cache and the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal

from groundlens.core.config import AppPaths
from groundlens.core.jobs.box_masks import BoxMasker
from groundlens.core.output_folders import remembering
from groundlens.core.settings import Settings, SettingsError
from groundlens.gui.models.correction_log import CorrectionLog
from groundlens.gui.workers import DbWorker, ThumbnailCache
from groundlens.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingsState:
    """The settings the app works with: what the file says, or the defaults (with `error` saying why the
    file cannot be used). Running is refused while `error` is set, so defaults never run unnoticed."""

    settings: Settings
    error: SettingsError | None = None


class SettingsStore(QObject):
    """The one owner of the data folder's settings in the app: read once through `Settings.load` (the CLI's
    reader too), saved atomically, and announced through `changed` to every view that depends on them.
    An edit of settings.json outside the app (an editor, the CLI) is read again when the file changes."""

    changed = Signal(object)  # the new SettingsState

    def __init__(self, file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.file = file
        self._signature: tuple[int, int, int] | None = None
        self.state = self._read()
        # the folder too: saving replaces the file (a new inode), which ends a watch on the file itself
        self._watcher = QFileSystemWatcher([str(file.parent)], self)
        self._watch_file()
        self._watcher.fileChanged.connect(self._on_disk_change)
        self._watcher.directoryChanged.connect(self._on_disk_change)

    @property
    def settings(self) -> Settings:
        return self.state.settings

    def save(self, settings: Settings) -> None:
        """Write `settings` (already validated by the caller) and announce them; OSError when the file
        cannot be written (nothing changes then)."""
        settings.save(self.file)
        self._signature = self._file_signature()
        self._watch_file()
        self._set(SettingsState(settings))

    def remember_folder(self, kind: str, folder: Path) -> bool:
        """Keep `folder` as where `kind` outputs go next time (core.output_folders). Not kept while the file
        cannot be used (the Jobs and Settings pages report it; it is never replaced) or cannot be written."""
        updated = remembering(self.settings, kind, folder) if self.state.error is None else None
        if updated is None:
            return False
        try:
            self.save(updated)
        except OSError as error:
            log.warning("output folder for %s not remembered: %s", kind, error)
            return False
        return True

    def reload(self) -> None:
        """Read the file again and announce what changed."""
        self._set(self._read())

    def _read(self) -> SettingsState:
        self._signature = self._file_signature()
        try:
            return SettingsState(Settings.load(self.file))
        except SettingsError as error:
            return SettingsState(Settings(), error)

    def _set(self, state: SettingsState) -> None:
        self.state = state
        self.changed.emit(state)

    def _on_disk_change(self, _path: str) -> None:
        self._watch_file()
        if self._file_signature() != self._signature:  # the folder also changes for the database's files
            self.reload()

    def _watch_file(self) -> None:
        if self.file.exists() and str(self.file) not in self._watcher.files():
            self._watcher.addPath(str(self.file))

    def _file_signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self.file.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size


@dataclass
class AppContext:
    paths: AppPaths
    db: DbWorker
    thumbnails: ThumbnailCache
    settings: SettingsStore
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
    background read. Settings that cannot be used do not stop the app: the views say why and refuse to run."""
    paths.ensure()
    Store.open(paths.db_path).close()  # no quick_check: it would cost seconds of a 1M-post first paint
    settings = SettingsStore(paths.settings_file)
    return AppContext(paths=paths, db=DbWorker(paths.db_path), thumbnails=ThumbnailCache(), settings=settings)
