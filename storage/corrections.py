"""The analyst's corrections: a layer of their own, apart from predictions and gold.

A correction names what it corrects by meaning, not by row id: a mention by its post, span, text
and type, an entity by its normalised name. A pipeline re-run replaces every predicted row, so
only such a target survives it. The corrected view of a post is recomputed from the pipeline's
own output and the corrections in force, in the order they were made (storage/corrected_view.py),
so reverting a correction and restoring it are exact and cheap: flip `reverted_at`, recompute.

Kinds, each built by a function below into a `Draft` that `Store.add_correction` stores:

- type, span, delete, add, in_image (in image / not in image), box (set or move), reject_box,
  name ("this is ..."): about one mention of one post;
- merge (an alias into another entity, in every post) and split (undo a merge): about an entity.

A mention correction whose mention the pipeline no longer predicts still says what the analyst
saw, so it recreates the mention when its span overlaps no other (status 'applied'); it is
'unmatched' when another mention now covers those words and 'stale' when the post's text no
longer reads the same there (a re-import changed it). Nothing is ever deleted: see `Correction`.
"""

from __future__ import annotations

import getpass
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from groundlens.records import ENTITY_TYPES, BoxTuple, Entity
from groundlens.storage.db import IDS, from_epoch, to_epoch
from groundlens.storage.normalize import normalize_entity

MENTION_KINDS = ("type", "span", "delete", "add", "in_image", "box", "reject_box", "name")
ENTITY_KINDS = ("merge", "split")
KINDS = MENTION_KINDS + ENTITY_KINDS
Status = Literal["applied", "stale", "unmatched", "superseded", "reverted"]


@dataclass(frozen=True)
class Draft:
    """A correction not stored yet: what it is about (`target`) and what the analyst said (`payload`).

    post_id is None for entity-level kinds (merge, split), which hold in every post."""

    kind: str
    post_id: int | None
    target: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Correction:
    """A stored correction. status: 'applied' (in force and shaping the view), 'stale' (in force, but the
    post's text no longer reads the same at its span), 'unmatched' (in force, but another mention now
    covers its words), 'superseded' (a merge or split of an alias that a later one of the same alias
    overrides) or 'reverted' (kept for the record and for redo)."""

    id: int
    kind: str
    post_id: int | None
    target: dict[str, Any]
    payload: dict[str, Any]
    author: str
    created_at: datetime
    reverted_at: datetime | None
    status: Status

    @property
    def reverted(self) -> bool:
        return self.reverted_at is not None

    def record(self) -> dict[str, Any]:
        """Plain JSON-ready fields (times in ISO 8601), as the CLI exports and lists them."""
        fields = asdict(self)
        for name in ("created_at", "reverted_at"):
            fields[name] = None if fields[name] is None else fields[name].isoformat()
        return fields

    def describe(self) -> str:
        """One line for lists and the CLI: what was changed into what."""
        what = self.target.get("text") or self.target.get("norm")
        said = ", ".join(
            f"{key}={value}" for key, value in self.payload.items() if key != "mask_rle" and value is not None
        )
        return f"{self.kind} {what!r}" + (f": {said}" if said else "")


# --- building drafts (the inspector's actions) ---------------------------------------------------


def _mention(entity: Entity) -> dict[str, Any]:
    if entity.post_id is None:
        raise ValueError(f"entity {entity.text!r} is not a stored mention (post_id is None)")
    if entity.origin != "pred":
        raise ValueError(f"entity {entity.text!r} is gold: corrections are about predictions")
    return {"start": entity.start, "end": entity.end, "text": entity.text, "type": entity.type}


def change_type(entity: Entity, new_type: str) -> Draft:
    """This mention is of another type (PER, LOC, ORG, OTHER)."""
    return Draft("type", entity.post_id, _mention(entity), {"type": new_type})


def fix_span(entity: Entity, start: int, end: int) -> Draft:
    """This mention covers other characters of the post's text (the text is taken from the post)."""
    return Draft("span", entity.post_id, _mention(entity), {"start": start, "end": end})


def delete_entity(entity: Entity) -> Draft:
    """This mention is not a named entity at all."""
    return Draft("delete", entity.post_id, _mention(entity))


