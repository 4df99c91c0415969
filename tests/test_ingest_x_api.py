"""The tweepy path on recorded X API v2 payloads, served by a requests transport adapter (no network).

The adapter and payload helpers are in tests/helpers/x_api.py, the fixtures (token_never_logged, waits,
stream_waits) in tests/conftest.py.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest

from groundlens.core.ingest import import_items
from groundlens.core.ingest.x_api import search_recent, stream_posts, user_timeline
from groundlens.storage import Store
from tests.helpers.x_api import TOKEN, X_API, fixture, items_of, serve, serve_stream

# DEBUG logging on (where tweepy prints request headers): no log line may show the token
pytestmark = pytest.mark.usefixtures("token_never_logged")


def test_search_recent_asks_for_photos_and_authors():
    client, adapter = serve({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json")})
    posts, errors = items_of(search_recent(client, "Kevin Durant has:images"))
    assert errors == [] and len(posts) == 3
    assert [p.author for p in posts] == ["NBA", "XDevelopers", "NBA"]
    assert [len(p.media) for p in posts] == [1, 0, 1]
    query = parse_qs(urlparse(adapter.sent[0].url).query)
    assert query["query"] == ["Kevin Durant has:images"]
    assert query["expansions"] == [  # the retweeted / quoted original's text, author and photos come along
        "attachments.media_keys,author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
        "referenced_tweets.id.attachments.media_keys"
    ]
    assert query["media.fields"] == ["url,type,width,height"]
    assert query["tweet.fields"] == ["created_at,lang,entities,attachments,referenced_tweets,note_tweet,author_id"]
    assert query["user.fields"] == ["username"]
    assert adapter.sent[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_timeline_follows_next_token_and_keeps_includes_of_every_page():
    pages = {None: "user_tweets_page1.json", "7140dibdnow9c7btw423x4g6w6bg9cp4ywn6b2jmyrs4r": "user_tweets_page2.json"}
    client, adapter = serve(
        {
            ("GET", "/2/users/by/username/XDevelopers"): lambda q, n: fixture("user_by_username.json"),
            ("GET", "/2/users/2244994945/tweets"): lambda q, n: fixture(pages[q.get("pagination_token", [None])[0]]),
        }
    )
    posts, errors = items_of(user_timeline(client, "@XDevelopers"))
    assert errors == []
    assert [p.native_id for p in posts] == ["1589000000000000010", "1588900000000000020", "1588800000000000030"]
    assert {p.author for p in posts} == {"XDevelopers"}  # page 2's includes were used, not dropped
    assert posts[0].media[0].url == "https://pbs.twimg.com/media/FgMoscone.jpg"
    assert adapter.calls[("GET", "/2/users/2244994945/tweets")] == 2


def test_max_posts_stops_paging():
    client, adapter = serve({("GET", "/2/users/2244994945/tweets"): lambda q, n: fixture("user_tweets_page1.json")})
    posts, _ = items_of(user_timeline(client, "2244994945", max_posts=1))
    assert len(posts) == 1 and adapter.calls[("GET", "/2/users/2244994945/tweets")] == 1


def test_rate_limit_waits_for_the_reset_then_retries(waits):
    limited = fixture("rate_limited.json", 429, {"x-rate-limit-reset": str(int(time.time()) + 30)})
    client, adapter = serve(
        {
            ("GET", "/2/tweets/search/recent"): lambda q, n: limited if n == 1 else fixture("search_recent.json"),
        }
    )
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and adapter.calls[("GET", "/2/tweets/search/recent")] == 2
    assert len(waits) == 1 and 29 <= waits[0] <= 31  # until the reset, plus a 1 s safety margin


def test_rate_limit_wait_can_be_cancelled():
    limited = fixture("rate_limited.json", 429, {"x-rate-limit-reset": str(int(time.time()) + 600)})
    client, _ = serve({("GET", "/2/tweets/search/recent"): lambda q, n: limited})
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    assert items_of(search_recent(client, "nba", cancel=cancel)) == ([], [])
    assert time.monotonic() - started < 5


def test_unauthorized_is_reported_without_the_token():
    client, _ = serve({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("unauthorized.json", 401)})
    posts, errors = items_of(search_recent(client, "nba"))
    assert posts == [] and len(errors) == 1
    assert "401" in errors[0].reason and TOKEN not in str(errors[0])


def test_filtered_stream_skips_keep_alives_and_reports_error_messages():
    stream_body = (X_API / "stream.jsonl").read_bytes()
    assert b"\r\n\r\n" in stream_body  # keep-alive newlines are part of the recording
    stream, lines, adapter = serve_stream(
        {
            ("GET", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
            ("POST", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
            ("GET", "/2/tweets/search/stream"): lambda q, n: (
                (200, stream_body, {}) if n == 1 else fixture("unauthorized.json", 401)
            ),
        }
    )
    posts, errors = items_of(stream_posts(stream, lines, rules=["from:NBA has:images", "Durant lang:en"]))
    assert [p.native_id for p in posts] == ["1591000000000000001", "1591000000000000002", "1591000000000000003"]
    assert posts[0].media[0].url == "https://pbs.twimg.com/media/FhWarmup.jpg"
    assert [e.reason for e in errors] == [
        "X API: operational-disconnect: This stream has been disconnected upstream for operational reasons.",
        "stream refused: HTTP 401",
    ]
    added = [r for r in adapter.sent if r.method == "POST"]
    assert json.loads(added[0].body)["add"] == [{"value": "Durant lang:en"}]  # the existing rule is not re-added
    stream_request = next(r for r in adapter.sent if urlparse(r.url).path == "/2/tweets/search/stream")
    expansions = parse_qs(urlparse(stream_request.url).query)["expansions"][0]
    assert "referenced_tweets.id.attachments.media_keys" in expansions


def test_stream_stops_at_max_posts():
    body = (X_API / "stream.jsonl").read_bytes()
    stream, lines, _ = serve_stream({("GET", "/2/tweets/search/stream"): lambda q, n: (200, body, {})})
    posts, _ = items_of(stream_posts(stream, lines, max_posts=2))
    assert len(posts) == 2


def test_imported_api_posts_never_store_or_log_the_token(tmp_path, caplog):
    client, adapter = serve(
        {
            ("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json"),
            ("GET", "/2/users/by/username/nobody"): lambda q, n: fixture("unauthorized.json", 401),
        }
    )
    store = Store.open(tmp_path / "groundlens.db")
    try:
        report = import_items(store, search_recent(client, "nba"), "search", download=False)
        failed = import_items(store, user_timeline(client, "nobody"), "timeline", download=False)
        assert report.posts_inserted == 3 and report.images_pending == 2 and failed.errors
        assert store.get_post(1).raw["data"]["id"] == "1590012345678901234"
    finally:
        store.close()
    assert any(f"Bearer {TOKEN}" in str(r.headers.get("Authorization")) for r in adapter.sent)  # it was used...
    assert "Making API request" in caplog.text  # ...tweepy logged its request headers...
    assert TOKEN not in caplog.text and "***" in caplog.text  # ...redacted
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path
    assert all(TOKEN not in str(error) for error in failed.errors)


def test_a_hostile_stream_message_fails_alone():
    """A sibling of issue 11 item 6: a message nested 100,000 deep is reported and the stream goes on."""
    body = (X_API / "stream.jsonl").read_bytes()
    first, rest = body.split(b"\r\n", 1)
    hostile = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    stream, lines, _ = serve_stream(
        {("GET", "/2/tweets/search/stream"): lambda q, n: (200, first + b"\r\n" + hostile + b"\r\n" + rest, {})}
    )
    posts, errors = items_of(stream_posts(stream, lines, max_posts=3))
    assert len(posts) == 3
    assert any("nested more than 100 levels" in e.reason for e in errors), errors
