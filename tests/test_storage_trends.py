"""Trend queries against hand-counted expectations, and the aggregates staying in step with edits.

2024-01-01 is a Monday, so the weeks below start on Jan 1, 8 and 15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from groundlens.storage import entity_search
from groundlens.storage.query import parse_query
from tests.helpers.storage import make_post, mention, open_store, outside

# (native id, day or None, text, [(surface, type)])
CORPUS = [
    ("p1", "2024-01-01", "Obama and Merkel in Berlin", [("Obama", "PER"), ("Merkel", "PER"), ("Berlin", "LOC")]),
    ("p2", "2024-01-02", "Obama speaks", [("Obama", "PER")]),
    ("p3", "2024-01-03", "Obama's visit to Berlin", [("Obama's", "PER"), ("Berlin", "LOC")]),
    ("p8", "2024-01-07", "Merkel on Sunday", [("Merkel", "PER")]),
    ("p4", "2024-01-09", "Merkel and Obama again", [("Merkel", "PER"), ("Obama", "PER")]),
    ("p5", "2024-01-15", "Berlin marathon", [("Berlin", "LOC")]),
    ("p6", "2024-01-16", "Berlin wins", [("Berlin", "ORG")]),
    ("p7", None, "Obama undated", [("Obama", "PER")]),
]


@pytest.fixture
def trends(tmp_path):
    store = open_store(tmp_path)
    posts = {native: make_post(native, text, day) for native, day, text, _ in CORPUS}
    store.upsert_posts(posts.values())
    for native, _, _, found in CORPUS:
        post = posts[native]
        store.save_result(post.id, "cfg", [mention(post, surface, kind) for surface, kind in found], None)
    store.add_gold_entities(posts["p2"].id, [mention(posts["p2"], "Obama", "PER")])
    store.add_gold_entities(posts["p5"].id, [mention(posts["p5"], "marathon", "OTHER")])
    return store, posts


def series(points):
    """{key: [(iso day, count), ...]} in bucket order."""
    out: dict[str, list[tuple[str, int]]] = {}
    for point in points:
        out.setdefault(point.key, []).append((point.bucket.isoformat(), point.count))
    return out


def test_daily_series_per_entity_is_dense_between_first_and_last_mention(trends):
    store, _ = trends
    got = series(store.mention_series(["Obama"]))
    assert got == {
        "obama": [
            ("2024-01-01", 1),
            ("2024-01-02", 1),
            ("2024-01-03", 1),
            ("2024-01-04", 0),
            ("2024-01-05", 0),
            ("2024-01-06", 0),
            ("2024-01-07", 0),
            ("2024-01-08", 0),
            ("2024-01-09", 1),
        ]
    }


def test_weekly_series_per_entity_and_type_filter(trends):
    store, _ = trends
    got = series(store.mention_series(["obama", "Berlin", "MERKEL"], bucket="week"))
    assert got == {
        "obama": [("2024-01-01", 3), ("2024-01-08", 1), ("2024-01-15", 0)],
        "berlin": [("2024-01-01", 2), ("2024-01-08", 0), ("2024-01-15", 2)],
        "merkel": [("2024-01-01", 2), ("2024-01-08", 1), ("2024-01-15", 0)],  # Sunday Jan 7 is in week 1
    }
    located = series(store.mention_series(["berlin"], types=["LOC"], bucket="week"))
    assert located == {"berlin": [("2024-01-01", 2), ("2024-01-08", 0), ("2024-01-15", 1)]}


def test_series_per_type_over_a_date_range(trends):
    store, _ = trends
    got = series(store.mention_series(start=date(2024, 1, 1), end=datetime(2024, 1, 3, tzinfo=UTC)))
    assert got == {
        "PER": [("2024-01-01", 2), ("2024-01-02", 1)],
        "LOC": [("2024-01-01", 1), ("2024-01-02", 0)],
        "ORG": [("2024-01-01", 0), ("2024-01-02", 0)],
        "OTHER": [("2024-01-01", 0), ("2024-01-02", 0)],
    }
    assert series(store.mention_series(types=["OTHER"])) == {}  # the only OTHER mention is gold
    with_gold = series(
        store.mention_series(types=["OTHER", "PER"], start=date(2024, 1, 2), end=date(2024, 1, 3), include_gold=True)
    )
    assert with_gold == {"OTHER": [("2024-01-02", 0)], "PER": [("2024-01-02", 2)]}
    assert series(
        store.mention_series(types=["OTHER"], start=date(2024, 1, 15), end=date(2024, 1, 16), include_gold=True)
    ) == {"OTHER": [("2024-01-15", 1)]}
    with pytest.raises(ValueError):
        store.mention_series(types=["MISC"])
    with pytest.raises(ValueError):
        store.mention_series(bucket="month")


def test_top_entities_in_windows_and_by_type(trends):
    store, _ = trends
    ranked = [(c.norm, c.name, c.type, c.count) for c in store.top_entities()]  # all time: undated p7 counts
    assert ranked == [("obama", "Obama", "PER", 5), ("berlin", "Berlin", "LOC", 4), ("merkel", "Merkel", "PER", 3)]
    assert [(c.norm, c.count) for c in store.top_entities(start=date(2024, 1, 8))] == [
        ("berlin", 2),
        ("merkel", 1),
        ("obama", 1),
    ]
    assert [(c.norm, c.count) for c in store.top_entities(end=date(2024, 1, 2))] == [
        ("berlin", 1),
        ("merkel", 1),
        ("obama", 1),
    ]
    assert [(c.norm, c.count) for c in store.top_entities(type="PER", limit=1)] == [("obama", 5)]
    # windows where all-time leaders fall behind (the search must look beyond them)
    assert [(c.norm, c.count) for c in store.top_entities(start=date(2024, 1, 8), limit=1)] == [("berlin", 2)]
    assert [(c.norm, c.count) for c in store.top_entities(date(2024, 1, 9), date(2024, 1, 10), limit=2)] == [
        ("merkel", 1),
        ("obama", 1),
    ]
    assert [(c.norm, c.count) for c in store.top_entities(date(2024, 1, 7), date(2024, 1, 8), limit=1)] == [
        ("merkel", 1),
    ]
    assert [(c.norm, c.type, c.count) for c in store.top_entities(type="ORG")] == [("berlin", "ORG", 1)]
    assert [(c.norm, c.count) for c in store.top_entities(include_gold=True, limit=1)] == [("obama", 6)]


def test_undated_posts_count_in_the_all_time_ranking_only(tmp_path):
    """A Twitter-GMNER import has no dates: its processed posts must still rank (was "No mentions yet")."""
    store = open_store(tmp_path)
    posts = [make_post(f"u{i}", "Obama in Berlin", None) for i in range(3)] + [make_post("d", "Obama", "2024-01-02")]
    store.upsert_posts(posts)
    for post in posts[:2] + posts[3:]:  # u2 not processed yet
        found = [mention(post, "Obama", "PER")] + ([mention(post, "Berlin", "LOC")] if "Berlin" in post.text else [])
        store.save_result(post.id, "cfg", found, None)
    assert [(c.norm, c.type, c.count) for c in store.top_entities()] == [("obama", "PER", 3), ("berlin", "LOC", 2)]
    assert [(c.norm, c.count) for c in store.top_entities(type="LOC")] == [("berlin", 2)]
    assert [(c.norm, c.count) for c in store.top_entities(start=date(2024, 1, 1))] == [("obama", 1)]
    assert store.mention_series(["obama"]) and all(
        p.bucket == date(2024, 1, 2) for p in store.mention_series(["obama"])
    )
    everything = store.coverage()
    assert (everything.posts, everything.processed, everything.undated, everything.last_day) == (
        4,
        3,
        3,
        date(2024, 1, 2),
    )
    dated = store.coverage(start=date(2024, 1, 1), end=date(2024, 1, 3))
    assert (dated.posts, dated.processed, dated.share) == (1, 1, 1.0)


def test_cooccurring_counts_shared_posts(trends):
    store, _ = trends
    assert [(c.norm, c.type, c.count) for c in store.cooccurring("Obama")] == [
        ("berlin", "LOC", 2),
        ("merkel", "PER", 2),
    ]
    assert [(c.norm, c.count) for c in store.cooccurring("obama", start=date(2024, 1, 5))] == [("merkel", 1)]
    assert [(c.norm, c.count) for c in store.cooccurring("obama", limit=1)] == [("berlin", 2)]
    assert store.cooccurring("nobody") == []


def test_entity_profile(trends):
    store, _ = trends
    obama = store.entity_profile("Obama")
    assert (obama.norm, obama.name, obama.types, obama.mentions, obama.posts) == ("obama", "Obama", {"PER": 5}, 5, 5)
    assert obama.first_seen == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert obama.last_seen == datetime(2024, 1, 9, 12, tzinfo=UTC)  # the undated post has no say
    assert store.entity_profile("obama", include_gold=True).mentions == 6
    berlin = store.entity_profile("berlin")
    assert (berlin.types, berlin.mentions) == ({"LOC": 3, "ORG": 1}, 4)
    nobody = store.entity_profile("nobody")
    assert (nobody.name, nobody.mentions, nobody.first_seen) == (None, 0, None)


def test_aggregates_follow_replaced_results_and_changed_dates(trends):
    store, posts = trends
    p1 = posts["p1"]
    store.save_result(p1.id, "cfg", [], None)  # predictions for p1 gone
    assert [(c.norm, c.count) for c in store.top_entities()] == [("obama", 4), ("berlin", 3), ("merkel", 2)]
    store.upsert_posts([make_post("p2", "Obama speaks", "2024-01-20")])  # p2 moves to Jan 20
    assert series(store.mention_series(["obama"], start=date(2024, 1, 19), end=date(2024, 1, 21))) == {
        "obama": [("2024-01-19", 0), ("2024-01-20", 1)]
    }
    store.upsert_posts([make_post("p7", "Obama undated", "2024-01-21")])  # an undated post gets a date
    assert store.top_entities(type="PER", limit=1)[0].count == 4
    assert store.verify_aggregates() == []  # every counter equals a recount, and none is left at zero


@pytest.mark.parametrize(
    "query",
    [
        "obama",
        "berlin",
        "type:PER",
        "type:LOC,ORG",
        "-type:PER",
        "date:2024-01",
        "after:2024-01-08",
        "ber* before:2024-01-10",
        "entity:obama",
        "merkel OR obama",
        "-merkel type:PER",
        "type:ORG date:2024-01-16",
    ],
)
def test_entity_search_from_aggregates_equals_counting_mentions(trends, query):
    store, _ = trends
    parsed = parse_query(query)
    assert entity_search._aggregated(parsed)
    with outside(store.path) as conn:
        for limit, offset in ((20, 0), (1, 1)):
            fast = entity_search._from_aggregates(conn, parsed, limit, offset)
            slow = entity_search._from_mentions(conn, parsed, limit, offset)
            assert fast[0] == slow[0] and fast[1] == slow[1]
    assert not entity_search._aggregated(parse_query("obama groundable:yes"))
    assert not entity_search._aggregated(parse_query("obama after:2024-01-02T10:00"))
