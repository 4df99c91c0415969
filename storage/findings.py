"""What a post's image showed besides its entities: text read by OCR and things not tied to a name.

Kept once per post image and replaced with each pipeline result. The OCR lines are also
joined into `posts.ocr_text`, which the full-text index holds beside the post text, so a
word search finds a post by what its photo says and `ocr:` searches that text alone.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from groundlens.records import ImageFindings, ImageObject, ImageText
from groundlens.storage import entities, post_index
from groundlens.storage.db import IDS


def ocr_document(texts: list[ImageText]) -> str | None:
    """The searchable text of an image: its OCR lines, one per line (None when nothing was read)."""
    lines = [line.text.strip() for line in texts if line.text.strip()]
    return "\n".join(lines) or None


def replace(conn: sqlite3.Connection, by_post: Mapping[int, ImageFindings]) -> None:
    """Replace the findings of these (existing) posts; a finding without media_id gets the post's first image,
    the one the pipeline looked at."""
    if not by_post:
        return
    key = json.dumps(list(by_post))
    default_media = entities.first_media_ids(conn, key)
    conn.execute(f"DELETE FROM image_text WHERE post_id IN {IDS}", (key,))
    conn.execute(f"DELETE FROM image_objects WHERE post_id IN {IDS}", (key,))
    texts, objects = [], []
    for post_id, found in by_post.items():
        media = default_media.get(post_id)
        texts += [(post_id, t.media_id or media, t.text, *_box(t.box), t.score) for t in found.texts]
        objects += [
            (post_id, o.media_id or media, o.label, *_box(o.box), o.score, json.dumps(list(o.candidates)))
            for o in found.objects
        ]
    conn.executemany(
        "INSERT INTO image_text (post_id, media_id, text, x0, y0, x1, y1, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", texts
    )
    conn.executemany(
        "INSERT INTO image_objects (post_id, media_id, label, x0, y0, x1, y1, score, candidates)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        objects,
    )
    _reindex_ocr(conn, {post_id: ocr_document(found.texts) for post_id, found in by_post.items()})


def _reindex_ocr(conn: sqlite3.Connection, documents: dict[int, str | None]) -> None:
    """Store each post's OCR document and re-index only the posts whose document changed."""
    old = dict(conn.execute(f"SELECT id, ocr_text FROM posts WHERE id IN {IDS}", (json.dumps(list(documents)),)))
    changed = [post_id for post_id, text in documents.items() if post_id in old and old[post_id] != text]
    if not changed:
        return
    post_index.unindex_text(conn, changed)  # with the old document: the index must forget exactly what it holds
    conn.executemany("UPDATE posts SET ocr_text = ? WHERE id = ?", [(documents[i], i) for i in changed])
    post_index.index_text(conn, f"IN {IDS}", (json.dumps(changed),))


def moved(found: ImageFindings, media: dict[int, int]) -> ImageFindings:
    """The same findings on other media rows (a retweet's copies of its original's photos)."""
    return ImageFindings(
        [dataclasses.replace(t, media_id=None if t.media_id is None else media.get(t.media_id)) for t in found.texts],
        [dataclasses.replace(o, media_id=None if o.media_id is None else media.get(o.media_id)) for o in found.objects],
    )


def _box(box: tuple[float, float, float, float]) -> tuple[float, ...]:
    return tuple(float(v) for v in box)


def read(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, ImageFindings]:
    """Findings of these posts (every id gets one, empty when nothing was seen), in reading order."""
    key = json.dumps(post_ids)
    found = {post_id: ImageFindings() for post_id in post_ids}
    for post_id, media_id, text, x0, y0, x1, y1, score in conn.execute(
        f"SELECT post_id, media_id, text, x0, y0, x1, y1, score FROM image_text WHERE post_id IN {IDS} ORDER BY id",
        (key,),
    ):
        found[post_id].texts.append(ImageText(text, (x0, y0, x1, y1), score, media_id))
    for post_id, media_id, label, x0, y0, x1, y1, score, candidates in conn.execute(
        f"SELECT post_id, media_id, label, x0, y0, x1, y1, score, candidates FROM image_objects"
        f" WHERE post_id IN {IDS} ORDER BY id",
        (key,),
    ):
        names: Any = json.loads(candidates) if candidates else []
        found[post_id].objects.append(ImageObject(label, (x0, y0, x1, y1), score, tuple(names), media_id))
    return found
