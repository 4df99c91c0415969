"""The trend counters (and the posts' mention facts) stay equal to a recount of the mentions through every write path: pipeline results,
gold, re-dated and re-worded posts, retweet links, corrections, reverts, merges and splits (random, seeded)."""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3

from groundlens.records import ENTITY_TYPES, Entity, Region
from groundlens.storage import Store
from groundlens.storage import corrections as fix
from tests.helpers.storage import make_post, open_store

WORDS = ["Alice", "Bob", "Paris", "Berlin", "Carol", "Acme", "Lyon", "Dave", "Nasa", "Eve"]
DAYS = ["2024-01-01", "2024-01-02", "2024-01-09", "2024-02-01", None]


def _text(rng: random.Random) -> str:
    return " and ".join(rng.sample(WORDS, rng.randint(2, 5)))


def _predictions(rng: random.Random, text: str) -> list[Entity]:
    found = []
    for match in re.finditer(r"[A-Z][a-z]+", text):
        if rng.random() < 0.7:
            grounded = rng.choice([None, True, False])
            found.append(
                Entity(
                    match.start(),
                    match.end(),
                    match.group(),
                    rng.choice(ENTITY_TYPES),
                    groundable=grounded,
                    regions=[Region((1, 2, 30, 40), 0.5)] if grounded else [],
                )
            )
    return found


def _correct(rng: random.Random, store: Store, post_id: int, text: str) -> None:
    mentions = store.entities_for_post(post_id)
    if not mentions or rng.random() < 0.2:
        match = rng.choice(list(re.finditer(r"[A-Z][a-z]+", text)))
        draft = fix.add_entity(post_id, match.start(), match.end(), match.group(), rng.choice(ENTITY_TYPES))
    else:
        entity = rng.choice(mentions)
        draft = rng.choice(
            [
                fix.change_type(entity, rng.choice(ENTITY_TYPES)),
                fix.delete_entity(entity),
                fix.fix_span(entity, entity.start, min(len(text), entity.end + 4)),
                fix.mark_in_image(entity, rng.random() < 0.5),
                fix.set_box(entity, (3, 4, 50, 60)),
            ]
        )
    with contextlib.suppress(ValueError):  # a span that reaches into nothing but " and": refused, nothing stored
        store.add_correction(draft)


def test_trend_counters_equal_a_recount_after_random_edits_corrections_and_deletes(tmp_path):
    rng = random.Random(20241201)
    store = open_store(tmp_path)
    texts = {f"p{i}": _text(rng) for i in range(12)}
    posts = {native: make_post(native, text, rng.choice(DAYS)) for native, text in texts.items()}
    store.upsert_posts(posts.values())
    operations = [
        "predict",
        "predict",
        "gold",
        "redate",
        "reword",
        "retweet",
        "correct",
        "correct",
        "correct",
        "revert",
        "restore",
        "merge",
        "split",
        "delete",
    ]
    done: dict[str, int] = {}
    for step in range(160):
        native = rng.choice(list(posts))
        post_id, text = posts[native].id, texts[native]
        operation = rng.choice(operations)
        if operation == "predict":
            store.save_result(post_id, rng.choice(["cfg", "other"]), _predictions(rng, text), None)
        elif operation == "gold":
            store.add_gold_entities(post_id, _predictions(rng, text))
        elif operation == "redate":
            store.upsert_posts([make_post(native, text, rng.choice(DAYS))])
        elif operation == "reword":
            texts[native] = text = _text(rng)
            store.upsert_posts([make_post(native, text, rng.choice(DAYS))])
        elif operation == "retweet":
            original = rng.choice([n for n in posts if n != native])
            store.upsert_posts([make_post(native, text, rng.choice(DAYS), retweet_of=rng.choice([original, None]))])
        elif operation == "correct":
            _correct(rng, store, post_id, text)
        elif operation in ("revert", "restore") and (made := store.corrections()):
            chosen = rng.choice(made)
            # refused: restoring a split whose merge is gone, a merge that would now close a cycle
            with contextlib.suppress(ValueError):
                (store.revert_correction if operation == "revert" else store.restore_correction)(chosen.id)
        elif operation == "merge":
            alias, into = (w.lower() for w in rng.sample(WORDS, 2))
            with contextlib.suppress(ValueError):
                store.merge_entities(alias, into)
        elif operation == "split" and (merged := [a for w in WORDS for a in store.entity_aliases(w.lower())]):
            store.split_entity(rng.choice(merged))
        elif operation == "delete":
            store.save_result(post_id, "cfg", [], None)  # the predictions go (corrections that add stay)
        done[operation] = done.get(operation, 0) + 1
        assert store.verify_aggregates() == [], f"step {step}: {operation} on {native}"
        _check_names(store, [p.id for p in posts.values()], f"step {step}: {operation} on {native}")
    assert all(done.get(name, 0) >= 3 for name in operations), done  # every path was exercised
    assert any(c.status == "applied" for c in store.corrections(include_reverted=False))
    for correction in store.corrections(include_reverted=False):  # newest first: every one taken back
        store.revert_correction(correction.id)
    ids = [post.id for post in posts.values()]
    assert _shown(store.entities_for_posts(ids)) == _shown(store.raw_predictions(ids))  # exactly the predictions
    assert store.verify_aggregates() == []
    store.close()


