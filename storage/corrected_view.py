"""The corrected view of a post's predictions: the pipeline's mentions with the corrections in force applied.

`entities` (origin 'pred') holds this view, so search, entity pages, trends and exports read the
analyst's word without knowing corrections exist. The pipeline's own output of a post that a mention
correction has touched is kept in `raw_predictions`; a post without such a row holds its raw
predictions in `entities`. Merges only rename, so they are not applied here but to every stored
mention at once (storage.entities.realias), each row keeping the name it had before (`pred_norm`). `effective` is the one step
every write of predictions goes through (storage.entities.replace), so a re-run, a re-import or
a new configuration recomputes the view instead of overwriting the corrections.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

import orjson

from groundlens.records import Entity, Evidence, ImageFindings, Region
from groundlens.storage import corrections
from groundlens.storage.corrections import Correction
from groundlens.storage.db import IDS
from groundlens.storage.normalize import normalize_entity

_CLOSE = 0.5  # pixels: a rejected box matches a stored one this close (float round trips)


def effective(conn: sqlite3.Connection, raw_by_post: Mapping[int, list[Entity]]) -> dict[int, list[Entity]]:
    """The corrected view of these (existing) posts' raw predictions; keeps the raw ones of the posts that
    need them and records each applied correction's status."""
    post_ids = list(raw_by_post)
    result = dict(raw_by_post)
    if not post_ids:
        return result
    key = json.dumps(post_ids)
    in_force = corrections.in_force_for_posts(conn, post_ids)
    kept = {row[0] for row in conn.execute(f"SELECT post_id FROM raw_predictions WHERE post_id IN {IDS}", (key,))}
    layered = [post_id for post_id in post_ids if post_id in kept or post_id in in_force]
    if not layered:
        return result
    conn.executemany(
        "INSERT OR REPLACE INTO raw_predictions (post_id, entities) VALUES (?, ?)",
        [(post_id, _to_json(raw_by_post[post_id])) for post_id in layered],
    )
    texts = dict(conn.execute(f"SELECT id, text FROM posts WHERE id IN {IDS}", (json.dumps(layered),)))
    statuses: dict[int, str] = {}
    for post_id in layered:
        result[post_id], found = apply(raw_by_post[post_id], texts[post_id], in_force.get(post_id, []))
        statuses.update(found)
    corrections.set_statuses(conn, statuses)
    return result


def raw_predictions(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, list[Entity]]:
    """The kept raw predictions of those of these posts that have them."""
    rows = conn.execute(
        f"SELECT post_id, entities FROM raw_predictions WHERE post_id IN {IDS}", (json.dumps(post_ids),)
    )
    return {post_id: _from_json(text) for post_id, text in rows}


def without_named(conn: sqlite3.Connection, found: dict[int, ImageFindings]) -> dict[int, ImageFindings]:
    """These posts' image findings less the people an analyst named ("this is ..."): each is now the box
    of a mention, no longer someone not identified."""
    named: dict[int, list[Any]] = {}
    for correction in corrections.select(conn, list(found), kinds=["name"], include_reverted=False):
        if correction.status == "applied":
            named.setdefault(correction.post_id, []).append(correction.payload["box"])  # type: ignore[arg-type]
    for post_id, boxes in named.items():
        seen = found[post_id]
        seen.objects = [thing for thing in seen.objects if not any(_close(thing.box, box) for box in boxes)]
    return found


def _close(a: Any, b: Any) -> bool:
    return bool(max(abs(x - y) for x, y in zip(a, b)) <= _CLOSE)


def apply(raw: list[Entity], text: str, in_force: list[Correction]) -> tuple[list[Entity], dict[int, str]]:
    """Pure: the mentions after these corrections (oldest first); returns them and each correction's status.
    Mentions are matched by span, since each correction names the span as it was when made."""
    mentions = [_copy(entity) for entity in raw]
    statuses = {c.id: _apply_one(mentions, text, c) for c in in_force}
    mentions.sort(key=lambda e: (e.start, e.end))
    return mentions, statuses


def _apply_one(mentions: list[Entity], text: str, correction: Correction) -> str:
    target = correction.target
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
    entity.regions = [Region(box, None, payload.get("mask_rle"), payload.get("area"), payload.get("media_id"))]
    detail = (
        f"{correction.author} said this is {entity.text}"
        if correction.kind == "name"
        else f"{correction.author} drew its box"
    )
    _verdict(entity, True, detail, box)


def _reject_box(mentions: list[Entity], entity: Entity, text: str, correction: Correction) -> None:
    box = correction.payload.get("box")
    entity.regions = [region for region in entity.regions if box is not None and not _close(region.box, box)]


_APPLY = {
    "type": _set_type,
    "add": _set_type,
    "span": _set_span,
    "delete": _delete,
    "in_image": _in_image,
    "box": _set_box,
    "name": _set_box,
    "reject_box": _reject_box,
}


def _copy(entity: Entity) -> Entity:
    """A copy the corrections may change without touching the caller's record (a retried transaction starts
    again from the same raw predictions). Shallow: the rules below assign new lists, never change one in place."""
    return copy.copy(entity)


def _bytes_as_text(value: Any) -> str:
    if isinstance(value, bytes):  # pycocotools gives a mask's counts as bytes
        return value.decode("ascii")
    raise TypeError(f"{type(value).__name__} cannot be kept in raw_predictions")


def _to_json(mentions: list[Entity]) -> str:
    """orjson writes the records whole (5x asdict + json on the merge of a popular entity)."""
    return orjson.dumps(mentions, default=_bytes_as_text).decode()


def _from_json(text: str) -> list[Entity]:
    mentions = []
    for record in orjson.loads(text):
        record.update(id=None, post_id=None, origin="pred")
        record["evidence"] = [
            Evidence(e["kind"], e["detail"], e["score"], None if e["box"] is None else tuple(e["box"]))
            for e in record["evidence"]
        ]
        record["regions"] = [Region(**{**r, "box": tuple(r["box"])}) for r in record["regions"]]
        mentions.append(Entity(**record))
    return mentions