def add_entity(post_id: int, start: int, end: int, text: str, entity_type: str) -> Draft:
    """A named entity the pipeline missed: `text` is post.text[start:end], checked when stored."""
    return Draft("add", post_id, {"start": start, "end": end, "text": text, "type": entity_type})


def mark_in_image(entity: Entity, in_image: bool) -> Draft:
    """The analyst's verdict: the entity is shown in the post's image, or not (which drops its boxes)."""
    return Draft("in_image", entity.post_id, _mention(entity), {"in_image": bool(in_image)})


def set_box(entity: Entity, box: BoxTuple, media_id: int | None = None) -> Draft:
    """Draw or move the mention's box (original image pixels); its mask comes later (`Store.set_correction_mask`)."""
    return Draft("box", entity.post_id, _mention(entity), {"box": [float(v) for v in box], "media_id": media_id})


def reject_box(entity: Entity, box: BoxTuple | None = None) -> Draft:
    """This box (or, without one, every box) of the mention is wrong; the verdict stays as it was."""
    return Draft(
        "reject_box", entity.post_id, _mention(entity), {"box": None if box is None else [float(v) for v in box]}
    )


def name_person(entity: Entity, box: BoxTuple, media_id: int | None = None) -> Draft:
    """ "This is <entity>": a person detected in the image but not identified becomes this mention's box."""
    return Draft("name", entity.post_id, _mention(entity), {"box": [float(v) for v in box], "media_id": media_id})


def merge(alias_norm: str, into_norm: str) -> Draft:
    """Every mention of `alias_norm` ("trump") counts as `into_norm` ("donald trump"), in every post."""
    return Draft("merge", None, {"norm": normalize_entity(alias_norm)}, {"into": normalize_entity(into_norm)})


def split(alias_norm: str) -> Draft:
    """Undo a wrong merge: mentions of `alias_norm` count as their own entity again."""
    return Draft("split", None, {"norm": normalize_entity(alias_norm)})


# --- checking and storing ----------------------------------------------------------------------


