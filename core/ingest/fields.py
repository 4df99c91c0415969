"""Liberal mapping of loosely shaped records (CSV rows, flattened JSONL, archive tweets) to Posts.

Exports from scrapers, twarc's `flatten`, spreadsheets and the X archive all name the same
things differently; one alias table here keeps every reader accepting the same spellings.

Two limits keep one bad record from spoiling the database for everyone: a post text longer than
MAX_TEXT_CHARS (an unclosed quote that swallowed a file, not a post: X's longest is 25,000) is
refused, and so is a date outside [EARLIEST_DATE, LATEST_DATE) (placeholders such as year 1 or
9999: one of them would stretch every trend chart over millennia of empty days). Texts are
otherwise kept exactly as written: control characters, bidi overrides, zero-width joiners.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from groundlens.core.ingest.links import (
    STORED_ORIGINALS,
    carries_post,
    export_references,
    set_links,
    share_original,
    v1_references,
    v2_references,
)
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.records import Media, Post

log = logging.getLogger(__name__)

X_SOURCE = "x"
MAX_TEXT_CHARS = 2_000_000
EARLIEST_DATE = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)


class RecordError(ValueError):
    """A record that cannot become a post; the message is the reason shown to the analyst."""


@lru_cache(maxsize=4096)  # a file repeats the same few field names on every line
def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def keyed_names(record: dict[str, Any]) -> dict[str, str]:
    """Normalised field name -> the record's own spelling ("Full Text" and full_text both -> fulltext)."""
    return {_key(name): name for name in record}


TEXT = ("text", "fulltext", "tweet", "tweettext", "content", "body", "message", "caption", "post")
# native_id first: GroundLens's own exports also carry `id` / `post_id`, the row number in the database
ID = ("nativeid", "id", "idstr", "tweetid", "postid", "statusid")
AUTHOR = (
    "author",
    "username",
    "screenname",
    "user",
    "authorusername",
    "userscreenname",
    "handle",
    "authorname",
    "authorid",
    "userid",
)
CREATED = ("createdat", "created", "date", "datetime", "timestamp", "time", "postedat", "publishedat")
IMAGE = (
    "image",
    "images",
    "imageurl",
    "imageurls",
    "imagepath",
    "imagefile",
    "img",
    "photo",
    "photos",
    "photourl",
    "picture",
    "mediaurl",
    "mediaurls",
    "media",
    "file",
    "filename",
)
LANG = ("lang", "language")
URL = ("url", "link", "permalink", "tweeturl", "posturl")
# Keys only an X tweet carries, API v2 (raw or flattened by twarc) or v1.1 (twarc 1, old exports):
# such records keep source "x", so the same tweet imported from any of these files is one post.
_X_MARKERS = (
    "__twarc",
    "authorid",
    "conversationid",
    "edithistorytweetids",
    "idstr",
    "inreplytostatusidstr",
    "retweetedstatus",
    "extendedtweet",
)
# local_path: a photo stored from a local file, as GroundLens's own export names it
_MEDIA_URL_KEYS = ("media_url_https", "url", "media_url", "src", "path", "local_path", "file", "href")
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:")  # two letters at least: C:\ is a path


def lookup(
    record: dict[str, Any], aliases: Iterable[str], allow_empty: bool = False, keyed: dict[str, str] | None = None
) -> tuple[str, Any] | None:
    """(actual key, value) of the first alias present; empty values count as absent unless allowed.

    `keyed` is the record's `keyed_names`, when the caller looks up several fields of one record."""
    keyed = keyed_names(record) if keyed is None else keyed
    for alias in aliases:
        if alias in keyed and (allow_empty or record[keyed[alias]] not in (None, "")):
            return keyed[alias], record[keyed[alias]]
    return None


def _known_format(text: str) -> datetime | None:
    """ISO 8601 (API v2) and X's v1.1/archive format, ten times faster than dateutil's guessing."""
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%a %b %d %H:%M:%S %z %Y")):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def parse_time(value: Any) -> datetime | None:
    """UTC datetime from epoch seconds/milliseconds, ISO 8601, X's 'Wed Oct 10 20:19:24 +0000 2018', ..."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().removeprefix("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RecordError(f"date must be text or a number, got {type(value).__name__}")
    try:
        if not isinstance(value, str):
            parsed = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
        else:
            parsed = _known_format(value.strip()) or dateparser.parse(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):  # OverflowError: 9999-12-31T23:00-05:00 is past year 9999 in UTC
        raise RecordError(f"unreadable date {value!r}") from None
    if not EARLIEST_DATE <= parsed < LATEST_DATE:
        raise RecordError(
            f"date {value!r} ({parsed.date().isoformat()}) is outside"
            f" {EARLIEST_DATE.year}-{LATEST_DATE.year - 1}: a placeholder or a typo?"
        )
    return parsed


def tweet_url(username: str | None, tweet_id: str) -> str:
    return f"https://x.com/{username or 'i/web'}/status/{tweet_id}"


def native_id(value: Any, field_name: str = "id") -> str:
    """Ids as text; integers are accepted, floats and containers are not (they lose digits)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"field {field_name!r} must be a string or an integer, got {type(value).__name__}")


