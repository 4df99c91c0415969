"""Every way the X API fails, served through the requests transport adapter: what lands, what is reported.

Each test runs with DEBUG logging and checks that the bearer token shows in no error text and no log line
(token_never_logged, items_of). Retry waits are recorded instead of slept (waits, stream_waits).
"""

from __future__ import annotations

import copy
import json
import time

import pytest
import requests

from groundlens.core.ingest import import_items, x_api
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.x_api import search_recent, stream_posts, user_timeline
from groundlens.storage import Store
from tests.helpers.x_api import (
    TOKEN,
    X_API,
    DroppedConnection,
    fixture,
    items_of,
    serve,
    serve_stream,
)

# DEBUG logging on (where tweepy prints request headers): no log line may show the token
pytestmark = pytest.mark.usefixtures("token_never_logged")

SEARCH = ("GET", "/2/tweets/search/recent")
TIMELINE = ("GET", "/2/users/2244994945/tweets")
STREAM = ("GET", "/2/tweets/search/stream")
PAGE = json.loads((X_API / "search_recent.json").read_text())
STREAM_LINES = [line for line in (X_API / "stream.jsonl").read_bytes().split(b"\r\n") if line.startswith(b'{"data"')]
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Something went wrong</title></head><body>Over capacity</body></html>"
CUT_PAGE = (X_API / "search_recent.json").read_bytes()[:900]  # ends inside the second tweet


def answer(body, status: int = 200, headers=None):
    return status, body if isinstance(body, (bytes, DroppedConnection)) else json.dumps(body).encode(), headers or {}


def first_then(fault, then=lambda: fixture("search_recent.json"), times: int = 1):
    """A route that answers `fault()` for the first `times` calls, `then()` after."""
    return lambda q, n: fault() if n <= times else then()


def timeline_failing_on_page_2(fault):
    """A timeline whose first page comes through (2 posts and a next_token) and whose second answers `fault()`."""
    return lambda q, n: fixture("user_tweets_page1.json") if "pagination_token" not in q else fault()


def ids(posts):
    return [p.native_id for p in posts]


# 429: rate limits


def test_429_without_reset_backs_off_exponentially_and_gives_up(waits, monkeypatch):
    monkeypatch.setattr(x_api, "ATTEMPTS", 8)  # enough attempts to reach the cap
    client, adapter = serve({SEARCH: lambda q, n: fixture("rate_limited.json", 429)})
    posts, errors = items_of(search_recent(client, "nba"))
    assert waits == [2, 4, 8, 16, 32, 60, 60] and adapter.calls[SEARCH] == 8
    assert posts == [] and [e.reason for e in errors] == [
        "X API request failed: 429 Too Many Requests Too Many Requests (gave up after 8 attempts)"
    ]


def test_429_with_an_unreadable_reset_backs_off_instead_of_crashing(waits):
    client, _ = serve({SEARCH: first_then(lambda: fixture("rate_limited.json", 429, {"x-rate-limit-reset": "soon"}))})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and waits == [2]


def test_429_reset_far_ahead_waits_one_window_at_most(waits):
    tomorrow = str(int(time.time()) + 86_400)
    client, _ = serve({SEARCH: first_then(lambda: fixture("rate_limited.json", 429, {"x-rate-limit-reset": tomorrow}))})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and waits == [x_api.MAX_RATE_LIMIT_WAIT]


# 5xx: server errors


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_backoff(waits, status):
    client, adapter = serve({SEARCH: first_then(lambda: answer({"title": "Service Unavailable"}, status), times=2)})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and adapter.calls[SEARCH] == 3 and waits == [2, 4]