def author_name() -> str:
    """The OS user, who made the correction (a process without a user name says so)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _check_box(box: Any) -> None:
    if not (isinstance(box, list) and len(box) == 4 and all(math.isfinite(v) for v in box)):
        raise ValueError(f"a box is four finite numbers x0, y0, x1, y1, not {box!r}")
    if not (box[0] < box[2] and box[1] < box[3]):
        raise ValueError(f"box {box!r} is empty: x0 < x1 and y0 < y1 are needed")


def _check_span(text: str, start: Any, end: Any) -> None:
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ValueError(f"span {start!r}..{end!r} is not inside the post's text (0..{len(text)})")
    if not normalize_entity(text[start:end]):
        raise ValueError(f"span {start}..{end} ({text[start:end]!r}) holds no name")


def check(conn: sqlite3.Connection, draft: Draft) -> None:
    """Raise ValueError (KeyError for a missing post) naming what makes this draft unusable."""
    if draft.kind not in KINDS:
        raise ValueError(f"unknown correction kind {draft.kind!r} (one of {', '.join(KINDS)})")
    if draft.kind in ENTITY_KINDS:
        _check_entity_level(conn, draft)
        return
    row = conn.execute("SELECT text FROM posts WHERE id = ?", (draft.post_id,)).fetchone()
    if row is None:
        raise KeyError(f"no post with id {draft.post_id}")
    text, target, payload = row[0], draft.target, draft.payload
    _check_span(text, target.get("start"), target.get("end"))
    if text[target["start"] : target["end"]] != target.get("text"):
        raise ValueError(
            f"post {draft.post_id} reads {text[target['start'] : target['end']]!r} at {target['start']}..{target['end']},"
            f" not {target.get('text')!r}"
        )
    for kind in (target.get("type"), *([payload["type"]] if "type" in payload else [])):
        if kind not in ENTITY_TYPES:
            raise ValueError(f"type {kind!r} is not one of {', '.join(ENTITY_TYPES)}")
    if draft.kind == "span":
        _check_span(text, payload.get("start"), payload.get("end"))
    if draft.kind in ("box", "name") or (draft.kind == "reject_box" and payload.get("box") is not None):
        _check_box(payload.get("box"))


def _check_entity_level(conn: sqlite3.Connection, draft: Draft) -> None:
    alias = draft.target.get("norm")
    if not alias:
        raise ValueError("a merge or split needs the entity's name")
    merged = aliases(conn)
    if draft.kind == "split":
        if alias not in merged:
            raise ValueError(f"{alias!r} is not merged into another entity")
        return
    into = draft.payload.get("into")
    if not into or resolve(merged, into)[0] == alias:
        raise ValueError(f"{alias!r} cannot be merged into {into!r}: that would merge it into itself")


def insert(conn: sqlite3.Connection, draft: Draft, author: str | None = None) -> int:
    """Store a checked draft; returns its id."""
    check(conn, draft)
    return conn.execute(
        "INSERT INTO corrections (post_id, kind, target, payload, author, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (draft.post_id, draft.kind, _json(draft.target), _json(draft.payload), author or author_name(), time.time()),
    ).lastrowid  # type: ignore[return-value]


def set_reverted(conn: sqlite3.Connection, correction_id: int, reverted: bool) -> Correction:
    """Revert (True) or restore (False) a correction; doing what is already done changes nothing."""
    found = get(conn, correction_id)
    if found.reverted != reverted:
        if not reverted and found.kind in ENTITY_KINDS:
            _check_entity_level(conn, Draft(found.kind, None, found.target, found.payload))
        conn.execute(
            "UPDATE corrections SET reverted_at = ? WHERE id = ?", (time.time() if reverted else None, correction_id)
        )
        if found.kind in ENTITY_KINDS:
            _refuse_cycles(aliases(conn), found)
    return get(conn, correction_id)


def _refuse_cycles(merged: Aliases, flipped: Correction) -> None:  # flipped: as it was before
    """Taking back a split brings its merge back, which may now close a loop ("a" into "b" into "a"): refused,
    and the caller's transaction with it."""
    for alias in merged:
        norm, seen = alias, {alias}
        while norm in merged:
            norm = merged[norm][0]
            if norm in seen:
                raise ValueError(
                    f"{'restoring' if flipped.reverted else 'reverting'} correction {flipped.id}"
                    f" would merge {alias!r} into itself"
                )
            seen.add(norm)


