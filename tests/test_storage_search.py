"""The search language end to end on a small corpus: words, phrases, prefixes, every filter, errors."""

from __future__ import annotations

import sqlite3

import pytest

from groundlens.storage import QueryError
from groundlens.storage.feed import ORDERS, walk_feed_order
from groundlens.storage.query import parse_query
from tests.helpers.storage import make_post, mention, open_store, outside


@pytest.fixture
def corpus(tmp_path):
    """Six posts; returns (store, {native_id: post id})."""
    store = open_store(tmp_path)
    posts = [
        make_post(
            "kd",
            "Kevin Durant joins the Golden State Warriors",
            "2024-01-05",
            author="@NBAnews",
            lang="en",
            image="https://img/kd.jpg",
        ),
        make_post("paris", "Trump lands in Paris for the summit", "2024-01-20", author="Reporter", lang="en"),
        make_post(
            "rome",
            "Pope Francis speaks in Rome",
            "2024-02-03",
            source="mastodon",
            lang="it",
            image="https://img/rome.jpg",
        ),
        make_post("near", "near the stadium, warriors fans wait", "2024-02-15", lang="en"),
        make_post("durant2", "Durant scores 40 against Boston", "2024-03-01", author="nbanews", lang="en"),
        make_post("plain", "nothing to see here", None),
    ]
    store.upsert_posts(posts)
    kd, paris, rome, near, durant2, _ = posts
    store.save_result(
        kd.id,
        "cfg",
        [
            mention(kd, "Kevin Durant", "PER", groundable=True),
            mention(kd, "Golden State Warriors", "ORG", groundable=False),
        ],
        None,
    )
    store.save_result(
        paris.id,
        "cfg",
        [mention(paris, "Trump", "PER", groundable=False), mention(paris, "Paris", "LOC", groundable=True)],
        None,
    )
    store.save_result(
        rome.id, "cfg", [mention(rome, "Pope Francis", "PER", groundable=True), mention(rome, "Rome", "LOC")], None
    )
    store.save_result(durant2.id, "cfg", [mention(durant2, "Durant", "PER"), mention(durant2, "Boston", "ORG")], None)
    store.add_gold_entities(near.id, [mention(near, "warriors", "ORG")])
    return store, {post.native_id: post.id for post in posts}


def found(store, query):
    """native ids of the matching posts, as a set."""
    return {store.get_post(i).native_id for i in store.post_ids(query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("durant", {"kd", "durant2"}),
        ("DURANT", {"kd", "durant2"}),
        ('"kevin durant"', {"kd"}),
        ('"durant kevin"', set()),
        ("warri*", {"kd", "near"}),
        ('"golden sta"*', {"kd"}),
        ("durant -boston", {"kd"}),
        ("durant NOT boston", {"kd"}),
        ("-durant -warriors", {"paris", "rome", "plain"}),
        ("paris OR rome", {"paris", "rome"}),
        ("in paris OR rome", {"paris", "rome"}),
        ("trump AND paris", {"paris"}),
        ("type:LOC", {"paris", "rome"}),
        ("type:org", {"kd", "durant2"}),
        ("type:LOC,ORG", {"paris", "rome", "kd", "durant2"}),
        ("type:LOC OR type:ORG", {"paris", "rome", "kd", "durant2"}),
        ("-type:PER", {"near", "plain"}),
        ('entity:"Kevin Durant"', {"kd"}),
        ("entity:durant", {"durant2"}),
        ("groundable:yes", {"kd", "paris", "rome"}),
        ("groundable:no", {"kd", "paris"}),
        ("type:PER groundable:yes", {"kd", "rome"}),  # one mention that is both
        ("type:LOC groundable:no", set()),
        ("type:PER type:LOC", {"paris", "rome"}),  # two mentions
        ("source:MASTODON", {"rome"}),
        ("-source:twitter", {"rome"}),
        ("author:nbanews", {"kd", "durant2"}),
        ("-author:nbanews", {"paris", "rome", "near", "plain"}),  # posts without an author are kept
        ("-date:2024-01", {"rome", "near", "durant2", "plain"}),
        ("-lang:en", {"rome", "plain"}),
        ("author:@NBAnews", {"kd", "durant2"}),
        ('author:"reporter"', {"paris"}),
        ("lang:IT", {"rome"}),
        ("has:image", {"kd", "rome"}),
        ("-has:image", {"paris", "near", "durant2", "plain"}),
        ("has:entities", {"kd", "paris", "rome", "durant2"}),
        ("has:gold", {"near"}),
        ("after:2024-02-03", {"rome", "near", "durant2"}),
        ("before:2024-02-03", {"kd", "paris"}),
        ("after:2024-01-01 before:2024-02-01", {"kd", "paris"}),
        ("date:2024-02", {"rome", "near"}),
        ("date:2024-01-20", {"paris"}),
        ("date:2024", {"kd", "paris", "rome", "near", "durant2"}),
        ("date:2024-01 OR date:2024-03", {"kd", "paris", "durant2"}),
        ("after:2024-01-20T12:00", {"paris", "rome", "near", "durant2"}),
        ("durant type:PER has:image after:2024-01-01", {"kd"}),
        ("warriors -has:gold", {"kd"}),
    ],
)
def test_query_language(corpus, query, expected):
    store, _ = corpus
    assert found(store, query) == expected
    assert store.count_matching(query) == len(expected)


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ('"kevin durant', "unbalanced quote", 0),
        ('durant "kevin', "unbalanced quote", 7),
        ("colour:red", "unknown filter 'colour:'", 0),
        ("durant http://x.com", "unknown filter 'http:'", 7),
        ("type:MISC", "bad type 'MISC'", 5),
        ("type:", "needs a value", 5),
        ("after:2024-13-01", "bad date", 6),
        ("date:yesterday", "bad date", 5),
        ("before:2024-02-30", "bad date", 7),
        ("groundable:maybe", "bad value 'maybe'", 11),
        ("has:video", "bad value 'video'", 4),
        ("durant OR", "OR must be followed", 7),
        ("OR durant", "OR cannot stand", 0),
        ("AND OR", "AND cannot stand", 0),
        ("durant OR type:PER", "not a mix", 10),
        ("durant OR -boston", "negated term cannot be part of an OR", 10),
        ("NOT", "NOT must be followed", 0),
        ("- durant", "'-' must be directly followed", 0),
        ("tr*mp", "'*' may only end a word", 2),
        ("*", "nothing to search for", 0),
        ("^", "nothing to search for", 0),
        ('""', "empty phrase", 0),
        ('durant "!!"', "nothing to search for", 7),
        ("entity:@", "empty once normalised", 7),
    ],
)
def test_malformed_queries_raise_query_error_with_position(corpus, query, message, position):
    store, _ = corpus
    for call in (store.post_ids, store.count_matching, store.search_posts, store.search_entities):
        if query.strip() == "" and call in (store.post_ids, store.count_matching):
            continue  # a blank feed filter means "everything"
        with pytest.raises(QueryError) as caught:
            call(query)
        assert message in caught.value.message
        assert caught.value.position == position
        assert f"at character {position + 1}" in str(caught.value)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NEAR(", {"near"}),
        ("NEAR(warriors fans)", set()),  # the phrases "near warriors" and "fans", not FTS5's NEAR()
        ("NEAR(the stadium)", {"near"}),
        ("near stadium", {"near"}),
        ("warriors^", {"kd", "near"}),
        ("text:durant", None),  # an FTS5 column filter is just an unknown filter here
        ("posts_fts", set()),
        ("durant'", {"kd", "durant2"}),
        ("durant); DROP TABLE posts;", set()),
        ("durant); DROP TABLE posts; --", None),  # "--" excludes "-", which has nothing to search for
        ("x'; DELETE FROM posts WHERE 1=1 OR 'x", set()),
        ('durant""kevin', None),
        ("{durant}", {"kd", "durant2"}),
        ("+durant", {"kd", "durant2"}),
        ("durant:", None),
    ],
)
def test_fts5_syntax_is_never_interpreted(corpus, query, expected):
    """FTS5 operators and SQL in user text are searched as words or rejected, never executed."""
    store, _ = corpus
    try:
        result = found(store, query)
    except QueryError:
        result = None
    except sqlite3.Error as error:  # pragma: no cover - the failure this test exists to catch
        pytest.fail(f"{query!r} reached SQLite as syntax: {error}")
    assert result == expected
    assert store.count_posts() == 6


