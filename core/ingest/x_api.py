"""X API v2 through tweepy: recent search, a user's timeline and the filtered stream, as parsed items.

Pages are fetched one by one here (tweepy's Paginator drops `includes`, where authors and photos
live, crashes on a page that is not an object and follows a repeated next_token forever) and go
through the same v2 parser as twarc2 files. Rate limits, server errors, timeouts, dropped
connections and cut-off bodies are retried here rather than by tweepy so that every wait can be
cancelled from the GUI; what still fails is reported as an ItemError after the posts already
read, never raised. The bearer token never leaves the client: it is not stored, tweepy's debug
log lines that print request headers are redacted, and so is every error text yielded.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import requests
import tweepy
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from groundlens.core.ingest.jsonl import JSONProblem, parse_json
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.v2 import page_errors, posts_from_page
from groundlens.core.redact import RedactingFilter, redact, register_secret

# The referenced_tweets expansions bring a retweet's original (whole text, author, photos) into
# `includes`: a retweet's own text is cut at 140 characters (core/ingest/links.py). note_tweet holds
# the whole text of posts over 280 characters.
REQUEST_FIELDS: dict[str, str] = {
    "expansions": "attachments.media_keys,author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
    "referenced_tweets.id.attachments.media_keys",
    "media_fields": "url,type,width,height",
    "tweet_fields": "created_at,lang,entities,attachments,referenced_tweets,note_tweet,author_id",
    "user_fields": "username",
}
PAGE_SIZE = 100  # the most both search and timelines allow
MAX_RATE_LIMIT_WAIT = 15 * 60  # X's windows are 15 minutes
ATTEMPTS = 5
JSON_ATTEMPTS = 2  # a body cut off once may come whole the second time; one that is HTML will not
TIMEOUT = (10, 30)  # seconds to connect, and between bytes of an answer (tweepy's Client sets none)
RETRIED = (
    tweepy.TooManyRequests,
    tweepy.TwitterServerError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.JSONDecodeError,
)


class Cancelled(Exception):
    """The caller's cancel event was set while waiting."""


for _name in ("tweepy.client", "tweepy.streaming"):  # tweepy logs request headers at DEBUG
    logging.getLogger(_name).addFilter(RedactingFilter())


