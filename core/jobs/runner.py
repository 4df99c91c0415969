"""Start, watch and stop pipeline runs over the store's job queue, from the CLI or the GUI.

The work runs in a separate PROCESS (multiprocessing, spawn context), not a thread:
torch releases the GIL inside its kernels, but tokenisers, PIL decoding, OpenCV glue and
the Python between stages hold it, so a worker thread would make the GUI stutter; a
process also survives nothing it should not (a crash in native code kills the worker,
not the app, and the queue resumes on the next start), and it opens its own Store
connection as SQLite requires. Spawn (not fork) because forking a process that already
holds Qt, torch thread pools or an open SQLite connection is unsafe.

    handle = JobRunner(paths).start()         # settings from paths.settings_file
    handle.progress()  -> JobProgress         # non-blocking; poll it from a QTimer
    handle.cancel()                           # finish the current batch, then stop
    handle.terminate()                        # hard stop now; unsaved posts back to pending
    handle.wait(timeout) -> JobProgress       # block until the run ends (or timeout)
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

from filelock import Timeout

from core.config import AppPaths
from core.jobs.progress import JobProgress
from core.jobs.worker import lock_for, run_worker
from core.pipeline.config import PipelineConfig
from core.settings import Settings
from storage import Store

_SPAWN = mp.get_context("spawn")


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may touch handlers; the worker ignores SIGINT itself once started
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class JobHandle:
    def __init__(self, process: mp.process.BaseProcess, events: mp.Queue, cancel_event, paths: AppPaths,
                 config_key: str):
        self._process = process
        self._events = events
        self._cancel = cancel_event
        self._paths = paths
        self._latest = JobProgress()
        self.config_key = config_key

    def progress(self) -> JobProgress:
        """The latest report; 'failed' with a reason if the worker died without saying why."""
        while True:
            try:
                self._latest = self._events.get_nowait()
            except queue.Empty:
                break
        if not self._process.is_alive() and not self._latest.finished:
            self._latest = replace(self._latest, state="failed",
                                   message=f"worker stopped unexpectedly (exit code {self._process.exitcode}); "
                                           "its unfinished posts are requeued on the next run")
        return self._latest

    @property
    def running(self) -> bool:
        return self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def cancel(self) -> None:
        """Asks the worker to stop after the batch in hand; returns at once."""
        self._cancel.set()

    def terminate(self) -> None:
        """Kills the worker now and puts the posts it held back in the queue."""
        self._cancel.set()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        try:
            with lock_for(self._paths).acquire(timeout=2), Store.open(self._paths.db_path) as store:
                store.requeue_stale(self.config_key)
        except Timeout:
            pass  # another run owns the folder (ours never started); it requeues when it ends
        self.progress()
        if self._latest.state != "cancelled":
            self._latest = replace(self._latest, state="cancelled", message="stopped")

    def wait(self, timeout: float | None = None) -> JobProgress:
        """Blocks until the worker exits (draining its reports so it can) or `timeout` seconds pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._process.is_alive():
            self.progress()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            self._process.join(0.1 if remaining is None else min(0.1, remaining))
        return self.progress()


class JobRunner:
    """One run of the pipeline over the posts pending for `config` (default: the saved settings)."""

    def __init__(self, paths: AppPaths, config: PipelineConfig | None = None, *, limit: int | None = None,
                 retry_failed: bool = False, threads: int | None = None, batch_size: int | None = None):
        settings = Settings.load(paths.settings_file)
        if config is not None:
            settings.pipeline = config
        if threads is not None:
            settings.threads = threads
        if batch_size is not None:
            settings.batch_size = batch_size
        self.paths = paths
        self.settings = settings
        self.limit = limit
        self.retry_failed = retry_failed

    @property
    def config_key(self) -> str:
        return self.settings.pipeline.key()

    def start(self) -> JobHandle:
        self.paths.ensure()
        events, cancel = _SPAWN.Queue(), _SPAWN.Event()
        process = _SPAWN.Process(
            target=run_worker, name="groundlens-pipeline", daemon=True,
            args=(self.paths, self.settings.to_dict(), self.limit, self.retry_failed, events, cancel),
        )
        with _sigint_ignored():  # inherited through exec: Ctrl-C reaches only the parent, which cancels
            process.start()
        return JobHandle(process, events, cancel, self.paths, self.config_key)
