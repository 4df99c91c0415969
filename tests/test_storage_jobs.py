"""The job queue across connections: atomic claims, stale requeues, results replacing predictions."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
import threading
import time

from groundlens.storage import Store
from tests.helpers.storage import make_post, mention, open_store, outside, scalar


def _posts(store, n):
    posts = [make_post(str(i), f"post {i} about Paris") for i in range(n)]
    store.upsert_posts(posts)
    return [post.id for post in posts]


def test_enqueue_is_idempotent_and_can_target_posts(tmp_path):
    store = open_store(tmp_path)
    ids = _posts(store, 5)
    assert store.enqueue("a", ids[:2]) == 2
    assert store.enqueue("a") == 3  # the rest
    assert store.enqueue("a") == 0
    assert store.enqueue("b", [ids[0], 999]) == 1  # unknown ids are ignored
    assert store.job_counts("a") == {"pending": 5, "running": 0, "done": 0, "failed": 0}
    assert store.job_counts() == {"pending": 6, "running": 0, "done": 0, "failed": 0}


def test_claims_from_two_connections_never_overlap(tmp_path):
    first = open_store(tmp_path)
    second = Store.open(first.path)
    ids = _posts(first, 40)
    first.enqueue("cfg")
    assert first.claim("cfg", "w1", 3) == ids[:3]
    assert second.claim("cfg", "w2", 3) == ids[3:6]
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}

    def drain(store, worker):
        while batch := store.claim("cfg", worker, 2):
            claimed[worker].extend(batch)

    threads = [threading.Thread(target=drain, args=(s, w)) for s, w in ((first, "w1"), (second, "w2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed["w1"] + claimed["w2"]) == ids[6:]  # every job once, none twice
    assert first.job_counts("cfg")["running"] == 40
    with outside(first.path) as conn:
        workers = dict(conn.execute("SELECT worker, COUNT(*) FROM jobs GROUP BY worker").fetchall())
    assert workers == {"w1": 3 + len(claimed["w1"]), "w2": 3 + len(claimed["w2"])}


def test_claim_waits_for_another_writer_while_reads_go_on(tmp_path):
    store = open_store(tmp_path)
    _posts(store, 2)
    store.enqueue("cfg")
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a moment
    other.execute("UPDATE jobs SET state = 'failed'")  # not committed yet
    timer = threading.Timer(0.5, lambda: other.execute("ROLLBACK"))
    timer.start()
    started = time.monotonic()
    assert store.job_counts("cfg")["pending"] == 2  # readers are not blocked by the writer (WAL)
    assert time.monotonic() - started < 0.4
    assert len(store.claim("cfg", "w", 5)) == 2
    assert time.monotonic() - started >= 0.4
    timer.join()
    other.close()


def test_requeue_stale_by_worker_or_age(tmp_path):
    store = open_store(tmp_path)
    ids = _posts(store, 6)
    store.enqueue("cfg")
    store.claim("cfg", "dead", 2)
    store.claim("cfg", "alive", 2)
    assert store.requeue_stale("cfg", workers=["dead"]) == 2
    assert store.requeue_stale("cfg", older_than=3600) == 0  # "alive" claimed just now
    assert store.requeue_stale("other-config") == 0
    assert store.job_counts("cfg") == {"pending": 4, "running": 2, "done": 0, "failed": 0}
    assert store.requeue_stale("cfg") == 2  # no workers left: everything running goes back
    assert store.claim("cfg", "w", 10) == ids
    with outside(store.path) as conn:
        attempts = conn.execute("SELECT post_id, attempts FROM jobs ORDER BY post_id").fetchall()
    assert [a for _, a in attempts] == [2, 2, 2, 2, 1, 1]


def test_save_result_finishes_the_job_and_retry_failed(tmp_path):
    store = open_store(tmp_path)
    ok, broken = _posts(store, 2)
    store.enqueue("cfg")
    store.claim("cfg", "w", 2)
    post = store.get_post(ok)
    store.save_result(ok, "cfg", [mention(post, "Paris", "LOC")], None)
    store.save_result(broken, "cfg", [], "grounding: CUDA out of memory")
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 1, "failed": 1}
    error = scalar(store.path, "SELECT error FROM jobs WHERE post_id = ?", (broken,))
    assert error == "grounding: CUDA out of memory"
    assert store.post_summaries([broken])[0].pipeline_state == "failed"
    (failure,) = store.failed_jobs("cfg")
    assert (failure.post_id, failure.error, failure.attempts) == (broken, "grounding: CUDA out of memory", 1)
    assert store.retry_failed("cfg") == 1
    assert store.claim("cfg", "w", 5) == [broken]

    store.save_result(ok, "cfg", [mention(post, "post", "OTHER"), mention(post, "Paris", "LOC")], None)
    assert [e.text for e in store.entities_for_post(ok)] == ["post", "Paris"]  # replaced, not appended
    assert store.save_results("new-config", [(ok, [], None), (12345, [], None)]) == 1  # unknown post skipped
    assert store.job_counts("new-config")["done"] == 1


def test_a_failed_save_changes_nothing(tmp_path):
    store = open_store(tmp_path)
    (pid,) = _posts(store, 1)
    store.enqueue("cfg")
    store.claim("cfg", "w", 1)
    post = store.get_post(pid)
    store.save_result(pid, "cfg", [mention(post, "Paris", "LOC")], None)
    bad = mention(post, "Paris", "LOC")
    bad.type = "PLACE"
    with contextlib.suppress(ValueError):
        store.save_results("cfg", [(pid, [mention(post, "post", "OTHER")], None), (pid, [bad], None)])
    assert [e.text for e in store.entities_for_post(pid)] == ["Paris"]
    assert store.job_counts("cfg")["done"] == 1


def _worker_process(path, name, claimed):
    """A pipeline worker in its own process: claim, save, repeat (what core/jobs does)."""
    store = Store.open(path)
    while batch := store.claim("cfg", name, 3):
        for post_id in batch:
            post = store.get_post(post_id)
            store.save_result(post_id, "cfg", [mention(post, "Paris", "LOC")], None)
        claimed.extend(batch)
    store.close()


def test_worker_processes_and_a_reader_share_the_database(tmp_path):
    store = open_store(tmp_path)
    ids = _posts(store, 120)
    store.enqueue("cfg")
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        claimed = {name: manager.list() for name in ("w1", "w2")}
        workers = [context.Process(target=_worker_process, args=(store.path, n, claimed[n])) for n in claimed]
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):  # the GUI keeps reading meanwhile
            store.post_summaries(store.post_ids()[:50])
            store.top_entities()
        for worker in workers:
            worker.join()
        assert [worker.exitcode for worker in workers] == [0, 0]
        assert sorted(list(claimed["w1"]) + list(claimed["w2"])) == ids
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 120, "failed": 0}
    assert store.top_entities()[0].count == 120


def test_a_failed_result_keeps_predictions_that_still_fit_the_text(tmp_path):
    """Issue 11 item 5, at the store: a re-run that fails records the failure and keeps the good result,
    unless the text changed since (then the old spans would point at the wrong words)."""
    store = open_store(tmp_path)
    post = make_post("1", "Grace Hopper visited Paris")
    store.upsert_posts([post])
    store.save_result(post.id, "old", [mention(post, "Grace Hopper", "PER"), mention(post, "Paris", "LOC")], None)
    store.save_result(post.id, "new", [mention(post, "Paris", "LOC")], "image: cannot read x.jpg: truncated")
    assert [e.text for e in store.entities_for_post(post.id)] == ["Grace Hopper", "Paris"]
    assert store.job_counts("new")["failed"] == 1
    assert [job.error for job in store.failed_jobs("new")] == ["image: cannot read x.jpg: truncated"]
    edited = make_post("1", "Paris welcomed Grace Hopper")
    store.upsert_posts([edited])
    store.save_result(post.id, "new", [mention(edited, "Paris", "LOC")], "image: cannot read x.jpg: truncated")
    assert [e.text for e in store.entities_for_post(post.id)] == ["Paris"]


def test_a_result_is_requeued_when_its_post_image_changes(tmp_path):
    """jobs remember the image a result used; arriving, changed or vanished images put the post back in the queue."""
    store = open_store(tmp_path)
    posts = [make_post("a", "Obama in Paris", image="https://img/a.jpg"), make_post("b", "text only")]
    store.upsert_posts(posts)
    a, b = (post.id for post in posts)
    store.enqueue("cfg")
    store.save_results("cfg", [(a, [], None), (b, [], None)], images={a: None, b: None})  # a's image not there yet
    assert store.requeue_image_changes("cfg") == 0  # still not there: nothing to redo
    [media] = store.get_post(a).media
    media.status, media.sha256, media.local_path = "ok", "f" * 64, "/cache/ff.jpg"
    store.update_media(media)
    assert store.requeue_image_changes("cfg") == 1 and store.job_counts("cfg")["pending"] == 1
    store.save_results("cfg", [(a, [], None)], images={a: "f" * 64})
    assert store.requeue_image_changes("cfg") == 0
    media.status = "pending"  # its cached file went: to be fetched again
    store.update_media(media)
    assert store.requeue_image_changes("cfg") == 1
    store.save_results("cfg", [(a, [], None)])  # saved without saying: taken to match the image as it is
    assert store.requeue_image_changes("cfg") == 0