def _text(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise RecordError(f"field {field_name!r} must be a string, got {kind}")
    if len(value) > MAX_TEXT_CHARS:
        raise RecordError(f"field {field_name!r} is {len(value):,} characters long, over the {MAX_TEXT_CHARS:,} limit")
    return value


def _author(value: Any) -> str:
    if isinstance(value, dict):
        found = lookup(value, ("username", "screenname", "name", "id", "idstr"))
        if found is None:
            raise RecordError("author object has no username, screen_name, name or id")
        value = found[1]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"author must be a string or an object, got {type(value).__name__}")


def _media_refs(value: Any) -> list[str]:
    """Image references from a string, a list, or media objects (photos only when typed)."""
    items = value if isinstance(value, list) else [value]
    refs = []
    for item in items:
        if isinstance(item, dict):
            if item.get("type") not in (None, "photo"):
                continue
            item = next((item[k] for k in _MEDIA_URL_KEYS if isinstance(item.get(k), str)), None)
            if item is None:
                continue
        if not isinstance(item, str):
            raise RecordError(f"image reference must be a string, got {type(item).__name__}")
        if item.strip():
            refs.append(item.strip())
    return refs


def _extended(record: dict[str, Any]) -> dict[str, Any]:
    """A v1.1 tweet over 140 characters (`truncated: true`) keeps its whole text and photos here."""
    extended = record.get("extended_tweet")
    return extended if isinstance(extended, dict) else {}


def _whole_text(record: dict[str, Any]) -> tuple[str, Any] | None:
    """The whole text of a long tweet whose `text` X shortened: v1.1 `extended_tweet.full_text`, or the
    v2 `note_tweet.text` of a post over 280 characters (raw pages take it in v2.py; flattened lines here)."""
    note = record.get("note_tweet")
    return lookup(_extended(record), ("fulltext",)) or (lookup(note, ("text",)) if isinstance(note, dict) else None)


def _image_refs(record: dict[str, Any], keyed: dict[str, str]) -> list[str]:
    found = lookup(record, IMAGE, keyed=keyed)
    if found is not None:
        return _media_refs(found[1])
    for holder in (_extended(record), record):
        for outer in ("attachments", "extended_entities", "entities"):
            nested = holder.get(outer)
            if isinstance(nested, dict) and nested.get("media"):
                return _media_refs(nested["media"])
    return []


def resolve_local(name: str, base: Path, allow_absolute: bool = True) -> Path:
    """A local image path; relative names must stay inside `base` (no ../ escapes).

    Every way a name can make the path functions raise (a NUL, ~someone who does not exist here,
    a symbolic link loop) is a RecordError naming the image, so the record fails alone."""
    if "\0" in name:
        raise RecordError(f"image path {name!r} contains a NUL character")
    try:
        path = Path(name).expanduser()
    except RuntimeError:
        raise RecordError(f"image path {name!r}: {name.split('/')[0]!r} is not a user on this machine") from None
    if path.is_absolute():
        if not allow_absolute:
            raise RecordError(f"image path {name!r} is absolute; only names inside {base} are allowed")
        return path
    try:
        full = (base / path).resolve()
    except (RuntimeError, OSError) as error:  # RuntimeError: a symbolic link loop (Python < 3.13)
        raise RecordError(f"image path {name!r} cannot be followed: {error}") from None
    if not full.is_relative_to(base.resolve()):
        raise RecordError(f"image path {name!r} leaves the folder {base}")
    return full


def media_for(ref: str, base: Path, allow_absolute: bool = True) -> Media:
    """Media for a URL (any scheme: the fetcher rejects non-http ones with a reason) or a local path."""
    if _URL_SCHEME.match(ref):
        return Media(url=ref)
    return Media(local_path=str(resolve_local(ref, base, allow_absolute)))


