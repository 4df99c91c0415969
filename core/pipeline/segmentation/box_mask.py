"""A mask for one box an analyst drew or moved, made by the segmenter the settings choose.

The pipeline segments in its worker process; a correction happens in the app, one box at a time, so
the box-mask process (core/jobs/box_masks.py) keeps one built segmenter per configuration (building MobileSAM takes seconds) and
serialises calls to it (a model is not safe to run from two threads at once). A SAM-family model
also keeps the last image's embedding: the encoder is nearly all the cost, so the next box drawn or
moved on the same photo only runs the decoder. Callers run this off the GUI thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from groundlens.core import masks
from groundlens.core.pipeline.config import StageConfig
from groundlens.core.pipeline.pipeline import load_image
from groundlens.core.pipeline.registry import create
from groundlens.records import BoxTuple

_lock = threading.Lock()
_built: dict[str, Any] = {}  # canonical stage config -> segmenter
_last_embedding: dict[str, Any] = {}  # at most one: (stage, file, size, mtime) -> (embedding, width, height)


def _key(stage: StageConfig) -> str:
    return repr(sorted(stage.to_dict().items(), key=str))


def segmenter_for(stage: StageConfig) -> Any:
    """The segmenter this process keeps for a stage configuration, built on first use."""
    key = _key(stage)
    if key not in _built:
        _built[key] = create("segmentation", stage.backend, **stage.options)
    return _built[key]


def mask_for_box(image_file: Path, box: BoxTuple, stage: StageConfig) -> masks.Rle:
    """The COCO RLE mask, at the image's size, of what `box` (original pixels) holds."""
    with _lock:
        segmenter = segmenter_for(stage)
        if not hasattr(segmenter, "embed"):  # another family: its own one-call interface
            (mask,) = segmenter.segment(load_image(image_file), [box])
            return masks.encode(mask)
        from groundlens.core.pipeline.segmentation.predictor import valid_boxes

        info = Path(image_file).stat()
        image_key = f"{_key(stage)}|{image_file}|{info.st_size}|{info.st_mtime_ns}"
        if image_key not in _last_embedding:
            image = load_image(image_file)  # as displayed (EXIF orientation), like the boxes the analyst drew
            _last_embedding.clear()
            _last_embedding[image_key] = (segmenter.embed(image), image.width, image.height)
        embedding, width, height = _last_embedding[image_key]
        (mask,) = segmenter.decode(embedding, valid_boxes([box], width, height))
    return masks.encode(mask)
