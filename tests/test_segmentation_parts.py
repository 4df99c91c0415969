"""Segmentation parts that need no weights: the import without torchvision, SAM ViT-B on the same
code path (random weights, small input), the input geometry, and the registered backends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.modelstore import ModelNotInstalledError
from groundlens.core.pipeline.segmentation.transforms import ResizeLongestSide


def run_probe(code: str) -> None:
    """Run `code` in a fresh interpreter, so that what it imports is not hidden by earlier tests."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_modeling_imports_without_running_the_package_init():
    probe = (
        "import sys\n"
        "from groundlens.core.pipeline.segmentation.sam_modeling import sam_modeling\n"
        "m = sam_modeling()\n"
        "assert {'Sam', 'ImageEncoderViT', 'PromptEncoder', 'MaskDecoder', 'TwoWayTransformer'} <= set(dir(m))\n"
        "assert not [name for name in sys.modules if name.startswith('segment_anything')], 'no package faked or run'\n"
        "assert 'torchvision' not in sys.modules\n"
        "import groundlens.core.pipeline.segmentation.sam\n"
    )
    run_probe(probe)


def test_backend_modules_register_without_torch():
    probe = (
        "import sys\n"
        "from groundlens.core.pipeline import registry\n"
        "assert {'mobile_sam', 'sam'} <= set(registry.available('segmentation'))\n"
        "assert 'torch' not in sys.modules, 'registering and listing backends must stay cheap'\n"
    )
    run_probe(probe)


def test_resize_longest_side_geometry():
    transform = ResizeLongestSide(1024)
    assert transform.get_preprocess_shape(600, 512, 1024) == (1024, 874)
    assert transform.get_preprocess_shape(427, 640, 1024) == (683, 1024)
    image = np.zeros((600, 512, 3), np.uint8)
    assert transform.apply_image(image).shape == (1024, 874, 3)
    boxes = transform.apply_boxes(np.array([[0, 0, 512, 600], [256, 300, 256, 300]]), (600, 512))
    np.testing.assert_allclose(boxes, [[0, 0, 874, 1024], [437, 512, 437, 512]], atol=0.5)


@pytest.mark.slow
def test_sam_vit_b_runs_the_same_code_path_with_random_weights():
    import torch

    from groundlens.core.pipeline.segmentation.build_sam import build_sam_vit
    from groundlens.core.pipeline.segmentation.predictor import SamSegmenter

    torch.manual_seed(0)
    model = build_sam_vit("vit_b", image_size=224)  # a single 14x14 attention window: quick
    segmenter = SamSegmenter(model, name="sam", version="random-init")
    image = Image.open(RESOURCES_DIR / "demo" / "images" / "rocket.jpg")  # landscape, 640x427
    boxes = [(250, 20, 330, 400), (0, 0, 200, 427), (300.5, 380.2, 460.7, 427)]
    masks = segmenter.segment(image, boxes)
    assert segmenter.encoder_calls == 1
    assert len(masks) == 3
    assert all(m.shape == (427, 640) and m.dtype == bool for m in masks)


def test_unknown_sam_variant_is_refused():
    from groundlens.core.pipeline.segmentation.sam import sam

    with pytest.raises(ValueError, match="vit_b, vit_l, vit_h"):
        sam(variant="vit_x")


def test_missing_weights_say_how_to_install(tmp_path, monkeypatch):
    from groundlens.core.pipeline.segmentation.sam import mobile_sam, sam

    monkeypatch.setenv("GROUNDLENS_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelNotInstalledError, match=re.escape("python main.py models install mobile_sam")):
        mobile_sam()
    with pytest.raises(FileNotFoundError, match="not found"):
        mobile_sam(checkpoint=str(tmp_path / "nope.pt"))
    with pytest.raises(ModelNotInstalledError, match=re.escape("sam_vit_b_01ec64.pth")):
        sam(variant="vit_b")
