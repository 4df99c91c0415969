"""Visual entailment with a CLIP model (any local folder or hub id, loaded through transformers).

The image is scored against every expression and one null prompt in a single forward
pass (one image encoding per post). The probability that the image shows an expression is
a two-way softmax between it and the null prompt, i.e.
    p = sigmoid(temperature * (logit_expr - logit_null) + bias)
with CLIP's own logit scale inside the logits; `temperature` and `bias` calibrate it
(fit them on held-out data as Platt scaling; the defaults are the plain softmax).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from groundlens.core.pipeline import device
from groundlens.core.pipeline.registry import model_validator, register
from groundlens.core.pipeline.types import Judgment, Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.records import Evidence


class ClipJudge:
    name = "clip"

    def __init__(self, model: str, null_prompt: str = "a photo", temperature: float = 1.0, bias: float = 0.0):
        from transformers import AutoProcessor, CLIPModel

        self.processor = AutoProcessor.from_pretrained(model)
        self.model = CLIPModel.from_pretrained(model).eval().to(device.current())
        self.null_prompt = null_prompt
        self.temperature = temperature
        self.bias = bias
        self.max_length = self.model.config.text_config.max_position_embeddings
        self.version = f"1+{Path(str(model)).name}"

    def judge(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[Judgment]:
        import torch

        if not expressions:
            return []
        inputs = self.processor(
            text=[*expressions, self.null_prompt],
            images=analysis.image,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_length,
        )
        with torch.inference_mode():
            logits = self.model(**inputs.to(self.model.device)).logits_per_image[0]
        margin = logits[:-1] - logits[-1]
        scores = torch.sigmoid(self.temperature * margin + self.bias).cpu().tolist()
        return [
            Judgment(p, [Evidence("clip", f"CLIP matches the image to '{e}', {p:.2f}", p)])
            for p, e in zip(scores, expressions)
        ]


@register("entailment", "clip", validate=model_validator)
def create_clip_judge(
    model: str, null_prompt: str = "a photo", temperature: float = 1.0, bias: float = 0.0
) -> ClipJudge:
    return ClipJudge(model, null_prompt, temperature, bias)
