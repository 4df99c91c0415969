"""Tags: names an analyst puts on posts to organise them ("to check", "flood-2024").

One concept, not two: a "collection" would be a named set of posts too, so a tag serves both (a post
may carry several; `tag:NAME` finds them). Names compare without case; a tag lives while any post
carries it or until it is deleted. Writes go by batches of post ids (the Store splits big selections).
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from groundlens.storage.db import IDS

MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class TagCount:
    name: str
    posts: int


def check_name(name: str, what: str = "tag") -> str:
    """The name stripped of surrounding spaces; ValueError saying why it cannot be a name."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError(f"a {what} name cannot be empty")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValueError(f"a {what} name has at most {MAX_NAME_CHARS} characters ({len(cleaned)} given)")
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned) or '"' in cleaned:
        raise ValueError(f"a {what} name cannot hold control characters or double quotes: {cleaned!r}")
    return cleaned


def add(conn: sqlite3.Connection, post_ids: Sequence[int], name: str) -> int:
    """Tag these posts (ids of posts that no longer exist are skipped); returns how many newly got it."""
    conn.execute("INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,))
    return conn.execute(
        f"""INSERT OR IGNORE INTO post_tags (tag_id, post_id)
            SELECT t.id, p.id FROM tags t, posts p WHERE t.name = ? AND p.id IN {IDS}""",
        (name, json.dumps(list(post_ids))),
    ).rowcount


def remove(conn: sqlite3.Connection, post_ids: Sequence[int], name: str) -> int:
    """Take the tag off these posts; returns how many had it."""
    return conn.execute(
        f"DELETE FROM post_tags WHERE tag_id = (SELECT id FROM tags WHERE name = ?) AND post_id IN {IDS}",
        (name, json.dumps(list(post_ids))),
    ).rowcount


def delete(conn: sqlite3.Connection, name: str) -> bool:
    """Remove the tag from every post; False when no tag has that name."""
    return conn.execute("DELETE FROM tags WHERE name = ?", (name,)).rowcount > 0


def counts(conn: sqlite3.Connection) -> list[TagCount]:
    """Every tag with the number of posts carrying it, by name."""
    rows = conn.execute(
        """SELECT t.name, COUNT(pt.post_id) FROM tags t LEFT JOIN post_tags pt ON pt.tag_id = t.id
           GROUP BY t.id ORDER BY t.name COLLATE NOCASE"""
    )
    return [TagCount(name, posts) for name, posts in rows]


def of_posts(conn: sqlite3.Connection, post_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of each of these posts (every id gets a list), by name."""
    found: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    rows = conn.execute(
        f"""SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
            WHERE pt.post_id IN {IDS} ORDER BY t.name COLLATE NOCASE""",
        (json.dumps(list(post_ids)),),
    )
    for post_id, name in rows:
        found[post_id].append(name)
    return found


def condition(names: Sequence[str]) -> tuple[str, list[str]]:
    """SQL on alias p for `tag:NAME` (any of these names)."""
    marks = ", ".join("?" * len(names))
    return (
        f"p.id IN (SELECT pt.post_id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.name IN ({marks}))",
        list(names),
    )
