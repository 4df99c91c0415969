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

import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Iterable

from filelock import FileLock, Timeout

from core.config import AppPaths
from core.ingest.vanished import file_is_gone, mark_gone
from core.jobs.convert import model_version, to_entity
from core.jobs.progress import JobProgress
from core.pipeline.types import PostInput
from core.settings import Settings
from storage import Store
from storage.records import Media, Post

LOCK_FILE = "pipeline.lock"


def lock_for(paths: AppPaths) -> FileLock:
    return FileLock(str(paths.data_dir / LOCK_FILE))


def image_of(post: Post) -> Media | None:
    """The post's first image (the one regions refer to) when it is downloaded and on disk; else text only."""
    if not post.media:
        return None
    media = post.media[0]
    if media.status == "ok" and media.local_path and Path(media.local_path).is_file():
        return media
    return None


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


def run_worker(paths: AppPaths, settings: dict[str, Any], limit: int | None, retry_failed: bool,
               events: Queue, cancel: Event) -> None:
    """Process entry point (spawned). Ctrl-C is left to the parent, which cancels cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the GUI's priority: on a 2-core laptop the model kernels would otherwise starve the
    # Qt main thread (measured: stall p99 34 ms -> 16 ms with nice 10 in bench.bench_gui).
    os.nice(WORKER_NICENESS)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the runner reports progress, not each model load
    report = _Reporter(events)
    _stop_with_parent(events, cancel)
    try:
        with lock_for(paths).acquire(timeout=0):
            _process(paths, Settings.from_dict(settings), limit, retry_failed, report, cancel)
    except Timeout:
        report(state="failed", message="another pipeline run is already processing this data folder")
    except Exception as exc:  # noqa: BLE001 - reported to the GUI/CLI instead of a silent dead process
        report(state="failed", message=f"{type(exc).__name__}: {exc}")


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


def _process(paths: AppPaths, settings: Settings, limit: int | None, retry_failed: bool,
             report: _Reporter, cancel: Event) -> None:
    if settings.threads:
        import torch

        torch.set_num_threads(settings.threads)
    key = settings.pipeline.key()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    store = Store.open(paths.db_path)
    try:
        before = store.job_counts(key)
        store.requeue_stale(key)  # we hold the folder's lock: every 'running' job is a dead worker's
        store.requeue_image_changes(key)  # results computed from another image than the post's current one
        given_up = 0 if retry_failed else store.job_counts(key)["failed"] - before["failed"]
        suspects = before["running"]  # whatever killed that worker may be one of these: try each alone
        if retry_failed:
            store.retry_failed(key)
        store.enqueue(key)
        pending = store.job_counts(key)["pending"]
        total = pending if limit is None else min(limit, pending)
        # posts given up just now count as done with an error in this run: the analyst sees them
        report(state="loading", total=given_up + total, done=given_up, failed=given_up)
        if total == 0:
            report(state="finished")
            return
        from core.pipeline.pipeline import Pipeline

        pipeline = Pipeline.from_config(settings.pipeline)
        report(state="running")
        start, done, failed = time.perf_counter(), 0, 0
        while done < total and not cancel.is_set():
            ids = store.claim(key, worker, 1 if suspects > 0 else min(settings.batch_size, total - done))
            if not ids:
                break
            suspects -= len(ids)
            posts = store.get_posts(ids)  # a post deleted meanwhile has no job left
            live = [i for i in ids if i in posts]
            store.update_media_many(images_gone(posts[i] for i in live))  # text only now; redone once re-fetched
            used = {i: image_of(posts[i]) for i in live}
            results = pipeline.run([PostInput(str(i), posts[i].text, used[i].local_path if used[i] else None)
                                    for i in live])
            saved = []
            for post_id, result in zip(live, results):
                media_id = posts[post_id].media[0].id if posts[post_id].media else None
                version = model_version(result)
                saved.append((post_id, [to_entity(e, version, media_id) for e in result.entities], result.error))
                failed += result.error is not None
            store.save_results(key, saved, images={i: media.sha256 if media else None for i, media in used.items()})
            done += len(ids)
            report(done=given_up + done, failed=given_up + failed, elapsed_s=time.perf_counter() - start)
        report(state="cancelled" if cancel.is_set() and done < total else "finished",
               elapsed_s=time.perf_counter() - start)
    finally:
        store.requeue_stale(key)  # posts claimed but not saved (an error) go back to pending
        store.close()
