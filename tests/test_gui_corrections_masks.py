"""The mask of a box an analyst draws: the settings' segmenter (here the real MobileSAM, found through the
model store by the mobile_sam_weights fixture, which fails when it is not installed) gives what the
pipeline's one-call segment() gives, and a second box on the same photo reuses the image's embedding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from groundlens.core import masks
from groundlens.core.config import RESOURCES_DIR
from groundlens.core.jobs.box_masks import BoxMasker, SegmentationOffError
from groundlens.core.pipeline.config import StageConfig
from groundlens.core.pipeline.segmentation.box_mask import mask_for_box, segmenter_for

ASTRONAUT = RESOURCES_DIR / "demo" / "images" / "astronaut.jpg"
SHUTTLE = (355, 0, 470, 275)
PERSON = (20, 15, 365, 512)

pytestmark = pytest.mark.slow


def test_a_drawn_box_gets_the_pipelines_mask_and_the_next_box_skips_the_encoder(mobile_sam_weights):
    stage = StageConfig("mobile_sam", {"checkpoint": str(mobile_sam_weights)})
    segmenter = segmenter_for(stage)
    before = segmenter.encoder_calls
    shuttle = masks.decode(mask_for_box(ASTRONAUT, SHUTTLE, stage))
    person = masks.decode(mask_for_box(ASTRONAUT, PERSON, stage))
    assert segmenter.encoder_calls == before + 1  # one encoder pass for both boxes of the photo
    expected = segmenter.segment(Image.open(ASTRONAUT), [SHUTTLE, PERSON])
    assert np.array_equal(shuttle, expected[0]) and np.array_equal(person, expected[1])
    assert shuttle.shape == (512, 512) and shuttle[0:275, 355:470].mean() > 0.3


def test_with_segmentation_off_a_box_gets_no_mask_and_says_why():
    with pytest.raises(SegmentationOffError, match="segmentation is off"):
        BoxMasker().mask(ASTRONAUT, SHUTTLE, None)
