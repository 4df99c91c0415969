"""Masks as COCO run-length encoding: numpy bool arrays in the pipeline, RLE dicts everywhere else.

The store, result files and the GUI keep `{"size": [h, w], "counts": str}`: pycocotools'
compressed RLE with `counts` as an ASCII string so it is JSON-safe (pycocotools itself uses bytes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

Rle = dict[str, Any]


class MaskFormatError(ValueError):
    """Something that is not a mask or not a COCO RLE."""


def encode(mask: np.ndarray) -> Rle:
    """Bool (or 0/1) HxW array -> compressed COCO RLE with str counts."""
    array = np.asarray(mask)
    if array.ndim != 2:
        raise MaskFormatError(f"a mask must be 2-D (HxW), got shape {array.shape}")
    rle = mask_utils.encode(np.asfortranarray(array.astype(bool).astype(np.uint8)))
    height, width = array.shape
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def _coco(rle: Rle) -> Rle:
    """The form pycocotools takes: compressed with bytes counts (uncompressed list counts accepted too)."""
    try:
        height, width = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise MaskFormatError(f"not a COCO RLE (needs 'size' [h, w] and 'counts'): {str(rle)[:80]}") from None
    if isinstance(counts, list):
        if sum(counts) != height * width:
            raise MaskFormatError(f"RLE counts sum to {sum(counts)}, not {height}x{width}")
        compressed: dict[str, Any] = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
        return compressed
    if isinstance(counts, str):
        counts = counts.encode("ascii")
    if not isinstance(counts, bytes):
        raise MaskFormatError(f"RLE counts must be a string or a list, got {type(counts).__name__}")
    return {"size": [height, width], "counts": counts}


def decode(rle: Rle) -> np.ndarray:
    """COCO RLE -> bool HxW array."""
    return np.asarray(mask_utils.decode(_coco(rle)), dtype=bool)


def area(rle: Rle) -> int:
    """Number of mask pixels, without decoding."""
    return int(mask_utils.area(_coco(rle)))


def bbox(rle: Rle) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the mask pixels, end exclusive, like the store's boxes; None for an empty mask."""
    coco = _coco(rle)
    if mask_utils.area(coco) == 0:
        return None
    x, y, w, h = (float(v) for v in mask_utils.toBbox(coco))
    return (x, y, x + w, y + h)
