"""Deleting posts for good: the analyst's "delete" on a selection.

A post's media rows, mentions, regions, jobs, image findings and tags go with it (ON DELETE CASCADE), its
full-text entry by trigger; the trend aggregates are shifted first, in the same transaction, as every
write that changes mentions does (storage/aggregates.py). Cached image files stay: the cache is
content-addressed and another post may share a file. Importing the same file again brings posts back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from groundlens.storage import aggregates
from groundlens.storage.db import IDS


def delete_posts(conn: sqlite3.Connection, post_ids: Sequence[int]) -> int:
    """Delete these posts (ids that no longer exist are skipped); returns how many were deleted."""
    ids = list(post_ids)
    aggregates.shift(conn, ids, -1)
    return conn.execute(f"DELETE FROM posts WHERE id IN {IDS}", (json.dumps(ids),)).rowcount
