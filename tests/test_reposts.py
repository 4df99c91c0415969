"""Retweets, quotes and replies in real X payloads: whole texts, links, one pipeline run per distinct original,
and the analyst's choice of counting originals only or every post.

The collection (fixtures/ingest/twarc2/collection.jsonl, written by make_collection.py beside it) is six twarc2
search pages in the X API v2 response shape: 150 tweets, 76 of them retweets (43 with text X cut to
"RT @user: ... …"), 21 quotes, 16 replies, and retweets of two deleted originals that `includes` lacks.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import AppPaths
from groundlens.core.ingest import import_items, import_paths
from groundlens.core.ingest.x_api import search_recent
from groundlens.core.jobs.runner import JobRunner
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.settings import Settings
from groundlens.records import Media, Post
from groundlens.storage import QueryError, Store
from tests.helpers.reposts import (
    ORIGINAL,
    PHOTO,
    by_native,
    cut,
    durant,
    original_tweet,
    page,
    retweet,
    tweet,
    write_pages,
)
from tests.helpers.x_api import serve

COLLECTION = Path(__file__).parent / "fixtures" / "ingest" / "twarc2" / "collection.jsonl"


def wave_store(tmp_path: Path, retweets: int = 30) -> Store:
    """A store holding the original (from includes) and `retweets` retweets of it, on days 2..4."""
    store = Store.open(tmp_path / "wave.db")
    pages = [page([retweet(str(100 + i), 2 + i % 3) for i in range(retweets)], [original_tweet()])]
    report = import_paths(store, [write_pages(tmp_path / "wave.jsonl", *pages)], download=False)
    assert report.ok, [str(e) for e in report.errors]
    return store


def processed_wave(tmp_path: Path, retweets: int) -> Store:
    """wave_store after the pipeline's turn: the original claimed and its result (durant) saved."""
    store = wave_store(tmp_path, retweets)
    store.enqueue("cfg")
    store.claim("cfg", "w", 10)
    store.save_result(by_native(store, "1").id, "cfg", durant(store, "1"), None)
    return store


# --- readers ---------------------------------------------------------------------------------------


def test_collection_retweets_are_stored_with_the_whole_text_of_their_original(tmp_path):
    store = Store.open(tmp_path / "c.db")
    report = import_paths(store, [COLLECTION], download=False)
    assert report.ok, [str(e) for e in report.errors]
    posts = store.get_posts(store.post_ids(None))
    assert len(posts) == 150 + 14  # every tweet, and the 14 originals the pages carry in includes.tweets
    retweets = [p for p in posts.values() if p.retweet_of]
    assert len(retweets) == 76
    cut_texts = [p for p in posts.values() if p.text.startswith("RT @") and p.text.endswith("\u2026")]
    # before: 43 retweets kept the cut text; now only retweets of the deleted originals, which nothing carries
    assert len(cut_texts) == 3 and all(by_native(store, p.retweet_of) is None for p in cut_texts)
    for post in retweets:
        original = by_native(store, post.retweet_of)
        if original is not None:
            assert post.text == original.text and not post.text.startswith("RT @")
            assert [m.url for m in post.media] == [m.url for m in original.media]
    rows = store.post_summaries(store.post_ids(None))  # the feed marks the retweets
    assert sum(row.retweet for row in rows) == 76
    quotes = [p for p in posts.values() if p.quote_of]
    assert len(quotes) == 21
    assert all(by_native(store, q.quote_of) is not None and not q.text.startswith("RT @") for q in quotes)
    assert len([p for p in posts.values() if p.reply_to]) == 16


def test_search_filters_in_the_spirit_of_x_operators(tmp_path):
    store = Store.open(tmp_path / "c.db")
    import_paths(store, [COLLECTION], download=False)
    assert store.count_matching("is:retweet") == 76
    assert store.count_matching("-is:retweet") == 164 - 76
    assert store.count_matching("is:quote") == 21
    assert store.count_matching("is:reply") == 16
    assert store.count_matching("is:quote,reply") == 37
    assert store.count_matching("is:quote OR is:retweet") == 97
    assert store.count_matching("-is:retweet -is:quote -is:reply") == 164 - 76 - 21 - 16
    with pytest.raises(QueryError, match="bad value 'tweet' for is:"):
        store.count_matching("is:tweet")


