"""Referring-expression grounding with Grounding DINO (transformers; local folder or hub id).

Grounding DINO reads one caption of lower-case phrases separated by " . ". All of a
post's expressions go into one caption (one forward pass, image encoded once); a phrase's
score for a box is the highest token probability over the phrase's own tokens, found from
the tokenizer's character offsets, and each phrase takes its best box.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from groundlens.core.pipeline.box_ops import best_per_query, from_unpadded
from groundlens.core.pipeline.grounding.hf_detector import TransformersDetector
from groundlens.core.pipeline.registry import model_validator, register
from groundlens.core.pipeline.types import Box


def build_caption(expressions: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """'a . b .' and each phrase's character span in it."""
    caption, spans = "", []
    for expression in expressions:
        phrase = " ".join(expression.lower().replace(".", " ").split()) or "object"
        spans.append((len(caption), len(caption) + len(phrase)))
        caption += phrase + " . "
    return caption.strip(), spans


def phrase_token_mask(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """(tokens x phrases) bool: token t lies inside phrase p. Special tokens have empty offsets."""
    mask = np.zeros((len(offsets), len(spans)), dtype=bool)
    for t, (start, end) in enumerate(offsets):
        if end <= start:
            continue
        for p, (s, e) in enumerate(spans):
            if start >= s and end <= e:
                mask[t, p] = True
    return mask


class GroundingDinoGrounder(TransformersDetector):
    name = "grounding_dino"
    model_class = "GroundingDinoForObjectDetection"

    def boxes(self, image: Image.Image, expressions: Sequence[str]) -> list[tuple[Box, float] | None]:
        import torch

        caption, spans = build_caption(expressions)
        max_length = self.model.config.max_text_len
        inputs = self.processor(images=image, text=caption, return_tensors="pt", truncation=True, max_length=max_length)
        offsets = self.processor.tokenizer(
            caption, return_offsets_mapping=True, truncation=True, max_length=max_length
        )["offset_mapping"]
        with torch.inference_mode():
            out = self.model(**inputs.to(self.model.device))
        token_probs = torch.sigmoid(out.logits[0]).cpu().numpy()[:, : len(offsets)]  # queries x tokens
        mask = phrase_token_mask(offsets, spans)
        scores = np.stack(
            [
                (token_probs[:, mask[:, p]].max(axis=1) if mask[:, p].any() else np.zeros(token_probs.shape[0]))
                for p in range(len(spans))
            ],
            axis=1,
        )
        boxes = from_unpadded(out.pred_boxes[0].cpu().numpy(), *image.size)
        return best_per_query(scores, boxes, self.threshold)


@register("grounding", "grounding_dino", validate=model_validator)
def create_grounding_dino(model: str, threshold: float = 0.25) -> GroundingDinoGrounder:
    return GroundingDinoGrounder(model, threshold)
