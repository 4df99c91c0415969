"""Masks for the boxes analysts draw or move, made in a process of their own.

The app process never loads a model (pyproject.toml's import contracts): the segmenter runs in one
spawned process, started on the first box, which keeps the model and the last photo's embedding
(core/pipeline/segmentation/box_mask.py), so the next box on the same photo costs only the decoder.
Callers wait on `mask` off the GUI thread.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from groundlens.core import masks
from groundlens.core.jobs import mask_worker
from groundlens.core.pipeline.config import StageConfig
from groundlens.records import BoxTuple


class SegmentationOffError(RuntimeError):
    """The settings switch segmentation off, so a box cannot get a mask."""


class BoxMasker:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def mask(self, image_file: Path, box: BoxTuple, stage: StageConfig | None) -> masks.Rle:
        """The COCO RLE mask, at the image's size, of what `box` (original pixels) holds."""
        if stage is None:
            raise SegmentationOffError("segmentation is off in the settings: the box is kept without a mask")
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            future = self._pool.submit(mask_worker.mask_for_box, str(image_file), box, stage)
        return future.result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
