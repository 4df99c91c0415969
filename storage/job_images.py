"""Which image each pipeline result was computed from, so that a result goes stale when its image changes.

A post processed before its image arrived (`import --no-download`, then `process`) was "done" as
text only for good, and one whose cached file vanished was done again as text only without a word.
Each job records the sha256 of the image its result used (NULL: text only); a finished job whose
post's first image is now different (arrived, re-fetched with other bytes, gone, replaced) is put
back in the queue by `requeue_changed`, which a pipeline run calls before it counts its work.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence

from groundlens.storage.db import IDS

# The image a result would use now: the post's first image (regions refer to it) when it is downloaded.
CURRENT_IMAGE = "(SELECT sha256 FROM media WHERE media.post_id = jobs.post_id AND position = 0 AND status = 'ok')"


def record(conn: sqlite3.Connection, config_key: str, images: Mapping[int, str | None]) -> None:
    """Note the image (sha256, None for text only) each of these posts' results was computed from."""
    conn.executemany(
        "UPDATE jobs SET image = ? WHERE post_id = ? AND config_key = ?",
        [(sha256, post_id, config_key) for post_id, sha256 in images.items()],
    )


def record_current(conn: sqlite3.Connection, config_key: str, post_ids: Sequence[int]) -> None:
    """For results saved without saying which image they used: take them to match the post's image as it is."""
    conn.execute(
        f"UPDATE jobs SET image = {CURRENT_IMAGE} WHERE config_key = ? AND post_id IN {IDS}",
        (config_key, json.dumps(list(post_ids))),
    )


def requeue_changed(conn: sqlite3.Connection, config_key: str) -> int:
    """Finished jobs whose post's image is no longer the one their result used -> pending; returns how many."""
    return conn.execute(
        f"""UPDATE jobs SET state = 'pending', worker = NULL, error = NULL, attempts = 0, updated_at = ?
            WHERE config_key = ? AND state IN ('done', 'failed') AND image IS NOT {CURRENT_IMAGE}""",
        (time.time(), config_key),
    ).rowcount