def test_quotes_and_replies_keep_their_own_text_and_link_to_what_they_answer(tmp_path):
    quote = tweet("2", "Brooklyn was loud tonight https://t.co/x", 2, referenced_tweets=[{"type": "quoted", "id": "1"}])
    reply = tweet("3", "@nba what a night", 2, referenced_tweets=[{"type": "replied_to", "id": "1"}])
    store = Store.open(tmp_path / "q.db")
    import_paths(store, [write_pages(tmp_path / "q.jsonl", page([quote, reply], [original_tweet()]))], download=False)
    stored_quote, stored_reply = by_native(store, "2"), by_native(store, "3")
    assert (stored_quote.text, stored_quote.quote_of, stored_quote.retweet_of) == (quote["text"], "1", None)
    assert (stored_reply.text, stored_reply.reply_to) == ("@nba what a night", "1")
    quoted = by_native(store, stored_quote.quote_of)  # the quoted text, as the inspector shows it
    assert quoted.text == ORIGINAL and quoted.author == "nba"


def test_a_retweet_whose_original_is_missing_from_includes_keeps_its_text_and_link(tmp_path):
    lonely = retweet("5", 2, original="404")
    store = Store.open(tmp_path / "m.db")
    report = import_paths(store, [write_pages(tmp_path / "m.jsonl", page([lonely], []))], download=False)
    assert report.ok
    post = by_native(store, "5")
    assert (post.text, post.retweet_of) == (lonely["text"], "404")
    assert by_native(store, "404") is None
    assert store.count_matching("is:retweet") == 1


def test_twarc2_flatten_lines_read_the_inlined_original(tmp_path):
    long_text = ORIGINAL + ". " + ORIGINAL  # over 280 characters: X sends the whole text as note_tweet
    original = {
        **original_tweet(),
        "author": {"id": "10", "username": "nba"},
        "note_tweet": {"text": long_text},
        "attachments": {"media_keys": ["3_900"], "media": [PHOTO]},
    }
    flat_retweet = {
        **retweet("7", 3),
        "author": {"id": "20", "username": "fan"},
        "referenced_tweets": [{"type": "retweeted", **original}],
        "__twarc": {"version": "2.14.0"},
    }
    flat_lonely = {
        **retweet("8", 3, original="404"),
        "author": {"id": "20", "username": "fan"},
        "referenced_tweets": [{"type": "retweeted", "id": "404"}],
        "__twarc": {"version": "2.14.0"},
    }
    path = tmp_path / "flat.jsonl"
    path.write_text(json.dumps(flat_retweet) + "\n" + json.dumps(flat_lonely) + "\n")
    store = Store.open(tmp_path / "f.db")
    assert import_paths(store, [path], download=False).ok
    post = by_native(store, "7")
    assert (post.source, post.text, post.retweet_of, post.author) == ("x", long_text, "1", "fan")
    assert [m.url for m in post.media] == [PHOTO["url"]]
    assert by_native(store, "1").text == long_text and by_native(store, "1").author == "nba"
    assert by_native(store, "8").text == flat_lonely["text"]  # nothing carries the deleted original's text


