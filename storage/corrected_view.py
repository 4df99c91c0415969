"""The corrected view of a post's predictions: the pipeline's mentions with the corrections in force applied.

`entities` (origin 'pred') holds this view, so search, entity pages, trends and exports read the
analyst's word without knowing corrections exist. The pipeline's own output of a post that any
correction has touched (or whose mentions an alias merge renames) is kept in `raw_predictions`;
a post without such a row holds its raw predictions in `entities`. `effective` is the one step
every write of predictions goes through (storage.entities.replace), so a re-run, a re-import or
a new configuration recomputes the view instead of overwriting the corrections.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from dataclasses import asdict
from typing import Any, Mapping

from storage import corrections
from storage.corrections import Aliases, Correction
from storage.db import IDS
from storage.normalize import normalize_entity
from storage.records import Entity, Evidence, Region

_CLOSE = 0.5  # pixels: a rejected box matches a stored one this close (float round trips)


def effective(conn: sqlite3.Connection, raw_by_post: Mapping[int, list[Entity]]) -> dict[int, list[Entity]]:
    """The corrected view of these (existing) posts' raw predictions; keeps the raw ones of the posts that
    need them and records each applied correction's status."""
    post_ids = list(raw_by_post)
    result = dict(raw_by_post)
    if not post_ids:
        return result
    key = json.dumps(post_ids)
    merged = corrections.aliases(conn)
    in_force = corrections.in_force_for_posts(conn, post_ids)
    kept = {row[0] for row in conn.execute(f"SELECT post_id FROM raw_predictions WHERE post_id IN {IDS}", (key,))}
    layered = [
        post_id for post_id in post_ids
        if post_id in kept or post_id in in_force or any(e.norm in merged for e in raw_by_post[post_id])
    ]  # fmt: skip
    if not layered:
        return result
    conn.executemany(
        "INSERT OR REPLACE INTO raw_predictions (post_id, entities) VALUES (?, ?)",
        [(post_id, _to_json(raw_by_post[post_id])) for post_id in layered],
    )
    texts = dict(conn.execute(f"SELECT id, text FROM posts WHERE id IN {IDS}", (json.dumps(layered),)))
    statuses: dict[int, str] = {}
    for post_id in layered:
        result[post_id], found = apply(raw_by_post[post_id], texts[post_id], in_force.get(post_id, []), merged)
        statuses.update(found)
    corrections.set_statuses(conn, statuses)
    return result


def raw_predictions(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, list[Entity]]:
    """The kept raw predictions of those of these posts that have them."""
    rows = conn.execute(f"SELECT post_id, entities FROM raw_predictions WHERE post_id IN {IDS}",
                        (json.dumps(post_ids),))  # fmt: skip
    return {post_id: _from_json(text) for post_id, text in rows}


def apply(
    raw: list[Entity], text: str, in_force: list[Correction], merged: Aliases
) -> tuple[list[Entity], dict[int, str]]:
    """Pure: the mentions after these corrections (oldest first) and merges; returns them and each correction's
    status. Mentions are matched by span, since each correction names the span as it was when made."""
    mentions = [copy.deepcopy(entity) for entity in raw]
    statuses = {c.id: _apply_one(mentions, text, c) for c in in_force}
    for entity in mentions:
        entity.norm, used = corrections.resolve(merged, entity.norm)
        entity.corrected_by = sorted({*entity.corrected_by, *used})
    mentions.sort(key=lambda e: (e.start, e.end))
    return mentions, statuses


def _apply_one(mentions: list[Entity], text: str, correction: Correction) -> str:
    target, payload = correction.target, correction.payload
    start, end = target["start"], target["end"]
    if text[start:end] != target["text"]:
        return "stale"
    entity = next((e for e in mentions if (e.start, e.end) == (start, end)), None)
    if entity is None:
        if correction.kind in ("delete", "reject_box") or any(e.start < end and start < e.end for e in mentions):
            return "unmatched"
        entity = Entity(start, end, target["text"], target["type"], normalize_entity(target["text"]))
        mentions.append(entity)
    entity.corrected_by = [*entity.corrected_by, correction.id]
    _APPLY[correction.kind](mentions, entity, text, correction)
    return "applied"


def _delete(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    mentions.remove(entity)


def _set_type(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    entity.type = correction.payload.get("type", correction.target["type"])


def _set_span(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    entity.start, entity.end = correction.payload["start"], correction.payload["end"]
    entity.text = text[entity.start : entity.end]
    entity.norm = normalize_entity(entity.text)


def _verdict(entity: Entity, in_image: bool, detail: str, box: Any = None) -> None:
    entity.groundable, entity.groundable_score = in_image, 1.0 if in_image else 0.0
    entity.verdict = "in_image" if in_image else "not_in_image"
    entity.evidence = [*entity.evidence, Evidence("correction", detail, 1.0, None if box is None else tuple(box))]


def _in_image(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    shown = bool(correction.payload["in_image"])
    _verdict(entity, shown, f"{correction.author} said it is {'' if shown else 'not '}in the image")
    if not shown:
        entity.regions = []


def _set_box(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    payload = correction.payload
    box = tuple(payload["box"])
    entity.regions = [Region(box, None, payload.get("mask_rle"), payload.get("area"), payload.get("media_id"))]  # type: ignore[arg-type]
    detail = (f"{correction.author} said this is {entity.text}" if correction.kind == "name"
              else f"{correction.author} drew its box")  # fmt: skip
    _verdict(entity, True, detail, box)


def _reject_box(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    box = correction.payload.get("box")
    entity.regions = [
        region for region in entity.regions
        if box is not None and max(abs(a - b) for a, b in zip(region.box, box)) > _CLOSE
    ]  # fmt: skip


_APPLY = {
    "type": _set_type, "add": _set_type, "span": _set_span, "delete": _delete, "in_image": _in_image,
    "box": _set_box, "name": _set_box, "reject_box": _reject_box,
}  # fmt: skip


def _to_json(mentions: list[Entity]) -> str:
    records = []
    for entity in mentions:
        record = asdict(entity)
        for name in ("id", "post_id", "origin"):
            record.pop(name)
        for region in record["regions"]:
            counts = (region["mask_rle"] or {}).get("counts")
            if isinstance(counts, bytes):  # pycocotools gives bytes
                region["mask_rle"] = {**region["mask_rle"], "counts": counts.decode("ascii")}
        records.append(record)
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


def _from_json(text: str) -> list[Entity]:
    mentions = []
    for record in json.loads(text):
        record["evidence"] = [Evidence(e["kind"], e["detail"], e["score"], None if e["box"] is None else tuple(e["box"]))
                              for e in record["evidence"]]  # fmt: skip
        record["regions"] = [Region(**{**r, "box": tuple(r["box"])}) for r in record["regions"]]
        mentions.append(Entity(**record))
    return mentions
