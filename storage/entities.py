"""Writing and reading entity mentions with their regions; one origin (pred or gold) at a time."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from groundlens.storage import aggregates
from groundlens.storage.db import IDS
from groundlens.storage.normalize import normalize_entity
from groundlens.records import ENTITY_TYPES, Entity, EntityOrigin, Evidence, Region

_ENTITY_COLUMNS = (
    'id, post_id, origin, start, "end", text, norm, type, score, groundable, groundable_score, expression,'
    " model_version, verdict, evidence"
)
_REGION_COLUMNS = "entity_id, media_id, x0, y0, x1, y1, score, mask_rle, area"


def validate(entities: Iterable[Entity]) -> None:
    """Raise ValueError naming the first mention the store cannot keep; fills in a missing norm."""
    for entity in entities:
        if entity.type not in ENTITY_TYPES:
            raise ValueError(f"entity {entity.text!r}: type {entity.type!r} is not one of {', '.join(ENTITY_TYPES)}")
        if not 0 <= entity.start <= entity.end:
            raise ValueError(f"entity {entity.text!r}: bad span {entity.start}..{entity.end}")
        entity.norm = entity.norm or normalize_entity(entity.text)
        if not entity.norm:
            raise ValueError(f"entity {entity.text!r}: nothing left after normalisation")


def replace(conn: sqlite3.Connection, by_post: Mapping[int, list[Entity]], origin: EntityOrigin) -> list[int]:
    """Replace the `origin` mentions of each post; returns the ids of the posts that exist (others are skipped)."""
    for found in by_post.values():
        validate(found)
    key = json.dumps(list(by_post))
    stamps = {  # what each mention copies from its post: its date and whether the post is a retweet
        post_id: (created_at, retweet)
        for post_id, created_at, retweet in conn.execute(
            f"SELECT id, created_at, retweet_of IS NOT NULL FROM posts WHERE id IN {IDS}", (key,)
        )
    }
    post_ids = [post_id for post_id in by_post if post_id in stamps]
    key = json.dumps(post_ids)
    aggregates.shift(conn, post_ids, -1, origin)
    conn.execute(f"DELETE FROM entities WHERE origin = ? AND post_id IN {IDS}", (origin, key))
    first_media = first_media_ids(conn, key)
    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM entities").fetchone()[0]
    entity_rows: list[tuple[Any, ...]] = []
    region_rows: list[tuple[Any, ...]] = []
    names: dict[str, str] = {}
    for post_id in post_ids:
        for entity in by_post[post_id]:
            entity.id, entity.post_id, entity.origin = next_id, post_id, origin
            next_id += 1
            names.setdefault(entity.norm, entity.text)
            entity_rows.append(_entity_row(entity, *stamps[post_id]))
            region_rows.extend(_region_row(entity.id, region, first_media.get(post_id)) for region in entity.regions)
    conn.executemany(
        f"INSERT INTO entities ({_ENTITY_COLUMNS}, created_at, retweet) VALUES ({'?, ' * 16}?)", entity_rows
    )
    conn.executemany(f"INSERT INTO regions ({_REGION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", region_rows)
    conn.executemany("INSERT OR IGNORE INTO entity_names (norm, name) VALUES (?, ?)", names.items())
    refresh_post_facts(conn, post_ids)
    aggregates.shift(conn, post_ids, +1, origin)
    return post_ids


def first_media_ids(conn: sqlite3.Connection, post_ids_json: str) -> dict[int, int]:
    """post id -> its first image's media id (the image the pipeline looks at and regions refer to)."""
    rows = conn.execute(f"SELECT post_id, id FROM media WHERE position = 0 AND post_id IN {IDS}", (post_ids_json,))
    return dict(rows.fetchall())


TYPE_BITS = {"PER": 1, "LOC": 2, "ORG": 4, "OTHER": 8}
_BIT = "CASE type " + " ".join(f"WHEN '{kind}' THEN {bit}" for kind, bit in TYPE_BITS.items()) + " END"


def _of_post(select: str, origin: str, extra: str = "") -> str:
    return f"(SELECT {select} FROM entities WHERE post_id = posts.id AND origin = '{origin}'{extra})"


