"""The tweepy path on recorded X API v2 payloads, served by a requests transport adapter (no network).

The adapter, payload helpers and fixtures here are shared with test_ingest_x_faults and test_cli_import.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import tweepy.streaming
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from groundlens.core.ingest import import_items, x_api
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.x_api import make_client, make_stream, search_recent, stream_posts, user_timeline
from groundlens.storage import Store

X_API = Path(__file__).parent / "fixtures" / "ingest" / "x_api"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid-test-bearer-Zq8Xv3"


class RecordedAdapter(BaseAdapter):
    """Answers X API requests from fixture files; `routes` maps (method, path) to a function of (query, call number)
    returning (status, body, headers), where body is bytes or a raw stream such as DroppedConnection, or returning
    an exception to raise as the transport would (a timeout, a refused connection)."""

    def __init__(self, routes):
        super().__init__()
        self.routes = routes
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list = []
        self.calls: dict[tuple[str, str], int] = {}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append(request)
        self.timeouts.append(timeout)
        url = urlparse(request.url)
        key = (request.method, url.path)
        self.calls[key] = self.calls.get(key, 0) + 1
        answer = self.routes[key](parse_qs(url.query), self.calls[key])
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        response = requests.Response()
        response.status_code, response.reason = status, HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict({"content-type": "application/json; charset=utf-8", **headers})
        response.raw = io.BytesIO(body) if isinstance(body, bytes) else body
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


class DroppedConnection(io.BytesIO):
    """A body whose connection drops after these bytes, reported the way urllib3 does (requests turns it into
    ChunkedEncodingError)."""

    def stream(self, amt=2**16, decode_content=None):
        while chunk := self.read(amt):
            yield chunk
        raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read, 512 more expected)")


def fixture(name: str, status: int = 200, headers=None):
    return status, (X_API / name).read_bytes(), headers or {}


def items_of(iterator):
    """(posts, errors) of an API generator; no error text may show the token."""
    items = list(iterator)
    errors = [i for i in items if isinstance(i, ItemError)]
    assert all(TOKEN not in str(error) for error in errors), errors
    return [i.post for i in items if isinstance(i, ParsedItem)], errors


def serve(routes) -> tuple[tweepy.Client, RecordedAdapter]:
    """A client (made the way the app makes it) whose requests the recorded routes answer."""
    client, adapter = make_client(TOKEN), RecordedAdapter(routes)
    client.session.mount("https://", adapter)
    return client, adapter


def serve_stream(routes):
    """A filtered stream (made the way the app makes it) whose requests the recorded routes answer."""
    (stream, lines), adapter = make_stream(TOKEN), RecordedAdapter(routes)
    stream.session.mount("https://", adapter)
    return stream, lines, adapter


@pytest.fixture(autouse=True)
def token_never_logged(caplog):
    """Every test runs with DEBUG logging (where tweepy prints request headers); none may show the token."""
    caplog.set_level(logging.DEBUG)
    yield
    assert TOKEN not in caplog.text


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The retry waits x_api asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(x_api, "_cancellable_sleep", lambda cancel: asked.append)
    return asked


@pytest.fixture
def stream_waits(monkeypatch) -> list[float]:
    """The waits tweepy's stream asks for before reconnecting, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(tweepy.streaming, "sleep", asked.append)
    return asked


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
    client, adapter = serve({
        ("GET", "/2/users/by/username/XDevelopers"): lambda q, n: fixture("user_by_username.json"),
        ("GET", "/2/users/2244994945/tweets"): lambda q, n: fixture(pages[q.get("pagination_token", [None])[0]]),
    })
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
    client, adapter = serve({
        ("GET", "/2/tweets/search/recent"): lambda q, n: limited if n == 1 else fixture("search_recent.json"),
    })
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
    stream, lines, adapter = serve_stream({
        ("GET", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        ("POST", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        ("GET", "/2/tweets/search/stream"):
            lambda q, n: (200, stream_body, {}) if n == 1 else fixture("unauthorized.json", 401),
    })
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
    client, adapter = serve({
        ("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json"),
        ("GET", "/2/users/by/username/nobody"): lambda q, n: fixture("unauthorized.json", 401),
    })
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
    stream, lines, _ = serve_stream({("GET", "/2/tweets/search/stream"):
                                     lambda q, n: (200, first + b"\r\n" + hostile + b"\r\n" + rest, {})})
    posts, errors = items_of(stream_posts(stream, lines, max_posts=3))
    assert len(posts) == 3
    assert any("nested more than 100 levels" in e.reason for e in errors), errors
