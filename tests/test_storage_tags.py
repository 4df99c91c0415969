"""Tags, saved searches and bulk actions in the store: `tag:` and `saved:` filters, live expansion,
bad names and cycles refused with a reason, deletes that leave the trends and the search index true."""

from __future__ import annotations

import pytest

from groundlens.storage import QueryError
from groundlens.storage.selection import PostSelection
from tests.helpers.storage import make_post, mention, open_store


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path)
    posts = [
        make_post("flood1", "Flood waters rise in Valencia", "2024-10-30"),
        make_post("flood2", "Valencia flood: volunteers clear mud", "2024-11-02"),
        make_post("fire", "Wildfire near Athens", "2024-08-12"),
        make_post("match", "Real Madrid beat Valencia", "2024-11-10"),
    ]
    store.upsert_posts(posts)
    for post in posts:
        store.save_result(
            post.id, "cfg", [mention(post, "Valencia" if "Valencia" in post.text else "Athens", "LOC")], None
        )
    yield store
    store.close()


def ids(store, query):
    return {store.get_post(i).native_id for i in store.post_ids(query)}


def test_tags_filter_posts_without_case_and_can_be_excluded_or_ored(store):
    by_native = {store.get_post(i).native_id: i for i in store.post_ids(None)}
    assert store.tag_posts([by_native["flood1"], by_native["flood2"]], "  To  Check ") == 2
    assert store.tag_posts([by_native["flood1"], 999_999], "to check") == 0  # already tagged; a gone id is skipped
    store.tag_posts([by_native["fire"]], "disaster")
    assert ids(store, 'tag:"to check"') == {"flood1", "flood2"}
    assert ids(store, 'tag:"TO CHECK"') == {"flood1", "flood2"}
    assert ids(store, 'valencia -tag:"to check"') == {"match"}
    assert ids(store, 'tag:disaster OR tag:"to check"') == {"flood1", "flood2", "fire"}
    assert [(t.name, t.posts) for t in store.tag_counts()] == [("disaster", 1), ("To Check", 2)]
    assert store.tags_of_posts([by_native["flood1"], by_native["match"]]) == {
        by_native["flood1"]: ["To Check"],
        by_native["match"]: [],
    }
    assert store.untag_posts([by_native["flood2"]], "to check") == 1
    assert ids(store, 'tag:"to check"') == {"flood1"}
    assert ids(store, "tag:nosuchtag") == set()


@pytest.mark.parametrize("name", ["", "   ", 'say "hi"', "x" * 101, "bell\x07"])
def test_a_bad_tag_name_is_refused_with_the_reason(store, name):
    with pytest.raises(ValueError, match="tag name"):
        store.tag_posts(store.post_ids(None), name)
    assert store.tag_counts() == []


def test_saved_searches_expand_live_nest_and_count(store):
    floods = store.save_search("Floods", "flood  valencia")
    assert floods.query == "flood valencia"
    assert ids(store, "saved:floods") == {"flood1", "flood2"}
    store.save_search("Recent floods", "saved:Floods after:2024-11-01")
    assert ids(store, 'saved:"recent floods"') == {"flood2"}
    assert ids(store, "valencia -saved:floods") == {"match"}
    assert ids(store, 'saved:floods OR saved:"recent floods"') == {"flood1", "flood2"}
    counts = {c.search.name: c.posts for c in store.saved_search_counts()}
    assert counts == {"Floods": 2, "Recent floods": 1}
    # the saved search means what its query means now: a new post, an edited inner search
    new = make_post("flood3", "Another flood warning for Valencia", "2024-11-20")
    store.upsert_posts([new])
    assert {c.search.name: c.posts for c in store.saved_search_counts()} == {"Floods": 3, "Recent floods": 2}
    store.update_saved_search(floods.id, "Floods", "flood")
    assert ids(store, 'saved:"recent floods"') == {"flood2", "flood3"}
    # entity search takes saved: too
    assert [e.name for e in store.search_entities("saved:floods").items] == ["Valencia"]


