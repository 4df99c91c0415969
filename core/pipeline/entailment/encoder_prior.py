"""Fine-tuned MiniLM groundability prior, optionally blended with the logistic one.

Loaded by `GroundabilityPrior.load` when the model folder's config.json says "kind": "encoder".
torch and transformers are imported here only, so the logistic path stays numpy-only. It runs in
float32: fast enough on 2 cores (about 450 entities/s), while int8 dynamic quantisation cost half a
dev point (see the model card).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groundlens.core.pipeline import device
from groundlens.core.pipeline.entailment.mention_views import mention_views
from groundlens.core.pipeline.types import Mention

ENCODER_DIR = "encoder"  # BERT config, fp16 safetensors with the head, tokenizer
LOGISTIC_DIR = "logistic"  # the logistic prior the blend uses, when there is one
WEIGHTS = "model.safetensors"


def span_pieces(offsets: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """[first, last) word pieces overlapping chars [start, end); ([CLS]) when truncation cut the span off."""
    inside = [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]
    return (inside[0], inside[-1] + 1) if inside else (0, 1)


def encode_posts(
    tokenizer: Any, posts: Sequence[tuple[str, Sequence[Mention]]], max_length: int
) -> list[tuple[list[int], list[tuple[int, int, int]]]]:
    """Per post: word-piece ids and (first piece, end piece, type index) per mention."""
    from groundlens.core.pipeline.entailment.encoder_net import TYPES

    encoded = tokenizer(
        [text for text, _ in posts], truncation=True, max_length=max_length, return_offsets_mapping=True
    )
    return [
        (ids, [(*span_pieces(offsets, m.start, m.end), TYPES.index(m.type)) for m in mentions])
        for (_, mentions), ids, offsets in zip(posts, encoded["input_ids"], encoded["offset_mapping"])
    ]


def collate(items: Sequence[tuple[Any, Sequence[tuple[int, int, int]]]], width: int | None = None) -> tuple[Any, ...]:
    """Padded batch: (ids or cached hidden states, mask, entity's post, span weights, entity type)."""
    import torch

    length = max(len(x) for x, _ in items)
    first = items[0][0]
    values = torch.zeros(
        len(items), length, *(() if width is None else (width,)), dtype=torch.long if width is None else first.dtype
    )
    mask = torch.zeros(len(items), length, dtype=torch.long)
    posts, kinds, weights = [], [], []
    for row, (x, spans) in enumerate(items):
        values[row, : len(x)] = torch.as_tensor(x)
        mask[row, : len(x)] = 1
        for start, end, kind in spans:
            weight = torch.zeros(length)
            weight[start:end] = 1.0 / (end - start)
            weights.append(weight)
            posts.append(row)
            kinds.append(kind)
    spans_w = torch.stack(weights) if weights else torch.zeros(0, length)
    return values, mask, torch.tensor(posts, dtype=torch.long), spans_w, torch.tensor(kinds, dtype=torch.long)


@dataclass
class EncoderPrior:
    model: Any  # SpanGroundabilityModel, eval mode
    tokenizer: Any
    max_length: int
    blend: tuple[float, float, float] | None = None  # (encoder, logistic, bias) weights of the logit blend
    logistic: Any = None  # GroundabilityPrior used by the blend
    metadata: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 64
    name: str = "groundability-prior"

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def predict(self, text: str, mentions: Sequence[Mention]) -> list[float]:
        """Probability, per mention, that the post's image shows it."""
        return self.predict_posts([(text, mentions)])[0]

    def predict_posts(self, posts: Sequence[tuple[str, Sequence[Mention]]]) -> list[list[float]]:
        """predict() for many posts, in batches of posts sorted by length; a post longer than the encoder
        takes is read in windows around its mentions (mention_views.py)."""
        import torch

        views = [
            (post, view)
            for post, (text, mentions) in enumerate(posts)
            for view in mention_views(self.tokenizer, text, mentions, self.max_length)
        ]
        encoded = encode_posts(self.tokenizer, [(view.text, view.mentions) for _, view in views], self.max_length)
        logits = [np.zeros(len(mentions)) for _, mentions in posts]
        order = [i for i in np.argsort([len(ids) for ids, _ in encoded]) if encoded[i][1]]
        with torch.inference_mode():
            for begin in range(0, len(order), self.batch_size):
                chunk = order[begin : begin + self.batch_size]
                tensors = [t.to(self.device) for t in collate([encoded[i] for i in chunk])]
                out = self.model(*tensors).float().cpu().numpy()
                cut = np.cumsum([len(encoded[i][1]) for i in chunk])[:-1]
                for i, part in zip(chunk, np.split(out, cut)):
                    post, view = views[i]
                    logits[post][view.indexes] = part.astype(np.float64)
        if self.blend is not None:
            a, b, c = self.blend
            logits = [
                a * z + b * self._logistic_logits(text, mentions) + c for z, (text, mentions) in zip(logits, posts)
            ]
        return [[float(p) for p in 1.0 / (1.0 + np.exp(-z))] for z in logits]

    def _logistic_logits(self, text: str, mentions: Sequence[Mention]) -> np.ndarray:
        probs = np.clip(np.asarray(self.logistic.predict(text, mentions), dtype=np.float64), 1e-12, 1 - 1e-12)
        return np.log(probs / (1 - probs))

    @classmethod
    def load(cls, folder: Path, config: dict[str, Any], logistic: Any = None) -> EncoderPrior:
        """The encoder in `folder`; `logistic` is the text prior it blends with, when config has a blend
        (GroundabilityPrior.load reads both, so this module never imports that one)."""
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig, BertModel

        from groundlens.core.pipeline.entailment.encoder_net import SpanGroundabilityModel

        model = SpanGroundabilityModel(
            BertModel(BertConfig.from_pretrained(folder / ENCODER_DIR), add_pooling_layer=False)
        )
        model.load_state_dict({k: v.float() for k, v in load_file(folder / ENCODER_DIR / WEIGHTS).items()})
        model.eval().to(device.current())
        blend = config.get("blend")
        return cls(
            model=model,
            tokenizer=AutoTokenizer.from_pretrained(folder / ENCODER_DIR),
            max_length=int(config["max_length"]),
            blend=tuple(blend) if blend else None,
            logistic=logistic if blend else None,
            metadata=config.get("metadata", {}),
        )
