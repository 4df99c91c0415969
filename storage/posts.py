"""Posts and their media: batched upserts keyed by (source, native_id), media state after downloads."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import orjson

from groundlens.records import Media, Post
from groundlens.storage import aggregates, reposts
from groundlens.storage.db import IDS, from_epoch, to_epoch
from groundlens.storage.post_index import index_text, unindex_text

_RECORD_FIELDS = ("author", "created_at", "text", "lang", "url", "raw", "retweet_of", "quote_of", "reply_to")
_POST_FIELDS = (*_RECORD_FIELDS, "has_media")  # as stored: the record's fields and facts derived from it
_MEDIA_FIELDS = ("url", "local_path", "sha256", "size_bytes", "width", "height", "status", "error")
_CHUNK = 900  # bound parameters per IN list, well under SQLite's limit


@dataclass
class UpsertSummary:
    inserted: int = 0
    updated: int = 0  # existed and something changed
    unchanged: int = 0  # existed and identical

    def __iadd__(self, other: UpsertSummary) -> UpsertSummary:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _raw_json(raw: Any) -> str:
    """The original payload as compact JSON: orjson (10x json's speed, a large share of an import's time),
    json for what orjson refuses (integers beyond 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(raw, default=str).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)


def _post_values(post: Post) -> tuple[Any, ...]:
    raw = None if post.raw is None else _raw_json(post.raw)
    links = (post.retweet_of, post.quote_of, post.reply_to)
    return (post.author, to_epoch(post.created_at), post.text, post.lang, post.url, raw, *links, int(bool(post.media)))


