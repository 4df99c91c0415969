"""SAM's input geometry: resize so the longest side is the encoder's size, and map boxes alike.

A torch/PIL reimplementation of the methods of `segment_anything.utils.transforms.
ResizeLongestSide` that box and point prompting need (that module imports torchvision). PIL's bilinear
resize is what torchvision's `resize` does on a PIL image, so embeddings match SAM's predictor.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


class ResizeLongestSide:
    def __init__(self, target_length: int) -> None:
        self.target_length = target_length

    @staticmethod
    def get_preprocess_shape(old_h: int, old_w: int, long_side: int) -> tuple[int, int]:
        """(h, w) after scaling the longest side to `long_side`, rounded as SAM rounds."""
        scale = long_side / max(old_h, old_w)
        return int(old_h * scale + 0.5), int(old_w * scale + 0.5)

    def apply_image(self, image: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 -> resized HxWx3 uint8."""
        new_h, new_w = self.get_preprocess_shape(image.shape[0], image.shape[1], self.target_length)
        return np.array(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR))

    def apply_coords(self, coords: np.ndarray, original_size: tuple[int, int]) -> np.ndarray:
        """...x2 (x, y) points in original pixels -> the same points in resized pixels."""
        old_h, old_w = original_size
        new_h, new_w = self.get_preprocess_shape(old_h, old_w, self.target_length)
        scaled: np.ndarray = np.asarray(coords, dtype=float) * np.array([new_w / old_w, new_h / old_h])
        return scaled

    def apply_boxes(self, boxes: np.ndarray, original_size: tuple[int, int]) -> np.ndarray:
        """Bx4 (x0, y0, x1, y1) in original pixels -> the same boxes in resized pixels."""
        return self.apply_coords(np.asarray(boxes, dtype=float).reshape(-1, 2, 2), original_size).reshape(-1, 4)