def test_v1_retweets_truncated_tweets_and_v2_copies_of_one_tweet(tmp_path):
    """twarc files mixing v1.1 and v2 objects: one post per tweet; v1.1 texts whole."""
    user = {"id_str": "10", "screen_name": "nba"}
    v1_original = {
        "id_str": "1",
        "created_at": "Fri Mar 01 10:00:00 +0000 2024",
        "user": user,
        "truncated": True,
        "text": ORIGINAL[:117] + "\u2026 https://t.co/a",
        "extended_tweet": {"full_text": ORIGINAL},
    }
    v1_retweet = {
        "id_str": "11",
        "created_at": "Sat Mar 02 10:00:00 +0000 2024",
        "truncated": False,
        "user": {"id_str": "20", "screen_name": "fan"},
        "text": cut(ORIGINAL, "nba"),
        "retweeted_status": v1_original,
    }
    v2_copy = page([tweet("1", ORIGINAL, 1, author="10")], [])
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in (v1_original, v1_retweet, v2_copy)) + "\n")
    store = Store.open(tmp_path / "v1.db")
    assert import_paths(store, [path], download=False).ok
    assert store.count_posts() == 2  # tweet 1 once (it was jsonl/1 beside x/1), and the retweet
    stored = store.get_posts(store.post_ids(None)).values()
    assert {(p.source, p.native_id) for p in stored} == {("x", "1"), ("x", "11")}
    assert by_native(store, "1").text == ORIGINAL  # not the truncated v1.1 text
    assert (by_native(store, "11").text, by_native(store, "11").retweet_of) == (ORIGINAL, "1")


def test_archive_retweets_and_pre_2019_archives_without_the_tweet_wrapper(tmp_path):
    archive = tmp_path / "archive" / "data"
    archive.mkdir(parents=True)
    old = [
        {"id_str": "31", "full_text": "Old archive post from Paris", "created_at": "Mon Jan 01 10:00:00 +0000 2018"},
        {
            "id_str": "32",
            "full_text": cut(ORIGINAL, "nba"),
            "created_at": "Mon Jan 01 11:00:00 +0000 2018",
            "retweeted_status": {
                "id_str": "1",
                "full_text": ORIGINAL,
                "user": {"screen_name": "nba"},
                "created_at": "Mon Jan 01 09:00:00 +0000 2018",
            },
        },
    ]
    (archive / "tweet.js").write_text("window.YTD.tweet.part0 = " + json.dumps(old))
    (archive / "account.js").write_text('window.YTD.account.part0 = [{"account": {"username": "me"}}]')
    store = Store.open(tmp_path / "a.db")
    report = import_paths(store, [archive / "tweet.js"], download=False)
    assert report.ok, [str(e) for e in report.errors]
    assert by_native(store, "31").text == "Old archive post from Paris" and by_native(store, "31").author == "me"
    assert (by_native(store, "32").text, by_native(store, "32").retweet_of) == (ORIGINAL, "1")
    assert by_native(store, "1").author == "nba"  # the original keeps its own author, not the archive's


def test_other_archive_files_get_one_message_naming_what_they_hold(tmp_path):
    likes = tmp_path / "like.js"
    likes.write_text("window.YTD.like.part0 = " + json.dumps([{"like": {"tweetId": str(i)}} for i in range(30)]))
    report = import_paths(Store.open(tmp_path / "l.db"), [likes], download=False)
    assert [(e.location, e.reason) for e in report.errors] == [
        (f"{likes} [item 0]", "this file holds 'like' entries, no 'tweet' object (30 skipped)")
    ]


