"""Open-vocabulary grounding with OWLv2 (transformers; any local folder or hub id).

All of a post's expressions go in as text queries of one forward pass, so the image is
encoded once; each query takes its best-scoring patch box. OWLv2 pads the image to a
square before resizing, which `box_ops.from_padded_square` undoes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from groundlens.core.pipeline.box_ops import best_per_query, from_padded_square
from groundlens.core.pipeline.grounding.hf_detector import TransformersDetector
from groundlens.core.pipeline.registry import model_validator, register
from groundlens.core.pipeline.types import Box


class Owlv2Grounder(TransformersDetector):
    name = "owlv2"
    model_class = "Owlv2ForObjectDetection"

    def __init__(self, model: str, threshold: float = 0.1):
        super().__init__(model, threshold)
        self.max_length = self.model.config.text_config.max_position_embeddings

    def boxes(self, image: Image.Image, expressions: Sequence[str]) -> list[tuple[Box, float] | None]:
        import torch

        inputs = self.processor(
            text=[list(expressions)],
            images=image,
            return_tensors="pt",
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
        )
        with torch.inference_mode():
            out = self.model(**inputs.to(self.model.device))
        scores = torch.sigmoid(out.logits[0]).cpu().numpy()  # patches x queries
        boxes = from_padded_square(out.pred_boxes[0].cpu().numpy(), *image.size)
        return best_per_query(scores, boxes, self.threshold)


@register("grounding", "owlv2", validate=model_validator)
def create_owlv2(model: str, threshold: float = 0.1) -> Owlv2Grounder:
    return Owlv2Grounder(model, threshold)
