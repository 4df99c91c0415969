"""Writing and reading entity mentions with their regions; one origin (pred or gold) at a time.

`replace` is the one write path for mentions: it keeps the trend aggregates and post facts in step,
and predictions pass through the analyst's corrections on the way in (storage/corrected_view.py) and
are named as the merges in force say. `realias` is the same write for a merge or split, which changes
nothing but names: it renames the mentions in place instead of rewriting every post that has them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from groundlens.records import ENTITY_TYPES, Entity, EntityOrigin, Evidence, Region
from groundlens.storage import aggregates, corrected_view, corrections
from groundlens.storage.db import IDS
from groundlens.storage.normalize import normalize_entity

_ENTITY_COLUMNS = (
    'id, post_id, origin, start, "end", text, norm, type, score, groundable, groundable_score, expression,'
    " model_version, verdict, evidence, corrections, pred_norm"
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
    """Replace the `origin` mentions of each post; returns the ids of the posts that exist (others are skipped).

    Predictions are the pipeline's raw output: what is stored is their corrected view."""
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
    merged: corrections.Aliases = {}
    if origin == "pred":
        by_post = corrected_view.effective(conn, {post_id: by_post[post_id] for post_id in post_ids})
        merged = corrections.aliases(conn)
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
            norm = corrections.resolve(merged, entity.norm)[0]  # entity.norm stays: a retried transaction reads it
            names.setdefault(norm, entity.text)
            entity_rows.append(_entity_row(entity, norm, *stamps[post_id]))
            region_rows.extend(_region_row(entity.id, region, first_media.get(post_id)) for region in entity.regions)
    conn.executemany(
        f"INSERT INTO entities ({_ENTITY_COLUMNS}, created_at, retweet) VALUES ({'?, ' * 18}?)", entity_rows
    )
    conn.executemany(f"INSERT INTO regions ({_REGION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", region_rows)
    conn.executemany("INSERT OR IGNORE INTO entity_names (norm, name) VALUES (?, ?)", names.items())
    refresh_post_facts(conn, post_ids)
    aggregates.shift(conn, post_ids, +1, origin)
    return post_ids


def rematerialise(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """Recompute the corrected view of these posts' predictions (after a mention correction or its revert)."""
    replace(conn, raw_predictions(conn, post_ids), "pred")


def raw_predictions(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, list[Entity]]:
    """What the pipeline predicted for these posts, before corrections and merges (every id gets a list)."""
    raw = corrected_view.raw_predictions(conn, post_ids)
    return {**read(conn, [post_id for post_id in post_ids if post_id not in raw], "pred", before_merges=True), **raw}


def realias(conn: sqlite3.Connection, norms: list[str]) -> list[int]:
    """Name the predicted mentions now counted as one of `norms` as the merges in force say (after a merge, a
    split, or the revert of either); returns the posts whose mentions were renamed."""
    merged = corrections.aliases(conn)
    renames = [
        (new, None if new == base else base, old, base)
        for base, old in conn.execute(
            f"SELECT DISTINCT COALESCE(pred_norm, norm), norm FROM entities WHERE norm IN {IDS} AND origin = 'pred'",
            (json.dumps(norms),),
        )
        if (new := corrections.resolve(merged, base)[0]) != old
    ]
    post_ids = [
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT post_id FROM entities WHERE norm IN {IDS} AND origin = 'pred'"
            f" AND COALESCE(pred_norm, norm) IN {IDS}",
            (json.dumps(sorted({old for _, _, old, _ in renames})), json.dumps(sorted({base for *_, base in renames}))),
        )
    ]
    aggregates.shift(conn, post_ids, -1, "pred")
    conn.executemany(
        "UPDATE entities SET norm = ?, pred_norm = ? WHERE norm = ? AND origin = 'pred' AND COALESCE(pred_norm, norm) = ?",
        renames,
    )
    conn.execute(  # a name to show for an entity only merges gave mentions
        f"INSERT OR IGNORE INTO entity_names (norm, name) SELECT norm, MIN(text) FROM entities"
        f" WHERE norm IN {IDS} AND origin = 'pred' GROUP BY norm",
        (json.dumps(sorted({new for new, *_ in renames})),),
    )
    aggregates.shift(conn, post_ids, +1, "pred")
    return post_ids


def first_media_ids(conn: sqlite3.Connection, post_ids_json: str) -> dict[int, int]:
    """post id -> its first image's media id (the image the pipeline looks at and regions refer to)."""
    rows = conn.execute(f"SELECT post_id, id FROM media WHERE position = 0 AND post_id IN {IDS}", (post_ids_json,))
    return dict(rows.fetchall())


TYPE_BITS = {"PER": 1, "LOC": 2, "ORG": 4, "OTHER": 8}
_BIT = "CASE type " + " ".join(f"WHEN '{kind}' THEN {bit}" for kind, bit in TYPE_BITS.items()) + " END"