def test_excel_sep_line_names_the_delimiter(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text('sep=;\nid;text;author\n1;"Grace Hopper, at Yale";ann\n2;Paris;bob\n3;"too";many;fields\n')
    store = Store.open(tmp_path / "s.db")
    report = import_paths(store, [path], download=False)
    assert store.get_post(store.post_ids(None, order="created_asc")[0]) is not None
    assert {p.text for p in store.get_posts(store.post_ids(None)).values()} == {"Grace Hopper, at Yale", "Paris"}
    assert [(e.location, e.reason) for e in report.errors] == [(f"{path}:5", "row has 4 fields, the header has 3")]


@pytest.mark.parametrize(
    "name, lines, kind",
    [
        ("users.jsonl", [{"data": [{"id": "1", "name": "NBA", "username": "nba"}] * 3}] * 2, "user"),
        ("followers_flat.jsonl", [{"id": "1", "name": "NBA", "username": "nba", "__twarc": {}}] * 4, "user"),
        (
            "counts.jsonl",
            [
                {
                    "data": [
                        {"end": "2024-03-02T00:00:00.000Z", "start": "2024-03-01T00:00:00.000Z", "tweet_count": 5}
                    ],
                    "meta": {"total_tweet_count": 5},
                }
            ],
            "tweet count",
        ),
        ("lists.jsonl", [{"data": [{"id": "9", "name": "hoops", "member_count": 3, "follower_count": 1}]}], "list"),
        (
            "jobs.jsonl",
            [
                {
                    "data": [
                        {
                            "id": "5",
                            "type": "tweets",
                            "status": "complete",
                            "resumable": False,
                            "upload_url": "https://storage.googleapis.com/u",
                        }
                    ]
                }
            ],
            "compliance job",
        ),
    ],
)
def test_files_of_other_twarc2_objects_get_one_message_naming_them(tmp_path, name, lines, kind):
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = import_paths(Store.open(tmp_path / "o.db"), [path], download=False)
    records = sum(len(line["data"]) if "data" in line else 1 for line in lines)
    assert [(e.location, e.reason) for e in report.errors] == [
        (f"{path}:1", f"this file holds {kind} objects, not posts ({records} skipped)")
    ]


def test_x_search_stores_retweets_with_their_original_whole_text(tmp_path):
    body = json.dumps(page([retweet("100", 2), retweet("101", 3)], [original_tweet()])).encode()
    client, adapter = serve({("GET", "/2/tweets/search/recent"): lambda q, n: (200, body, {})})
    store = Store.open(tmp_path / "x.db")
    report = import_items(store, search_recent(client, "nba"), "search", download=False)
    assert report.ok
    assert store.count_posts() == 3
    assert {by_native(store, i).text for i in ("1", "100", "101")} == {ORIGINAL}
    expansions = json.loads(json.dumps(adapter.sent[0].url))
    assert "referenced_tweets.id.attachments.media_keys" in expansions


# --- one pipeline run per distinct original ---------------------------------------------------------


def test_a_retweet_wave_costs_one_pipeline_run(tmp_path):
    store = wave_store(tmp_path, retweets=30)
    assert store.enqueue("cfg") == 31
    original = by_native(store, "1")
    assert store.claim("cfg", "w", 100) == [original.id]  # the retweets wait for their original's result
    assert store.claim("cfg", "w", 100) == []
    store.save_result(original.id, "cfg", durant(store, "1"), None)
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 31, "failed": 0}
    for i in range(30):
        post = by_native(store, str(100 + i))
        found = store.entities_for_post(post.id)
        assert [(e.start, e.end, e.text, e.type, e.score) for e in found] == [
            (0, 12, "Kevin Durant", "PER", 0.9),
            (43, 51, "Brooklyn", "LOC", 0.8),
        ]
        assert found[0].regions[0].box == (1, 2, 30, 40) and found[0].regions[0].media_id == post.media[0].id


def test_reprocessing_the_original_updates_every_retweet(tmp_path):
    store = processed_wave(tmp_path, retweets=3)
    original = by_native(store, "1")
    store.save_result(original.id, "cfg", [], "the image could not be read")  # re-processed: now a failure
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 0, "failed": 4}
    assert {f.error for f in store.failed_jobs("cfg")} == {"the image could not be read"}
    kept = [(e.start, e.end, e.text) for e in store.entities_for_post(original.id)]
    assert kept  # a failed re-run keeps the earlier result (never replaced by a failure)...
    assert all(
        [(e.start, e.end, e.text) for e in store.entities_for_post(by_native(store, str(100 + i)).id)] == kept
        for i in range(3)
    )  # ...and so do the retweets that share it
    assert store.retry_failed("cfg") == 4
    assert store.claim("cfg", "w", 10) == [original.id]
    store.save_result(original.id, "cfg", durant(store, "1"), None)
    assert [e.text for e in store.entities_for_post(by_native(store, "102").id)] == ["Kevin Durant", "Brooklyn"]