def test_server_error_past_the_attempt_limit_is_reported_and_earlier_pages_stored(waits, tmp_path):
    client, adapter = serve(
        {
            TIMELINE: timeline_failing_on_page_2(
                lambda: answer(
                    {
                        "title": "Service Unavailable",
                        "detail": "Service Unavailable",
                        "type": "about:blank",
                        "status": 503,
                    },
                    503,
                )
            )
        }
    )
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_items(store, user_timeline(client, "2244994945"), "timeline", download=False)
        assert [store.get_post(i).native_id for i in (1, 2)] == ["1589000000000000010", "1588900000000000020"]
    assert report.posts_inserted == 2 and adapter.calls[TIMELINE] == 1 + x_api.ATTEMPTS and waits == [2, 4, 8, 16]
    assert [str(e) for e in report.errors] == [
        "timeline @2244994945 page 2: X API request failed: "
        "503 Service Unavailable Service Unavailable (gave up after 5 attempts)"
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'"Service Unavailable"',
        b'{"detail": null}',
        b'{"errors": "overloaded"}',
        b"[1, 2]",
        b'{"errors": [7]}',
        HTML_PAGE,
    ],
    ids=repr,
)
def test_error_bodies_of_any_shape_are_reported_by_their_status(waits, body):
    client, adapter = serve({SEARCH: lambda q, n: answer(body, 503, {"content-type": "text/html"})})
    posts, errors = items_of(search_recent(client, "nba"))
    assert posts == [] and adapter.calls[SEARCH] == x_api.ATTEMPTS
    assert [e.reason for e in errors] == ["X API request failed: 503 Service Unavailable (gave up after 5 attempts)"]


def test_error_text_echoing_the_token_is_masked(waits, caplog):
    client, _ = serve({SEARCH: lambda q, n: answer({"detail": f"upstream refused Authorization: Bearer {TOKEN}"}, 502)})
    posts, errors = items_of(search_recent(client, "nba"))  # items_of: no token in the error
    assert posts == [] and "Bearer ***" in errors[0].reason
    assert "Received API response: 502" in caplog.text  # logged with the body, redacted (token_never_logged)


# Timeouts and dropped connections


