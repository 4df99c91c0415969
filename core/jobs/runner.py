"""Start, watch and stop pipeline runs over the store's job queue, from the CLI or the GUI.

The work runs in a separate PROCESS (multiprocessing, spawn context), not a thread:
torch releases the GIL inside its kernels, but tokenisers, PIL decoding, OpenCV glue and
the Python between stages hold it, so a worker thread would make the GUI stutter; a
process also survives nothing it should not (a crash in native code kills the worker,
not the app; the run starts a new worker, which resumes the queue), and it opens its own
Store connection as SQLite requires. Spawn (not fork) because forking a process that already
holds Qt, torch thread pools or an open SQLite connection is unsafe.

    handle = JobRunner(paths, settings).start()   # settings: a Settings object; no file is read here
    handle.progress()  -> JobProgress             # a getter: the latest state, cheap enough for a QTimer
    handle.cancel()                               # finish the current batch, then stop
    handle.terminate()                            # hard stop now; unsaved posts back to pending
    handle.wait(timeout) -> JobProgress           # block until the run ends (or timeout)

Each handle has a supervisor thread that drains the worker's reports and replaces a worker that died
holding posts (which needs a store read): that work never runs on the caller's thread, so a GUI that
polls `progress()` from its main thread never waits on a process or on the database.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from filelock import Timeout

from groundlens.core.config import AppPaths
from groundlens.core.jobs.progress import JobProgress
from groundlens.core.jobs.worker import lock_for, run_worker
from groundlens.core.settings import Settings
from groundlens.storage import Store, StoreError

_SPAWN = mp.get_context("spawn")
# Workers replaced per run after dying with posts in hand. Each such death brings a post nearer to done or
# given up (storage.jobs.MAX_ATTEMPTS), so this bound only stops a run in which every post kills the worker.
MAX_RESTARTS = 10
SUPERVISE_EVERY_S = 0.1  # how often the supervisor takes in reports and checks the worker is alive


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
    """One run: its worker process and, when that dies while processing posts, the workers that replace it.

    The supervisor thread owns the worker (reports, deaths, replacements); callers read `progress()`.
    `_lock` keeps `terminate` and the supervisor from acting on the same worker at once."""

    def __init__(self, runner: JobRunner):
        self.config_key = runner.config_key
        self._runner = runner
        self._earlier = JobProgress()  # what replaced workers got through, summed
        self._latest = JobProgress()  # the current worker's own latest report
        self._state = JobProgress()  # what progress() returns: the two combined, replaced whole on each change
        self._restarts = 0
        self._note: str | None = None  # why a worker was replaced, shown until the run says more
        self._cancelled = False
        self._stopped = False  # terminate() killed the worker: its death is the stop asked for
        self._lock = threading.Lock()
        self._ended = threading.Event()  # set once the run is over and its last worker has exited
        self._spawn(runner.limit, runner.retry_failed)
        self._supervisor = threading.Thread(target=self._supervise, name="groundlens-supervisor", daemon=True)
        self._supervisor.start()

    def _spawn(self, limit: int | None, retry_failed: bool) -> None:
        # a fresh queue and event per worker: one killed while holding their locks would block a successor
        self._events, self._cancel = _SPAWN.Queue(), _SPAWN.Event()
        self._process = _SPAWN.Process(
            target=run_worker,
            name="groundlens-pipeline",
            daemon=True,
            args=(self._runner.paths, self._runner.settings.to_dict(), limit, retry_failed, self._events, self._cancel),
        )
        with _sigint_ignored():  # inherited through exec: Ctrl-C reaches only the parent, which cancels
            self._process.start()

    def progress(self) -> JobProgress:
        """The run so far, as the supervisor last saw it; never blocks."""
        return self._state

    def _supervise(self) -> None:
        """Until the run is over and its last worker gone: take in reports, and replace a worker that dies
        without a word while holding posts (up to MAX_RESTARTS times): it tries those posts one at a time
        and gives up on one that keeps killing it. One that dies otherwise ends the run as 'failed'."""
        while True:
            with self._lock:
                self._check()
                self._state = self._combined()
                over = self._state.finished and not self._process.is_alive()
            if over:
                break
            time.sleep(SUPERVISE_EVERY_S)
        self._ended.set()

    def _check(self) -> None:
        alive = self._process.is_alive()  # before draining: a worker flushes its last report before it exits
        while True:
            try:
                self._latest = self._events.get_nowait()
            except queue.Empty:
                break
        if alive or self._latest.finished:
            return
        if self._stopped:
            self._latest = replace(self._latest, state="cancelled", message="stopped")
        else:
            self._worker_died(self._process.exitcode)

    def _combined(self) -> JobProgress:
        earlier, latest = self._earlier, self._latest
        return replace(
            latest,
            done=earlier.done + latest.done,
            failed=earlier.failed + latest.failed,
            total=earlier.done + latest.total if latest.total else earlier.total,
            elapsed_s=earlier.elapsed_s + latest.elapsed_s,
            message=latest.message or self._note,
        )

    def _worker_died(self, exit_code: int | None) -> None:
        why = f"the worker stopped unexpectedly (exit code {exit_code})"
        held = 0 if self._cancelled else self._held_posts()
        if held and self._restarts < MAX_RESTARTS:
            self._earlier, self._latest = self._combined(), JobProgress()
            self._restarts += 1
            self._note = f"{why} while processing posts; restarted it ({self._restarts} of at most {MAX_RESTARTS})"
            limit = self._runner.limit
            self._spawn(None if limit is None else max(1, limit - self._earlier.done), retry_failed=False)
        elif held:
            self._latest = replace(
                self._latest,
                state="failed",
                message=f"{why}, {self._restarts + 1} times in this run; run again to go on",
            )
        else:
            self._latest = replace(
                self._latest, state="failed", message=f"{why}; its unfinished posts are requeued on the next run"
            )

    def _held_posts(self) -> int:
        """Jobs left 'running': only the worker holding the folder's lock claims, so these were the dead one's."""
        try:
            with Store.open(self._runner.paths.db_path) as store:
                return store.job_counts(self.config_key)["running"]
        except (sqlite3.Error, StoreError):
            return 0

    @property
    def running(self) -> bool:
        return self._process.is_alive()

    @property
    def ended(self) -> bool:
        """The run is over and its last worker has exited (so another run may take the folder)."""
        return self._ended.is_set()

    @property
    def pid(self) -> int | None:
        """The current worker's process id (a replaced worker's successor has another)."""
        return self._process.pid

    def cancel(self) -> None:
        """Asks the worker to stop after the batch in hand (also one the supervisor is starting right now)."""
        with self._lock:
            self._cancelled = True
            self._cancel.set()

    def terminate(self) -> None:
        """Kills the worker now and puts the posts it held back in the queue."""
        self.cancel()
        with self._lock:
            self._stopped = True
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            try:
                with lock_for(self._runner.paths).acquire(timeout=2), Store.open(self._runner.paths.db_path) as store:
                    store.requeue_stale(self.config_key)
            except Timeout:
                pass  # another run owns the folder (ours never started); it requeues when it ends
        self._ended.wait()
        with self._lock:
            if self._latest.state != "cancelled":
                self._latest = replace(self._latest, state="cancelled", message="stopped")
            self._state = self._combined()

    def wait(self, timeout: float | None = None) -> JobProgress:
        """Blocks until the run ends and its worker has exited, or until `timeout` seconds pass."""
        self._ended.wait(timeout)
        return self._state


class JobRunner:
    """One run of the pipeline over the posts pending for `settings.pipeline`.

    Raises SettingsError (naming the field) for settings that cannot run, before any worker starts."""

    def __init__(self, paths: AppPaths, settings: Settings, *, limit: int | None = None, retry_failed: bool = False):
        self.paths = paths
        self.settings = settings.validate()
        self.limit = limit
        self.retry_failed = retry_failed

    @property
    def config_key(self) -> str:
        return self.settings.pipeline.key()

    def start(self) -> JobHandle:
        self.paths.ensure()
        return JobHandle(self)
