"""The persistent job runner on a real SQLite store: progress, limits, cancel, crash and resume."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image

from groundlens.core.config import AppPaths
from groundlens.core.jobs.runner import JobRunner
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.settings import Settings, SettingsError
from groundlens.records import Media, Post
from groundlens.storage import Store

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images"
# real backends, light enough for tests: spaCy NER, templates, the evidence grounder without OCR
CONFIG = PipelineConfig(
    ner=StageConfig("spacy"),
    expression=StageConfig("template"),
    entailment=None,
    grounding=StageConfig("evidence", {"reader": None}),
    segmentation=None,
)


def portrait(folder: Path) -> Path:
    path = folder / "portrait.jpg"
    if (DEMO / "grace_hopper.jpg").exists():
        Image.open(DEMO / "grace_hopper.jpg").save(path)
    else:
        Image.new("RGB", (320, 240), (90, 120, 150)).save(path)
    return path


def make_store(tmp_path: Path, n: int, image: Path | None = None) -> AppPaths:
    paths = AppPaths(data_dir=tmp_path / "data", models_dir=tmp_path / "models").ensure()
    image = image or portrait(tmp_path)
    posts = [
        Post(
            source="test",
            native_id=str(i),
            text=f"Grace Hopper spoke in Paris on day {i}.",
            media=[Media(local_path=str(image), status="ok")] if i % 2 == 0 else [],
        )
        for i in range(n)
    ]
    with Store.open(paths.db_path) as store:
        store.upsert_posts(posts)
    return paths


def settings(config: PipelineConfig = CONFIG, **speed: int) -> Settings:
    return Settings(pipeline=config, **speed)


def counts(paths: AppPaths) -> dict[str, int]:
    with Store.open(paths.db_path) as store:
        return store.job_counts(CONFIG.key())


def test_run_processes_every_post_once_and_reports_progress(tmp_path):
    paths = make_store(tmp_path, 6)
    handle = JobRunner(paths, settings(batch_size=4)).start()
    seen = set()
    while not (state := handle.wait(0.05)).finished:
        seen.add(state.state)
    assert state.state == "finished", state.message
    assert (state.done, state.total, state.failed) == (6, 6, 0)
    assert state.rate > 0 and state.eta_s == 0
    assert counts(paths) == {"pending": 0, "running": 0, "done": 6, "failed": 0}
    with Store.open(paths.db_path) as store:
        by_post = store.entities_for_posts(store.post_ids(None))
    for _post_id, found in by_post.items():
        texts = sorted(e.text for e in found)
        assert "Grace Hopper" in texts and "Paris" in texts
        hopper = next(e for e in found if e.text == "Grace Hopper")
        assert "grounding=evidence@1" in hopper.model_version
    with_regions = [p for p, found in by_post.items() if any(e.regions for e in found)]
    assert len(with_regions) == 3  # the posts with the portrait
    again = JobRunner(paths, settings()).start().wait(120)
    assert (again.state, again.total, again.done) == ("finished", 0, 0)  # nothing is done twice


def test_limit_and_a_second_runner_on_the_same_folder(tmp_path):
    paths = make_store(tmp_path, 5)
    first = JobRunner(paths, settings(batch_size=1), limit=2).start()
    while first.progress().state in ("starting",):
        time.sleep(0.05)
    second = JobRunner(paths, settings()).start().wait(120)
    assert second.state == "failed" and "already processing" in second.message
    assert first.wait(120).state == "finished"
    assert counts(paths) == {"pending": 3, "running": 0, "done": 2, "failed": 0}


def test_cancel_stops_after_the_batch_in_hand_and_leaves_nothing_running(tmp_path):
    paths = make_store(tmp_path, 12)
    handle = JobRunner(paths, settings(batch_size=2)).start()
    while (state := handle.progress()).done == 0 and not state.finished:
        time.sleep(0.02)
    handle.cancel()
    state = handle.wait(120)
    assert state.state == "cancelled" and 0 < state.done < 12
    c = counts(paths)
    assert c["running"] == 0 and c["done"] == state.done and c["pending"] == 12 - state.done


def test_bad_image_fails_its_post_and_retry_failed_requeues_it(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not an image")
    paths = make_store(tmp_path, 2, image=broken)
    state = JobRunner(paths, settings()).start().wait(120)
    assert (state.done, state.failed) == (2, 1)
    assert counts(paths)["failed"] == 1
    portrait(tmp_path).replace(broken)
    state = JobRunner(paths, settings(), retry_failed=True).start().wait(120)
    assert (state.total, state.failed) == (1, 0)
    assert counts(paths)["done"] == 2


def test_a_pipeline_that_cannot_be_built_reports_why(tmp_path):
    paths = make_store(tmp_path, 2)
    config = PipelineConfig(ner=StageConfig("no_such_ner"))
    with pytest.raises(SettingsError, match=re.escape("pipeline.ner: no ner backend named 'no_such_ner'")):
        JobRunner(paths, settings(config))  # refused before a worker starts: nothing claimed, nothing failed
    with Store.open(paths.db_path) as store:
        assert store.job_counts(config.key())["running"] == store.job_counts(config.key())["failed"] == 0


def test_kill_9_of_the_worker_mid_run_replaces_it_and_loses_nothing_and_duplicates_nothing(tmp_path):
    n = 20
    paths = make_store(tmp_path, n)
    handle = JobRunner(paths, settings(batch_size=2)).start()
    deadline = time.monotonic() + 180
    while not ((c := counts(paths))["done"] >= 4 and c["running"] > 0):  # mid-run, holding claimed posts
        assert handle.running and time.monotonic() < deadline, handle.progress()
        time.sleep(0.02)
    killed = handle.pid
    os.kill(killed, signal.SIGKILL)  # what the OOM killer does
    while handle.pid == killed:  # replaced by the handle's own supervisor: nobody calls progress() or wait() here
        assert time.monotonic() < deadline
        time.sleep(0.05)
    state = handle.wait(300)
    assert handle.pid != killed  # replaced by a new worker, which finished the run
    assert state.state == "finished" and "stopped unexpectedly (exit code -9)" in state.message
    assert state.done == state.total and state.failed == 0
    assert counts(paths) == {"pending": 0, "running": 0, "done": n, "failed": 0}
    conn = sqlite3.connect(paths.db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dupes = conn.execute(
            "SELECT post_id, start, end, COUNT(*) FROM entities WHERE origin = 'pred'"
            " GROUP BY post_id, start, end HAVING COUNT(*) > 1"
        ).fetchall()
        assert dupes == []
        per_post = dict(conn.execute("SELECT post_id, COUNT(*) FROM entities WHERE origin = 'pred' GROUP BY post_id"))
        assert len(per_post) == n  # every post has its predictions, once
        region_dupes = conn.execute("SELECT entity_id, COUNT(*) FROM regions GROUP BY entity_id HAVING COUNT(*) > 1")
        assert region_dupes.fetchall() == []
    finally:
        conn.close()


def test_terminate_stops_at_once_and_requeues_what_the_worker_held(tmp_path):
    paths = make_store(tmp_path, 30)
    handle = JobRunner(paths, settings(batch_size=5)).start()
    while counts(paths)["running"] == 0:
        assert not handle.progress().finished
        time.sleep(0.02)
    handle.terminate()
    assert not handle.running and handle.progress().state == "cancelled"
    c = counts(paths)
    assert c["running"] == 0 and c["done"] + c["pending"] == 30
