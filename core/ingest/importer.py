"""Readers -> store: batched upserts, gold annotations, then images checked or fetched in a thread pool.

`import_paths` is what the CLI and the GUI's worker thread call. Store writes stay on the calling
thread (one SQLite connection); only downloads and decoding run in the pool. Cancelling stops at
once (downloads in flight are abandoned), and images not reached stay "pending" for `fetch_images`
to pick up later. A fault that every later write would hit too (StoreError: a full disk, a read-only
or damaged database, an image cache that cannot be written) ends the import with that one message.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from groundlens.core.config import IMAGE_CACHE_NAME
from groundlens.core.ingest.detect import READERS, FormatError, detect_format
from groundlens.core.ingest.images import ImageCache, ImageLimits
from groundlens.core.ingest.report import ImportProgress, ImportReport, ItemError, ParsedItem
from groundlens.core.ingest.vanished import recheck_downloaded
from groundlens.records import Media
from groundlens.storage import Store, StoreError, UpsertSummary

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ImportProgress], None]
BATCH_SIZE = 10_000  # posts per write transaction (~0.5 s): fewer FTS segments to merge (1M: 15k -> 20k posts/s)
READ_CHUNK = 500  # items handed from the reader thread at a time
READ_AHEAD_CHUNKS = 8
DOWNLOAD_WORKERS = 8


def default_cache_dir(store: Store) -> Path:
    """The data folder's image cache: the store lives at <data>/groundlens.db, images at <data>/images."""
    return Path(store.path).parent / IMAGE_CACHE_NAME


def _read_ahead(
    items: Iterable[ParsedItem | ItemError], source: str, chunk_size: int, cancel: threading.Event
) -> Iterator[list[ParsedItem | ItemError]]:
    """The items in chunks, read by a background thread a few chunks ahead of the caller.

    A reader that fails part-way ends the source with an ItemError instead of losing the import.
    Chunks are no larger than the caller's batches, so a slow source (a stream) is not held back.
    """
    chunks: queue.Queue[list[ParsedItem | ItemError] | None] = queue.Queue(maxsize=READ_AHEAD_CHUNKS)
    stopped = threading.Event()  # the caller stopped reading (cancel, or a fault that ends the import)

    def put(chunk: list[ParsedItem | ItemError] | None) -> bool:
        while not (cancel.is_set() or stopped.is_set()):
            try:
                chunks.put(chunk, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        chunk: list[ParsedItem | ItemError] = []
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) >= chunk_size:
                    if not put(chunk):
                        return
                    chunk = []
        except OSError as error:
            chunk.append(ItemError(source, f"cannot read: {error.strerror or error}"))
        except Exception as error:  # a reader bug must not lose the rest of the import
            log.exception("reader failed on %s", source)
            chunk.append(ItemError(source, f"internal error while reading ({type(error).__name__}: {error})"))
        if not chunk or put(chunk):
            put(None)

    reader = threading.Thread(target=read, name=f"read {source}", daemon=True)
    reader.start()
    try:
        while not cancel.is_set():
            try:
                chunk = chunks.get(timeout=0.1)
            except queue.Empty:
                continue
            if chunk is None:
                break
            yield chunk
    finally:
        stopped.set()


def _settled(
    jobs: Sequence[tuple[str, Media]], settle: Callable[[Media], Media], workers: int, cancel: threading.Event
) -> Iterator[tuple[str, Media, Media | Exception]]:
    """(location, media, the settled media or the exception settling raised) as each image is done,
    from daemon threads.

    Not a ThreadPoolExecutor: its threads are joined at exit, so after Ctrl-C the process would wait
    for every download in flight to time out (minutes). Here a cancel ends the iteration at once and
    downloads in flight are abandoned: their results are never recorded and their images stay pending.
    """
    todo: queue.SimpleQueue[tuple[str, Media]] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[str, Media, Media | Exception]] = queue.SimpleQueue()
    stop = threading.Event()
    for job in jobs:
        todo.put(job)

    def work() -> None:
        while not (stop.is_set() or cancel.is_set()):
            try:
                location, media = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((location, media, settle(media)))
            except Exception as error:  # noqa: BLE001 - handed to the caller, which decides what it means
                done.put((location, media, error))

    for n in range(max(1, min(workers, len(jobs)))):
        threading.Thread(target=work, name=f"image download {n + 1}", daemon=True).start()
    try:
        for _ in range(len(jobs)):
            while not cancel.is_set():
                try:
                    outcome = done.get(timeout=0.1)
                    break
                except queue.Empty:
                    continue
            if cancel.is_set():  # also drops a result that only ended because of the cancel
                return
            yield outcome
    finally:
        stop.set()


def _disk_fault(error: OSError, folder: Path) -> StoreError | None:
    """A write error that every later image would hit as well (the cache's disk is full or read-only)."""
    if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG):
        return None
    return StoreError(
        f"the image cache {folder} cannot be written ({error.strerror}). Free some space and run "
        "the command again with --retry-images; everything stored before this point is kept."
    )


