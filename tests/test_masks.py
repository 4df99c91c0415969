"""COCO RLE helpers: round trips, JSON safety, area/bbox, and clear errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundlens.core import masks


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (64, 33), (480, 640)])
def test_round_trip_random_masks(shape):
    rng = np.random.default_rng(sum(shape))
    mask = rng.random(shape) > 0.6
    rle = masks.encode(mask)
    assert rle["size"] == list(shape)
    assert isinstance(rle["counts"], str)
    restored = masks.decode(json.loads(json.dumps(rle)))  # JSON-safe, as the store keeps it
    assert restored.dtype == bool
    np.testing.assert_array_equal(restored, mask)


def test_empty_and_full_masks():
    empty, full = np.zeros((4, 6), bool), np.ones((4, 6), bool)
    assert masks.area(masks.encode(empty)) == 0
    assert masks.bbox(masks.encode(empty)) is None
    assert masks.area(masks.encode(full)) == 24
    assert masks.bbox(masks.encode(full)) == (0.0, 0.0, 6.0, 4.0)
    np.testing.assert_array_equal(masks.decode(masks.encode(empty)), empty)


def test_area_and_bbox_match_the_pixels():
    mask = np.zeros((20, 30), bool)
    mask[3:9, 10:25] = True  # rows 3..8, columns 10..24
    rle = masks.encode(mask)
    assert masks.area(rle) == 6 * 15
    assert masks.bbox(rle) == (10.0, 3.0, 25.0, 9.0)  # x0, y0, x1, y1 end exclusive, like boxes


def test_accepts_uint8_masks_and_uncompressed_counts():
    mask = np.array([[0, 1, 1], [0, 0, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(masks.decode(masks.encode(mask)), mask.astype(bool))
    # column-major runs: 0s, 1s, ... for a 2x3 mask [[0,1,1],[0,0,1]] -> 0,0,1,0,1,1
    uncompressed = {"size": [2, 3], "counts": [2, 1, 1, 2]}
    np.testing.assert_array_equal(masks.decode(uncompressed), mask.astype(bool))
    assert masks.area(uncompressed) == 3


@pytest.mark.parametrize(
    "bad",
    [{"counts": "abc"}, {"size": [2, 2]}, {"size": [2, 2], "counts": 5}, {"size": [2, 2], "counts": [1, 1]}, "x"],
)
def test_bad_rle_raises_a_clear_error(bad):
    with pytest.raises(masks.MaskFormatError):
        masks.decode(bad)


def test_encode_rejects_non_2d():
    with pytest.raises(masks.MaskFormatError, match="2-D"):
        masks.encode(np.zeros((2, 2, 3), bool))
