"""Verdicts with evidence, OCR text and unidentified people: stored with a pipeline result, read back,
searchable (plain words and ocr:), and the full-text index kept exact through every change."""

from __future__ import annotations

import sqlite3

import pytest

from groundlens.records import Evidence, ImageFindings, ImageObject, ImageText, Region
from groundlens.storage import QueryError, Store
from groundlens.storage.db import connect
from groundlens.storage.schema import migrate
from tests.helpers.storage import fts_matches_posts, make_post, mention, open_store


def _photo_post(store: Store, native_id: str, text: str):
    post = make_post(native_id, text, image=f"https://img/{native_id}.jpg")
    store.upsert_posts([post])
    return post


def _save(store: Store, post, entities, texts=(), objects=(), key="cfg"):
    store.save_results(key, [(post.id, list(entities), None)], {post.id: ImageFindings(list(texts), list(objects))})


def test_verdict_evidence_ocr_and_unidentified_people_round_trip(tmp_path):
    store = open_store(tmp_path)
    post = _photo_post(store, "1", "NASA and Barack Obama at the space center")
    evidence = [
        Evidence("ocr", "read 'NASA' in the image", 0.97, (10.0, 20.0, 60.0, 40.0)),
        Evidence("prior", "the text suggests an organisation shown in the photo", 0.61),
    ]
    nasa = mention(
        post, "NASA", "ORG", verdict="in_image", evidence=evidence, regions=[Region((10.0, 20.0, 60.0, 40.0), 0.97)]
    )
    obama = mention(
        post,
        "Barack Obama",
        "PER",
        verdict="probably",
        evidence=[Evidence("person", "1 person detected, not identified", 0.88)],
    )
    person = ImageObject("person", (100.0, 10.0, 300.0, 400.0), 0.88, ("Barack Obama",))
    _save(store, post, [nasa, obama], [ImageText("NASA", (10.0, 20.0, 60.0, 40.0), 0.97)], [person])

    stored = {e.text: e for e in store.entities_for_post(post.id)}
    assert stored["NASA"].verdict == "in_image" and stored["NASA"].evidence == evidence
    assert stored["Barack Obama"].verdict == "probably"
    assert stored["Barack Obama"].evidence[0].detail == "1 person detected, not identified"
    seen = store.image_findings([post.id])[post.id]
    media_id = store.get_post(post.id).media[0].id
    assert seen.texts == [ImageText("NASA", (10.0, 20.0, 60.0, 40.0), 0.97, media_id)]
    assert seen.objects == [ImageObject("person", (100.0, 10.0, 300.0, 400.0), 0.88, ("Barack Obama",), media_id)]
    assert store.image_findings([12345]) == {12345: ImageFindings()}


def test_words_read_in_the_image_are_found_by_search_and_by_the_ocr_filter(tmp_path):
    store = open_store(tmp_path)
    sign = _photo_post(store, "1", "Look where we are today")
    mentions_it = _photo_post(store, "2", "Kennedy is a name in the text only")
    _save(store, sign, [], [ImageText("KENNEDY SPACE CENTER", (0, 0, 50, 10), 0.9)])

    assert [p.id for p in store.search_posts("kennedy").items] == sorted([sign.id, mentions_it.id], reverse=True)
    assert [p.id for p in store.search_posts("ocr:kennedy").items] == [sign.id]
    assert [p.id for p in store.search_posts('ocr:"space center"').items] == [sign.id]
    assert [p.id for p in store.search_posts("ocr:kenn*").items] == [sign.id]
    assert [p.id for p in store.search_posts("-ocr:kennedy kennedy").items] == [mentions_it.id]
    assert [p.id for p in store.search_posts("today ocr:center").items] == [sign.id]  # text and image together
    assert store.search_posts('ocr:"space station"').items == []
    assert store.count_matching("ocr:kennedy") == 1
    with pytest.raises(QueryError, match="nothing to search for"):
        store.search_posts('ocr:"!!"')


def test_new_ocr_replaces_the_old_and_the_index_stays_exact_through_edits_and_deletes(tmp_path):
    store = open_store(tmp_path)
    post = _photo_post(store, "1", "A storefront")
    other = _photo_post(store, "2", "Nothing read here")
    _save(store, post, [], [ImageText("ACME", (0, 0, 10, 10), 0.9)])
    _save(store, other, [])  # no text read: the index is not touched for it
    _save(store, post, [], [ImageText("GLOBEX", (0, 0, 10, 10), 0.9)])  # a re-run read something else
    assert store.count_matching("acme") == 0 and store.count_matching("ocr:globex") == 1
    assert fts_matches_posts(store.path)

    store.upsert_posts([make_post("1", "A storefront, edited", image="https://img/1.jpg")])  # text changes
    assert fts_matches_posts(store.path)
    assert store.count_matching("edited") == 1 and store.count_matching("ocr:globex") == 1

    _save(store, post, [], [])  # nothing read any more
    assert store.count_matching("globex") == 0 and fts_matches_posts(store.path)
    store.close()
    conn = connect(tmp_path / "test.db")  # with the SQL functions the index's delete trigger uses
    conn.execute("DELETE FROM posts WHERE native_id = '2'")
    assert fts_matches_posts(tmp_path / "test.db")
    conn.execute("UPDATE posts SET ocr_text = 'tampered' WHERE native_id = '1'")  # behind the store's back
    conn.close()
    assert not fts_matches_posts(tmp_path / "test.db")  # so the check above can fail


def test_a_database_from_before_evidence_is_migrated_and_keeps_its_search(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    migrate(conn, target=3)
    conn.close()
    store = Store.open(path)  # 3 -> current
    post = _photo_post(store, "1", "Grace Hopper at Yale")
    store.save_results("cfg", [(post.id, [mention(post, "Grace Hopper", "PER")], None)])  # no findings given
    assert store.entities_for_post(post.id)[0].verdict is None
    assert store.entities_for_post(post.id)[0].evidence == []
    assert store.count_matching("hopper") == 1
    assert store.image_findings([post.id])[post.id] == ImageFindings()
    assert fts_matches_posts(path)


def test_exports_carry_verdicts_evidence_and_what_the_image_showed(tmp_path):
    import csv
    import json

    from groundlens.storage.export import write

    store = open_store(tmp_path)
    post = _photo_post(store, "1", "NASA rocket")
    nasa = mention(
        post, "NASA", "ORG", verdict="in_image", evidence=[Evidence("ocr", "read 'NASA' in the image", 0.97)]
    )
    _save(
        store,
        post,
        [nasa],
        [ImageText("NASA", (1.0, 2.0, 3.0, 4.0), 0.97)],
        [ImageObject("person", (5.0, 6.0, 7.0, 8.0), 0.5, ("Elon Musk",))],
    )

    with open(tmp_path / "out.jsonl", "w", encoding="utf-8", newline="") as handle:
        write(store, handle, "jsonl", None)
    record = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert record["entities"][0]["verdict"] == "in_image"
    assert record["entities"][0]["evidence"][0]["detail"] == "read 'NASA' in the image"
    assert record["image_text"][0]["text"] == "NASA"
    assert record["image_objects"][0]["candidates"] == ["Elon Musk"]

    with open(tmp_path / "out.csv", "w", encoding="utf-8", newline="") as handle:
        write(store, handle, "csv", None)
    row = next(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert (row["verdict"], row["evidence"]) == ("in_image", "read 'NASA' in the image")
