"""The worker process: claims posts from the store's job queue, runs the pipeline, saves results.

Crash safety comes from the store: a batch's predictions and its job states are written in
one transaction (`save_results`), so a post is either done or still claimed. A file lock in
the data folder admits one worker per folder; holding it proves that any job still
'running' belongs to a dead worker, so the worker requeues those on start (after a crash
or `kill -9`) and its own unsaved ones on the way out. Nothing is lost; a result is never
written twice because saving replaces the post's predictions.

A post that kills the process itself (a native crash in a decoder or model, the OOM killer)
must not take its batch down with it forever: the posts a dead worker held are claimed one
at a time by the next, so the innocent ones finish, and the store fails a post that was in
hand at MAX_ATTEMPTS deaths. The worker also stops, after the batch in hand, when the app
that started it dies, so a restarted app can take the folder over.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from groundlens.core.config import AppPaths
from groundlens.core.diagnostics import configure_logging, install_crash_handler
from groundlens.core.ingest.vanished import file_is_gone, mark_gone
from groundlens.core.jobs.convert import model_version, to_entity
from groundlens.core.jobs.progress import JobProgress, PostCost, RemainingTime
from groundlens.core.pipeline.types import PostInput, PostResult
from groundlens.core.settings import Settings
from groundlens.records import Entity, ImageFindings, Media, Post
from groundlens.storage import Store, StoreError

LOCK_FILE = "pipeline.lock"
log = logging.getLogger(__name__)


def lock_for(paths: AppPaths) -> FileLock:
    return FileLock(str(paths.data_dir / LOCK_FILE), mode=0o600)


def image_of(post: Post) -> Media | None:
    """The post's first image (the one regions refer to), or None for text only.

    An image the import checked ("ok") is given even when its file has gone since (moved, cache
    deleted): the run then fails on it, and the store keeps the post's earlier boxes and masks,
    instead of a text-only result quietly replacing them; the image is marked to be fetched again
    (images_gone) and the post is redone once it is back (storage/job_images.py)."""
    if not post.media:
        return None
    media = post.media[0]
    if media.local_path and (media.status == "ok" or (media.status == "pending" and Path(media.local_path).is_file())):
        return media
    return None


@dataclass
class Batch:
    """Posts handed to the engine together, and the sha256 of the image each one's result will use
    (None: text only, or a file that has gone: it is redone once its image is back)."""

    posts: list[Post]
    images: list[str | None]


def images_gone(posts: Iterable[Post]) -> list[Media]:
    """First images the store calls downloaded whose file has gone, marked to be fetched again (see vanished.py)."""
    return [mark_gone(post.media[0]) for post in posts if post.media and file_is_gone(post.media[0])]


class _Reporter:
    def __init__(self, events: Queue):
        self.events = events
        self.state = JobProgress()

    def __call__(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self.events.put(self.state)


WORKER_NICENESS = 10


def run_worker(
    paths: AppPaths, settings: dict[str, Any], limit: int | None, retry_failed: bool, events: Queue, cancel: Event
) -> None:
    """Process entry point (spawned). Ctrl-C is left to the parent, which cancels cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the GUI's priority: on a 2-core laptop the model kernels would otherwise starve the
    # Qt main thread (measured: stall p99 34 ms -> 16 ms with nice 10 in bench.bench_gui).
    os.nice(WORKER_NICENESS)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the runner reports progress, not each model load
    configure_logging(paths.data_dir)  # a spawned process starts with no handlers: it keeps its own log lines
    install_crash_handler(paths.data_dir)
    log.info("pipeline worker started (process %d)", os.getpid())
    report = _Reporter(events)
    _stop_with_parent(events, cancel)
    try:
        with lock_for(paths).acquire(timeout=0):
            _process(paths, Settings.from_dict(settings), limit, retry_failed, report, cancel)
    except Timeout:
        report(state="failed", message="another pipeline run is already processing this data folder")
    except StoreError as exc:  # full, read-only or damaged: the message says what to do
        log.error("pipeline worker stopped: %s", exc)
        report(state="failed", message=str(exc))
    except Exception as exc:
        log.exception("pipeline worker failed")
        report(state="failed", message=f"{type(exc).__name__}: {exc}")
    log.info("pipeline worker ended: %s", report.state.state)


