"""Builders shared by the storage tests (no tests here): small posts and mentions with known dates."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from storage import Store
from storage.records import Entity, Media, Post


def open_store(tmp_path: Path, name: str = "test.db") -> Store:
    return Store.open(tmp_path / name)


def make_post(native_id: str, text: str, when: str | None = "2024-01-10", **fields) -> Post:
    """A post dated at noon UTC of `when` (YYYY-MM-DD), or undated when None."""
    created = None if when is None else datetime.fromisoformat(when).replace(hour=12, tzinfo=timezone.utc)
    image = fields.pop("image", None)
    return Post(
        source=fields.pop("source", "twitter"), native_id=native_id, text=text, created_at=created,
        media=[Media(url=image)] if image else [], **fields,
    )  # fmt: skip


def mention(post: Post, surface: str, kind: str, occurrence: int = 0, **fields) -> Entity:
    """The `occurrence`-th mention of `surface` in the post's text."""
    start = -1
    for _ in range(occurrence + 1):
        start = post.text.index(surface, start + 1)
    return Entity(start=start, end=start + len(surface), text=surface, type=kind, **fields)