_REFRESH_FACTS = f"""UPDATE posts SET
    n_pred = {_of_post("COUNT(*)", "pred")},
    n_gold = {_of_post("COUNT(*)", "gold")},
    pred_types = {_of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred")},
    ground_types = {_of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred", " AND groundable = 1")},
    unground_types = {_of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred", " AND groundable = 0")}"""


def refresh_post_facts(conn: sqlite3.Connection, post_ids: list[int] | None) -> None:
    """Recount the mention facts stored on posts (for these posts, or all when None)."""
    if post_ids is None:
        conn.execute(_REFRESH_FACTS)
    else:
        conn.execute(f"{_REFRESH_FACTS} WHERE id IN {IDS}", (json.dumps(post_ids),))


def _entity_row(entity: Entity, created_at: int | None, retweet: int) -> tuple[Any, ...]:
    groundable = None if entity.groundable is None else int(entity.groundable)
    return (
        entity.id, entity.post_id, entity.origin, entity.start, entity.end, entity.text, entity.norm, entity.type,
        entity.score, groundable, entity.groundable_score, entity.expression, entity.model_version, entity.verdict,
        _evidence_json(entity.evidence), created_at, retweet,
    )


def _evidence_json(evidence: list[Evidence]) -> str | None:
    """Compact JSON list of {kind, detail, score, box}; None when a mention has no evidence."""
    if not evidence:
        return None
    return json.dumps(
        [{"kind": e.kind, "detail": e.detail, "score": e.score, "box": list(e.box) if e.box else None}
         for e in evidence],
        ensure_ascii=False, separators=(",", ":"),
    )


def _evidence(text: str | None) -> list[Evidence]:
    if not text:
        return []
    return [Evidence(e["kind"], e["detail"], e["score"], tuple(e["box"]) if e.get("box") else None)
            for e in json.loads(text)]


def _region_row(entity_id: int | None, region: Region, default_media: int | None) -> tuple[Any, ...]:
    if region.media_id is None:
        region.media_id = default_media  # the pipeline grounds in the post's (first) image
    mask = None
    if region.mask_rle is not None:
        counts = region.mask_rle["counts"]
        counts = counts.decode("ascii") if isinstance(counts, bytes) else counts  # pycocotools gives bytes
        mask = json.dumps({"size": list(region.mask_rle["size"]), "counts": counts}, separators=(",", ":"))
    x0, y0, x1, y1 = (float(v) for v in region.box)
    return (entity_id, region.media_id, x0, y0, x1, y1, region.score, mask, region.area)


def read(conn: sqlite3.Connection, post_ids: list[int], origin: str | None) -> dict[int, list[Entity]]:
    """Mentions of these posts (one origin, or both when None) in text order, with their regions."""
    key = json.dumps(post_ids)
    origin_filter = "" if origin is None else "AND origin = ?"
    params = (key,) if origin is None else (key, origin)
    rows = conn.execute(
        f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE post_id IN {IDS} {origin_filter} ORDER BY post_id, start, id",
        params,
    ).fetchall()
    found: dict[int, list[Entity]] = {post_id: [] for post_id in post_ids}
    by_id: dict[int, Entity] = {}
    for row in rows:
        entity = Entity(
            id=row[0], post_id=row[1], origin=row[2], start=row[3], end=row[4], text=row[5], norm=row[6],
            type=row[7], score=row[8], groundable=None if row[9] is None else bool(row[9]),
            groundable_score=row[10], expression=row[11], model_version=row[12], verdict=row[13],
            evidence=_evidence(row[14]),
        )
        found[row[1]].append(entity)
        by_id[row[0]] = entity
    region_rows = conn.execute(
        f"SELECT {_REGION_COLUMNS} FROM regions WHERE entity_id IN {IDS} ORDER BY id", (json.dumps(list(by_id)),)
    )
    for entity_id, media_id, x0, y0, x1, y1, score, mask, area in region_rows:
        by_id[entity_id].regions.append(
            Region((x0, y0, x1, y1), score, None if mask is None else json.loads(mask), area, media_id)
        )
    return found
