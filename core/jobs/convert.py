"""Pipeline results -> the store's records and -> `analyze`'s JSON lines.

Both views carry the same facts; masks leave the pipeline as numpy arrays and are COCO RLE
everywhere outside it (core.masks).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from groundlens.core import masks
from groundlens.core.pipeline.types import GroundedEntity, PostResult
from groundlens.records import Entity, Region
from groundlens.storage.normalize import normalize_entity


def model_version(result: PostResult) -> str:
    """'ner=transformers@v;expression=template@1;...' for the stages that ran."""
    return ";".join(f"{stage}={version}" for stage, version in result.model_versions.items())


def to_entity(grounded: GroundedEntity, version: str, media_id: int | None = None) -> Entity:
    m = grounded.mention
    regions = []
    if grounded.box is not None:
        rle = masks.encode(grounded.mask) if grounded.mask is not None else None
        x0, y0, x1, y1 = grounded.box
        area = masks.area(rle) if rle is not None else round(max(0.0, x1 - x0) * max(0.0, y1 - y0))
        regions.append(Region(box=grounded.box, score=grounded.box_score, mask_rle=rle, area=area, media_id=media_id))
    return Entity(
        start=m.start,
        end=m.end,
        text=m.text,
        type=m.type,
        norm=normalize_entity(m.text),
        score=m.score,
        groundable=grounded.groundable,
        groundable_score=grounded.groundable_score,
        expression=grounded.expression,
        verdict=grounded.verdict,
        evidence=list(grounded.evidence),
        model_version=version,
        regions=regions,
    )


def _box(box: Any) -> list[float] | None:
    return [float(v) for v in box] if box is not None else None


def evidence_json(evidence: Any) -> dict[str, Any]:
    return {"kind": evidence.kind, "detail": evidence.detail, "score": evidence.score, "box": _box(evidence.box)}


def record_json(record: Any) -> dict[str, Any]:
    """An ImageText or ImageObject as JSON: its fields, the box as a list, no store id."""
    out = asdict(record)
    out.pop("media_id", None)
    out["box"] = _box(record.box)
    if "candidates" in out:
        out["candidates"] = list(record.candidates)
    return out


def to_json(grounded: GroundedEntity) -> dict[str, Any]:
    m = grounded.mention
    return {
        "text": m.text,
        "start": m.start,
        "end": m.end,
        "type": m.type,
        "score": m.score,
        "expression": grounded.expression,
        "groundable": grounded.groundable,
        "groundable_score": grounded.groundable_score,
        "verdict": grounded.verdict,
        "evidence": [evidence_json(e) for e in grounded.evidence],
        "box": _box(grounded.box),
        "box_score": grounded.box_score,
        "mask": masks.encode(grounded.mask) if grounded.mask is not None else None,
    }


def result_to_json(result: PostResult) -> dict[str, Any]:
    return {
        "id": result.post_id,
        "error": result.error,
        "entities": [to_json(e) for e in result.entities],
        "image_text": [record_json(t) for t in result.image_text],
        "image_objects": [record_json(o) for o in result.image_objects],
    }
