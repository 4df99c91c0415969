"""Box-prompted segmentation over any SAM-family model: encode an image once, decode all its boxes together.

The image encoder costs about a second (MobileSAM) to half a minute (SAM ViT-B) per image on a
laptop CPU, the prompt encoder and mask decoder tens of milliseconds per box; so `segment`
embeds each image once and prompts the decoder with all of its boxes in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from core.pipeline.segmentation.transforms import ResizeLongestSide
from core.pipeline.types import Box

DECODER_BATCH = 32  # boxes per decoder call; bounds memory for posts with many entities


@dataclass
class ImageEmbedding:
    features: torch.Tensor  # (1, 256, grid, grid)
    input_size: tuple[int, int]  # (h, w) after resizing, before padding
    original_size: tuple[int, int]  # (h, w) of the image given


class SamSegmenter:
    """A `Segmenter` (core.pipeline.stages) over a `segment_anything.modeling.Sam` model."""

    def __init__(self, model: torch.nn.Module, name: str, version: str) -> None:
        self.model = model.eval()
        self.name = name
        self.version = version
        self.transform = ResizeLongestSide(model.image_encoder.img_size)
        self.encoder_calls = 0  # how many images went through the image encoder

    def segment(self, image: Image.Image, boxes: Sequence[Box]) -> list[np.ndarray]:
        if not boxes:
            return []
        prompts = valid_boxes(boxes, image.width, image.height)  # before the costly encoder
        return self.decode(self.embed(image), prompts)

    @torch.inference_mode()
    def embed(self, image: Image.Image) -> ImageEmbedding:
        pixels = np.asarray(image.convert("RGB"))
        resized = self.transform.apply_image(pixels)
        tensor = torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None].float()
        features = self.model.image_encoder(self.model.preprocess(tensor))
        self.encoder_calls += 1
        return ImageEmbedding(features, tuple(resized.shape[:2]), tuple(pixels.shape[:2]))

    @torch.inference_mode()
    def decode(self, embedding: ImageEmbedding, boxes: np.ndarray) -> list[np.ndarray]:
        """Bool masks at original size, one per box (Bx4, original pixels)."""
        scaled = torch.as_tensor(self.transform.apply_boxes(boxes, embedding.original_size), dtype=torch.float)
        masks: list[np.ndarray] = []
        for batch in scaled.split(DECODER_BATCH):
            sparse, dense = self.model.prompt_encoder(points=None, boxes=batch, masks=None)
            low_res, _ = self.model.mask_decoder(
                image_embeddings=embedding.features,
                image_pe=self.model.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=False,  # a box is an unambiguous prompt
            )
            masks.extend(self._upscale(logits, embedding) for logits in low_res)
        return masks

    def _upscale(self, logits: torch.Tensor, embedding: ImageEmbedding) -> np.ndarray:
        """One low-resolution logit map (1x256x256) -> bool mask at the original size.

        Box by box rather than `Sam.postprocess_masks` on the batch, so that memory stays one
        full-size float mask however many boxes an image has.
        """
        side = self.model.image_encoder.img_size
        h, w = embedding.input_size
        padded = F.interpolate(logits[None], (side, side), mode="bilinear", align_corners=False)
        full = F.interpolate(padded[..., :h, :w], embedding.original_size, mode="bilinear", align_corners=False)
        return (full[0, 0] > self.model.mask_threshold).numpy()


def valid_boxes(boxes: Sequence[Box], width: int, height: int) -> np.ndarray:
    """Boxes clipped to the image as a Bx4 array; a box with no area inside the image is an error."""
    array = np.asarray(boxes, dtype=float).reshape(-1, 4)
    clipped = np.clip(array, 0, [width, height, width, height])
    for box, inside in zip(array, clipped):
        if not (np.isfinite(box).all() and inside[2] > inside[0] and inside[3] > inside[1]):
            raise ValueError(f"box {tuple(box.tolist())} has no area inside the {width}x{height} image")
    return clipped
