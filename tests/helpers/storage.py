"""Builders shared by the storage tests: small posts and mentions with known dates, and a second look at the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from groundlens.records import Entity, Media, Post
from groundlens.storage import Store
from groundlens.storage.db import connect


def open_store(tmp_path: Path, name: str = "test.db") -> Store:
    return Store.open(tmp_path / name)


def make_post(native_id: str, text: str, when: str | None = "2024-01-10", **fields) -> Post:
    """A post dated at noon UTC of `when` (YYYY-MM-DD), or undated when None."""
    created = None if when is None else datetime.fromisoformat(when).replace(hour=12, tzinfo=UTC)
    image = fields.pop("image", None)
    return Post(
        source=fields.pop("source", "twitter"),
        native_id=native_id,
        text=text,
        created_at=created,
        media=[Media(url=image)] if image else [],
        **fields,
    )


def mention(post: Post, surface: str, kind: str, occurrence: int = 0, **fields) -> Entity:
    """The `occurrence`-th mention of `surface` in the post's text."""
    start = -1
    for _ in range(occurrence + 1):
        start = post.text.index(surface, start + 1)
    return Entity(start=start, end=start + len(surface), text=surface, type=kind, **fields)


def fts_matches_posts(db_path: Path) -> bool:
    """The post index is sound (FTS5's own check) and holds exactly the posts' current folded text and OCR
    text: every (term, post, column, position) equals that of an index built afresh from the posts."""
    conn = connect(db_path)  # with search_fold, as the store's own connections have it
    try:
        try:
            conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError:
            return False
        conn.execute(
            "CREATE VIRTUAL TABLE temp.fresh_fts USING fts5 (text, ocr_text, content='',"
            " tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute(
            "INSERT INTO temp.fresh_fts (rowid, text, ocr_text)"
            " SELECT id, search_fold(text), search_fold(ocr_text) FROM posts"
        )
        for name, schema, table in (("held", "main", "posts_fts"), ("fresh", "temp", "fresh_fts")):
            conn.execute(f"CREATE VIRTUAL TABLE temp.{name}_terms USING fts5vocab({schema}, {table}, instance)")
        one_way = (
            "SELECT COUNT(*) FROM (SELECT term, doc, col, offset FROM {} EXCEPT SELECT term, doc, col, offset FROM {})"
        )
        return all(
            conn.execute(one_way.format(a, b)).fetchone()[0] == 0
            for a, b in (("held_terms", "fresh_terms"), ("fresh_terms", "held_terms"))
        )
    finally:
        conn.close()


@contextmanager
def outside(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of our own to a store's file, opened the way the store opens each of its own
    (storage.db.connect: same pragmas and SQL functions): what another process sees and can do."""
    conn = connect(db_path)
    try:
        yield conn
    finally:
        conn.close()


def scalar(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value read from the file from outside the store."""
    with outside(db_path) as conn:
        return conn.execute(sql, params).fetchone()[0]
