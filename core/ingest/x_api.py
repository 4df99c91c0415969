"""X API v2 through tweepy: recent search, a user's timeline and the filtered stream, as parsed items.

Pages are iterated whole (Paginator.flatten drops `includes`, where authors and photos live) and
go through the same v2 parser as twarc2 files. Rate limits are waited out here rather than by
tweepy so that the wait can be cancelled from the GUI. The bearer token never leaves the client:
it is not stored, and tweepy's debug log lines that print request headers are redacted.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import time
from typing import Any, Callable, Iterator, Sequence

import requests
import tweepy
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.ingest.report import ItemError, ParsedItem
from core.ingest.v2 import posts_from_page
from core.redact import RedactingFilter, register_secret

REQUEST_FIELDS: dict[str, str] = {
    "expansions": "attachments.media_keys,author_id",
    "media_fields": "url,type,width,height",
    "tweet_fields": "created_at,lang,entities,attachments",
    "user_fields": "username",
}
PAGE_SIZE = 100  # the most both search and timelines allow
MAX_RATE_LIMIT_WAIT = 15 * 60  # X's windows are 15 minutes
ATTEMPTS = 5


class Cancelled(Exception):
    """The caller's cancel event was set while waiting."""


for _name in ("tweepy.client", "tweepy.streaming"):  # tweepy logs request headers at DEBUG
    logging.getLogger(_name).addFilter(RedactingFilter())


def make_client(token: str) -> tweepy.Client:
    """A v2 client returning raw JSON dicts (the shape twarc2 files have)."""
    register_secret(token)
    return tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)


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


def rate_limited(method: Callable[..., Any], cancel: threading.Event) -> Callable[..., Any]:
    """`method` retried on 429 (after the reset time), 5xx and dropped connections; keeps its name for Paginator."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        retrying = Retrying(
            retry=retry_if_exception_type((tweepy.TooManyRequests, tweepy.TwitterServerError, requests.ConnectionError)),
            wait=_wait,
            stop=stop_after_attempt(ATTEMPTS),
            sleep=_cancellable_sleep(cancel),
            reraise=True,
        )
        return retrying(method, *args, **kwargs)

    return call


def _pages(
    label: str, method: Callable[..., Any], *args: Any, max_posts: int | None, cancel: threading.Event
) -> Iterator[ParsedItem | ItemError]:
    """Every page's tweets until the API runs out of pages or max_posts is reached."""
    count = 0
    paginator = tweepy.Paginator(rate_limited(method, cancel), *args, max_results=PAGE_SIZE, **REQUEST_FIELDS)
    try:
        for number, page in enumerate(paginator, start=1):
            for item in posts_from_page(page, f"{label} page {number}"):
                yield item
                count += isinstance(item, ParsedItem)
                if max_posts is not None and count >= max_posts:
                    return
            if cancel.is_set():
                return
    except Cancelled:
        return
    except (tweepy.TweepyException, requests.RequestException) as error:
        yield ItemError(label, f"X API request failed: {_describe(error)}")


def _describe(error: Exception) -> str:
    if isinstance(error, tweepy.HTTPException):
        return " ".join(str(error).split())
    return type(error).__name__


def search_recent(
    client: tweepy.Client, query: str, *, max_posts: int | None = None, cancel: threading.Event | None = None
) -> Iterator[ParsedItem | ItemError]:
    """Posts of the last 7 days matching `query` (X search syntax)."""
    yield from _pages(f"search {query!r}", client.search_recent_tweets, query, max_posts=max_posts,
                      cancel=cancel or threading.Event())


def user_timeline(
    client: tweepy.Client, user: str, *, max_posts: int | None = None, cancel: threading.Event | None = None
) -> Iterator[ParsedItem | ItemError]:
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
            yield ItemError(label, f"X API request failed: {_describe(error)}")
            return
        if not isinstance(found.get("data"), dict):
            yield ItemError(label, "no such user")
            return
        user_id = found["data"]["id"]
    yield from _pages(label, client.get_users_tweets, user_id, max_posts=max_posts, cancel=cancel)


class _QueueStream(tweepy.StreamingClient):
    """Hands raw stream lines to the consuming thread; gives up on 4xx, which retrying will not fix."""

    def __init__(self, token: str, out: queue.Queue, max_retries: int):
        super().__init__(token, return_type=dict, max_retries=max_retries, daemon=True)
        self.out = out

    def on_data(self, raw_data: bytes) -> None:
        self.out.put(("data", raw_data))

    def on_request_error(self, status_code: int) -> None:
        self.out.put(("error", f"stream refused: HTTP {status_code}"))
        if 400 <= status_code < 500:
            self.disconnect()

    def on_exception(self, exception: Exception) -> None:
        self.out.put(("error", f"stream failed: {type(exception).__name__}"))

    def on_disconnect(self) -> None:
        self.out.put(("end", None))


def make_stream(token: str, max_retries: int = 5) -> tuple[_QueueStream, queue.Queue]:
    register_secret(token)
    lines: queue.Queue = queue.Queue()
    return _QueueStream(token, lines, max_retries), lines


def stream_posts(
    stream: _QueueStream,
    lines: queue.Queue,
    *,
    rules: Sequence[str] = (),
    max_posts: int | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[ParsedItem | ItemError]:
    """Posts from the filtered stream (rules added first if new) until cancelled or max_posts."""
    cancel = cancel or threading.Event()
    try:
        existing = {rule.get("value") for rule in (stream.get_rules().get("data") or [])} if rules else set()
        new = [tweepy.StreamRule(value) for value in rules if value not in existing]
        if new:
            stream.add_rules(new)
    except (tweepy.TweepyException, requests.RequestException) as error:
        yield ItemError("stream rules", f"X API request failed: {_describe(error)}")
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
                message = json.loads(payload)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                yield ItemError(location, f"invalid JSON: {error}")
                continue
            if isinstance(message, dict) and "data" not in message and message.get("errors"):
                yield ItemError(location, f"X API: {message['errors'][0].get('title', 'error')}")
                continue
            for item in posts_from_page(message, location):
                count += isinstance(item, ParsedItem)
                yield item
    finally:
        stream.disconnect()
        thread.join(timeout=1)
