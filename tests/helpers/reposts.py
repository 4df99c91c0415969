"""X API v2 pages of an original tweet and its retweets, written the way twarc2 saves them."""

from __future__ import annotations

import json
from pathlib import Path

from groundlens.records import Entity, Region
from groundlens.storage import Store
from tests.helpers.storage import mention

ORIGINAL = (
    "Kevin Durant and Stephen Curry met fans in Brooklyn before the game, then drove to Madison Square"
    " Garden where the Knicks were waiting for a long night of basketball"
)


PHOTO = {
    "media_key": "3_900",
    "type": "photo",
    "url": "https://pbs.twimg.com/media/Wave.jpg",
    "width": 800,
    "height": 600,
}


def cut(text: str, username: str) -> str:
    """A retweet's own text as X API v2 sends it: "RT @user: " and the original, cut at 140 characters."""
    full = f"RT @{username}: {text}"
    return full if len(full) <= 140 else full[:139] + "\u2026"


def tweet(tweet_id: str, text: str, day: int, author: str = "20", **fields) -> dict:
    return {
        "id": tweet_id,
        "text": text,
        "author_id": author,
        "created_at": f"2024-03-{day:02d}T10:00:00.000Z",
        "lang": "en",
        "edit_history_tweet_ids": [tweet_id],
        **fields,
    }


def retweet(tweet_id: str, day: int, original: str = "1", text: str = ORIGINAL) -> dict:
    return tweet(
        tweet_id,
        cut(text, "nba"),
        day,
        referenced_tweets=[{"type": "retweeted", "id": original}],
        attachments={"media_keys": ["3_900"]},
    )


def page(data: list[dict], tweets: list[dict], **extra) -> dict:
    users = [{"id": "10", "name": "NBA", "username": "nba"}, {"id": "20", "name": "Fan", "username": "fan"}]
    return {
        "data": data,
        "includes": {"users": users, "tweets": tweets, "media": [PHOTO]},
        "meta": {"result_count": len(data)},
        **extra,
    }


def original_tweet() -> dict:
    return tweet("1", ORIGINAL, 1, author="10", attachments={"media_keys": ["3_900"]})


def write_pages(path: Path, *pages: dict) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    return path


def by_native(store: Store, native_id: str):
    return store.post_by_native_id("x", native_id)


def durant(store: Store, native_id: str) -> list[Entity]:
    post = by_native(store, native_id)
    return [
        mention(post, "Kevin Durant", "PER", score=0.9, regions=[Region((1, 2, 30, 40), 0.8)]),
        mention(post, "Brooklyn", "LOC", score=0.8),
    ]
