"""Box-prompted segmentation over any SAM-family model: encode an image once, decode all its boxes together.

The image encoder costs about a second (MobileSAM) to half a minute (SAM ViT-B) per image on a
laptop CPU, the prompt encoder and mask decoder tens of milliseconds per box; so `segment`
embeds each image once and prompts the decoder with all of its boxes in one batch.

Each box may come with points on the thing (a face centre) or off it (a person box's top
corners). The decoder gives three candidate
masks per prompt; the one kept maximises SAM's predicted IoU times the mask's fit to the box
(IoU of the mask's bounding box with the prompt box), so a box that covers nearly the whole
image does not come back as the background around the subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from groundlens.core.pipeline import device
from groundlens.core.pipeline.segmentation.transforms import ResizeLongestSide
from groundlens.core.pipeline.types import Box, PointPrompt

DECODER_BATCH = 32  # boxes per decoder call; bounds memory for posts with many entities


@dataclass
class ImageEmbedding:
    features: torch.Tensor  # (1, 256, grid, grid)
    input_size: tuple[int, int]  # (h, w) after resizing, before padding
    original_size: tuple[int, int]  # (h, w) of the image given


class SamSegmenter:
    """A `Segmenter` (core.pipeline.stages) over a `segment_anything.modeling.Sam` model."""

    def __init__(self, model: torch.nn.Module, name: str, version: str) -> None:
        sam: Any = model  # a segment_anything.modeling.Sam, whose parts have no type annotations
        self.model = sam.eval().to(device.current())
        self.device = next(self.model.parameters()).device
        self.name = name
        self.version = version
        self.transform = ResizeLongestSide(self.model.image_encoder.img_size)
        self.encoder_calls = 0  # how many images went through the image encoder

    def segment(
        self, image: Image.Image, boxes: Sequence[Box], points: Sequence[Sequence[PointPrompt]] | None = None
    ) -> list[np.ndarray]:
        if not boxes:
            return []
        prompts = valid_boxes(boxes, image.width, image.height)  # before the costly encoder
        return self.decode(self.embed(image), prompts, points)

    @torch.inference_mode()
    def embed(self, image: Image.Image) -> ImageEmbedding:
        pixels = np.asarray(image.convert("RGB"))
        resized = self.transform.apply_image(pixels)
        tensor = torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None].float().to(self.device)
        features = self.model.image_encoder(self.model.preprocess(tensor))
        self.encoder_calls += 1
        return ImageEmbedding(features, tuple(resized.shape[:2]), tuple(pixels.shape[:2]))

    @torch.inference_mode()
    def decode(
        self, embedding: ImageEmbedding, boxes: np.ndarray, points: Sequence[Sequence[PointPrompt]] | None = None
    ) -> list[np.ndarray]:
        """Bool masks at original size, one per box (Bx4, original pixels), each the best fitting
        of the decoder's three candidates."""
        scaled = torch.as_tensor(self.transform.apply_boxes(boxes, embedding.original_size), dtype=torch.float)
        on_device = scaled.to(self.device)
        coords, labels = self._points(points, len(boxes), embedding)
        masks: list[np.ndarray] = []
        for start in range(0, len(boxes), DECODER_BATCH):
            end = start + DECODER_BATCH
            prompt_points = (
                (coords[start:end], labels[start:end]) if coords is not None and labels is not None else None
            )
            sparse, dense = self.model.prompt_encoder(points=prompt_points, boxes=on_device[start:end], masks=None)
            low_res, predicted_iou = self.model.mask_decoder(
                image_embeddings=embedding.features,
                image_pe=self.model.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=True,
            )
            # judge the candidates on the low-resolution grid, upscale only the chosen one
            grid = self.model.image_encoder.img_size / low_res.shape[-1]
            for candidates, ious, box in zip(low_res, predicted_iou, scaled[start:end].numpy() / grid):
                fits = [
                    float(ious[k]) * box_fit((logits > self.model.mask_threshold).cpu().numpy(), box)
                    for k, logits in enumerate(candidates)
                ]
                masks.append(self._upscale(candidates[int(np.argmax(fits))][None], embedding))
        return masks

    def _points(
        self, points: Sequence[Sequence[PointPrompt]] | None, count: int, embedding: ImageEmbedding
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Points as SAM takes them (B x N x 2 resized coords; labels 1 on the thing, 0 on its
        background), rows padded with SAM's 'not a point' label -1; None when no box has any."""
        if not points or not any(points):
            return None, None
        width = max(len(p) for p in points)
        coords = np.zeros((count, width, 2), dtype=float)
        labels = -np.ones((count, width), dtype=float)
        for row, chosen in enumerate(points):
            for k, point in enumerate(chosen):
                coords[row, k] = (point.x, point.y)
                labels[row, k] = 1 if point.positive else 0
        resized = self.transform.apply_coords(coords, embedding.original_size)
        return (
            torch.as_tensor(resized, dtype=torch.float, device=self.device),
            torch.as_tensor(labels, dtype=torch.float, device=self.device),
        )

    def _upscale(self, logits: torch.Tensor, embedding: ImageEmbedding) -> np.ndarray:
        """One low-resolution logit map (1x256x256) -> bool mask at the original size.

        Box by box rather than `Sam.postprocess_masks` on the batch, so that memory stays one
        full-size float mask however many boxes an image has.
        """
        side = self.model.image_encoder.img_size
        h, w = embedding.input_size
        padded = F.interpolate(logits[None], (side, side), mode="bilinear", align_corners=False)
        full = F.interpolate(padded[..., :h, :w], embedding.original_size, mode="bilinear", align_corners=False)
        return (full[0, 0] > self.model.mask_threshold).cpu().numpy()


def box_fit(mask: np.ndarray, box: np.ndarray) -> float:
    """IoU of the mask's bounding box with the prompt box; 0 for an empty mask."""
    rows, cols = np.any(mask, axis=1), np.any(mask, axis=0)
    if not rows.any():
        return 0.0
    y0, y1 = np.flatnonzero(rows)[[0, -1]]
    x0, x1 = np.flatnonzero(cols)[[0, -1]]
    ix = max(0.0, min(x1 + 1, box[2]) - max(x0, box[0]))
    iy = max(0.0, min(y1 + 1, box[3]) - max(y0, box[1]))
    inter = ix * iy
    union = (x1 + 1 - x0) * (y1 + 1 - y0) + (box[2] - box[0]) * (box[3] - box[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def valid_boxes(boxes: Sequence[Box], width: int, height: int) -> np.ndarray:
    """Boxes clipped to the image as a Bx4 array; a box with no area inside the image is an error."""
    array = np.asarray(boxes, dtype=float).reshape(-1, 4)
    clipped = np.clip(array, 0, [width, height, width, height])
    for box, inside in zip(array, clipped):
        if not (np.isfinite(box).all() and inside[2] > inside[0] and inside[3] > inside[1]):
            raise ValueError(f"box {tuple(box.tolist())} has no area inside the {width}x{height} image")
    return clipped