def _readable_by_tweepy(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Make a failed response safe for tweepy to turn into its exception.

    tweepy reads the message from a failed response's JSON assuming X's error shape; JSON of another
    shape (a proxy's bare string, `"detail": null`) raises inside tweepy or reads as nonsense
    (`"errors": "overloaded"` letter by letter), so such a body is dropped and the status line is the
    message. A rate-limit reset that is not an integer would raise too; without it the wait backs off.
    """
    if response.status_code < 400:
        return
    if not response.headers.get("x-rate-limit-reset", "0").strip().isdigit():
        del response.headers["x-rate-limit-reset"]
    try:
        tweepy.HTTPException(response)  # raises where the body is JSON of another shape
        body = response.json()
    except requests.JSONDecodeError:
        return  # not JSON at all: tweepy's message is the status line
    except (AttributeError, TypeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("errors", []), list):
        response._content = b""


class _ApiSession(requests.Session):
    """A session whose requests time out (a stalled connection would otherwise hang an import forever)."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks["response"].append(_readable_by_tweepy)

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:  # the stream sets its own, longer than X's keep-alive interval
            kwargs["timeout"] = TIMEOUT
        return super().request(method, url, *args, **kwargs)


def make_client(token: str) -> tweepy.Client:
    """A v2 client returning raw JSON dicts (the shape twarc2 files have)."""
    register_secret(token)
    client = tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)
    client.session = _ApiSession()
    return client


def _cancellable_sleep(cancel: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if cancel.wait(seconds):
            raise Cancelled()

    return sleep


def _wait(retry_state: RetryCallState) -> float:
    """Until the window resets for a 429 (x-rate-limit-reset), exponential backoff otherwise."""
    error = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(error, tweepy.TooManyRequests) and error.reset_time:
        return min(max(error.reset_time - time.time(), 0) + 1, MAX_RATE_LIMIT_WAIT)
    return wait_exponential(multiplier=2, max=60)(retry_state)


def _stop(retry_state: RetryCallState) -> bool:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    limit = JSON_ATTEMPTS if isinstance(error, requests.JSONDecodeError) else ATTEMPTS
    return retry_state.attempt_number >= limit


def rate_limited(method: Callable[..., Any], cancel: threading.Event) -> Callable[..., Any]:
    """`method` retried on 429 (after the reset time), 5xx, timeouts, dropped connections and bodies that are
    not JSON, each wait cancellable."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        retrying = Retrying(
            retry=retry_if_exception_type(RETRIED),
            wait=_wait,
            stop=_stop,
            sleep=_cancellable_sleep(cancel),
            reraise=True,
        )
        return retrying(method, *args, **kwargs)

    return call


def _failure(error: Exception, what: str) -> str:
    """What went wrong, for the analyst: the API's status and message, or the kind of network failure."""
    if isinstance(error, requests.JSONDecodeError):
        return f"X API returned invalid JSON {what} ({JSON_ATTEMPTS} tries): {error}"
    text = " ".join(str(error).split()) if isinstance(error, tweepy.HTTPException) else type(error).__name__
    if isinstance(error, RETRIED):
        text += f" (gave up after {ATTEMPTS} attempts)"
    return f"X API request failed: {text}"


def _redacted(generate: Callable[..., Generator[ParsedItem | ItemError, None, None]]) -> Callable[..., Iterator]:
    """Every error text `generate` yields with registered secrets masked: one place instead of every message."""

    @functools.wraps(generate)
    def items(*args: Any, **kwargs: Any) -> Iterator[ParsedItem | ItemError]:
        inner = generate(*args, **kwargs)
        try:
            for item in inner:
                yield ItemError(redact(item.location), redact(item.reason)) if isinstance(item, ItemError) else item
        finally:
            inner.close()  # the stream disconnects in its own finally

    return items


def _next_token(page: Any) -> str | None:
    meta = page.get("meta") if isinstance(page, dict) else None
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def _pages(
    label: str, method: Callable[..., Any], *args: Any, token_name: str, max_posts: int | None, cancel: threading.Event
) -> Iterator[ParsedItem | ItemError]:
    """Every page's tweets, then its errors, until the API runs out of pages or max_posts is reached."""
    fetch = rate_limited(method, cancel)
    count, token, seen = 0, None, set()
    for number in itertools.count(1):
        location = f"{label} page {number}"
        try:
            page = fetch(*args, max_results=PAGE_SIZE, **REQUEST_FIELDS, **({token_name: token} if token else {}))
        except Cancelled:
            return
        except (tweepy.TweepyException, requests.RequestException) as error:
            yield ItemError(location, _failure(error, f"on page {number}"))
            return
        for item in itertools.chain(posts_from_page(page, location), page_errors(page, location)):
            yield item
            count += isinstance(item, ParsedItem)
            if max_posts is not None and count >= max_posts:
                return
        token = _next_token(page)
        if token is None or cancel.is_set():
            return
        if token in seen:
            yield ItemError(location, "X API sent a next_token it had sent before; stopped paging")
            return
        seen.add(token)


@_redacted
def search_recent(
    client: tweepy.Client, query: str, *, max_posts: int | None = None, cancel: threading.Event | None = None
) -> Generator[ParsedItem | ItemError, None, None]:
    """Posts of the last 7 days matching `query` (X search syntax)."""
    yield from _pages(
        f"search {query!r}",
        client.search_recent_tweets,
        query,
        token_name="next_token",
        max_posts=max_posts,
        cancel=cancel or threading.Event(),
    )


@_redacted
def user_timeline(
    client: tweepy.Client, user: str, *, max_posts: int | None = None, cancel: threading.Event | None = None
) -> Generator[ParsedItem | ItemError, None, None]:
    """A user's posts, newest first; `user` is a username (with or without @) or a numeric id."""
    cancel = cancel or threading.Event()
    label = f"timeline @{user.lstrip('@')}"
    user_id = user
    if not user.isdigit():
        try:
            found = rate_limited(client.get_user, cancel)(username=user.lstrip("@"))
        except Cancelled:
            return
        except (tweepy.TweepyException, requests.RequestException) as error:
            yield ItemError(label, _failure(error, "for the user lookup"))
            return
        data = found.get("data") if isinstance(found, dict) else None
        if not isinstance(data, dict):
            yield ItemError(label, "no such user")
            return
        looked_up = data.get("id")
        if not isinstance(looked_up, str) or not looked_up:
            yield ItemError(label, "X API user lookup returned no id")
            return
        user_id = looked_up
    yield from _pages(
        label, client.get_users_tweets, user_id, token_name="pagination_token", max_posts=max_posts, cancel=cancel
    )


class _QueueStream(tweepy.StreamingClient):
    """Hands raw stream lines to the consuming thread; gives up on 4xx, which retrying will not fix.

    tweepy reconnects by itself (at once after a dropped connection, with growing waits after an
    HTTP error); each reconnection is reported so that a lost message is never silent.
    """

    def __init__(self, token: str, out: queue.Queue, max_retries: int):
        super().__init__(token, return_type=dict, max_retries=max_retries, daemon=True)
        self.session = _ApiSession()
        self.out = out

    def on_data(self, raw_data: bytes) -> None:
        self.out.put(("data", raw_data))

    def on_request_error(self, status_code: int) -> None:
        gives_up = 400 <= status_code < 500
        self.out.put(("error", f"stream refused: HTTP {status_code}" + ("" if gives_up else "; reconnecting")))
        if gives_up:
            self.disconnect()

    def on_connection_error(self) -> None:
        error = sys.exc_info()[1]  # tweepy calls this from its except clause without passing the error
        self.out.put(
            (
                "error",
                f"stream connection lost ({type(error).__name__}); reconnecting, "
                "a message being received when it dropped is lost",
            )
        )

    def on_exception(self, exception: Exception) -> None:
        self.out.put(("error", f"stream failed: {type(exception).__name__}"))

    def on_disconnect(self) -> None:
        self.out.put(("end", None))


def make_stream(token: str, max_retries: int = 5) -> tuple[_QueueStream, queue.Queue]:
    register_secret(token)
    lines: queue.Queue = queue.Queue()
    return _QueueStream(token, lines, max_retries), lines


def _add_rules(stream: _QueueStream, rules: Sequence[str], cancel: threading.Event) -> None:
    """Adds the rules the stream does not have yet."""
    if not rules:
        return
    existing = rate_limited(stream.get_rules, cancel)()
    data = existing.get("data") if isinstance(existing, dict) else None
    values = {rule.get("value") for rule in data if isinstance(rule, dict)} if isinstance(data, list) else set()
    new = [tweepy.StreamRule(value) for value in rules if value not in values]
    if new:
        rate_limited(stream.add_rules, cancel)(new)


@_redacted
def stream_posts(
    stream: _QueueStream,
    lines: queue.Queue,
    *,
    rules: Sequence[str] = (),
    max_posts: int | None = None,
    cancel: threading.Event | None = None,
) -> Generator[ParsedItem | ItemError, None, None]:
    """Posts from the filtered stream (rules added first if new) until cancelled or max_posts."""
    cancel = cancel or threading.Event()
    try:
        _add_rules(stream, rules, cancel)
    except Cancelled:
        return
    except (tweepy.TweepyException, requests.RequestException) as error:
        yield ItemError("stream rules", _failure(error, "for the stream rules"))
        return
    thread = stream.filter(threaded=True, **REQUEST_FIELDS)
    count = number = 0
    try:
        while not cancel.is_set() and (max_posts is None or count < max_posts):
            try:
                kind, payload = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if kind == "end":
                break
            if kind == "error":
                yield ItemError("stream", payload)
                continue
            number += 1
            location = f"stream message {number}"
            try:
                message = parse_json(payload.decode("utf-8"))  # hostile nesting, numbers, half surrogates: one message
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                yield ItemError(location, f"invalid JSON (a message cut off when the connection dropped?): {error}")
                continue
            except JSONProblem as error:
                yield ItemError(location, f"invalid JSON: {error}")
                continue
            for item in itertools.chain(posts_from_page(message, location), page_errors(message, location)):
                count += isinstance(item, ParsedItem)
                yield item
    finally:
        stream.disconnect()
        thread.join(timeout=1)
