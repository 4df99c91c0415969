"""The full-text index of posts (posts_fts): each post's folded text and the text read in its image.

Its own module because two writers keep it: storage.posts (the text) and storage.findings (OCR text).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from groundlens.storage.db import IDS


def index_text(conn: sqlite3.Connection, ids: str, params: tuple[Any, ...]) -> None:
    """Full-text index these posts' folded text and OCR text (storage.normalize.fold) in one statement, not
    per row by a trigger: FTS5 flushes its pending terms at every statement's savepoint, so a row at a time
    writes a tiny segment per post (4x slower)."""
    conn.execute(
        f"INSERT INTO posts_fts (rowid, text, ocr_text) SELECT id, search_fold(text), search_fold(ocr_text)"
        f" FROM posts WHERE id {ids}",
        params,
    )


def unindex_text(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """Remove the stored (old) text of these posts from the index; call before the text changes."""
    conn.execute(
        f"INSERT INTO posts_fts (posts_fts, rowid, text, ocr_text)"
        f" SELECT 'delete', id, search_fold(text), search_fold(ocr_text) FROM posts WHERE id IN {IDS}",
        (json.dumps(post_ids),),
    )
