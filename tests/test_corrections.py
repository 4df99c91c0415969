"""The analyst's corrections on a real database file: they outlast re-runs and re-imports, every view
(search, entity pages, trends) shows them, and reverting or restoring one is exact."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from groundlens.records import Entity, ImageFindings, ImageObject, Region
from groundlens.storage import Store
from groundlens.storage import corrections as fix
from groundlens.storage.schema import SCHEMA_VERSION, migrate
from tests.helpers.storage import make_post, mention, open_store


def predict(store: Store, post, found: list[tuple[str, str]], config: str = "cfg", **fields) -> None:
    """Save a pipeline result for the post: (surface, type) mentions, as a re-run would, new objects each time."""
    store.save_result(post.id, config, [mention(post, surface, kind, **fields) for surface, kind in found], None)


def shown(store: Store, post_id: int) -> list[tuple[str, str, str, bool]]:
    return [(e.text, e.type, e.norm, e.corrected) for e in store.entities_for_post(post_id)]


def one(store: Store, post_id: int, text: str) -> Entity:
    return next(e for e in store.entities_for_post(post_id) if e.text == text)


def essence(entities: list[Entity]) -> list[tuple]:
    """What a view shows of each mention (ids are the store's and change with every write)."""
    return [
        (
            e.start,
            e.end,
            e.text,
            e.norm,
            e.type,
            e.groundable,
            e.verdict,
            [r.box for r in e.regions],
            [(v.kind, v.detail) for v in e.evidence],
            e.corrected_by,
        )
        for e in entities
    ]


@pytest.fixture
def paris(tmp_path):
    store = open_store(tmp_path)
    posts = {
        "a": make_post("a", "Macron visits Paris with Merkel", "2024-03-01"),
        "b": make_post("b", "Paris is rainy today", "2024-03-02"),
    }
    store.upsert_posts(posts.values())
    predict(store, posts["a"], [("Macron", "PER"), ("Paris", "ORG"), ("Merkel", "PER")])
    predict(store, posts["b"], [("Paris", "ORG")])
    yield store, posts
    store.close()


def test_a_type_correction_outlasts_re_runs_and_re_imports_and_shows_in_search_and_trends(paris, tmp_path):
    store, posts = paris
    a = posts["a"]
    correction = store.add_correction(fix.change_type(one(store, a.id, "Paris"), "LOC"))
    assert correction.status == "applied" and correction.author and correction.kind == "type"
    predict(store, a, [("Macron", "PER"), ("Paris", "ORG"), ("Merkel", "PER")])  # the pipeline runs again
    predict(store, a, [("Paris", "ORG")], config="other-model")  # another configuration
    store.upsert_posts([make_post("a", "Macron visits Paris with Merkel", "2024-03-01")])  # re-imported
    store.close()
    store = Store.open(tmp_path / "test.db")  # and the database reopened
    assert shown(store, a.id) == [("Paris", "LOC", "paris", True)]
    assert one(store, a.id, "Paris").corrected_by == [correction.id]
    assert store.raw_predictions([a.id])[a.id][0].type == "ORG"  # what the model said is kept apart
    assert [p.id for p in store.search_posts("type:LOC").items] == [a.id]
    assert [p.id for p in store.search_posts("paris type:ORG").items] == [posts["b"].id]
    assert {(c.norm, c.type, c.count) for c in store.top_entities(type="LOC")} == {("paris", "LOC", 1)}
    assert [(p.bucket.isoformat(), p.count) for p in store.mention_series(types=["LOC"])] == [("2024-03-01", 1)]
    assert store.entity_profile("paris").types == {"LOC": 1, "ORG": 1}
    assert store.verify_aggregates() == []
    store.close()


def test_revert_restores_the_prediction_and_restore_puts_the_correction_back_exactly(paris):
    store, posts = paris
    a = posts["a"]
    before = essence(store.entities_for_post(a.id))
    type_fix = store.add_correction(fix.change_type(one(store, a.id, "Paris"), "LOC"))
    span_fix = store.add_correction(fix.fix_span(one(store, a.id, "Macron"), 0, 13))  # "Macron visits"? no:
    after = essence(store.entities_for_post(a.id))
    assert [e[2] for e in after] == ["Macron visits", "Paris", "Merkel"] and after != before
    store.revert_correction(span_fix.id)
    store.revert_correction(type_fix.id)
    assert essence(store.entities_for_post(a.id)) == before
    assert [c.status for c in store.corrections([a.id])] == ["reverted", "reverted"]
    store.restore_correction(type_fix.id)
    store.restore_correction(span_fix.id)
    assert essence(store.entities_for_post(a.id)) == after
    store.restore_correction(span_fix.id)  # doing it twice changes nothing
    assert essence(store.entities_for_post(a.id)) == after
    assert store.verify_aggregates() == []


def test_delete_add_and_span_corrections_change_search_and_revert_each(paris):
    store, posts = paris
    a, b = posts["a"], posts["b"]
    deleted = store.add_correction(fix.delete_entity(one(store, b.id, "Paris")))
    added = store.add_correction(fix.add_entity(b.id, 9, 14, "rainy", "OTHER"))
    span = store.add_correction(fix.fix_span(one(store, a.id, "Merkel"), 20, 31))
    assert shown(store, b.id) == [("rainy", "OTHER", "rainy", True)]
    assert store.search_posts("entity:rainy").items[0].id == b.id
    assert [p.id for p in store.search_posts("entity:paris").items] == [a.id]
    assert store.entity_profile("paris").mentions == 1
    assert one(store, a.id, "with Merkel").corrected_by == [span.id] and one(store, a.id, "with Merkel").type == "PER"
    assert store.search_posts("entity:merkel").items == [] and store.entity_profile("with merkel").mentions == 1
    store.revert_correction(added.id)
    assert shown(store, b.id) == []
    store.revert_correction(deleted.id)
    assert shown(store, b.id) == [("Paris", "ORG", "paris", False)]
    assert store.verify_aggregates() == []


def test_a_merge_changes_entity_pages_trends_and_search_and_a_split_undoes_it(tmp_path):
    store = open_store(tmp_path)
    posts = [
        make_post("1", "Trump speaks", "2024-05-01"),
        make_post("2", "Donald Trump and Biden", "2024-05-02"),
        make_post("3", "Trump, Biden debate", "2024-05-03"),
    ]
    store.upsert_posts(posts)
    predict(store, posts[0], [("Trump", "PER")])
    predict(store, posts[1], [("Donald Trump", "PER"), ("Biden", "PER")])
    predict(store, posts[2], [("Trump", "PER"), ("Biden", "PER")])
    assert store.entity_profile("donald trump").mentions == 1
    merge = store.merge_entities("Trump", "Donald Trump")
    assert merge.post_id is None and merge.target == {"norm": "trump"} and merge.payload == {"into": "donald trump"}
    profile = store.entity_profile("donald trump")
    assert (profile.mentions, profile.posts) == (3, 3)
    assert store.entity_profile("trump").mentions == 0
    assert [(c.norm, c.count) for c in store.top_entities(limit=1)] == [("donald trump", 3)]
    assert [c.norm for c in store.cooccurring("biden")] == ["donald trump"]
    assert sorted(p.id for p in store.search_posts('entity:"donald trump"').items) == [p.id for p in posts]
    assert sorted(p.id for p in store.search_posts("entity:trump").items) == [p.id for p in posts]  # the alias too
    assert [e.norm for e in store.search_entities("entity:trump").items] == ["donald trump"]
    assert [e.norm for e in store.search_entities("entity:trump author:nobody").items] == []  # counted from mentions
    assert store.entity_aliases("donald trump") == ["trump"] and store.resolve_entity("trump") == "donald trump"
    assert one(store, posts[0].id, "Trump").corrected_by == [merge.id]
    # a post predicted after the merge is merged too
    late = make_post("4", "Trump again", "2024-05-04")
    store.upsert_posts([late])
    predict(store, late, [("Trump", "PER")])
    assert store.entity_profile("donald trump").mentions == 4
    split = store.split_entity("trump")
    assert store.entity_profile("donald trump").mentions == 1 and store.entity_profile("trump").mentions == 3
    assert [(c.kind, c.status) for c in store.corrections()] == [("split", "applied"), ("merge", "superseded")]
    assert store.entity_aliases("donald trump") == [] and not one(store, posts[0].id, "Trump").corrected
    assert [p.id for p in store.search_posts('entity:"donald trump"').items] == [posts[1].id]
    assert sorted(p.id for p in store.search_posts("entity:trump").items) == [posts[0].id, posts[2].id, late.id]
    store.revert_correction(split.id)  # undo the split: merged again
    assert store.entity_profile("donald trump").mentions == 4
    assert [(c.kind, c.status) for c in store.corrections()] == [("split", "reverted"), ("merge", "applied")]
    store.revert_correction(merge.id)
    assert store.entity_profile("trump").mentions == 3
    assert store.verify_aggregates() == []
    store.close()


def test_merges_chain_and_refuse_cycles(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Trump, Donald Trump and President Trump", "2024-05-01")
    store.upsert_posts([post])
    predict(store, post, [("Trump", "PER"), ("Donald Trump", "PER"), ("President Trump", "PER")])
    store.merge_entities("trump", "donald trump")
    store.merge_entities("donald trump", "president trump")
    assert {e.norm for e in store.entities_for_post(post.id)} == {"president trump"}
    assert store.entity_aliases("president trump") == ["donald trump", "trump"]
    with pytest.raises(ValueError, match="into itself"):
        store.merge_entities("president trump", "trump")
    with pytest.raises(ValueError, match="not merged"):
        store.split_entity("biden")
    assert len(store.corrections()) == 2  # nothing stored for the refusals
    split = store.split_entity("donald trump")  # then "president trump" into "donald trump" is allowed...
    store.merge_entities("president trump", "donald trump")
    with pytest.raises(ValueError, match=r"reverting correction .* would merge"):
        store.revert_correction(split.id)  # ...so bringing back "donald trump" into "president trump" is refused
    assert not any(c.reverted for c in store.corrections())  # the refused revert changed nothing
    assert {e.norm for e in store.entities_for_post(post.id)} == {"donald trump"}
    assert store.verify_aggregates() == []
    store.close()


def test_boxes_masks_and_in_image_verdicts(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Obama in Berlin", "2024-02-01", image="https://example.org/1.jpg")
    store.upsert_posts([post])
    store.save_result(
        post.id,
        "cfg",
        [
            mention(post, "Obama", "PER", groundable=False, verdict="not_in_image"),
            mention(post, "Berlin", "LOC", groundable=True, verdict="in_image", regions=[Region((0, 0, 50, 50), 0.9)]),
        ],
        None,
    )
    assert [p.id for p in store.search_posts("groundable:yes").items] == [post.id]
    box = store.add_correction(fix.set_box(one(store, post.id, "Obama"), (10, 20, 110, 220)))
    obama = one(store, post.id, "Obama")
    assert (obama.groundable, obama.verdict, [r.box for r in obama.regions]) == (True, "in_image", [(10, 20, 110, 220)])
    assert obama.regions[0].mask_rle is None and obama.regions[0].media_id == post.media[0].id
    assert obama.evidence[-1].kind == "correction" and obama.evidence[-1].score == 1.0
    rle = {"size": [300, 200], "counts": "abc"}
    store.set_correction_mask(box.id, rle, 1234)
    obama = one(store, post.id, "Obama")
    assert (obama.regions[0].mask_rle, obama.regions[0].area) == (rle, 1234)
    store.add_correction(fix.reject_box(one(store, post.id, "Berlin"), (0, 0, 50, 50)))
    assert one(store, post.id, "Berlin").regions == [] and one(store, post.id, "Berlin").groundable is True
    store.add_correction(fix.mark_in_image(one(store, post.id, "Berlin"), False))
    berlin = one(store, post.id, "Berlin")
    assert (berlin.groundable, berlin.verdict) == (False, "not_in_image")
    assert store.search_posts("groundable:no type:LOC").items[0].id == post.id
    with pytest.raises(ValueError, match="has no box"):
        store.set_correction_mask(store.corrections(kinds=["in_image"])[0].id, rle, 1)
    store.close()


def test_naming_a_detected_person_gives_the_entity_that_box(tmp_path):
    store = open_store(tmp_path)
    post = make_post("1", "Biden at the summit", "2024-02-01", image="https://example.org/1.jpg")
    store.upsert_posts([post])
    person = ImageObject("person", (5.0, 6.0, 50.0, 120.0), 0.8, ("Biden",))
    store.save_results(
        "cfg",
        [(post.id, [mention(post, "Biden", "PER")], None)],
        image_findings={post.id: ImageFindings(objects=[person])},
    )
    named = store.add_correction(fix.name_person(one(store, post.id, "Biden"), person.box))
    biden = one(store, post.id, "Biden")
    assert [r.box for r in biden.regions] == [person.box] and biden.verdict == "in_image"
    assert biden.corrected_by == [named.id] and "this is Biden" in biden.evidence[-1].detail
    assert store.image_findings([post.id])[post.id].objects == []  # no longer someone not identified
    store.revert_correction(named.id)
    assert [o.box for o in store.image_findings([post.id])[post.id].objects] == [person.box]
    assert one(store, post.id, "Biden").regions == []
    store.close()


def test_a_correction_whose_mention_is_no_longer_predicted_recreates_it_unless_words_are_taken(paris):
    store, posts = paris
    b = posts["b"]
    correction = store.add_correction(fix.change_type(one(store, b.id, "Paris"), "LOC"))
    predict(store, b, [])  # the new model finds nothing: the analyst's word still stands
    assert shown(store, b.id) == [("Paris", "LOC", "paris", True)]
    predict(store, b, [("Paris is", "ORG")])  # another mention covers those words now
    assert shown(store, b.id) == [("Paris is", "ORG", "paris is", False)]
    assert store.corrections([b.id])[0].status == "unmatched"
    predict(store, b, [("Paris", "ORG")])
    assert store.corrections([b.id])[0].status == "applied" and correction.id == store.corrections([b.id])[0].id


def test_a_correction_goes_stale_when_the_post_text_changes(paris):
    store, posts = paris
    b = posts["b"]
    store.add_correction(fix.change_type(one(store, b.id, "Paris"), "LOC"))
    changed = make_post("b", "Lyon is rainy today", "2024-03-02")
    store.upsert_posts([changed])
    predict(store, changed, [("Lyon", "LOC")])
    assert shown(store, b.id) == [("Lyon", "LOC", "lyon", False)]
    assert store.corrections([b.id])[0].status == "stale"


def test_unusable_corrections_are_refused_with_the_reason_and_nothing_is_stored(paris):
    store, posts = paris
    a = posts["a"]
    paris_mention = one(store, a.id, "Paris")
    with pytest.raises(ValueError, match="reads 'Paris'"):
        store.add_correction(fix.add_entity(a.id, 14, 19, "Rome", "LOC"))
    with pytest.raises(ValueError, match="not inside"):
        store.add_correction(fix.fix_span(paris_mention, 14, 400))
    with pytest.raises(ValueError, match="not one of"):
        store.add_correction(fix.change_type(paris_mention, "CITY"))
    with pytest.raises(ValueError, match="empty"):
        store.add_correction(fix.set_box(paris_mention, (10, 10, 5, 20)))
    with pytest.raises(ValueError, match="unknown correction kind"):
        store.add_correction(fix.Draft("rename", a.id, {"start": 14, "end": 19, "text": "Paris", "type": "ORG"}))
    with pytest.raises(KeyError, match="no post"):
        store.add_correction(fix.add_entity(999, 0, 5, "Paris", "LOC"))
    with pytest.raises(ValueError, match="gold"):
        fix.change_type(Entity(14, 19, "Paris", "LOC", origin="gold", post_id=a.id), "ORG")
    with pytest.raises(KeyError, match="no correction"):
        store.revert_correction(42)
    assert store.corrections() == []


def test_corrections_are_listed_with_filters(paris):
    store, posts = paris
    a, b = posts["a"], posts["b"]
    first = store.add_correction(fix.change_type(one(store, a.id, "Paris"), "LOC"), author="ana")
    second = store.add_correction(fix.delete_entity(one(store, b.id, "Paris")))
    third = store.merge_entities("merkel", "angela merkel", author="ana")
    store.revert_correction(second.id)
    assert [c.id for c in store.corrections()] == [third.id, second.id, first.id]
    assert [c.id for c in store.corrections(include_reverted=False)] == [third.id, first.id]
    assert [c.id for c in store.corrections(author="ana")] == [third.id, first.id]
    assert [c.id for c in store.corrections(post_ids=[b.id])] == [second.id]
    assert [c.id for c in store.corrections(kinds=["merge", "delete"])] == [third.id, second.id]
    now = datetime.now(UTC)
    assert len(store.corrections(since=now - timedelta(minutes=5), until=now + timedelta(minutes=5))) == 3
    assert store.corrections(since=now + timedelta(minutes=5)) == []
    assert store.corrections(limit=1)[0].id == third.id
    assert second.author == fix.author_name()


def test_a_correction_to_an_original_holds_for_the_retweets_that_share_its_result(tmp_path):
    store = open_store(tmp_path)
    text = "Durant signs with Brooklyn"
    original = make_post("1", text, "2024-04-01")
    retweets = [make_post(str(10 + i), text, "2024-04-02", retweet_of="1") for i in range(3)]
    store.upsert_posts([original, *retweets])
    store.enqueue("cfg")
    assert store.claim("cfg", "w", 10) == [original.id]  # the retweets wait for their original's result
    predict(store, original, [("Durant", "PER"), ("Brooklyn", "LOC")])
    correction = store.add_correction(fix.change_type(one(store, original.id, "Brooklyn"), "ORG"))
    for retweet in retweets:
        assert shown(store, retweet.id) == [("Durant", "PER", "durant", False), ("Brooklyn", "ORG", "brooklyn", True)]
        assert one(store, retweet.id, "Brooklyn").corrected_by == [correction.id]
    assert [(c.norm, c.count) for c in store.top_entities(type="ORG", include_retweets=True)] == [("brooklyn", 4)]
    store.revert_correction(correction.id)
    assert [(c.norm, c.count) for c in store.top_entities(type="LOC", include_retweets=True)] == [("brooklyn", 4)]
    assert store.verify_aggregates() == []
    store.close()


def test_a_database_from_before_corrections_is_upgraded_with_its_predictions(tmp_path):
    def tables(conn: sqlite3.Connection) -> set[str]:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    probe = sqlite3.connect(":memory:")
    steps = (
        v for v in range(1, SCHEMA_VERSION + 1) if migrate(probe, v) is not None and "corrections" in tables(probe)
    )
    before = next(steps) - 1  # the last version without corrections (found, not assumed: steps get renumbered)
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    migrate(conn, target=before)
    with conn:
        conn.execute("INSERT INTO posts (id, source, native_id, text) VALUES (1, 'x', '1', 'Paris in spring')")
        conn.execute(
            'INSERT INTO entities (post_id, origin, start, "end", text, norm, type)'
            " VALUES (1, 'pred', 0, 5, 'Paris', 'paris', 'ORG')"
        )
    conn.close()
    with Store.open(path) as store:
        assert shown(store, 1) == [("Paris", "ORG", "paris", False)]
        store.add_correction(fix.change_type(one(store, 1, "Paris"), "LOC"))
        assert shown(store, 1) == [("Paris", "LOC", "paris", True)]
        assert store.raw_predictions([1])[1][0].type == "ORG"


def test_merges_hold_for_retweet_copies_and_corrected_mentions_and_a_split_gives_back_their_names(tmp_path):
    store = open_store(tmp_path)
    text = "Durant signs with Brooklyn"
    original = make_post("1", text, "2024-04-01")
    retweet = make_post("10", text, "2024-04-02", retweet_of="1")
    other = make_post("2", "Kevin Durant and Durant fans", "2024-04-03")
    store.upsert_posts([original, retweet, other])
    store.enqueue("cfg")
    store.claim("cfg", "w", 10)
    predict(store, original, [("Durant", "PER"), ("Brooklyn", "LOC")])
    predict(store, other, [("Kevin Durant", "PER"), ("Durant", "ORG")])
    type_fix = store.add_correction(
        fix.change_type(next(e for e in store.entities_for_post(other.id) if e.text == "Durant"), "PER")
    )
    merge = store.merge_entities("durant", "kevin durant")
    predict(store, original, [("Durant", "PER"), ("Brooklyn", "LOC")])  # re-run: copied onto the retweet again
    for post in (original, retweet):
        assert shown(store, post.id)[0] == ("Durant", "PER", "kevin durant", True)
        assert one(store, post.id, "Durant").corrected_by == [merge.id]
    assert [(e.norm, e.corrected_by) for e in store.entities_for_post(other.id)] == [
        ("kevin durant", []),
        ("kevin durant", [type_fix.id, merge.id]),
    ]
    assert store.entity_profile("kevin durant").mentions == 3  # originals only
    assert store.entity_profile("kevin durant", include_retweets=True).mentions == 4
    assert [e.norm for e in store.raw_predictions([other.id])[other.id]] == ["kevin durant", "durant"]
    store.split_entity("durant")
    assert [e.norm for post in (original, retweet, other) for e in store.entities_for_post(post.id)] == [
        "durant",
        "brooklyn",
        "durant",
        "brooklyn",
        "kevin durant",
        "durant",
    ]
    assert one(store, other.id, "Durant").corrected_by == [type_fix.id]
    assert store.entity_profile("kevin durant").mentions == 1 and store.verify_aggregates() == []
    store.close()