def _existing(conn: sqlite3.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(source, native_id) -> (id, *_POST_FIELDS) for the keys already stored."""
    by_source: dict[str, list[str]] = {}
    for source, native_id in keys:
        by_source.setdefault(source, []).append(native_id)
    found = {}
    for source, native_ids in by_source.items():
        for start in range(0, len(native_ids), _CHUNK):
            chunk = native_ids[start : start + _CHUNK]
            rows = conn.execute(
                f"SELECT native_id, id, {', '.join(_POST_FIELDS)} FROM posts"
                f" WHERE source = ? AND native_id IN ({', '.join('?' * len(chunk))})",
                (source, *chunk),
            )
            found.update({(source, row[0]): row[1:] for row in rows})
    return found


def upsert_batch(conn: sqlite3.Connection, batch: list[Post]) -> UpsertSummary:
    """Insert new posts, update changed ones, and sync their media; sets post.id and media.id."""
    for post in batch:
        post.native_id = str(post.native_id)  # ids that arrive as JSON numbers would never match the stored text
    latest = {(post.source, post.native_id): post for post in batch}  # a key twice in a batch: last one wins
    existing = _existing(conn, list(latest))
    summary = UpsertSummary()
    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM posts").fetchone()[0]
    inserts, updates, text_changed, restamped = [], [], [], []
    for key, post in latest.items():
        values = _post_values(post)
        if key not in existing:
            post.id, next_id = next_id, next_id + 1
            inserts.append((post.id, *key, *values))
            summary.inserted += 1
            continue
        post.id, *old = existing[key]
        if tuple(old) == values:
            summary.unchanged += 1
            continue
        updates.append((*values, post.id))
        summary.updated += 1
        if old[2] != values[2]:
            text_changed.append(post.id)
        if old[1] != values[1] or old[6] != values[6]:  # date or retweet link: mentions carry both
            restamped.append(post.id)
    for post in batch:  # duplicates within the batch share the stored row
        post.id = latest[(post.source, post.native_id)].id
    columns = ", ".join(_POST_FIELDS)
    conn.executemany(
        f"INSERT INTO posts (id, source, native_id, {columns}) VALUES (?, ?, ?, {', '.join('?' * len(_POST_FIELDS))})",
        inserts,
    )
    if inserts:
        index_text(conn, "BETWEEN ? AND ?", (inserts[0][0], inserts[-1][0]))
    if text_changed:
        unindex_text(conn, text_changed)
    conn.executemany(f"UPDATE posts SET {', '.join(f + ' = ?' for f in _POST_FIELDS)} WHERE id = ?", updates)
    if text_changed:
        index_text(conn, f"IN {IDS}", (json.dumps(text_changed),))
    _restamp_entities(conn, restamped)
    _reset_jobs(conn, text_changed)
    _sync_media(conn, list(latest.values()), has_old=bool(existing))
    reposts.relink(conn, [post.id for post in latest.values() if post.id is not None])  # all stored by now
    return summary


def _restamp_entities(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """Mentions carry their post's date and retweet flag (trend aggregates count by both), so a change moves them."""
    if not post_ids:
        return
    aggregates.shift(conn, post_ids, -1)
    conn.execute(
        f"UPDATE entities SET (created_at, retweet) ="
        f" (SELECT created_at, retweet_of IS NOT NULL FROM posts WHERE id = entities.post_id)"
        f" WHERE post_id IN {IDS}",
        (json.dumps(post_ids),),
    )
    aggregates.shift(conn, post_ids, +1)


def _reset_jobs(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """A post whose text changed needs its finished pipeline runs again (spans point into the old text)."""
    if not post_ids:
        return
    conn.execute(
        f"UPDATE jobs SET state = 'pending', worker = NULL, error = NULL, attempts = 0, updated_at = ?"
        f" WHERE state IN ('done', 'failed') AND post_id IN {IDS}",
        (time.time(), json.dumps(post_ids)),
    )


def _media_values(media: Media) -> tuple[Any, ...]:
    return tuple(getattr(media, field) for field in _MEDIA_FIELDS)


def _sync_media(conn: sqlite3.Connection, posts: list[Post], has_old: bool) -> None:
    """Media are keyed by (post, position); re-ingesting the same URL keeps what was downloaded."""
    old: dict[tuple[int | None, int], tuple[Any, ...]] = {}
    if has_old:
        rows = conn.execute(
            f"SELECT post_id, position, id, url FROM media WHERE post_id IN {IDS}",
            (json.dumps([post.id for post in posts]),),
        )
        old = {(post_id, position): (media_id, url) for post_id, position, media_id, url in rows}
    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM media").fetchone()[0]
    inserts, updates, trims = [], [], []
    for post in posts:
        for position, media in enumerate(post.media):
            previous = old.get((post.id, position))
            if previous is None:
                media.id, next_id = next_id, next_id + 1
                inserts.append((media.id, post.id, position, *_media_values(media)))
                continue
            media.id, old_url = previous
            fresh_record = media.status == "pending" and media.local_path is None
            if not (fresh_record and media.url == old_url):
                updates.append((*_media_values(media), media.id))
        if has_old:
            trims.append((post.id, len(post.media)))
    placeholders = ", ".join("?" * (3 + len(_MEDIA_FIELDS)))
    conn.executemany(
        f"INSERT INTO media (id, post_id, position, {', '.join(_MEDIA_FIELDS)}) VALUES ({placeholders})", inserts
    )
    conn.executemany(f"UPDATE media SET {', '.join(f + ' = ?' for f in _MEDIA_FIELDS)} WHERE id = ?", updates)
    conn.executemany("DELETE FROM media WHERE post_id = ? AND position >= ?", trims)


def update_media(conn: sqlite3.Connection, media: Media) -> None:
    if media.id is None:
        raise ValueError("update_media needs a stored Media (its id is None)")
    assignments = ", ".join(f + " = ?" for f in _MEDIA_FIELDS)
    cursor = conn.execute(f"UPDATE media SET {assignments} WHERE id = ?", (*_media_values(media), media.id))
    if cursor.rowcount == 0:
        raise KeyError(f"no media with id {media.id}")


def _media_from_row(row: tuple[Any, ...]) -> Media:
    return Media(id=row[0], **dict(zip(_MEDIA_FIELDS, row[1:])))


def media_to_fetch(conn: sqlite3.Connection, limit: int | None, retry_failed: bool) -> list[tuple[int, Media]]:
    return media_in_states(conn, ("pending", "failed") if retry_failed else ("pending",), limit)


def media_in_states(conn: sqlite3.Connection, states: tuple[str, ...], limit: int | None) -> list[tuple[int, Media]]:
    """(post id, media) in these states, oldest first."""
    rows = conn.execute(
        f"SELECT post_id, id, {', '.join(_MEDIA_FIELDS)} FROM media WHERE status IN ({', '.join('?' * len(states))})"
        " ORDER BY id LIMIT ?",
        (*states, -1 if limit is None else limit),
    )
    return [(row[0], _media_from_row(row[1:])) for row in rows]


def get_posts(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, Post]:
    """The stored posts among these ids, with their media, by id."""
    key = json.dumps(post_ids)
    rows = conn.execute(
        f"SELECT id, source, native_id, {', '.join(_RECORD_FIELDS)} FROM posts WHERE id IN {IDS}", (key,)
    ).fetchall()
    found = {}
    for post_id, source, native_id, author, created_at, text, lang, url, raw, retweet_of, quote_of, reply_to in rows:
        found[post_id] = Post(
            id=post_id,
            source=source,
            native_id=native_id,
            author=author,
            created_at=from_epoch(created_at),
            text=text,
            lang=lang,
            url=url,
            raw=None if raw is None else json.loads(raw),
            retweet_of=retweet_of,
            quote_of=quote_of,
            reply_to=reply_to,
        )
    media = conn.execute(
        f"SELECT post_id, id, {', '.join(_MEDIA_FIELDS)} FROM media WHERE post_id IN {IDS} ORDER BY post_id, position",
        (key,),
    )
    for row in media:
        found[row[0]].media.append(_media_from_row(row[1:]))
    return found
