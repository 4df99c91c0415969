"""A token-classification model plus its tokenizer, tagging batches of word lists.

Shared by the pipeline backend and by training (dev evaluation), so that the score reported
for a model is the score of exactly the code path the product runs. Needs torch; import lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from core.pipeline.ner.decode import word_logprobs
from core.pipeline.ner.encoding import encode

SHAPES_CONFIG_KEY = "groundlens_word_shapes"  # config.json flag: token types carry word shapes
MAX_LENGTH_CONFIG_KEY = "groundlens_max_length"
DEFAULT_MAX_LENGTH = 128


@dataclass
class WordTagger:
    tokenizer: Any
    model: Any  # a *ForTokenClassification module in eval mode
    batch_size: int = 64

    @property
    def labels(self) -> list[str]:
        return [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    @property
    def uses_shapes(self) -> bool:
        return bool(getattr(self.model.config, SHAPES_CONFIG_KEY, False))

    @property
    def max_length(self) -> int:
        return int(getattr(self.model.config, MAX_LENGTH_CONFIG_KEY, DEFAULT_MAX_LENGTH))

    def logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """[n_words, n_labels] per sentence; batches are built from length-sorted sentences."""
        labels = self.labels
        results: list[np.ndarray | None] = [None] * len(sentences)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        with torch.inference_mode():
            for first in range(0, len(order), self.batch_size):
                chunk = [i for i in order[first : first + self.batch_size] if sentences[i]]
                for i in order[first : first + self.batch_size]:
                    if not sentences[i]:
                        results[i] = np.zeros((0, len(labels)), dtype=np.float32)
                if not chunk:
                    continue
                batch = encode(self.tokenizer, [sentences[i] for i in chunk], self.max_length, self.uses_shapes)
                logits = self.model(**batch.tensors).logits
                scores = torch.log_softmax(logits.float(), dim=-1).numpy()
                for row, i in enumerate(chunk):
                    results[i] = word_logprobs(scores[row], batch.word_ids[row], len(sentences[i]), labels)
        return results  # type: ignore[return-value]