def test_saved_search_errors_are_refused_with_their_reason(store):
    floods = store.save_search("Floods", "flood")
    with pytest.raises(ValueError, match="already named 'Floods'"):
        store.save_search("FLOODS", "fire")
    with pytest.raises(QueryError, match="no saved search is named 'nothing'"):
        store.save_search("Broken", "saved:nothing")
    with pytest.raises(QueryError, match="unbalanced quote"):
        store.save_search("Broken", 'flood "valencia')
    with pytest.raises(QueryError, match="no saved search is named 'nothing'"):
        store.post_ids("saved:nothing")
    store.save_search("Wider", "saved:floods")
    with pytest.raises(QueryError, match=r"refers to itself \(floods -> wider -> floods\)"):
        store.update_saved_search(floods.id, "Floods", "saved:wider")
    assert ids(store, "saved:wider") == {"flood1", "flood2"}  # the refused edit changed nothing
    # renaming keeps its id; a search that names a deleted one reports it instead of a count
    renamed = store.update_saved_search(floods.id, "Flooding", "flood")
    assert renamed.id == floods.id and [s.name for s in store.saved_searches()] == ["Flooding", "Wider"]
    wider = {c.search.name: c for c in store.saved_search_counts()}["Wider"]
    assert wider.posts is None and wider.error == "no saved search is named 'floods'"
    assert store.delete_saved_search(floods.id) and not store.delete_saved_search(floods.id)
    with pytest.raises(KeyError):
        store.update_saved_search(floods.id, "Again", "flood")


def test_all_matching_selection_is_the_query_minus_exclusions(store):
    every = store.post_ids("valencia")
    assert store.selection_ids(PostSelection.matching("valencia", frozenset({every[0]}))) == every[1:]
    assert store.selection_ids(PostSelection.matching(None)) == store.post_ids(None)
    assert store.selection_ids(PostSelection.of([every[1]])) == [every[1]]


def test_deleting_posts_removes_them_from_search_trends_tags_and_the_queue(store):
    doomed = store.post_ids("flood")
    store.tag_posts(doomed, "gone")
    assert store.top_entities()[0].count == 3  # Valencia in three posts
    assert store.delete_posts(doomed, batch_size=1) == 2
    assert ids(store, "valencia") == {"match"}
    assert ids(store, "tag:gone") == set()
    assert store.count_posts() == 2
    assert {e.name: e.count for e in store.top_entities()} == {"Valencia": 1, "Athens": 1}
    assert sum(store.job_counts("cfg").values()) == 2
    assert store.integrity_problems() == []
    assert [(t.name, t.posts) for t in store.tag_counts()] == [("gone", 0)]


def test_requeue_queues_exactly_the_given_posts_again(store):
    every = store.post_ids(None)
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 4, "failed": 0}
    assert store.requeue_posts("cfg", every[:2], batch_size=1) == 2
    assert store.claim("cfg", "test", 100) == sorted(every[:2])
    assert store.requeue_posts("other", every[2:]) == 2  # no job yet under that configuration: created
    assert store.claim("other", "test", 100) == sorted(every[2:])


def test_bulk_reject_and_confirm_of_an_entity_are_corrections_that_outlast_a_rerun(store):
    every = store.post_ids(None)
    valencia = store.post_ids("entity:valencia")
    assert len(valencia) == 3
    assert store.correct_mentions(every, "VALENCIA", confirm=False, batch_size=2) == 3
    assert store.post_ids("entity:valencia") == []
    assert {c.kind for c in store.corrections()} == {"delete"}
    assert store.correct_mentions(every, "Athens", confirm=True) == 1
    assert store.correct_mentions(every, "Athens", confirm=True) == 0  # already confirmed
    athens = store.post_ids("entity:athens")[0]
    post = store.get_post(athens)
    store.save_result(athens, "cfg", [], None)  # a re-run that no longer finds Athens
    assert store.post_ids("entity:athens") == [athens]  # the confirmed mention stays
    assert [e.text for e in store.entities_for_post(athens)] == ["Athens"] and post is not None
    store.save_result(valencia[0], "cfg", [mention(store.get_post(valencia[0]), "Valencia", "LOC")], None)
    assert store.post_ids("entity:valencia") == []  # the rejection outlasts the re-run too
    with pytest.raises(ValueError, match="names no entity"):
        store.correct_mentions(every, "  ", confirm=False)