def set_mask(conn: sqlite3.Connection, correction_id: int, mask_rle: Mapping[str, Any], area: int | None) -> Correction:
    """The segmenter's mask for a drawn box arrived: kept in the correction (the view is recomputed by the caller)."""
    found = get(conn, correction_id)
    if found.kind not in ("box", "name"):
        raise ValueError(f"correction {correction_id} ({found.kind}) has no box to mask")
    counts = mask_rle["counts"]
    mask = {"size": list(mask_rle["size"]), "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}
    payload = {**found.payload, "mask_rle": mask, "area": area}
    conn.execute("UPDATE corrections SET payload = ? WHERE id = ?", (_json(payload), correction_id))
    return get(conn, correction_id)


def set_statuses(conn: sqlite3.Connection, statuses: Mapping[int, str]) -> None:
    conn.executemany(
        "UPDATE corrections SET status = ? WHERE id = ? AND status != ?",
        [(status, cid, status) for cid, status in statuses.items()],
    )


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- reading -------------------------------------------------------------------------------------

_COLUMNS = "id, kind, post_id, target, payload, author, created_at, reverted_at, status"


def _record(row: tuple[Any, ...]) -> Correction:
    cid, kind, post_id, target, payload, author, created, reverted, status = row
    return Correction(
        cid,
        kind,
        post_id,
        json.loads(target),
        json.loads(payload),
        author,
        from_epoch(created),  # type: ignore[arg-type]
        None if reverted is None else from_epoch(reverted),
        "reverted" if reverted is not None else status,
    )


def _records(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Correction]:
    """Records of these rows; a merge or split that a later one of the same alias overrides is 'superseded'."""
    found = [_record(row) for row in rows]
    if any(c.kind in ENTITY_KINDS and not c.reverted for c in found):
        latest: dict[str, int] = {}
        for cid, target in conn.execute(
            "SELECT id, target FROM corrections WHERE post_id IS NULL AND reverted_at IS NULL ORDER BY id"
        ):
            latest[json.loads(target)["norm"]] = cid
        found = [
            replace(c, status="superseded")
            if c.kind in ENTITY_KINDS and not c.reverted and latest.get(c.target["norm"]) != c.id
            else c
            for c in found
        ]
    return found


def get(conn: sqlite3.Connection, correction_id: int) -> Correction:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM corrections WHERE id = ?", (correction_id,)).fetchall()
    if not rows:
        raise KeyError(f"no correction with id {correction_id}")
    return _records(conn, rows)[0]


def select(
    conn: sqlite3.Connection,
    post_ids: list[int] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    author: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_reverted: bool = True,
    limit: int | None = None,
) -> list[Correction]:
    """Corrections matching every filter given, newest first (`until` exclusive)."""
    conditions: list[str] = ["1"]
    params: list[Any] = []
    if post_ids is not None:
        conditions.append(f"post_id IN {IDS}")
        params.append(json.dumps(list(post_ids)))
    if kinds is not None:
        kinds = list(kinds)
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown correction kind {min(unknown)!r} (one of {', '.join(KINDS)})")
        conditions.append(f"kind IN {IDS}")
        params.append(json.dumps(list(kinds)))
    if author is not None:
        conditions.append("author = ?")
        params.append(author)
    if since is not None:
        conditions.append("created_at >= ?")
        params.append(to_epoch(since))
    if until is not None:
        conditions.append("created_at < ?")
        params.append(to_epoch(until))
    if not include_reverted:
        conditions.append("reverted_at IS NULL")
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM corrections WHERE {' AND '.join(conditions)} ORDER BY id DESC LIMIT ?",
        (*params, -1 if limit is None else limit),
    ).fetchall()
    return _records(conn, rows)


def in_force_for_posts(conn: sqlite3.Connection, post_ids: list[int]) -> dict[int, list[Correction]]:
    """The mention corrections in force on these posts, oldest first (the order they are applied in)."""
    found: dict[int, list[Correction]] = {}
    for row in conn.execute(
        f"SELECT {_COLUMNS} FROM corrections WHERE post_id IN {IDS} AND reverted_at IS NULL ORDER BY id",
        (json.dumps(post_ids),),
    ):
        correction = _record(row)
        found.setdefault(correction.post_id, []).append(correction)  # type: ignore[arg-type]
    return found


Aliases = dict[str, tuple[str, int]]  # alias norm -> (the norm it is merged into, the merge's correction id)


def aliases(conn: sqlite3.Connection) -> Aliases:
    """The merges in force, replayed in order (a split ends its alias's merge; a later merge moves it)."""
    merged: Aliases = {}
    for cid, kind, target, payload in conn.execute(
        "SELECT id, kind, target, payload FROM corrections WHERE post_id IS NULL AND reverted_at IS NULL ORDER BY id"
    ):
        alias = json.loads(target)["norm"]
        if kind == "merge":
            merged[alias] = (json.loads(payload)["into"], cid)
        else:
            merged.pop(alias, None)
    return merged


def resolve(merged: Aliases, norm: str) -> tuple[str, list[int]]:
    """The entity `norm` counts as after the merges, with the merges that led there (a cycle stops)."""
    used: list[int] = []
    while norm in merged and merged[norm][1] not in used:
        norm, cid = merged[norm]
        used.append(cid)
    return norm, used


def merged_into(merged: Aliases, norm: str) -> list[str]:
    """The aliases whose mentions count as `norm` (directly or through other merges), sorted."""
    return sorted(alias for alias in merged if alias != norm and resolve(merged, alias)[0] == norm)


def alias_scope(conn: sqlite3.Connection, alias: str) -> list[str]:
    """The names under which the mentions a merge or split of `alias` renames are counted now: the alias
    itself and what it resolves to (every mention whose merges pass through the alias is counted as that)."""
    return sorted({alias, resolve(aliases(conn), alias)[0]})
