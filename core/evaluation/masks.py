"""Gold segmentation masks for SMNER scoring, and mask IoU.

Twitter-GMNER ships boxes only, so SMNER needs a mask folder made for the purpose (by hand, or
SAM prompted with the gold boxes as the SMNER papers do). Format, one file per post:

    <masks_dir>/<IMGID>.json
    {"size": [height, width],
     "objects": [{"name": "<entity surface string, as the VOC <name>>",
                  "segmentation": {"size": [height, width], "counts": "<COCO RLE>"}}, ...]}

`counts` is a compressed RLE string (pycocotools `encode`, decoded to str) or an uncompressed
list of run lengths. Several objects may share a name (one entity, several masks); an entity
with no object is ungroundable, exactly as with the VOC boxes. Names are matched like boxes:
exact first, then case-insensitively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycocotools import mask as mask_utils

from groundlens.core.datasets.gmner import boxes_for
from groundlens.core.ingest.jsonl import parse_json

Rle = dict[str, Any]


class MaskFormatError(ValueError):
    """A gold mask file that does not follow the format above."""


@dataclass
class GoldMasks:
    """Masks by post id, then by entity surface string; posts without a file are not in `by_post`."""

    by_post: dict[str, dict[str, list[Rle]]] = field(default_factory=dict)
    malformed: list[str] = field(default_factory=list)

    def for_entity(self, post_id: str, name: str) -> tuple[Rle, ...]:
        return boxes_for(name, self.by_post.get(post_id, {}))


def compressed(rle: Rle) -> Rle:
    """The RLE in the compressed form pycocotools compares (uncompressed run lists are converted)."""
    height, width = rle["size"]
    if isinstance(rle["counts"], list):
        return mask_utils.frPyObjects(rle, height, width)
    return rle


def read_mask_file(path: Path) -> dict[str, list[Rle]]:
    try:
        raw = parse_json(path.read_text(encoding="utf-8"))  # hostile nesting or numbers: a ValueError
        masks: dict[str, list[Rle]] = {}
        for obj in raw["objects"]:
            segmentation = obj["segmentation"]
            if not isinstance(obj["name"], str) or len(segmentation["size"]) != 2:
                raise TypeError("name must be a string and size [height, width]")
            masks.setdefault(obj["name"].strip(), []).append(compressed(segmentation))
        return masks
    except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise MaskFormatError(f"{path.name}: not a gold mask file ({type(error).__name__}: {error})") from None


def read_gold_masks(folder: Path, post_ids: Sequence[str]) -> GoldMasks:
    """The mask files of these posts that exist; malformed ones are listed and left out."""
    gold = GoldMasks()
    for post_id in post_ids:
        path = folder / f"{post_id}.json"
        if not path.exists():
            continue
        try:
            gold.by_post[post_id] = read_mask_file(path)
        except MaskFormatError as error:
            gold.malformed.append(str(error))
    return gold


def best_mask_iou(predicted: Rle, gold: Sequence[Rle]) -> float:
    """IoU of the predicted mask with its best-overlapping gold mask; 0 when sizes differ."""
    predicted = compressed(predicted)
    candidates = [g for g in gold if list(g["size"]) == list(predicted["size"])]
    if not candidates:
        return 0.0
    return float(mask_utils.iou([predicted], candidates, [0] * len(candidates)).max())
