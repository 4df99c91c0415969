"""The tweepy path on recorded X API v2 payloads, served by a requests transport adapter (no network)."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from core.ingest import import_items
from core.ingest.report import ItemError, ParsedItem
from core.ingest.x_api import make_client, make_stream, search_recent, stream_posts, user_timeline
from storage import Store

X_API = Path(__file__).parent / "fixtures" / "ingest" / "x_api"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid-test-bearer-Zq8Xv3"


class RecordedAdapter(BaseAdapter):
    """Answers X API requests from fixture files; `routes` maps (method, path) to a function of (query, call number)."""

    def __init__(self, routes):
        super().__init__()
        self.routes = routes
        self.sent: list[requests.PreparedRequest] = []
        self.calls: dict[tuple[str, str], int] = {}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append(request)
        url = urlparse(request.url)
        key = (request.method, url.path)
        self.calls[key] = self.calls.get(key, 0) + 1
        status, body, headers = self.routes[key](parse_qs(url.query), self.calls[key])
        response = requests.Response()
        response.status_code, response.reason = status, {200: "OK", 401: "Unauthorized", 429: "Too Many Requests"}[status]
        response.headers = CaseInsensitiveDict({"content-type": "application/json; charset=utf-8", **headers})
        response.raw, response.url, response.request, response.encoding = io.BytesIO(body), request.url, request, "utf-8"
        return response

    def close(self):
        pass


def fixture(name: str, status: int = 200, headers=None):
    return status, (X_API / name).read_bytes(), headers or {}


def items_of(iterator):
    items = list(iterator)
    return [i.post for i in items if isinstance(i, ParsedItem)], [i for i in items if isinstance(i, ItemError)]


def test_search_recent_asks_for_photos_and_authors():
    client = make_client(TOKEN)
    adapter = RecordedAdapter({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json")})
    client.session.mount("https://", adapter)
    posts, errors = items_of(search_recent(client, "Kevin Durant has:images"))
    assert errors == [] and len(posts) == 3
    assert [p.author for p in posts] == ["NBA", "XDevelopers", "NBA"]
    assert [len(p.media) for p in posts] == [1, 0, 1]
    query = parse_qs(urlparse(adapter.sent[0].url).query)
    assert query["query"] == ["Kevin Durant has:images"]
    assert query["expansions"] == ["attachments.media_keys,author_id"]
    assert query["media.fields"] == ["url,type,width,height"]
    assert query["tweet.fields"] == ["created_at,lang,entities,attachments"]
    assert query["user.fields"] == ["username"]
    assert adapter.sent[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_timeline_follows_next_token_and_keeps_includes_of_every_page():
    client = make_client(TOKEN)
    pages = {None: "user_tweets_page1.json", "7140dibdnow9c7btw423x4g6w6bg9cp4ywn6b2jmyrs4r": "user_tweets_page2.json"}
    adapter = RecordedAdapter({
        ("GET", "/2/users/by/username/XDevelopers"): lambda q, n: fixture("user_by_username.json"),
        ("GET", "/2/users/2244994945/tweets"): lambda q, n: fixture(pages[q.get("pagination_token", [None])[0]]),
    })
    client.session.mount("https://", adapter)
    posts, errors = items_of(user_timeline(client, "@XDevelopers"))
    assert errors == []
    assert [p.native_id for p in posts] == ["1589000000000000010", "1588900000000000020", "1588800000000000030"]
    assert {p.author for p in posts} == {"XDevelopers"}  # page 2's includes were used, not dropped
    assert posts[0].media[0].url == "https://pbs.twimg.com/media/FgMoscone.jpg"
    assert adapter.calls[("GET", "/2/users/2244994945/tweets")] == 2


def test_max_posts_stops_paging():
    client = make_client(TOKEN)
    adapter = RecordedAdapter({("GET", "/2/users/2244994945/tweets"): lambda q, n: fixture("user_tweets_page1.json")})
    client.session.mount("https://", adapter)
    posts, _ = items_of(user_timeline(client, "2244994945", max_posts=1))
    assert len(posts) == 1 and adapter.calls[("GET", "/2/users/2244994945/tweets")] == 1


def test_rate_limit_waits_for_the_reset_then_retries():
    client = make_client(TOKEN)
    reset = str(int(time.time()))  # already reset: the wait is the 1 s safety margin
    adapter = RecordedAdapter({
        ("GET", "/2/tweets/search/recent"): lambda q, n: fixture("rate_limited.json", 429, {"x-rate-limit-reset": reset})
        if n == 1 else fixture("search_recent.json"),
    })
    client.session.mount("https://", adapter)
    started = time.monotonic()
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and time.monotonic() - started >= 0.9


def test_rate_limit_wait_can_be_cancelled():
    client = make_client(TOKEN)
    reset = str(int(time.time()) + 600)
    adapter = RecordedAdapter({
        ("GET", "/2/tweets/search/recent"): lambda q, n: fixture("rate_limited.json", 429, {"x-rate-limit-reset": reset}),
    })
    client.session.mount("https://", adapter)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    assert items_of(search_recent(client, "nba", cancel=cancel)) == ([], [])
    assert time.monotonic() - started < 5


def test_unauthorized_is_reported_without_the_token():
    client = make_client(TOKEN)
    adapter = RecordedAdapter({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("unauthorized.json", 401)})
    client.session.mount("https://", adapter)
    posts, errors = items_of(search_recent(client, "nba"))
    assert posts == [] and len(errors) == 1
    assert "401" in errors[0].reason and TOKEN not in str(errors[0])


def test_filtered_stream_skips_keep_alives_and_reports_error_messages():
    stream, lines = make_stream(TOKEN)
    stream_body = (X_API / "stream.jsonl").read_bytes()
    assert b"\r\n\r\n" in stream_body  # keep-alive newlines are part of the recording
    adapter = RecordedAdapter({
        ("GET", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        ("POST", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        ("GET", "/2/tweets/search/stream"): lambda q, n: (200, stream_body, {}) if n == 1 else fixture("unauthorized.json", 401),
    })
    stream.session.mount("https://", adapter)
    posts, errors = items_of(stream_posts(stream, lines, rules=["from:NBA has:images", "Durant lang:en"]))
    assert [p.native_id for p in posts] == ["1591000000000000001", "1591000000000000002", "1591000000000000003"]
    assert posts[0].media[0].url == "https://pbs.twimg.com/media/FhWarmup.jpg"
    assert [e.reason for e in errors] == ["X API: operational-disconnect", "stream refused: HTTP 401"]
    added = [r for r in adapter.sent if r.method == "POST"]
    assert json.loads(added[0].body)["add"] == [{"value": "Durant lang:en"}]  # the existing rule is not re-added
    stream_request = next(r for r in adapter.sent if urlparse(r.url).path == "/2/tweets/search/stream")
    assert parse_qs(urlparse(stream_request.url).query)["expansions"] == ["attachments.media_keys,author_id"]


def test_stream_stops_at_max_posts():
    stream, lines = make_stream(TOKEN)
    body = (X_API / "stream.jsonl").read_bytes()
    adapter = RecordedAdapter({("GET", "/2/tweets/search/stream"): lambda q, n: (200, body, {})})
    stream.session.mount("https://", adapter)
    posts, _ = items_of(stream_posts(stream, lines, max_posts=2))
    assert len(posts) == 2


def test_imported_api_posts_never_store_or_log_the_token(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(TOKEN)
    adapter = RecordedAdapter({
        ("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json"),
        ("GET", "/2/users/by/username/nobody"): lambda q, n: fixture("unauthorized.json", 401),
    })
    client.session.mount("https://", adapter)
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
