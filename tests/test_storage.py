"""Store basics on real SQLite files: upserts, media, gold vs pred, saved predictions, feed, migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from groundlens.records import Entity, Media, Post, Region
from groundlens.storage import SCHEMA_VERSION, SchemaError, Store
from groundlens.storage.schema import migrate
from tests.helpers.storage import fts_matches_posts, make_post, mention, open_store, outside, scalar


def test_open_sets_wal_foreign_keys_busy_timeout_and_schema_version(tmp_path):
    open_store(tmp_path).close()
    with outside(tmp_path / "test.db") as conn:  # a connection opened as the store opens each of its own
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    Store.open(tmp_path / "test.db").close()  # reopening an up-to-date database changes nothing


def test_upsert_inserts_then_updates_without_duplicates(tmp_path):
    store = open_store(tmp_path)
    first = [make_post("1", "hello Paris", author="a"), make_post("2", "hello Rome")]
    assert (store.upsert_posts(first).inserted, store.count_posts()) == (2, 2)
    assert all(post.id for post in first)

    again = [make_post("1", "hello Paris", author="a"), make_post("2", "goodbye Rome", lang="it")]
    summary = store.upsert_posts(again)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    assert [post.id for post in again] == [post.id for post in first]
    assert store.count_posts() == 2
    stored = store.get_post(first[1].id)
    assert (stored.text, stored.lang) == ("goodbye Rome", "it")
    assert store.count_matching("hello") == 1  # full-text index follows the update
    assert store.count_matching("goodbye") == 1


@pytest.mark.parametrize("start_version", [2, SCHEMA_VERSION])
def test_full_text_index_follows_inserts_edits_and_deletes_exactly(tmp_path, start_version):
    path = tmp_path / "fts.db"
    conn = sqlite3.connect(path)
    migrate(conn, target=start_version)  # version 2 indexed text by per-row triggers; 3 per batch
    conn.close()
    store = Store.open(path)
    store.upsert_posts([make_post(str(i), f"post {i} about Paris") for i in range(50)], batch_size=20)
    store.upsert_posts(
        [
            make_post("3", "now about Rome"),
            make_post("4", "post 4 about Paris"),
            make_post("99", "a new one about Oslo"),
        ]
    )
    assert fts_matches_posts(store.path)
    assert (store.count_matching("paris"), store.count_matching("rome"), store.count_matching("oslo")) == (49, 1, 1)
    with outside(store.path) as conn:
        conn.execute("DELETE FROM posts WHERE native_id = '5'")
    assert fts_matches_posts(store.path) and store.count_matching("paris") == 48
    with outside(store.path) as conn:
        conn.execute("UPDATE posts SET text = 'tampered' WHERE native_id = '6'")  # bypasses the store
    assert not fts_matches_posts(store.path)  # so the check above can fail


def test_same_key_twice_in_one_batch_keeps_the_last(tmp_path):
    store = open_store(tmp_path)
    posts = [make_post("7", "old text"), make_post("7", "new text"), make_post("7", "x", source="other")]
    summary = store.upsert_posts(posts, batch_size=10)
    assert (summary.inserted, store.count_posts()) == (2, 2)
    assert posts[0].id == posts[1].id != posts[2].id
    assert store.get_post(posts[0].id).text == "new text"


def test_post_round_trip_keeps_metadata_and_raw_payload(tmp_path):
    store = open_store(tmp_path)
    post = make_post("9", "text", author="@someone", lang="en", url="https://x/9", raw={"id": "9", "n": [1, 2]})
    store.upsert_posts([post])
    stored = store.get_post(post.id)
    assert (stored.source, stored.native_id, stored.author, stored.lang, stored.url) == (
        "twitter",
        "9",
        "@someone",
        "en",
        "https://x/9",
    )
    assert stored.raw == {"id": "9", "n": [1, 2]}
    assert stored.created_at == datetime(2024, 1, 10, 12, tzinfo=UTC)
    assert store.get_post(12345) is None


def test_reingest_keeps_downloaded_media_and_resets_a_changed_url(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "pic", image="https://img/a.jpg")
    store.upsert_posts([post])
    media = post.media[0]
    assert [(pid, m.url) for pid, m in store.media_to_fetch()] == [(post.id, "https://img/a.jpg")]
    media.local_path, media.sha256, media.size_bytes, media.status = "ab/cd.jpg", "cd" * 32, 1234, "ok"
    store.update_media(media)
    assert store.media_to_fetch() == []

    store.upsert_posts([make_post("1", "pic", image="https://img/a.jpg")])  # same URL: download kept
    kept = store.get_post(post.id).media
    assert [(m.id, m.status, m.local_path, m.size_bytes) for m in kept] == [(media.id, "ok", "ab/cd.jpg", 1234)]

    store.upsert_posts([make_post("1", "pic", image="https://img/b.jpg")])  # new URL: fetch again
    changed = store.get_post(post.id).media
    assert [(m.id, m.url, m.status, m.local_path) for m in changed] == [
        (media.id, "https://img/b.jpg", "pending", None)
    ]

    store.upsert_posts([make_post("1", "pic")])  # the image is gone from the source
    assert store.get_post(post.id).media == []
    assert store.stats()["media"] == {}


def test_media_to_fetch_retries_failed_only_when_asked(tmp_path):
    store = open_store(tmp_path)
    posts = [make_post(str(i), "p", image=f"https://img/{i}.jpg") for i in range(3)]
    store.upsert_posts(posts)
    failed = posts[0].media[0]
    failed.status, failed.error = "failed", "HTTP 404"
    store.update_media(failed)
    assert [m.url for _, m in store.media_to_fetch()] == ["https://img/1.jpg", "https://img/2.jpg"]
    assert len(store.media_to_fetch(retry_failed=True)) == 3
    assert len(store.media_to_fetch(limit=1)) == 1
    assert store.get_post(posts[0].id).media[0].error == "HTTP 404"
    with pytest.raises(KeyError):
        store.update_media(Media(url="x", id=999))
    with pytest.raises(ValueError):
        store.update_media(Media(url="x"))


def test_gold_and_predictions_are_kept_apart(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Obama met Merkel in Berlin")
    store.upsert_posts([post])
    store.save_result(post.id, "cfg", [mention(post, "Obama", "PER")], None)
    store.add_gold_entities(post.id, [mention(post, "Obama", "PER"), mention(post, "Berlin", "LOC")])
    assert [e.text for e in store.entities_for_post(post.id)] == ["Obama"]
    assert [e.text for e in store.entities_for_post(post.id, origin="gold")] == ["Obama", "Berlin"]

    store.save_result(post.id, "cfg", [mention(post, "Merkel", "PER")], None)  # replaces pred only
    assert [e.text for e in store.entities_for_post(post.id)] == ["Merkel"]
    assert len(store.entities_for_post(post.id, origin="gold")) == 2
    store.add_gold_entities(post.id, [mention(post, "Merkel", "PER")])  # replaces gold only
    assert [e.text for e in store.entities_for_post(post.id, origin="gold")] == ["Merkel"]
    assert [e.text for e in store.entities_for_post(post.id)] == ["Merkel"]
    assert store.stats()["entities"] == {"pred": {"PER": 1}, "gold": {"PER": 1}}
    summary = store.post_summaries([post.id])[0]
    assert (summary.n_entities, summary.n_gold) == (1, 1)
    with pytest.raises(KeyError):
        store.add_gold_entities(999, [])


def test_save_result_replaces_predictions_and_regions(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Kevin Durant at the Warriors game", image="https://img/kd.jpg")
    store.upsert_posts([post])
    rle = {"size": [4, 6], "counts": b"3;2N0"}
    kd = mention(
        post,
        "Kevin Durant",
        "PER",
        score=0.98,
        groundable=True,
        groundable_score=0.8,
        expression="Kevin Durant, the basketball player",
        model_version="ner-1",
        regions=[Region((1, 2, 30, 40), 0.9, rle, 12)],
    )
    store.save_result(post.id, "cfg", [kd, mention(post, "Warriors", "ORG", groundable=False)], None)
    (stored, warriors) = store.entities_for_post(post.id)
    assert (stored.norm, stored.score, stored.groundable, stored.expression) == (
        "kevin durant",
        0.98,
        True,
        "Kevin Durant, the basketball player",
    )
    assert stored.regions == [
        Region((1.0, 2.0, 30.0, 40.0), 0.9, {"size": [4, 6], "counts": "3;2N0"}, 12, post.media[0].id)
    ]
    assert warriors.groundable is False and warriors.regions == []

    store.save_result(post.id, "cfg", [mention(post, "Warriors", "ORG")], None)
    assert [e.text for e in store.entities_for_post(post.id)] == ["Warriors"]
    assert scalar(store.path, "SELECT COUNT(*) FROM regions") == 0  # regions went with them


def test_bad_entities_are_rejected_before_anything_is_written(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Paris")
    store.upsert_posts([post])
    store.save_result(post.id, "cfg", [mention(post, "Paris", "LOC")], None)
    for bad in (Entity(0, 5, "Paris", "MISC"), Entity(4, 2, "Paris", "LOC"), Entity(0, 1, "#", "LOC")):
        with pytest.raises(ValueError):
            store.save_result(post.id, "cfg", [bad], None)
    assert [e.type for e in store.entities_for_post(post.id)] == ["LOC"]
    with pytest.raises(KeyError):
        store.save_result(999, "cfg", [], None)


def test_feed_orders_and_summaries(tmp_path):
    store = open_store(tmp_path)
    posts = [
        make_post("old", "old post", "2024-01-01", author="a", image="https://img/1.jpg"),
        make_post("new", "new post " + "x" * 400, "2024-03-01"),
        make_post("mid", "mid post Paris Rome", "2024-02-01"),
        make_post("undated", "no date", None),
    ]
    store.upsert_posts(posts)
    old, new, mid, undated = (p.id for p in posts)
    found = [mention(posts[2], "Paris", "LOC", groundable=True), mention(posts[2], "Rome", "LOC")]
    store.save_result(mid, "cfg", found, None)
    store.save_result(old, "cfg", [mention(posts[0], "old", "OTHER")], None)
    store.enqueue("cfg")
    assert store.post_ids() == [new, mid, old, undated]
    assert store.post_ids(order="created_asc") == [undated, old, mid, new]
    assert store.post_ids(order="entities_desc") == [mid, old, new, undated]
    assert store.post_ids("post", order="created_asc") == [old, mid, new]
    with pytest.raises(ValueError):
        store.post_ids(order="random")

    media = posts[0].media[0]
    media.local_path, media.status = "cache/1.jpg", "ok"
    store.update_media(media)
    rows = store.post_summaries([mid, 999, old, new])
    assert [r.id for r in rows] == [mid, old, new]
    assert (rows[0].n_entities, rows[0].n_groundable, rows[0].pipeline_state) == (2, 1, "done")
    assert not rows[0].has_image
    assert (rows[1].thumbnail_path, rows[1].has_image, rows[1].author) == ("cache/1.jpg", True, "a")
    assert rows[2].pipeline_state == "pending" and len(rows[2].snippet) == 280 and rows[2].snippet.endswith("\u2026")


def test_changed_text_requeues_finished_jobs(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Paris")
    store.upsert_posts([post])
    store.save_result(post.id, "cfg", [mention(post, "Paris", "LOC")], None)
    store.upsert_posts([make_post("1", "Paris", lang="fr")])  # metadata only: results still valid
    assert store.job_counts("cfg")["done"] == 1
    store.upsert_posts([make_post("1", "In Rome")])
    assert store.job_counts("cfg") == {"pending": 1, "running": 0, "done": 0, "failed": 0}


def _v1_database(path):
    """A database as the first release left it: schema version 1 with a post, image, mentions and a job."""
    conn = sqlite3.connect(path)
    migrate(conn, target=1)
    conn.executescript(
        """
        INSERT INTO posts (id, source, native_id, author, created_at, text, lang)
            VALUES (1, 'twitter', '42', 'someone', 1704888000, 'Obama visits Berlin', 'en');
        INSERT INTO media (id, post_id, position, url, status) VALUES (1, 1, 0, 'https://img/1.jpg', 'pending');
        INSERT INTO entities (id, post_id, origin, start, "end", text, norm, type, groundable)
            VALUES (1, 1, 'pred', 0, 5, 'Obama', 'obama', 'PER', 1),
                   (2, 1, 'pred', 13, 19, 'Berlin', 'berlin', 'LOC', 0),
                   (3, 1, 'gold', 0, 5, 'Obama', 'obama', 'PER', 1);
        INSERT INTO regions (entity_id, media_id, x0, y0, x1, y1, score) VALUES (1, 1, 0, 0, 10, 10, 0.5);
        INSERT INTO jobs (post_id, config_key, state, attempts, updated_at) VALUES (1, 'cfg', 'done', 1, 0);
        """
    )
    conn.close()


def test_migrates_a_version_1_database_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    _v1_database(path)
    store = Store.open(path)
    assert scalar(path, "PRAGMA user_version") == SCHEMA_VERSION
    post = store.get_post(1)
    assert (post.native_id, post.text, post.media[0].url) == ("42", "Obama visits Berlin", "https://img/1.jpg")
    obama, berlin = store.entities_for_post(1)
    assert (obama.text, obama.groundable, obama.regions[0].box) == ("Obama", True, (0.0, 0.0, 10.0, 10.0))
    assert berlin.groundable is False
    assert [e.text for e in store.entities_for_post(1, origin="gold")] == ["Obama"]
    assert store.job_counts("cfg")["done"] == 1
    # what version 2 added was filled from the old rows
    assert store.count_matching("berlin type:LOC") == 1
    assert [e.norm for e in store.search_entities("oba*").items] == ["obama"]
    assert [(c.norm, c.count) for c in store.top_entities()] == [("berlin", 1), ("obama", 1)]
    assert store.top_entities(include_gold=True)[0].count == 2
    assert store.post_summaries([1])[0].n_entities == 2 and store.post_summaries([1])[0].n_gold == 1
    store.upsert_posts([make_post("43", "more posts after the upgrade")])
    assert store.count_posts() == 2


def test_refuses_a_database_from_a_newer_version(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="update"):
        Store.open(path)


def test_store_is_a_context_manager_and_path_is_kept(tmp_path):
    with Store.open(tmp_path / "c.db") as store:
        assert store.path == tmp_path / "c.db"
        store.upsert_posts([Post(source="s", native_id="1", text="t")])
    with Store.open(tmp_path / "c.db") as again:
        assert again.count_posts() == 1


def test_migration_takes_existing_results_to_match_their_images(tmp_path):
    """Step 4 (jobs.image): results computed before it are not all redone on the next run."""
    path = tmp_path / "old.db"
    _v1_database(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE media SET status = 'ok', sha256 = 'ab', local_path = '/cache/ab.jpg'")
    conn.commit()
    conn.close()
    store = Store.open(path)
    assert store.requeue_image_changes("cfg") == 0 and store.job_counts("cfg")["done"] == 1
