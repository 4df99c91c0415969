"""Read-side records the store hands to views and the CLI (rows of the feed, search hits, trend points)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")

# What a trend count covers, by include_retweets: the words the CLI's tables and the Trends page use
COUNTED = {False: "original posts only (retweets left out)", True: "every post (retweets included)"}


@dataclass
class PostSummary:
    """One feed row: enough to draw it without loading the post, its entities or its image."""

    id: int
    source: str
    native_id: str
    author: str | None
    created_at: datetime | None
    snippet: str  # the text, cut at SNIPPET_CHARS with an ellipsis
    has_image: bool
    thumbnail_path: str | None  # local file of the first image once it is cached
    n_entities: int  # predicted mentions
    n_groundable: int  # predicted mentions judged groundable
    n_gold: int
    pipeline_state: str | None  # state of the post's most recently updated job; None: never queued
    retweet: bool = False  # a retweet: its text is the original's (storage/reposts.py)


@dataclass
class EntitySummary:
    """A normalised entity and its predicted mentions among the matches of a query."""

    norm: str
    name: str  # a surface form, for display
    type: str  # the most frequent type
    types: dict[str, int]
    mentions: int
    posts: int  # with a matching mention; a rare post naming it under two types may count twice
    groundable: int  # mentions judged groundable
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass
class SearchPage(Generic[T]):
    items: list[T]
    offset: int
    limit: int
    has_more: bool  # totals cost a full count: ask Store.count_matching when needed


@dataclass
class SeriesPoint:
    bucket: date  # first day of the bucket (Monday for weeks), UTC
    key: str  # the entity's norm, or the type when the series is per type
    count: int


@dataclass
class EntityCount:
    norm: str
    name: str
    type: str  # most frequent type among the counted mentions
    count: int  # mentions (top_entities) or posts shared with the entity asked about (cooccurring)


@dataclass
class EntityProfile:
    norm: str
    name: str | None  # None when the entity was never seen
    types: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    posts: int = 0
    groundable: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