def test_retweets_queued_after_their_original_was_processed_get_its_result_at_once(tmp_path):
    store = processed_wave(tmp_path, retweets=1)
    later = page([retweet("200", 5)], [original_tweet()])
    import_paths(store, [write_pages(tmp_path / "later.jsonl", later)], download=False)
    assert store.enqueue("cfg") == 1
    assert store.job_counts("cfg")["done"] == 3  # the original, the first retweet and the new one, no claim
    assert [e.text for e in store.entities_for_post(by_native(store, "200").id)] == ["Kevin Durant", "Brooklyn"]


def test_retweets_that_differ_from_their_original_run_on_their_own(tmp_path):
    edited = tweet("1", ORIGINAL + " (edited)", 1, author="10", attachments={"media_keys": ["3_900"]})
    data = [retweet("100", 2), retweet("101", 2, original="404")]
    store = Store.open(tmp_path / "d.db")
    import_paths(store, [write_pages(tmp_path / "d.jsonl", page(data, [original_tweet()]))], download=False)
    store.enqueue("cfg")
    assert len(store.claim("cfg", "w", 10)) == 2  # the original, and the retweet of the missing one
    store.requeue_stale("cfg")
    import_paths(store, [write_pages(tmp_path / "e.jsonl", page([edited], []))], download=False)
    assert len(store.claim("cfg", "w", 10)) == 3  # the original's text changed: its retweet is a text of its own


# --- counting originals only or every post ----------------------------------------------------------


def test_counting_choice_changes_trends_and_entity_pages(tmp_path):
    store = processed_wave(tmp_path, retweets=6)  # original on March 1, retweets on March 2, 3 and 4 (two each)
    first, stop = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
    originals = store.mention_series(["Kevin Durant"], bucket="day", start=first, end=stop)
    everything = store.mention_series(["Kevin Durant"], bucket="day", start=first, end=stop, include_retweets=True)
    assert [(p.bucket, p.count) for p in originals] == [
        (date(2024, 3, 1), 1),
        (date(2024, 3, 2), 0),
        (date(2024, 3, 3), 0),
        (date(2024, 3, 4), 0),
    ]
    assert [p.count for p in everything] == [1, 2, 2, 2]
    assert [(c.name, c.count) for c in store.top_entities()] == [("Brooklyn", 1), ("Kevin Durant", 1)]
    assert [(c.name, c.count) for c in store.top_entities(include_retweets=True)] == [
        ("Brooklyn", 7),
        ("Kevin Durant", 7),
    ]
    assert [p.count for p in store.mention_series(types=["PER"], bucket="week", include_retweets=True)] == [5, 2]
    assert [p.count for p in store.mention_series(types=["PER"], bucket="week")] == [1]  # the week of March 1
    assert (
        store.entity_profile("Kevin Durant").posts,
        store.entity_profile("Kevin Durant", include_retweets=True).posts,
    ) == (1, 7)
    assert [c.count for c in store.cooccurring("Kevin Durant")] == [1]
    assert [c.count for c in store.cooccurring("Kevin Durant", include_retweets=True)] == [7]