def _stop_with_parent(events: Queue, cancel: Event) -> None:
    """Cancel (finish the batch in hand, save it, release the lock) once the app that started us is gone:
    a kill -9 or crash of the app sends no signal here, and an orphan would run on unseen and keep a
    restarted app out of the data folder."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the spawn pipe closes, i.e. when it exits
        events.cancel_join_thread()  # nobody reads the reports now: never block our exit on a full pipe
        cancel.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _process(
    paths: AppPaths, settings: Settings, limit: int | None, retry_failed: bool, report: _Reporter, cancel: Event
) -> None:
    key = settings.pipeline.key()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    store = Store.open(paths.db_path, check=True)  # a damaged database is refused, not written into
    try:
        before = store.job_counts(key)
        store.requeue_stale(key)  # we hold the folder's lock: every 'running' job is a dead worker's
        given_up = 0 if retry_failed else store.job_counts(key)["failed"] - before["failed"]
        store.requeue_image_changes(key)  # results computed from another image than the post's current one
        suspects = before["running"]  # whatever killed that worker may be one of these: try each alone
        if retry_failed:
            store.retry_failed(key)
        store.enqueue(key)
        pending = store.job_counts(key)["pending"]
        total = pending if limit is None else min(limit, pending)
        photos = round(store.pending_with_image(key) * total / pending) if pending else 0
        remaining = RemainingTime(with_image=photos, without_image=total - photos)
        # posts given up just now count as done with an error in this run: the analyst sees them
        report(state="loading", total=given_up + total, done=given_up, failed=given_up)
        if total == 0:
            report(state="finished")
            return
        from groundlens.core.jobs.engine_choice import open_engine

        engine = open_engine(settings)
        claimed: deque[Batch] = deque()  # each batch handed to the engine, in order

        def batches() -> Iterator[list[PostInput]]:
            """Claims lazily, so an engine that runs batches ahead (Ray) claims only what it will run."""
            nonlocal suspects
            taken = 0
            while taken < total and not cancel.is_set():
                ids = store.claim(key, worker, 1 if suspects > 0 else min(settings.batch_size, total - taken))
                if not ids:
                    return
                suspects -= len(ids)
                taken += len(ids)
                posts = store.get_posts(ids)  # a post deleted meanwhile has no job left
                live = [posts[i] for i in ids if i in posts]
                used = [image_of(post) for post in live]
                on_disk = [m is not None and m.local_path is not None and Path(m.local_path).is_file() for m in used]
                store.update_media_many(images_gone(live))  # fetched again by import --retry-images, then redone
                claimed.append(Batch(live, [m.sha256 if m and here else None for m, here in zip(used, on_disk)]))
                yield [PostInput(str(post.id), post.text, m.local_path if m else None) for post, m in zip(live, used)]

        try:
            report(state="running")
            start = last = time.perf_counter()
            done = failed = 0
            for results in engine.map_batches(batches()):
                batch = claimed.popleft()
                failed += _save(store, key, batch, results)
                counts = store.job_counts(key)
                # retweets that reuse a result saved here (or before) left the queue without a claim
                done = min(total, pending - counts["pending"] - counts["running"])
                now = time.perf_counter()
                remaining.add_batch(
                    [PostCost(image is not None, result.timings) for image, result in zip(batch.images, results)],
                    now - last,
                )
                last = now
                report(done=given_up + done, failed=given_up + failed, elapsed_s=now - start, eta_s=remaining.seconds())
        finally:
            engine.close()
        stopped = cancel.is_set() and done < total
        report(
            state="cancelled" if stopped else "finished",
            elapsed_s=time.perf_counter() - start,
            eta_s=None if stopped else 0.0,
        )
    finally:
        store.requeue_stale(key)  # posts claimed but not saved (an error) go back to pending
        store.close()


def _save(store: Store, key: str, batch: Batch, results: list[PostResult]) -> int:
    """One batch's results, with what each image showed and which image each used, in one transaction;
    returns how many carry an error."""
    saved: list[tuple[int, list[Entity], str | None]] = []
    seen: dict[int, ImageFindings] = {}
    for post, result in zip(batch.posts, results):
        assert post.id is not None, "a batch holds posts read from the store"
        media_id = post.media[0].id if post.media else None
        version = model_version(result)
        saved.append((post.id, [to_entity(e, version, media_id) for e in result.entities], result.error))
        seen[post.id] = ImageFindings(result.image_text, result.image_objects)
    store.save_results(
        key, saved, seen, images={post.id: sha for post, sha in zip(batch.posts, batch.images) if post.id is not None}
    )
    return sum(result.error is not None for result in results)
