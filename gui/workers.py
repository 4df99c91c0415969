"""Off-main-thread work: one serial database thread and a pool for image decoding, both through superqt's
workers (napari's choice), whose signals deliver results on the GUI thread.

Every store read or write from the GUI goes through `DbWorker`, which owns a single
connection on a single long-lived thread, so SQLite never sees cross-thread use and the
main thread never waits on disk. Image files are decoded on Qt's global pool.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap
from superqt.utils import FunctionWorker, create_worker

from groundlens.storage import Store

log = logging.getLogger(__name__)


# Workers started on a pool of our own (the database thread) until they have finished: superqt keeps only
# the workers it starts on the global pool alive, and one collected while its result is in flight never
# delivers it.
_in_flight: set[FunctionWorker[Any]] = set()


def run_in_pool(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    pool: QThreadPool | None = None,
) -> FunctionWorker[Any]:
    """Run `fn()` on `pool` (default: Qt's global pool); `on_done(result)` or `on_error(exception)` run
    on the thread that called this (superqt's worker signals). An error nobody handles is logged."""
    worker: FunctionWorker[Any] = create_worker(fn, _start_thread=False, _ignore_errors=True)
    if on_done is not None:
        worker.returned.connect(on_done)
    worker.errored.connect(on_error or _log_error)
    if pool is None:
        worker.start()
    else:
        _in_flight.add(worker)
        worker.finished.connect(lambda *_: _in_flight.discard(worker))
        pool.start(worker)
    return worker


def _log_error(exc: Exception) -> None:
    log.warning("background task failed: %s", exc)


class Latest:
    """Numbers a view's reloads so only the newest one's results are applied: a slow answer to
    an old query must never overwrite a newer one, nor reach a view whose window has closed."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self.current = 0

    def start(self) -> int:
        self.current += 1
        return self.current

    def only(self, token: int, callback: Callable[..., None]) -> Callable[..., None]:
        """`callback`, made to do nothing once a newer request has started."""

        def deliver(*args: Any) -> None:
            if token == self.current and shiboken6.isValid(self.owner):
                callback(*args)

        return deliver


class DbWorker(QObject):
    """A one-thread pool holding the GUI's only Store connection; jobs run in submission order."""

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the thread (and its connection) for the app's life
        self._local = threading.local()
        self._stores: list[Store] = []

    def _store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.db_path)
            self._local.store = store
            self._stores.append(store)
        return store

    def submit(
        self,
        fn: Callable[[Store], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> FunctionWorker[Any]:
        return run_in_pool(lambda: fn(self._store()), on_done, on_error, self._pool)

    def _close_stores(self) -> None:
        for store in self._stores:
            store.close()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def close(self) -> None:
        """Finish queued work, then close the connection on its own thread."""
        self._pool.waitForDone()
        run_in_pool(self._close_stores, pool=self._pool)
        self._pool.waitForDone()
        self._stores.clear()


def read_image(path: str | Path, max_side: int | None = None) -> QImage:
    """Decode an image file (optionally downscaled while decoding, which JPEG makes cheap)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if max_side:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_side:
            size.scale(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio)
            reader.setScaledSize(size)
    image = reader.read()
    if image.isNull():
        raise OSError(f"cannot read image {path}: {reader.errorString()}")
    return image


class ThumbnailCache(QObject):
    """Thumbnails decoded on the pool and kept in a bounded LRU; `loaded` says when one is ready."""

    loaded = Signal(str)

    def __init__(
        self, side: int = 96, capacity: int = 600, max_pending: int = 48, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.side = side
        self.capacity = capacity
        self.max_pending = max_pending
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._pending: set[str] = set()

    def get(self, path: str) -> QPixmap | None:
        """The cached thumbnail, or None while it loads (or when the file cannot be read).

        At most `max_pending` decodes are queued: a fast scroll through thousands of rows would
        otherwise queue work for rows long gone. A row refused now asks again on its next paint,
        which comes when any queued thumbnail lands.
        """
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        if path not in self._pending and len(self._pending) < self.max_pending:
            self._pending.add(path)
            run_in_pool(
                lambda: read_image(path, self.side * 2),
                on_done=lambda image: self._store(path, image),
                on_error=lambda _exc: self._store(path, None),
            )
        return None

    def _store(self, path: str, image: QImage | None) -> None:
        if not shiboken6.isValid(self):
            return  # the window closed while the file was decoding
        self._pending.discard(path)
        pixmap = None
        if image is not None:
            scaled = image.scaled(
                QSize(self.side, self.side),
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            pixmap = QPixmap.fromImage(scaled)
        self._cache[path] = pixmap
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.loaded.emit(path)
