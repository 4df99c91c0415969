"""MobileSAM on real photos with the installed weights (found through the model store).

The weights are installed by the README's set-up (`python main.py models install`); if they
are missing these tests fail and say so, they do not skip.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from groundlens.core.config import RESOURCES_DIR

IMAGES = RESOURCES_DIR / "demo" / "images"
HOPPER_PERSON = (15, 20, 512, 600)  # grace_hopper.jpg, 512x600: the whole person
HOPPER_FLAG = (0, 0, 200, 600)  # the flag behind her, left
ASTRONAUT = {"person": (20, 15, 365, 512), "shuttle model": (355, 0, 470, 275), "helmet": (275, 340, 512, 512)}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def segmenter(mobile_sam_weights):
    from groundlens.core.pipeline.segmentation.sam import mobile_sam

    return mobile_sam(checkpoint=str(mobile_sam_weights))


@pytest.fixture(scope="module")
def hopper(segmenter):
    """grace_hopper.jpg and its embedding, computed once for the tests that prompt it."""
    image = Image.open(IMAGES / "grace_hopper.jpg")
    return image, segmenter.embed(image)


def prompt(segmenter, hopper, boxes) -> list[np.ndarray]:
    from groundlens.core.pipeline.segmentation.predictor import valid_boxes

    image, embedding = hopper
    return segmenter.decode(embedding, valid_boxes(boxes, image.width, image.height))


def box_stats(mask: np.ndarray, box) -> tuple[float, float]:
    """(share of the box the mask fills, share of the mask inside the box)."""
    x0, y0, x1, y1 = box
    inside = mask[y0:y1, x0:x1]
    return float(inside.mean()), float(inside.sum() / max(mask.sum(), 1))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_person_box_gives_the_person_and_flag_box_something_else(segmenter, hopper):
    image, _ = hopper
    person, flag = prompt(segmenter, hopper, [HOPPER_PERSON, HOPPER_FLAG])
    assert person.shape == flag.shape == (image.height, image.width)
    assert person.dtype == bool
    fill, inside = box_stats(person, HOPPER_PERSON)
    assert fill > 0.5, f"person mask fills only {fill:.0%} of the person box"
    assert inside > 0.95
    # her silhouette: head top centre is in, the sky at the top-right corner is out
    assert person[100, 260] and not person[30, 480]
    assert iou(person, flag) < 0.2
    assert box_stats(flag, HOPPER_FLAG)[0] > 0.3


def test_one_encoder_pass_for_all_boxes_of_an_image(segmenter):
    image = Image.open(IMAGES / "astronaut.jpg")
    before = segmenter.encoder_calls
    masks = segmenter.segment(image, list(ASTRONAUT.values()))
    assert segmenter.encoder_calls == before + 1
    assert len(masks) == 3
    for mask, (name, box) in zip(masks, ASTRONAUT.items()):
        fill, inside = box_stats(mask, box)
        assert fill > 0.3 and inside > 0.9, f"{name}: fill {fill:.0%}, inside {inside:.0%}"
    for i in range(3):
        for j in range(i + 1, 3):
            assert iou(masks[i], masks[j]) < 0.2


def test_no_boxes_means_no_encoding(segmenter):
    before = segmenter.encoder_calls
    assert segmenter.segment(Image.open(IMAGES / "chelsea.jpg"), []) == []
    assert segmenter.encoder_calls == before


def test_a_box_outside_the_image_fails_before_the_encoder(segmenter):
    image = Image.open(IMAGES / "coffee.jpg")
    before = segmenter.encoder_calls
    with pytest.raises(ValueError, match="no area inside"):
        segmenter.segment(image, [(10, 10, 50, 50), (image.width + 5, 0, image.width + 40, 30)])
    assert segmenter.encoder_calls == before


def test_boxes_partly_outside_are_clipped(segmenter, hopper):
    image, _ = hopper
    (clipped,) = prompt(segmenter, hopper, [(-40, -10, 560, 650)])
    assert clipped.shape == (image.height, image.width) and clipped.mean() > 0.3


def test_fused_encoder_gives_the_same_embedding_as_the_checkpoint_layout():
    import torch

    from groundlens.core.pipeline.segmentation.build_sam import build_mobile_sam

    torch.manual_seed(0)
    unfused = build_mobile_sam(image_size=256, fuse=False)
    for module in unfused.modules():  # non-trivial batch-norm statistics, so folding them is tested
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    fused = build_mobile_sam(image_size=256, fuse=False)
    fused.load_state_dict(unfused.state_dict())
    from groundlens.core.pipeline.segmentation.tiny_vit import Conv2dBN, fuse_conv_bn

    fuse_conv_bn(fused.image_encoder)
    assert not any(isinstance(m, Conv2dBN) for m in fused.image_encoder.modules())
    pixels = torch.rand(1, 3, 256, 256)
    with torch.inference_mode():
        assert torch.allclose(fused.image_encoder(pixels), unfused.image_encoder(pixels), atol=1e-4)


def test_checkpoint_loads_strictly_and_tampering_is_refused(mobile_sam_weights, tmp_path):
    import torch

    from groundlens.core.pipeline.segmentation.build_sam import CheckpointError, build_mobile_sam, build_sam_vit

    checkpoint = mobile_sam_weights
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model = build_mobile_sam(checkpoint, fuse=False)
    assert set(model.state_dict()) == set(state)  # every tensor has its place and vice versa
    key = "image_encoder.layers.2.blocks.3.attn.attention_biases"
    assert torch.equal(model.state_dict()[key], state[key])

    missing = dict(state)
    del missing[key]
    torch.save(missing, tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="1 missing"):
        build_mobile_sam(tmp_path / "missing.pt")

    torch.save({**state, "image_encoder.extra": torch.zeros(1)}, tmp_path / "extra.pt")
    with pytest.raises(CheckpointError, match="1 unexpected"):
        build_mobile_sam(tmp_path / "extra.pt")

    with pytest.raises(CheckpointError, match="not a SAM vit_b checkpoint"):
        build_sam_vit("vit_b", checkpoint, image_size=256)