class Importer:
    """One import session over a store; feed it items with `run`, read `report` when done."""

    def __init__(
        self,
        store: Store,
        *,
        download: bool = True,
        copy_images: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        batch_size: int = BATCH_SIZE,
        workers: int = DOWNLOAD_WORKERS,
        cache_dir: str | os.PathLike[str] | None = None,
        limits: ImageLimits | None = None,
    ):
        self.store = store
        self.cancel = cancel or threading.Event()
        self.cache = ImageCache(Path(cache_dir) if cache_dir else default_cache_dir(store), limits, self.cancel)
        self.download = download
        self.copy_images = copy_images
        self.progress = progress
        self.batch_size = batch_size
        self.workers = workers
        self.report = ImportReport()
        self._images_total = 0
        self._images_done = 0
        self._source = ""

    def _tick(self) -> None:
        if self.progress is not None:
            done = self.report.posts_inserted + self.report.posts_updated + self.report.posts_unchanged
            self.progress(ImportProgress(self._source, done, self._images_done, self._images_total))

    def run(self, items: Iterable[ParsedItem | ItemError], source: str) -> int:
        """Store every item; returns how many items (posts or errors) the source yielded.

        The source is parsed on a reader thread while this one writes: SQLite releases the GIL
        while it indexes, so parsing and storing share the two cores of a laptop.
        """
        self._source = source
        seen = 0
        batch: list[ParsedItem] = []
        with self._stop_on_fault():
            for chunk in _read_ahead(items, source, min(READ_CHUNK, self.batch_size), self.cancel):
                if self.cancel.is_set():
                    break
                seen += len(chunk)
                for item in chunk:
                    if isinstance(item, ItemError):
                        self.report.add_error(item)
                        continue
                    batch.append(item)
                    if len(batch) >= self.batch_size:
                        self._flush(batch)
                        batch = []
            if batch:
                self._flush(batch)
        self._finish()
        return seen

    @contextmanager
    def _stop_on_fault(self) -> Iterator[None]:
        """A fault every later write would hit too (full disk, read-only or damaged database) ends the import
        with that one message: what was committed stays, and running the import again resumes it."""
        try:
            yield
        except StoreError as error:
            log.error("import stopped: %s", error)
            self.report.stopped = str(error)
            self.report.errors.append(ItemError(self._source, f"the import stopped here: {error}"))

    def _finish(self) -> None:
        self.report.cancelled = self.report.cancelled or self.cancel.is_set()
        if self.report.cancelled or self.report.stopped:  # downloads abandoned in flight or never started
            self.report.images_pending += self._images_total - self._images_done
            self._images_done = self._images_total

    def _upsert(self, batch: list[ParsedItem]) -> tuple[list[ParsedItem], bool]:
        """(stored items, whether all were new); if the store refuses the batch, one by one so only the bad post fails."""
        try:
            summary = self.store.upsert_posts([item.post for item in batch], batch_size=len(batch))
            self._count(summary)
            return batch, summary.inserted == len(batch)
        except (sqlite3.Error, ValueError, TypeError):
            if len(batch) == 1:
                raise
        stored = []
        for item in batch:
            try:
                self._count(self.store.upsert_posts([item.post], batch_size=1))
                stored.append(item)
            except (sqlite3.Error, ValueError, TypeError) as error:
                self.report.add_error(ItemError(item.location, f"could not be stored: {error}"))
        return stored, False

    def _count(self, summary: UpsertSummary) -> None:
        self.report.posts_inserted += summary.inserted
        self.report.posts_updated += summary.updated
        self.report.posts_unchanged += summary.unchanged

    def _flush(self, batch: list[ParsedItem]) -> None:
        try:
            stored, all_new = self._upsert(batch)
        except (sqlite3.Error, ValueError, TypeError) as error:
            self.report.add_error(ItemError(batch[0].location, f"could not be stored: {error}"))
            return
        self.report.posts_read += len(stored)
        for item in stored:
            if item.gold is not None:
                media_id = item.post.media[0].id if item.post.media else None
                for entity in item.gold:
                    for region in entity.regions:
                        region.media_id = media_id
                assert item.post.id is not None, "upsert_posts gave every stored post its id"
                try:
                    self.store.add_gold_entities(item.post.id, item.gold)
                    self.report.gold_entities += len(item.gold)
                except (sqlite3.Error, ValueError, TypeError) as error:
                    self.report.add_error(ItemError(item.location, f"gold annotations could not be stored: {error}"))
        self._tick()
        self.settle_media(self._to_settle(stored, all_new))

    def _to_settle(self, stored: list[ParsedItem], all_new: bool) -> list[tuple[str, Media]]:
        """Images still to check; on re-import, downloads the store already holds are kept, not redone."""
        self.report.images_missing += sum(m.status == "missing" for item in stored for m in item.post.media)
        # id None: an earlier duplicate of a post later in the same batch (the store keeps the last)
        jobs = [(item.location, m) for item in stored for m in item.post.media if m.status == "pending" and m.id]
        remote = {
            item.post.id
            for item in stored
            if item.post.id is not None and any(m.url and not m.local_path for m in item.post.media)
        }
        if remote and not all_new:
            held = self.store.get_posts(sorted(remote))
            done = {m.id for post in held.values() for m in post.media if m.status == "ok"}
            jobs = [(where, m) for where, m in jobs if m.local_path or m.id not in done]
        return jobs

    def run_media(self, todo: Sequence[tuple[int, Media]]) -> None:
        """Images already in the store, as `store.media_to_fetch` lists them, in batches."""
        self._source = "images"
        with self._stop_on_fault():
            for start in range(0, len(todo), self.batch_size):
                if self.cancel.is_set():
                    break
                batch = todo[start : start + self.batch_size]
                self.settle_media([(f"post {post_id}", media) for post_id, media in batch])
        self._finish()

    def settle_media(self, jobs: Sequence[tuple[str, Media]]) -> None:
        """Check or download images in the pool, write each result through the store, report failures."""
        if not jobs:
            return
        self._images_total += len(jobs)
        quick: list[tuple[str, Media]] = []
        work: list[tuple[str, Media]] = []
        for job in jobs:  # with downloads off, a remote image only gets its scheme checked: not worth a thread
            (quick if not self.download and not job[1].local_path else work).append(job)
        for where, media in quick:
            self._record_media(where, self.cache.settle(media, download=False))
        if work:
            self._settle_in_pool(work)
        self._tick()

    def _settle_in_pool(self, jobs: Sequence[tuple[str, Media]]) -> None:
        def settle(media: Media) -> Media:
            return self.cache.settle(media, self.download, self.copy_images)

        for location, _media, outcome in _settled(jobs, settle, self.workers, self.cancel):
            if isinstance(outcome, OSError) and (fault := _disk_fault(outcome, self.cache.root)) is not None:
                raise fault from outcome
            if isinstance(outcome, Exception):  # a bug in one image's handling fails that image alone
                log.error("checking an image failed at %s", location, exc_info=outcome)
                self.report.add_error(ItemError(location, f"image could not be checked: {outcome}"), image=True)
                continue
            self._record_media(location, outcome)

    def _record_media(self, location: str, media: Media) -> None:
        if media.status == "pending":  # left for later: nothing to write
            self._images_done += 1
            self.report.images_pending += 1
            return
        try:
            self.store.update_media(media)
        except (sqlite3.Error, LookupError, ValueError) as error:
            self.report.add_error(ItemError(location, f"image state could not be stored: {error}"), image=True)
            return
        self._images_done += 1
        where = media.url or media.local_path or "image"
        if media.status == "ok":
            self.report.images_ok += 1
        elif media.status == "missing":
            self.report.images_missing += 1
            self.report.errors.append(ItemError(location, f"image {where}: {media.error}"))
        else:
            self.report.add_error(ItemError(location, f"image {where}: {media.error}"), image=True)
        if self._images_done % 20 == 0:
            self._tick()