def _of_post(select: str, origin: str, extra: str = "") -> str:
    return f"(SELECT {select} FROM entities WHERE post_id = posts.id AND origin = '{origin}'{extra})"


_FACTS = {  # column of posts -> its recount from the post's mentions
    "n_pred": _of_post("COUNT(*)", "pred"),
    "n_gold": _of_post("COUNT(*)", "gold"),
    "pred_types": _of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred"),
    "ground_types": _of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred", " AND groundable = 1"),
    "unground_types": _of_post(f"COALESCE(SUM(DISTINCT {_BIT}), 0)", "pred", " AND groundable = 0"),
}
_REFRESH_FACTS = "UPDATE posts SET " + ", ".join(f"{column} = {count}" for column, count in _FACTS.items())


def post_fact_problems(conn: sqlite3.Connection) -> list[str]:
    """Posts whose stored mention facts (feed counters, type bits for filters) differ from a recount."""
    stored, recounted = ", ".join(_FACTS), ", ".join(_FACTS.values())
    rows = conn.execute(f"SELECT id, {stored}, {recounted} FROM posts WHERE ({stored}) IS NOT ({recounted})")
    width = len(_FACTS)
    return [
        f"post {row[0]} ({', '.join(_FACTS)}): stored {row[1 : 1 + width]}, recounted {row[1 + width :]}"
        for row in rows
    ]


def refresh_post_facts(conn: sqlite3.Connection, post_ids: list[int] | None) -> None:
    """Recount the mention facts stored on posts (for these posts, or all when None)."""
    if post_ids is None:
        conn.execute(_REFRESH_FACTS)
    else:
        conn.execute(f"{_REFRESH_FACTS} WHERE id IN {IDS}", (json.dumps(post_ids),))


def _entity_row(entity: Entity, norm: str, created_at: int | None, retweet: int) -> tuple[Any, ...]:
    """The row of a mention counted as `norm` (its own norm, or the entity a merge put it in)."""
    groundable = None if entity.groundable is None else int(entity.groundable)
    return (
        entity.id,
        entity.post_id,
        entity.origin,
        entity.start,
        entity.end,
        entity.text,
        norm,
        entity.type,
        entity.score,
        groundable,
        entity.groundable_score,
        entity.expression,
        entity.model_version,
        entity.verdict,
        _evidence_json(entity.evidence),
        json.dumps(entity.corrected_by) if entity.corrected_by else None,
        None if norm == entity.norm else entity.norm,
        created_at,
        retweet,
    )


def _evidence_json(evidence: list[Evidence]) -> str | None:
    """Compact JSON list of {kind, detail, score, box}; None when a mention has no evidence."""
    if not evidence:
        return None
    return json.dumps(
        [
            {"kind": e.kind, "detail": e.detail, "score": e.score, "box": list(e.box) if e.box else None}
            for e in evidence
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _evidence(text: str | None) -> list[Evidence]:
    if not text:
        return []
    return [
        Evidence(e["kind"], e["detail"], e["score"], tuple(e["box"]) if e.get("box") else None)
        for e in json.loads(text)
    ]


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


def read(
    conn: sqlite3.Connection, post_ids: list[int], origin: str | None, before_merges: bool = False
) -> dict[int, list[Entity]]:
    """Mentions of these posts (one origin, or both when None) in text order, with their regions. A merged
    mention is named as the entity it was merged into, the merges among its `corrected_by`; `before_merges`
    gives its own name instead (what a copy or a recomputation starts from)."""
    key = json.dumps(post_ids)
    origin_filter = "" if origin is None else "AND origin = ?"
    params = (key,) if origin is None else (key, origin)
    rows = conn.execute(
        f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE post_id IN {IDS} {origin_filter} ORDER BY post_id, start, id",
        params,
    ).fetchall()
    found: dict[int, list[Entity]] = {post_id: [] for post_id in post_ids}
    by_id: dict[int, Entity] = {}
    merged = corrections.aliases(conn) if not before_merges and any(row[16] for row in rows) else {}
    for row in rows:
        entity = Entity(
            id=row[0],
            post_id=row[1],
            origin=row[2],
            start=row[3],
            end=row[4],
            text=row[5],
            norm=row[6],
            type=row[7],
            score=row[8],
            groundable=None if row[9] is None else bool(row[9]),
            groundable_score=row[10],
            expression=row[11],
            model_version=row[12],
            verdict=row[13],
            evidence=_evidence(row[14]),
            corrected_by=json.loads(row[15]) if row[15] else [],
        )
        if row[16] and before_merges:
            entity.norm = row[16]
        elif row[16]:
            entity.corrected_by = sorted({*entity.corrected_by, *corrections.resolve(merged, row[16])[1]})
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