def test_every_request_carries_a_timeout(waits):
    routes = {
        ("GET", "/2/users/by/username/XDevelopers"): lambda q, n: fixture("user_by_username.json"),
        TIMELINE: lambda q, n: fixture("user_tweets_page2.json"),
        ("GET", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        ("POST", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
        STREAM: lambda q, n: fixture("unauthorized.json", 401),
    }
    client, adapter = serve(routes)
    assert len(items_of(user_timeline(client, "XDevelopers"))[0]) == 1
    assert adapter.timeouts == [x_api.TIMEOUT, x_api.TIMEOUT]
    stream, lines, stream_adapter = serve_stream(routes)
    items_of(stream_posts(stream, lines, rules=["Durant lang:en"]))
    assert stream_adapter.timeouts[:2] == [x_api.TIMEOUT, x_api.TIMEOUT]  # the rules
    assert stream_adapter.timeouts[2] not in (None, x_api.TIMEOUT)  # tweepy's own, longer than X's keep-alive


@pytest.mark.parametrize(
    "fault", [requests.exceptions.ReadTimeout, requests.exceptions.ConnectTimeout, requests.exceptions.ConnectionError]
)
def test_timeouts_and_refused_connections_are_retried(waits, fault):
    client, adapter = serve({SEARCH: first_then(lambda: fault("no answer from api.twitter.com"))})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and adapter.calls[SEARCH] == 2 and waits == [2]


@pytest.mark.parametrize("fault", [requests.exceptions.ReadTimeout, requests.exceptions.ConnectTimeout])
def test_timeouts_past_the_attempt_limit_are_reported_and_earlier_pages_kept(waits, fault):
    client, adapter = serve({TIMELINE: timeline_failing_on_page_2(lambda: fault(f"timed out (token {TOKEN}?)"))})
    posts, errors = items_of(user_timeline(client, "2244994945"))
    assert ids(posts) == ["1589000000000000010", "1588900000000000020"]
    assert adapter.calls[TIMELINE] == 1 + x_api.ATTEMPTS
    assert [str(e) for e in errors] == [
        f"timeline @2244994945 page 2: X API request failed: {fault.__name__} (gave up after 5 attempts)"
    ]


# Bodies that are not JSON


@pytest.mark.parametrize(
    "body",
    [HTML_PAGE, CUT_PAGE, b"", DroppedConnection(CUT_PAGE)],
    ids=["html page", "cut mid-object", "empty", "connection dropped mid-body"],
)
def test_a_body_that_is_not_json_is_retried(waits, body):
    client, adapter = serve({SEARCH: first_then(lambda: answer(body, 200, {"content-type": "text/html"}))})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and adapter.calls[SEARCH] == 2 and waits == [2]


@pytest.mark.parametrize("body", [HTML_PAGE, CUT_PAGE], ids=["html page", "cut mid-object"])
def test_a_body_that_is_never_json_is_reported_with_its_page(waits, body):
    client, adapter = serve({TIMELINE: timeline_failing_on_page_2(lambda: answer(body))})
    posts, errors = items_of(user_timeline(client, "2244994945"))
    assert ids(posts) == ["1589000000000000010", "1588900000000000020"] and adapter.calls[TIMELINE] == 3
    assert len(errors) == 1 and errors[0].location == "timeline @2244994945 page 2"
    assert errors[0].reason.startswith("X API returned invalid JSON on page 2 (2 tries): ")


@pytest.mark.parametrize(
    "body, reason",
    [
        (
            HTML_PAGE,
            "X API returned invalid JSON for the user lookup (2 tries): Expecting value: line 1 column 1 (char 0)",
        ),
        (b"[]", "no such user"),
        (b'{"errors": [{"title": "Not Found Error"}]}', "no such user"),
        (b'{"data": {"username": "XDevelopers"}}', "X API user lookup returned no id"),
        (b'{"data": {"id": ["2244994945"]}}', "X API user lookup returned no id"),
    ],
)
def test_user_lookups_that_go_wrong_are_reported(waits, body, reason):
    client, adapter = serve({("GET", "/2/users/by/username/XDevelopers"): lambda q, n: answer(body)})
    assert items_of(user_timeline(client, "@XDevelopers")) == ([], [ItemError("timeline @XDevelopers", reason)])
    assert TIMELINE not in adapter.calls


# Pages of the wrong shape


DELETE = object()


def changed(*changes):
    """PAGE with (path, value) changes; the value DELETE removes the key."""
    page = copy.deepcopy(PAGE)
    for (*parents, last), value in changes:
        parent = page
        for key in parents:
            parent = parent[key]
        if value is DELETE:
            del parent[last]
        else:
            parent[last] = value
    return page


NBA_DEV_NBA = ["NBA", "XDevelopers", "NBA"]
AUTHOR_IDS = ["783214", "2244994945", "783214"]


@pytest.mark.parametrize(
    "page, authors, photos, reasons",
    [
        (changed((["includes"], DELETE)), AUTHOR_IDS, [0, 0, 0], []),
        (changed((["includes"], [])), AUTHOR_IDS, [0, 0, 0], []),
        (changed((["includes", "users"], {"id": "783214"}), (["includes", "media"], "x")), AUTHOR_IDS, [0, 0, 0], []),
        (
            changed((["includes", "users"], [{"id": ["783214"], "username": "NBA"}, "XDevelopers"])),
            AUTHOR_IDS,
            [1, 0, 1],
            [],
        ),
        (
            changed((["includes", "media"], [{"media_key": "3_other", "type": "photo", "url": "https://x/a.jpg"}])),
            NBA_DEV_NBA,
            [0, 0, 0],
            [],
        ),
        (
            changed((["includes", "media", 0, "url"], DELETE), (["includes", "media", 2, "url"], 7)),
            NBA_DEV_NBA,
            [0, 0, 0],
            [],
        ),
        (changed((["data"], DELETE)), [], [], []),
        (changed((["data"], "Kevin Durant")), [], [], ["'data' must be a list or an object, got str"]),
        (changed((["data", 1, "text"], DELETE)), ["NBA", "NBA"], [1, 1], ["tweet has no 'text' string"]),
        (changed((["data", 1, "id"], DELETE)), ["NBA", "NBA"], [1, 1], ["tweet has no 'id'"]),
        (changed((["data", 1], "1590012345678901300")), ["NBA", "NBA"], [1, 1], ["tweet must be an object, got str"]),
        (changed((["data", 1, "created_at"], "not a date")), ["NBA", "NBA"], [1, 1], ["unreadable date 'not a date'"]),
        (
            changed((["data", 0, "author_id"], DELETE), (["data", 0, "attachments"], ["3_1590012340000000001"])),
            [None, "XDevelopers", "NBA"],
            [0, 0, 1],
            [],
        ),
        ([PAGE], [], [], ["expected a v2 response object, got list"]),
    ],
    ids=[
        "no includes",
        "includes a list",
        "users and media not lists",
        "user ids of the wrong type",
        "media keys matching nothing",
        "photos without url",
        "no data",
        "data a string",
        "tweet without text",
        "tweet without id",
        "tweet not an object",
        "unreadable date",
        "no author, attachments a list",
        "page a list",
    ],
)
def test_pages_of_the_wrong_shape_keep_what_they_can(waits, page, authors, photos, reasons):
    client, _ = serve({SEARCH: lambda q, n: answer(page)})
    posts, errors = items_of(search_recent(client, "nba"))
    assert [p.author for p in posts] == authors and [len(p.media) for p in posts] == photos
    assert [e.reason for e in errors] == reasons


WRONG_VALUES = [None, 0, True, 1.5, "", "x", [], [None], [{}], {}, {"x": []}]
FIELDS = [["data", 0, name] for name in ("id", "text", "author_id", "created_at", "lang", "attachments", "note_tweet")]
FIELDS += [
    ["data", 0, "attachments", "media_keys"],
    ["includes", "users"],
    ["includes", "media"],
    ["includes", "users", 0, "id"],
    ["includes", "users", 0, "username"],
    ["includes", "media", 0, "media_key"],
    ["includes", "media", 0, "type"],
    ["includes", "media", 0, "url"],
    ["includes", "media", 0, "width"],
]


def test_no_field_of_the_wrong_type_costs_more_than_its_tweet(waits):
    pages = [(path, value, changed((path, value))) for path in FIELDS for value in WRONG_VALUES]
    client, _ = serve({SEARCH: lambda q, n: answer(pages[n - 1][2])})
    for path, value, _page in pages:
        items = list(search_recent(client, "nba"))
        assert all(isinstance(i, (ParsedItem, ItemError)) for i in items), (path, value)
        landed = [i.post.native_id for i in items if isinstance(i, ParsedItem)]
        assert landed[-2:] == ["1590012345678901300", "1590012345678901400"], (path, value, items)
        assert len(items) == 3, (path, value, items)  # tweet 0 landed or was reported alone


# Errors beside data


def test_errors_beside_data_are_reported_and_the_good_tweets_land(waits):
    client, _ = serve({SEARCH: lambda q, n: fixture("search_recent_partial_errors.json")})
    posts, errors = items_of(search_recent(client, "Chase Center"))
    assert ids(posts) == ["1590112345678901001", "1590112345678901002"] and len(posts[0].media) == 1
    assert [str(e) for e in errors] == [
        "search 'Chase Center' page 1 [tweet 1590000000000000999]: X API: Not Found Error: "
        "Could not find tweet with referenced_tweets.id: [1590000000000000999].",
        "search 'Chase Center' page 1 [user 1234567]: X API: Forbidden: User has been suspended: [1234567].",
    ]


# Pagination


@pytest.mark.parametrize("tokens", [["A", "A"], ["A", "B", "A"]], ids=["same token twice", "cycle"])
def test_a_next_token_sent_again_stops_paging(waits, tokens):
    client, adapter = serve({TIMELINE: lambda q, n: answer(changed((["meta", "next_token"], tokens[n - 1])))})
    posts, errors = items_of(user_timeline(client, "2244994945"))
    assert adapter.calls[TIMELINE] == len(tokens) and len(posts) == 3 * len(tokens)
    assert [str(e) for e in errors] == [
        f"timeline @2244994945 page {len(tokens)}: X API sent a next_token it had sent before; stopped paging"
    ]


@pytest.mark.parametrize("meta", [[], {"next_token": 7}, {"next_token": ""}], ids=repr)
def test_a_meta_of_the_wrong_shape_ends_paging(waits, meta):
    client, adapter = serve({SEARCH: lambda q, n: answer(changed((["meta"], meta)))})
    posts, errors = items_of(search_recent(client, "nba"))
    assert len(posts) == 3 and errors == [] and adapter.calls[SEARCH] == 1


# The filtered stream


def stream_routes(*connections):
    """The stream endpoint answering each connection in turn, then 401 (which ends the stream)."""
    return {STREAM: lambda q, n: connections[n - 1]() if n <= len(connections) else fixture("unauthorized.json", 401)}


def test_stream_line_cut_when_the_server_closes_is_reported_and_the_stream_reconnects(stream_waits):
    first = STREAM_LINES[0] + b"\r\n" + STREAM_LINES[1][:120]  # closed mid-line
    second = STREAM_LINES[2] + b"\r\n"
    stream, lines, adapter = serve_stream(stream_routes(lambda: answer(first), lambda: answer(second)))
    posts, errors = items_of(stream_posts(stream, lines))
    assert ids(posts) == ["1591000000000000001", "1591000000000000003"] and adapter.calls[STREAM] == 3
    assert errors[0].location == "stream message 2" and errors[0].reason.startswith("invalid JSON (a message cut off")
    assert [e.reason for e in errors[1:]] == ["stream refused: HTTP 401"] and stream_waits == []


def test_stream_connection_dropped_mid_line_is_reported_and_the_stream_reconnects(stream_waits):
    dropped = DroppedConnection(STREAM_LINES[0] + b"\r\n" + STREAM_LINES[1][:120])
    stream, lines, adapter = serve_stream(stream_routes(lambda: answer(dropped), lambda: answer(STREAM_LINES[2])))
    posts, errors = items_of(stream_posts(stream, lines))
    assert ids(posts) == ["1591000000000000001", "1591000000000000003"] and adapter.calls[STREAM] == 3
    assert [e.reason for e in errors] == [
        "stream connection lost (ChunkedEncodingError); reconnecting, a message being received when it dropped is lost",
        "stream refused: HTTP 401",
    ]
    assert stream_waits == [0]  # tweepy's first network-error wait; it grows by 0.25 s per failure


def test_stream_server_error_then_ok_reconnects_after_a_wait(stream_waits, caplog):
    down = answer({"title": "Service Unavailable", "detail": f"rejected Bearer {TOKEN}"}, 503)
    stream, lines, adapter = serve_stream(stream_routes(lambda: down, lambda: answer(b"\r\n".join(STREAM_LINES))))
    posts, errors = items_of(stream_posts(stream, lines))
    assert ids(posts) == ["1591000000000000001", "1591000000000000002", "1591000000000000003"]
    assert [e.reason for e in errors] == ["stream refused: HTTP 503; reconnecting", "stream refused: HTTP 401"]
    assert stream_waits == [5] and adapter.calls[STREAM] == 3  # tweepy's first HTTP-error wait; it doubles
    assert "HTTP error response text" in caplog.text  # tweepy logs the body (with the token, redacted)


def test_stream_messages_of_the_wrong_shape_are_reported_alone(stream_waits):
    odd = [b"[]", b'"x"', b'{"errors": "x"}', b'{"errors": [1]}', b'{"data": "x"}', b'{"data": {"id": "9"}}']
    stream, lines, _ = serve_stream(stream_routes(lambda: answer(b"\r\n".join([*odd, STREAM_LINES[0]]))))
    posts, errors = items_of(stream_posts(stream, lines))
    assert ids(posts) == ["1591000000000000001"]
    assert [str(e) for e in errors] == [
        "stream message 1: expected a v2 response object, got list",
        "stream message 2: expected a v2 response object, got str",
        "stream message 4 [error 0]: X API: 1",
        "stream message 5: 'data' must be a list or an object, got str",
        "stream message 6: tweet has no 'text' string",
        "stream: stream refused: HTTP 401",
    ]


def test_stream_rules_of_the_wrong_shape_and_a_5xx_on_them_do_not_stop_the_stream(waits, stream_waits):
    stream, lines, adapter = serve_stream(
        {
            ("GET", "/2/tweets/search/stream/rules"): first_then(
                lambda: answer({}, 503), lambda: answer({"data": "x"})
            ),
            ("POST", "/2/tweets/search/stream/rules"): lambda q, n: fixture("stream_rules.json"),
            **stream_routes(lambda: answer(STREAM_LINES[0])),
        }
    )
    posts, errors = items_of(stream_posts(stream, lines, rules=["Durant lang:en"]))
    assert ids(posts) == ["1591000000000000001"] and [e.reason for e in errors] == ["stream refused: HTTP 401"]
    assert waits == [2] and adapter.calls[("POST", "/2/tweets/search/stream/rules")] == 1