def import_paths(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    format: str | None = None,
    images_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    **options,
) -> ImportReport:
    """Import files and folders (format detected per path unless given); never raises for bad data.

    `options` go to `Importer`: copy_images, cache_dir, limits, batch_size, workers.
    """
    importer = Importer(store, download=download, progress=progress, cancel=cancel, **options)
    images = Path(images_dir) if images_dir else None
    for raw_path in paths:
        path = Path(raw_path)
        if importer.cancel.is_set() or importer.report.stopped:
            break
        try:
            chosen = format or detect_format(path)
        except (FormatError, OSError) as error:
            importer.report.add_error(ItemError(str(path), str(error)))
            continue
        if chosen not in READERS:
            importer.report.add_error(ItemError(str(path), f"unknown format {chosen!r}"))
            continue
        errors_before = len(importer.report.errors)
        seen = importer.run(READERS[chosen](path, images), source=str(path))
        said_why = len(importer.report.errors) > errors_before or importer.report.stopped
        if seen == 0 and not (said_why or importer.cancel.is_set()):
            importer.report.add_error(ItemError(str(path), "no posts found (empty file?)"))
    return importer.report


def import_items(
    store: Store,
    items: Iterable[ParsedItem | ItemError],
    source: str,
    download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    **options,
) -> ImportReport:
    """Store items from any reader, e.g. the X API generators (streams want a small batch_size)."""
    importer = Importer(store, download=download, progress=progress, cancel=cancel, **options)
    importer.run(items, source)
    return importer.report


def fetch_images(
    store: Store,
    retry_failed: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    limit: int | None = None,
    **options,
) -> ImportReport:
    """Download or re-check images left pending (or failed, when retry_failed) by earlier imports, and
    fetch again those whose cached file has gone."""
    recheck_downloaded(store)
    importer = Importer(store, progress=progress, cancel=cancel, **options)
    importer.run_media(store.media_to_fetch(limit=limit, retry_failed=retry_failed))
    return importer.report