def _check_names(store: Store, ids: list[int], step: str) -> None:
    """Every mention is named as the merges say: no shown name is itself merged away, and a post without
    mention corrections shows its predictions' names resolved through the merges in force."""
    view, raw = store.entities_for_posts(ids), store.raw_predictions(ids)
    assert all(store.resolve_entity(e.norm) == e.norm for found in view.values() for e in found), step
    for post_id in ids:
        if not store.corrections([post_id], include_reverted=False):
            assert [e.norm for e in view[post_id]] == [store.resolve_entity(e.norm) for e in raw[post_id]], step


def _shown(by_post: dict[int, list[Entity]]) -> dict[int, list[tuple]]:
    return {
        post_id: [
            (
                e.start,
                e.end,
                e.text,
                e.norm,
                e.type,
                e.groundable,
                e.verdict,
                [r.box for r in e.regions],
                e.evidence,
                e.corrected_by,
            )
            for e in found
        ]
        for post_id, found in by_post.items()
    }


def test_verify_names_a_counter_that_drifted_and_rebuild_repairs_it(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Alice and Bob", "2024-01-01")
    store.upsert_posts([post])
    store.save_result(post.id, "cfg", [Entity(0, 5, "Alice", "PER"), Entity(10, 13, "Bob", "PER")], None)
    assert store.verify_aggregates() == []
    damage = sqlite3.connect(tmp_path / "test.db")  # another program writing behind the store's back
    with damage:
        damage.execute("UPDATE entity_totals SET mentions = 7 WHERE norm = 'alice' AND type = 'PER'")
        damage.execute("DELETE FROM mention_daily WHERE norm = 'bob'")
        damage.execute("UPDATE posts SET n_pred = 5, pred_types = 0")
    damage.close()
    problems = store.verify_aggregates()
    assert len(problems) == 3 and any("entity_totals" in p and "'alice'" in p and "stored (7" in p for p in problems)
    assert any("mention_daily" in p and "'bob'" in p and "stored None" in p for p in problems)
    assert (
        f"post {post.id} (n_pred, n_gold, pred_types, ground_types, unground_types): stored (5, 0, 0, 0, 0),"
        " recounted (2, 0, 1, 0, 0)" in problems
    )
    assert store.search_posts("type:PER").items == []  # what a wrong fact does to search
    store.rebuild_aggregates()
    assert store.verify_aggregates() == []
    assert [(c.norm, c.count) for c in store.top_entities()] == [("alice", 1), ("bob", 1)]
    assert [p.id for p in store.search_posts("type:PER").items] == [post.id]
    store.close()