def test_search_posts_pages_newest_first(corpus):
    store, ids = corpus
    first = store.search_posts("durant OR warriors", limit=2)
    assert [p.native_id for p in first.items] == ["durant2", "near"] and first.has_more
    second = store.search_posts("durant OR warriors", limit=2, offset=2)
    assert [p.native_id for p in second.items] == ["kd"] and not second.has_more
    assert store.search_posts("durant", order="created_asc").items[0].id == ids["kd"]


def test_search_entities_matches_names_and_filters_mentions(corpus):
    store, _ = corpus
    page = store.search_entities("durant")
    assert [(e.norm, e.mentions, e.type) for e in page.items] == [("durant", 1, "PER"), ("kevin durant", 1, "PER")]
    assert [e.norm for e in store.search_entities("type:LOC").items] == ["paris", "rome"]
    assert [e.norm for e in store.search_entities("type:PER groundable:yes").items] == ["kevin durant", "pope francis"]
    assert [e.norm for e in store.search_entities("type:PER -durant").items] == ["pope francis", "trump"]
    assert [e.norm for e in store.search_entities("fra* OR bos*").items] == ["boston", "pope francis"]
    assert [e.norm for e in store.search_entities("source:mastodon").items] == ["pope francis", "rome"]
    assert [e.norm for e in store.search_entities("date:2024-01 type:PER").items] == ["kevin durant", "trump"]
    assert store.search_entities("warriors").items[0].norm == "golden state warriors"  # gold-only 'warriors' left out
    paris = store.search_entities("paris").items[0]
    assert (paris.name, paris.posts, paris.groundable, paris.first_seen.day) == ("Paris", 1, 1, 20)
    assert store.search_entities("type:PER", limit=1).has_more


def test_a_page_of_a_common_word_walks_the_feed_order_with_the_same_result(tmp_path):
    store = open_store(tmp_path)
    posts = [
        make_post(str(i), f"common word {'rare' if i % 7 == 0 else 'plain'}", f"2024-01-{1 + i % 28:02d}")
        for i in range(60)
    ]
    store.upsert_posts(posts)
    with outside(store.path) as conn:
        assert walk_feed_order(conn, parse_query("common"))  # the plan this test is about
        assert not walk_feed_order(conn, parse_query("rare"))
        assert not walk_feed_order(conn, parse_query("common lang:en"))
    for query in ("common", "common -rare", "common after:2024-01-10 before:2024-01-20", "word OR rare"):
        for order in ORDERS:
            everything = store.post_ids(query, order=order)  # all matches: the match-driven plan
            for offset in (0, 7):
                page = store.search_posts(query, limit=10, offset=offset, order=order)
                assert [p.id for p in page.items] == everything[offset : offset + 10]
