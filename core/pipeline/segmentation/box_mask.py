"""A mask for one box an analyst drew or moved, made by the segmenter the settings choose.

The pipeline segments in its worker process; a correction happens in the app, one box at a time,
so the app keeps one built segmenter per configuration (building MobileSAM takes seconds) and
serialises calls to it (a model is not safe to run from two threads at once). Callers run this
off the GUI thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from core import masks
from core.pipeline.config import StageConfig
from core.pipeline.pipeline import load_image
from core.pipeline.registry import create
from storage.records import BoxTuple

_lock = threading.Lock()
_built: dict[str, Any] = {}  # canonical stage config -> segmenter


class SegmentationOffError(RuntimeError):
    """The settings switch segmentation off, so a box cannot get a mask."""


def _segmenter(stage: StageConfig) -> Any:
    key = repr(sorted(stage.to_dict().items(), key=str))
    if key not in _built:
        _built[key] = create("segmentation", stage.backend, **stage.options)
    return _built[key]


def mask_for_box(image_file: Path, box: BoxTuple, stage: StageConfig | None) -> masks.Rle:
    """The COCO RLE mask, at the image's size, of what `box` (original pixels) holds."""
    if stage is None:
        raise SegmentationOffError("segmentation is off in the settings: the box is kept without a mask")
    image = load_image(image_file)  # as displayed (EXIF orientation), like the boxes the analyst drew
    with _lock:
        (mask,) = _segmenter(stage).segment(image, [box])
    return masks.encode(mask)
