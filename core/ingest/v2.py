"""X API v2 tweet objects plus their `includes` -> Posts: the one parser for the API and twarc2 files.

A v2 page (`{"data": [...], "includes": {"users": [...], "media": [...]}}`, or one streamed
tweet with `"data": {...}`) carries authors and photos out of line; they are joined back here.
"""

from __future__ import annotations

from typing import Any, Iterator

from core.ingest.fields import X_SOURCE, RecordError, native_id, parse_time, tweet_url
from core.ingest.report import ItemError, ParsedItem
from storage.records import Media, Post


def _index(includes: dict[str, Any], name: str, key: str) -> dict[str, dict[str, Any]]:
    items = includes.get(name) or []
    return {item[key]: item for item in items if isinstance(item, dict) and key in item}


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
    user = users.get(str(tweet.get("author_id")), {})
    author = user.get("username") or tweet.get("author_id")
    keys = (tweet.get("attachments") or {}).get("media_keys") or []
    photos = [media[k] for k in keys if k in media and media[k].get("type") == "photo" and media[k].get("url")]
    lang = tweet.get("lang")
    return Post(
        source=X_SOURCE,
        native_id=tweet_id,
        text=text,
        author=str(author) if author is not None else None,
        created_at=parse_time(tweet.get("created_at")),
        lang=lang if isinstance(lang, str) else None,
        url=tweet_url(user.get("username"), tweet_id),
        raw={"data": tweet, "includes": {"users": [user] if user else [], "media": photos}},
        media=[Media(url=p["url"], width=p.get("width"), height=p.get("height")) for p in photos],
    )


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
    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    users, media = _index(includes, "users", "id"), _index(includes, "media", "media_key")
    for index, tweet in enumerate(tweets):
        where = location if isinstance(data, dict) else f"{location} [tweet {index}]"
        try:
            yield ParsedItem(where, tweet_to_post(tweet, users, media))
        except RecordError as error:
            yield ItemError(where, str(error))