def test_cli_trends_count_option(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    processed_wave(data, retweets=4).close()
    (data / "wave.db").rename(data / "groundlens.db")

    def top(*options: str) -> str:
        result = CliRunner().invoke(
            cli, ["--data-dir", str(data), "trends", "--top", "3", *options], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())  # rich wraps titles to the table's width

    assert "original posts only (retweets left out)" in top() and "│ Kevin Durant │ PER │ 1 │" in top()
    assert "every post (retweets included)" in top("--count", "all")
    assert "│ Kevin Durant │ PER │ 5 │" in top("--count", "all")


@pytest.mark.slow
def test_processing_the_collection_gives_every_retweet_its_originals_result(tmp_path):
    """The real worker and pipeline (spaCy NER, templates; no image stages) over the recorded collection."""
    paths = AppPaths(data_dir=tmp_path / "data", models_dir=tmp_path / "models").ensure()
    with Store.open(paths.db_path) as store:
        assert import_paths(store, [COLLECTION], download=False).ok
    config = PipelineConfig(
        ner=StageConfig("spacy"), expression=StageConfig("template"), entailment=None, grounding=None, segmentation=None
    )
    state = JobRunner(paths, Settings(pipeline=config, batch_size=16)).start().wait(600)
    assert (state.state, state.done, state.total, state.failed) == ("finished", 164, 164, 0), state.message
    with Store.open(paths.db_path) as store:
        assert store.job_counts(config.key()) == {"pending": 0, "running": 0, "done": 164, "failed": 0}
        posts = store.get_posts(store.post_ids("is:retweet"))
        shared = 0
        for post in posts.values():
            original = by_native(store, post.retweet_of)
            if original is None:
                continue
            mine, theirs = store.entities_for_post(post.id), store.entities_for_post(original.id)
            assert [(e.start, e.end, e.type, e.score) for e in mine] == [
                (e.start, e.end, e.type, e.score) for e in theirs
            ]
            shared += bool(mine)
        assert shared > 30  # most retweets mention something
        everything = sum(c.count for c in store.top_entities(limit=1000, include_retweets=True))
        originals = sum(c.count for c in store.top_entities(limit=1000))
        assert everything > originals > 0


def test_queueing_a_retweet_queues_the_original_whose_result_it_reuses(tmp_path):
    store = wave_store(tmp_path, retweets=2)
    original, shared = by_native(store, "1").id, by_native(store, "100").id
    assert store.enqueue("cfg", [shared]) == 2
    assert store.claim("cfg", "w", 10) == [original]
    store.save_result(original, "cfg", durant(store, "1"), None)
    assert store.job_counts("cfg") == {"pending": 0, "running": 0, "done": 2, "failed": 0}  # the other: no job


def test_a_retweet_stored_before_its_original_reuses_its_result_once_the_original_arrives(tmp_path):
    store = Store.open(tmp_path / "late.db")
    shared = Post(source="x", native_id="100", text=ORIGINAL, retweet_of="1", media=[Media(url=PHOTO["url"])])
    store.upsert_posts([shared])
    store.upsert_posts([Post(source="x", native_id="1", text=ORIGINAL, media=[Media(url=PHOTO["url"])])])
    store.enqueue("cfg")
    assert store.claim("cfg", "w", 10) == [by_native(store, "1").id]
    store.save_result(by_native(store, "1").id, "cfg", durant(store, "1"), None)
    assert [e.text for e in store.entities_for_post(shared.id)] == ["Kevin Durant", "Brooklyn"]
    store.upsert_posts([Post(source="x", native_id="1", text=ORIGINAL, media=[Media(url="https://other/x.jpg")])])
    store.save_result(by_native(store, "1").id, "cfg", [], None)  # the original, processed with another photo
    assert [e.text for e in store.entities_for_post(shared.id)] == ["Kevin Durant", "Brooklyn"]  # not its result


def test_retweets_get_their_originals_verdicts_evidence_and_text_in_image(tmp_path):
    from groundlens.records import Evidence, ImageFindings, ImageText

    store = wave_store(tmp_path, retweets=3)
    store.enqueue("cfg")
    original = by_native(store, "1")
    assert store.claim("cfg", "w", 10) == [original.id]
    found = durant(store, "1")
    found[0].verdict, found[0].evidence = "in_image", [Evidence("person", "one person in the photo", 0.9)]
    seen = ImageFindings([ImageText("NETS", (5.0, 5.0, 40.0, 20.0), 0.95)])
    store.save_results("cfg", [(original.id, found, None)], {original.id: seen})
    for i in range(3):
        post = by_native(store, str(100 + i))
        copy = store.entities_for_post(post.id)[0]
        assert (copy.verdict, copy.evidence) == ("in_image", found[0].evidence)
        texts = store.image_findings([post.id])[post.id].texts
        assert [(t.text, t.media_id) for t in texts] == [("NETS", post.media[0].id)]  # on the retweet's own photo
    assert store.count_matching("ocr:nets") == 4
