"""An X account archive's `tweets.js` (`window.YTD.tweets.part0 = [{"tweet": {...}}, ...]`, or in
archives from before 2019 `window.YTD.tweet.part0 = [{...}, ...]`, tweets without the wrapper).

The archive's tweets are v1.1-shaped (`full_text`, `id_str`, `extended_entities.media`), which
the liberal record mapping already reads; this module strips the JavaScript assignment, adds the
account's username from `account.js`, and prefers photos shipped in `tweets_media/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from groundlens.core.ingest.fields import X_SOURCE, record_items, tweet_url
from groundlens.core.ingest.jsonl import JSONProblem, parse_json
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.textio import sniff_encoding
from groundlens.records import Post

_PREFIX = re.compile(r"\s*window\.YTD\.[\w.]+\s*=\s*")
MEDIA_FOLDERS = ("tweets_media", "tweet_media")


class ArchiveError(ValueError):
    """A file that is not an archive data file; the message says why."""


def load_ytd(path: Path) -> Any:
    """The JSON value assigned in a `window.YTD.<name>.partN = ...` file."""
    raw = path.read_bytes()
    try:
        text = raw.decode(sniff_encoding(raw[:4]))
    except UnicodeDecodeError as error:
        raise ArchiveError(f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
    prefix = _PREFIX.match(text)
    if prefix is None:
        raise ArchiveError(
            "not an X archive data file: it must start with 'window.YTD.<name>.part<N> = ' "
            "(a plain JSON array can be imported as a .json file)"
        )
    try:
        return parse_json(text[prefix.end() :].rstrip().rstrip(";"))
    except json.JSONDecodeError as error:
        raise ArchiveError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except JSONProblem as problem:
        raise ArchiveError(str(problem)) from None


def _account_username(folder: Path) -> str | None:
    try:
        accounts = load_ytd(folder / "account.js")
        return accounts[0]["account"]["username"]
    except (OSError, ArchiveError, LookupError, TypeError):
        return None  # the archive's own account file is optional help, not input


def _local_photo(folder: Path, tweet_id: str, url: str) -> Path | None:
    """The archive's own copy of a photo, `<media folder>/<tweet id>-<file name>`; None when there is
    none, or when the id or URL (both from the file) would make the name leave the media folder."""
    try:
        name = f"{tweet_id}-{Path(urlparse(url).path).name}"
    except ValueError:  # a malformed URL ("http://[::1"): the fetcher reports it
        return None
    if any(c in name for c in "/\\\0"):
        return None
    return next((folder / sub / name for sub in MEDIA_FOLDERS if (folder / sub / name).is_file()), None)


def read_archive(path: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    try:
        items = load_ytd(path)
    except ArchiveError as error:
        yield ItemError(str(path), str(error))
        return
    if not isinstance(items, list):
        yield ItemError(str(path), f"expected a list of tweets, got {type(items).__name__}")
        return
    folder = path.parent
    username = _account_username(folder)
    others: dict[str, tuple[str, int]] = {}  # entries of other archive files (likes, follows...): kind -> first, count
    for index, item in enumerate(items):
        location = f"{path} [item {index}]"
        tweet = _entry_tweet(item)
        if tweet is None and isinstance(item, dict) and len(item) == 1:
            kind = next(iter(item))
            first, count = others.get(kind, (location, 0))
            others[kind] = first, count + 1
            continue
        if tweet is None:
            yield ItemError(location, "entry has no 'tweet' object and is not a tweet itself (no id_str or full_text)")
            continue
        for found in record_items(tweet, location, source=X_SOURCE, base_dir=images_dir or folder):
            if isinstance(found, ParsedItem):
                _own_account(found.post, folder, username if found.location == location else None)
            yield found
    for kind, (first, count) in others.items():
        yield ItemError(first, f"this file holds {kind!r} entries, no 'tweet' object ({count:,} skipped)")


def _entry_tweet(item: Any) -> dict[str, Any] | None:
    """Archives since 2019 wrap each tweet (`{"tweet": {...}}`); older ones (`window.YTD.tweet.part0`) do not."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("tweet"), dict):
        return item["tweet"]
    return item if "tweet" not in item and ("id_str" in item or "full_text" in item) else None


def _own_account(post: Post, folder: Path, username: str | None) -> None:
    """The archive's tweets name no author (they are the account's own): take it from account.js;
    prefer the photos shipped in tweets_media/ to X's URLs."""
    if post.author is None and username:
        post.author = username
        post.url = tweet_url(username, post.native_id)
    for media in post.media:
        local = _local_photo(folder, post.native_id, media.url) if media.url else None
        if local is not None:
            media.local_path = str(local)
