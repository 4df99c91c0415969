"""The function the box-mask process runs (core/jobs/box_masks.py): the segmenter is imported there only."""

from __future__ import annotations

from pathlib import Path

from groundlens.core import masks
from groundlens.core.pipeline.config import StageConfig
from groundlens.records import BoxTuple


def mask_for_box(image_file: str, box: BoxTuple, stage: StageConfig) -> masks.Rle:
    from groundlens.core.pipeline.segmentation.box_mask import mask_for_box as make

    return make(Path(image_file), box, stage)
