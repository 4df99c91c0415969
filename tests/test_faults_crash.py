"""kill -9 and native crashes against real processes on a real SQLite file: an import killed midway and
run again, the app killed while its worker runs, and a post that crashes every worker that touches it.
After each, the database must be sound and hold every post once, with each result saved once."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
from collections.abc import Sequence
from pathlib import Path

from groundlens.core.config import AppPaths
from groundlens.core.jobs.runner import JobRunner
from groundlens.core.jobs.worker import lock_for
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Mention
from groundlens.core.settings import Settings
from groundlens.records import Post
from groundlens.storage import Store
from groundlens.storage.jobs import MAX_ATTEMPTS
from tests.helpers.faults import app, assert_sound, read_only, wait_for

POISON = "POISON"


# --- import ---------------------------------------------------------------------------------


def write_jsonl(path: Path, n: int) -> tuple[int, int]:
    """n distinct posts, every third with an image URL that leads nowhere, every 1000th line repeated;
    returns (distinct posts, posts with an image)."""
    lines = []
    for i in range(n):
        record = {
            "id": str(i),
            "text": f"post {i} from Paris, word{i}",
            "author": f"user{i % 50}",
            "created_at": f"2024-01-{i % 28 + 1:02d}T12:00:00Z",
        }
        if i % 3 == 0:
            record["image"] = f"https://img.example.invalid/{i}.jpg"
        lines.append(json.dumps(record))
        if i % 1000 == 999:
            lines.append(lines[-500])  # an earlier post again, word for word
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n, len(range(0, n, 3))


def test_kill_9_of_an_import_then_the_same_import_again_keeps_every_post_once(tmp_path):
    source, data = tmp_path / "big.jsonl", tmp_path / "data"
    distinct, with_images = write_jsonl(source, 30_000)
    db = data / "groundlens.db"
    importing = subprocess.Popen(
        app(data, "import", "--no-download", str(source)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: (read_only(db, "SELECT COUNT(*) FROM posts") or 0) >= 3000, 60, importing)
    finally:
        importing.kill()  # SIGKILL: no cleanup, the WAL left as it was
        importing.wait()
    committed = read_only(db, "SELECT COUNT(*) FROM posts")
    assert 3000 <= committed < distinct

    again = subprocess.run(
        app(data, "import", "--no-download", str(source)), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    added = int(re.search(r"(\d+) posts added", again.stdout).group(1))
    assert added == distinct - committed and " 0 failed" in again.stdout

    assert_sound(db)
    with Store.open(db) as store:
        ids = store.post_ids(None)
        assert store.count_posts() == len(ids) == distinct  # each once: (source, native_id) is unique
        assert {row.native_id for row in store.post_summaries(ids)} == {str(i) for i in range(distinct)}
        last = store.search_posts(f"word{distinct - 1}")
        assert [p.native_id for p in last.items] == [str(distinct - 1)]  # the end of the file is searchable
        assert store.count_matching("paris") == distinct  # one index entry per post
        stats = store.stats()
        assert stats["posts"] == distinct and stats["media"] == {"pending": with_images}
        assert store.count_matching("has:image") == with_images  # the per-post flag agrees with the media rows
        assert store.count_matching("date:2024-01-28") == len(range(27, distinct, 28))


# --- the app killed while its worker runs ---------------------------------------------------

NER_ONLY = PipelineConfig(ner=StageConfig("spacy"), expression=None, entailment=None, grounding=None, segmentation=None)
TEXT = "Grace Hopper spoke in Paris on day {i}."


def make_posts(data: Path, texts: Sequence[str]) -> AppPaths:
    paths = AppPaths(data_dir=data, models_dir=data.parent / "models").ensure()
    with Store.open(paths.db_path) as store:
        store.upsert_posts(Post(source="test", native_id=str(i), text=text) for i, text in enumerate(texts))
    return paths


def job_counts(paths: AppPaths, config: PipelineConfig) -> dict[str, int]:
    with Store.open(paths.db_path) as store:
        return store.job_counts(config.key())


def assert_each_post_predicted_once(db_path: Path, expected_per_post: dict[int, int]) -> None:
    conn = sqlite3.connect(db_path)
    try:
        dupes = conn.execute("SELECT 1 FROM entities GROUP BY post_id, start, end, origin HAVING COUNT(*) > 1")
        assert dupes.fetchall() == []
        per_post = dict(conn.execute("SELECT post_id, COUNT(*) FROM entities WHERE origin = 'pred' GROUP BY 1"))
        assert per_post == expected_per_post
    finally:
        conn.close()


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"  # exited, maybe not yet reaped
    except (FileNotFoundError, IndexError):
        return True


def test_kill_9_of_the_app_mid_run_stops_its_worker_and_the_next_run_finishes_the_queue(tmp_path):
    n = 300
    paths = make_posts(tmp_path / "data", [TEXT.format(i=i) for i in range(n)])
    Settings(pipeline=NER_ONLY, threads=1, batch_size=3).save(paths.settings_file)
    key, db = NER_ONLY.key(), paths.db_path
    done = f"SELECT COUNT(*) FROM jobs WHERE config_key = '{key}' AND state = 'done'"
    running_app = subprocess.Popen(app(paths.data_dir, "process"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (read_only(db, done) or 0) >= 30, 120, running_app)
        worker_name = read_only(db, f"SELECT worker FROM jobs WHERE config_key = '{key}' AND worker IS NOT NULL")
    finally:
        running_app.kill()
        running_app.wait()
    worker = int(worker_name.rsplit(":", 1)[1])
    with lock_for(paths).acquire(timeout=60):  # the orphaned worker saved the batch in hand and let go
        pass
    wait_for(lambda: gone(worker), 10)
    assert read_only(db, done) < n  # it stopped with the app instead of running on unseen

    restarted = subprocess.run(app(paths.data_dir, "process"), capture_output=True, text=True, timeout=180)
    assert restarted.returncode == 0 and "finished" in restarted.stderr, restarted.stderr
    assert job_counts(paths, NER_ONLY) == {"pending": 0, "running": 0, "done": n, "failed": 0}
    assert_sound(db)
    assert_each_post_predicted_once(db, dict.fromkeys(range(1, n + 1), 2))  # Grace Hopper, Paris


# --- a post that kills the worker -----------------------------------------------------------


class PoisonedNer:
    """Finds 'Paris'; dies of a segmentation fault, as a native library would, on a text with POISON."""

    name, version = "poison_test", "1"

    def recognize(self, texts: Sequence[str]) -> list[list[Mention]]:
        if any(POISON in text for text in texts):
            os.kill(os.getpid(), signal.SIGSEGV)
        return [
            [Mention(t.index("Paris"), t.index("Paris") + 5, "Paris", "LOC", 1.0)] if "Paris" in t else []
            for t in texts
        ]


@register("ner", "poison_test")
def poisoned_ner(crash_on_load: bool = False, fail_on_load: bool = False) -> PoisonedNer:
    if crash_on_load:
        os.kill(os.getpid(), signal.SIGSEGV)
    if fail_on_load:
        raise RuntimeError("the model file is truncated")
    return PoisonedNer()


class PoisonedPaths(AppPaths):
    """Unpickling this in the spawned worker imports this module, which registers the backend above there."""


POISONED = PipelineConfig(
    ner=StageConfig("poison_test"), expression=None, entailment=None, grounding=None, segmentation=None
)


def poisoned_store(tmp_path: Path, texts: Sequence[str]) -> PoisonedPaths:
    paths = make_posts(tmp_path / "data", texts)
    return PoisonedPaths(paths.data_dir, paths.models_dir)


def test_a_post_that_crashes_the_worker_is_failed_and_the_rest_of_the_run_finishes(tmp_path):
    texts = [TEXT.format(i=i) for i in range(20)]
    texts[9] = f"{POISON} in Paris"
    paths = poisoned_store(tmp_path, texts)
    handle = JobRunner(paths, Settings(pipeline=POISONED, batch_size=4)).start()
    first = handle.pid
    state = handle.wait(120)
    assert handle.pid != first
    assert state.state == "finished" and "exit code -11" in state.message
    assert (state.done, state.failed) == (state.total, 1)
    assert job_counts(paths, POISONED) == {"pending": 0, "running": 0, "done": 19, "failed": 1}
    with Store.open(paths.db_path) as store:
        (failure,) = store.failed_jobs(POISONED.key())
        poison = store.post_ids(f'"{POISON}"')
    assert [failure.post_id] == poison
    assert failure.error == f"the worker stopped while processing this post ({MAX_ATTEMPTS} times)"
    assert failure.attempts == MAX_ATTEMPTS
    assert_sound(paths.db_path)
    assert_each_post_predicted_once(paths.db_path, {i: 1 for i in range(1, 21) if i != poison[0]})


def test_a_worker_that_crashes_before_taking_posts_is_not_restarted(tmp_path):
    paths = poisoned_store(tmp_path, [TEXT.format(i=i) for i in range(3)])
    config = PipelineConfig(
        ner=StageConfig("poison_test", {"crash_on_load": True}),
        expression=None,
        entailment=None,
        grounding=None,
        segmentation=None,
    )
    handle = JobRunner(paths, Settings(pipeline=config)).start()
    first = handle.pid
    state = handle.wait(60)
    assert handle.pid == first  # a crash no post caused would only repeat
    assert state.state == "failed" and "exit code -11" in state.message
    assert job_counts(paths, config) == {"pending": 3, "running": 0, "done": 0, "failed": 0}
    assert_sound(paths.db_path)


def test_a_worker_failure_is_in_the_data_folders_log_with_its_traceback(tmp_path):
    paths = poisoned_store(tmp_path, [TEXT.format(i=i) for i in range(3)])
    config = PipelineConfig(
        ner=StageConfig("poison_test", {"fail_on_load": True}),
        expression=None,
        entailment=None,
        grounding=None,
        segmentation=None,
    )
    state = JobRunner(paths, Settings(pipeline=config)).start().wait(60)
    assert state.state == "failed" and state.message == "RuntimeError: the model file is truncated"
    log = (paths.data_dir / "logs" / "groundlens.log").read_text(encoding="utf-8")
    assert (
        "pipeline worker started" in log
        and "ERROR groundlens.core.jobs.worker [MainThread] pipeline worker failed" in log
    )
    assert "Traceback (most recent call last)" in log and "in poisoned_ner" in log
    assert "RuntimeError: the model file is truncated" in log