def fails_alone(convert: Callable[..., Post]) -> Callable[..., Post]:
    """Whatever else a converter raises on one record becomes that record's RecordError, with the
    traceback in the log: a record that trips over a case nobody foresaw must not end its file."""

    @functools.wraps(convert)
    def guarded(*args: Any, **kwargs: Any) -> Post:
        try:
            return convert(*args, **kwargs)
        except RecordError:
            raise
        except Exception as error:
            log.exception("unexpected error converting a record")
            raise RecordError(f"cannot be read ({type(error).__name__}: {error})") from None

    return guarded


def _exported_source(record: dict[str, Any], keyed: dict[str, str]) -> str | None:
    """The `source` of a record from GroundLens's own export, which names a post by (source, native_id):
    kept, so that importing an export again finds the same posts instead of adding copies. Only with
    `native_id` beside it: a v1.1 tweet's `source` is the client app that posted it."""
    if "nativeid" not in keyed or "source" not in keyed:
        return None
    value = record[keyed["source"]]
    return value.strip() if isinstance(value, str) and value.strip() else None


@fails_alone
def record_to_post(
    record: Any,
    *,
    source: str,
    base_dir: Path,
    default_id: str | None = None,
    allow_absolute: bool = True,
) -> Post:
    """A Post from a flat-ish dict; raises RecordError naming the missing or malformed field."""
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    keyed = keyed_names(record)
    text = _whole_text(record) or lookup(record, TEXT, allow_empty=True, keyed=keyed)
    if text is None:
        raise RecordError("no text field (looked for text, full_text, tweet, content, body, message, caption)")
    found_id = lookup(record, ID, keyed=keyed)
    post_id = native_id(found_id[1], found_id[0]) if found_id else default_id
    if post_id is None:
        raise RecordError("no id field (looked for id, id_str, tweet_id, post_id)")
    author = lookup(record, AUTHOR, keyed=keyed)
    created = lookup(record, CREATED, keyed=keyed)
    lang = lookup(record, LANG, keyed=keyed)
    url = lookup(record, URL, keyed=keyed)
    exported = _exported_source(record, keyed)
    source = exported or source
    is_x = source == X_SOURCE or not keyed.keys().isdisjoint(_X_MARKERS)
    post = Post(
        source=X_SOURCE if is_x else source,
        native_id=post_id,
        text=_text(text[1], text[0]),
        author=_author(author[1]) if author else None,
        created_at=parse_time(created[1]) if created else None,
        lang=_text(lang[1], lang[0]) if lang else None,
        url=_text(url[1], url[0]) if url else None,
        # an exported post's `raw` is the payload it was first imported from: kept as it is, so each
        # export-import round trip does not nest the previous export one level deeper
        raw=record["raw"] if exported and isinstance(record.get("raw"), dict) else record,
        media=[media_for(ref, base_dir, allow_absolute) for ref in dict.fromkeys(_image_refs(record, keyed))],
    )
    if post.url is None and is_x:
        post.url = tweet_url(post.author, post.native_id)
    return post


def record_items(
    record: Any, location: str, *, source: str, base_dir: Path, allow_absolute: bool = True
) -> Iterator[ParsedItem | ItemError]:
    """The post of a record, after the retweeted or quoted original it carries (v1.1 `retweeted_status`,
    `quoted_status`; twarc2 flatten's inlined `referenced_tweets`); a retweet takes its original's text
    and photos (core/ingest/links.py). A malformed original is reported alone; the post still goes in."""
    try:
        post = record_to_post(record, source=source, base_dir=base_dir, allow_absolute=allow_absolute)
    except RecordError as error:
        yield ItemError(location, str(error))
        return
    references = {**export_references(record), **v1_references(record), **v2_references(record)}
    set_links(post, references)
    for field in STORED_ORIGINALS:
        reference = references.get(field)
        if reference is None or not carries_post(reference):
            continue
        where = f"{location} [included tweet {getattr(post, field)}]"
        try:
            original = record_to_post(reference, source=post.source, base_dir=base_dir, allow_absolute=allow_absolute)
        except RecordError as error:
            yield ItemError(where, str(error))
            continue
        original.source = post.source  # an inlined original may lack the fields that mark it as a tweet
        set_links(original, {**v1_references(reference), **v2_references(reference)})
        if field == "retweet_of":
            share_original(post, original)
        yield ParsedItem(where, original)
    yield ParsedItem(location, post)
