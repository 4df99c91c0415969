"""Confirming or rejecting one entity's mentions in many posts at once (the bulk bar's Confirm / Reject).

Each mention gets a correction of its own (storage/corrections.py), so each is listed, and reverted, alone.
Reject says the mention is no named entity (a `delete` correction). Confirm pins it as the model predicted
it (a `type` correction to its own type): a later run that drops or retypes it no longer changes what the
analyst saw. A mention an analyst already corrected is not confirmed again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from groundlens.storage import corrections
from groundlens.storage import entities as entity_rows
from groundlens.storage.corrections import Draft
from groundlens.storage.normalize import normalize_entity


def drafts(conn: sqlite3.Connection, post_ids: Sequence[int], name: str, confirm: bool) -> list[Draft]:
    """One draft per predicted mention of entity `name` (after merges) in these posts."""
    norm = normalize_entity(name)
    if not norm:
        raise ValueError(f"{name!r} names no entity")
    merged = corrections.aliases(conn)
    target = corrections.resolve(merged, norm)[0]
    mentions = [
        entity
        for found in entity_rows.read(conn, list(post_ids), "pred").values()
        for entity in found
        if corrections.resolve(merged, entity.norm)[0] == target
    ]
    if confirm:
        return [corrections.change_type(entity, entity.type) for entity in mentions if not entity.corrected]
    return [corrections.delete_entity(entity) for entity in mentions]
