"""The default recogniser: a fine-tuned token-classification transformer (see resources/models/ner/MODEL_CARD.md).

Raw text is cut into words (`tokenize`), words are tagged by the model (`tagger`), tags are
decoded with BIO-constrained Viterbi and mapped back to character offsets (`decode`). Any
local folder or hub id holding a *ForTokenClassification model with PER/LOC/ORG/OTHER BIO labels
works; models trained by `train-ner` also read word shapes from their token types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.pipeline import device
from groundlens.core.pipeline.ner.decode import decode_tags, mentions_from_tags
from groundlens.core.pipeline.ner.tokenize import tokenize
from groundlens.core.pipeline.registry import model_validator, register
from groundlens.core.pipeline.types import Mention

DEFAULT_MODEL_DIR = RESOURCES_DIR / "models" / "ner"
WEIGHTS_FILE = "model.safetensors"


def weights_version(model: str | Path) -> str:
    """First 12 hex digits of the weights file's sha256, or the hub id for remote models."""
    weights = Path(model) / WEIGHTS_FILE
    if not weights.is_file():
        return str(model)
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def load_tagger(model: str | Path, batch_size: int = 64, quantize: bool = True) -> Any:
    """A WordTagger over the model.

    int8 Linear layers make CPU runs several times faster; weights get one scale per output channel
    and activations one per row (`int8.py`), so a post's scores do not depend on its batch.
    """
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from groundlens.core.pipeline.ner.int8 import quantize_linears
    from groundlens.core.pipeline.ner.tagger import WordTagger

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    network = AutoModelForTokenClassification.from_pretrained(str(model), dtype=torch.float32).eval()
    if device.current() != "cpu":
        network = network.to(device.current())  # a GPU runs the float model: int8 here is a CPU speed-up
    elif quantize:
        network = quantize_linears(network)
    return WordTagger(tokenizer=tokenizer, model=network, batch_size=batch_size)


class TransformersRecognizer:
    name = "transformers"

    def __init__(self, tagger: Any, version: str, constrained: bool = True) -> None:
        self.tagger = tagger
        self.version = version
        self.constrained = constrained

    def recognize(self, texts: Sequence[str]) -> list[list[Mention]]:
        tokens = [tokenize(text) for text in texts]
        scores = self.tagger.logprobs([[t.text for t in words] for words in tokens])
        labels = self.tagger.labels
        results = []
        for text, words, logprobs in zip(texts, tokens, scores):
            tags, probs = decode_tags(logprobs, labels, self.constrained)
            results.append(mentions_from_tags(text, words, tags, probs))
        return results


@register("ner", "transformers", validate=model_validator)
def create_transformers_recognizer(
    model: str | Path = DEFAULT_MODEL_DIR, batch_size: int = 64, threads: int | None = None, quantize: bool = True
) -> TransformersRecognizer:
    """Options: model folder or hub id, batch size, CPU threads (None: torch's default), int8 quantization."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    return TransformersRecognizer(load_tagger(model, batch_size, quantize), version=weights_version(model))
