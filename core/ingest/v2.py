"""X API v2 tweet objects plus their `includes` -> Posts: the one parser for the API and twarc2 files.

A v2 page (`{"data": [...], "includes": {"users": [...], "media": [...], "tweets": [...]}}`, or
one streamed tweet with `"data": {...}`) carries authors, photos and the tweets it retweets,
quotes or answers out of line; they are joined back here. A retweet takes its original's whole
text and photos from `includes.tweets` (its own text is cut), and the retweeted or quoted
original is stored too (core/ingest/links.py).
Every field is checked for its type before use: a page the API (or a file) got wrong in one
place costs that one tweet, or only its author or photo, never the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from groundlens.core.ingest.fields import X_SOURCE, RecordError, fails_alone, native_id, parse_time, tweet_url
from groundlens.core.ingest.links import STORED_ORIGINALS, set_links, share_original, v2_references
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.records import Media, Post


def _index(includes: dict[str, Any], name: str, key: str) -> dict[str, dict[str, Any]]:
    items = includes.get(name)
    if not isinstance(items, list):
        return {}
    return {str(item[key]): item for item in items if isinstance(item, dict) and isinstance(item.get(key), (str, int))}


def _of_type(value: Any, kind: type) -> Any:
    """`value` if it is a `kind` (bools are not ints), else None."""
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _optional_id(value: Any) -> str | None:
    try:
        return native_id(value)
    except RecordError:
        return None


def _is_photo(item: dict[str, Any]) -> bool:
    return item.get("type") == "photo" and bool(_of_type(item.get("url"), str))


@fails_alone
def tweet_to_post(tweet: Any, users: dict[str, dict], media: dict[str, dict]) -> Post:
    """One v2 tweet; photos come from `attachments.media_keys` looked up in includes.media."""
    if not isinstance(tweet, dict):
        raise RecordError(f"tweet must be an object, got {type(tweet).__name__}")
    if "id" not in tweet:
        raise RecordError("tweet has no 'id'")
    tweet_id = native_id(tweet["id"])
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) and note.get("text") else tweet.get("text")
    if not isinstance(text, str):
        raise RecordError("tweet has no 'text' string")
    author_id = _optional_id(tweet.get("author_id"))
    user = users.get(author_id, {}) if author_id else {}
    username = _of_type(user.get("username"), str)
    attachments = _of_type(tweet.get("attachments"), dict) or {}
    keys = _of_type(attachments.get("media_keys"), list) or []
    photos = [media[k] for k in keys if isinstance(k, str) and k in media and _is_photo(media[k])]
    post = Post(
        source=X_SOURCE,
        native_id=tweet_id,
        text=text,
        author=username or author_id,
        created_at=parse_time(tweet.get("created_at")),
        lang=_of_type(tweet.get("lang"), str),
        url=tweet_url(username, tweet_id),
        raw={"data": tweet, "includes": {"users": [user] if user else [], "media": photos}},
        media=[
            Media(url=p["url"], width=_of_type(p.get("width"), int), height=_of_type(p.get("height"), int))
            for p in photos
        ],
    )
    set_links(post, v2_references(tweet))
    return post


def _with_originals(
    post: Post, where: str, tweets: dict[str, dict], users: dict[str, dict], media: dict[str, dict], seen: set[str]
) -> Iterator[ParsedItem | ItemError]:
    """The retweeted / quoted originals the page carries (each once per page), then the post itself,
    which takes a retweeted original's text and photos (its own raw keeps the original beside it)."""
    for field in STORED_ORIGINALS:
        linked = getattr(post, field)
        if linked is None or linked not in tweets:
            continue
        try:
            original = tweet_to_post(tweets[linked], users, media)
        except RecordError as error:
            yield ItemError(f"{where} [included tweet {linked}]", str(error))
            continue
        if field == "retweet_of":
            share_original(post, original)
            if post.raw is not None and original.raw is not None:  # always, as tweet_to_post builds them
                post.raw["includes"].update(tweets=[tweets[linked]], media=original.raw["includes"]["media"])
        if linked not in seen:
            seen.add(linked)
            yield ParsedItem(f"{where} [included tweet {linked}]", original)
    yield ParsedItem(where, post)


def posts_from_page(page: Any, location: str) -> Iterator[ParsedItem | ItemError]:
    """Every tweet of one v2 response page or stream message; a bad tweet is reported alone."""
    if not isinstance(page, dict):
        yield ItemError(location, f"expected a v2 response object, got {type(page).__name__}")
        return
    data = page.get("data")
    if data is None:
        return  # meta-only page, or a stream message carrying only errors
    tweets = [data] if isinstance(data, dict) else data
    if not isinstance(tweets, list):
        yield ItemError(location, f"'data' must be a list or an object, got {type(data).__name__}")
        return
    found = page.get("includes")
    includes: dict[str, Any] = found if isinstance(found, dict) else {}
    users, media = _index(includes, "users", "id"), _index(includes, "media", "media_key")
    included, seen = _index(includes, "tweets", "id"), set[str]()
    for index, tweet in enumerate(tweets):
        where = location if isinstance(data, dict) else f"{location} [tweet {index}]"
        try:
            post = tweet_to_post(tweet, users, media)
        except RecordError as error:
            yield ItemError(where, str(error))
            continue
        yield from _with_originals(post, where, included, users, media, seen)


def page_errors(page: Any, location: str) -> Iterator[ItemError]:
    """The `errors` the API sends beside or instead of `data` (a deleted or withheld tweet, a stream disconnect)."""
    errors = page.get("errors") if isinstance(page, dict) else None
    for index, error in enumerate(errors if isinstance(errors, list) else []):
        error = error if isinstance(error, dict) else {"title": str(error)}
        title, detail = str(error.get("title") or "error"), error.get("detail")
        resource, resource_id = error.get("resource_type"), error.get("resource_id")
        where = f"{location} [{resource} {resource_id}]" if resource and resource_id else f"{location} [error {index}]"
        yield ItemError(where, f"X API: {title}" + (f": {detail}" if detail and detail != title else ""))


# What other twarc2 commands write (users, followers, lists, counts, compliance), told by fields
# only those objects have; checked on objects without a post text, in this order.
_OTHER_OBJECTS = (
    ("tweet count", ("tweet_count",)),
    ("compliance job", ("upload_url", "download_url", "resumable")),
    ("compliance result", ("action", "redacted_at")),
    ("user", ("username",)),
    ("list", ("member_count", "follower_count", "owner_id", "private")),
    ("space", ("host_ids", "state")),
)


def non_post_kind(obj: Any) -> str | None:
    """'user', 'list', 'tweet count'... when `obj` (a v2 page or one flat record) holds objects that are not posts."""
    if is_v2_page(obj):
        data = obj["data"]
        obj = data[0] if isinstance(data, list) and data else data
    if not isinstance(obj, dict) or "text" in obj or "full_text" in obj:
        return None
    return next((kind for kind, keys in _OTHER_OBJECTS if any(key in obj for key in keys)), None)


def is_v2_page(obj: Any) -> bool:
    return isinstance(obj, dict) and "text" not in obj and isinstance(obj.get("data"), (list, dict))


def records_in(obj: Any) -> int:
    """Objects in a v2 page's `data` (a list, or one streamed), or 1 for a flat record."""
    data = obj["data"] if is_v2_page(obj) else None
    return len(data) if isinstance(data, list) else 1
