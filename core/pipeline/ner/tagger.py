"""A token-classification model plus its tokenizer, tagging batches of word lists.

Shared by the pipeline backend and by training (dev evaluation), so that the score reported
for a model is the score of exactly the code path the product runs. Needs torch; import lazily.

A sentence's scores depend on that sentence alone (same input, same output): it is cut into
windows from its own sub-tokens (`windows.py`), each window is padded to a length set by itself
(a multiple of PAD_MULTIPLE) and batched only with windows of that length, and the int8 model
scales activations per row (`int8.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from groundlens.core.pipeline.ner.decode import word_logprobs
from groundlens.core.pipeline.ner.encoding import encoder_word
from groundlens.core.pipeline.ner.shape import word_shapes
from groundlens.core.pipeline.ner.windows import Window, plan_windows, word_token_bounds

SHAPES_CONFIG_KEY = "groundlens_word_shapes"  # config.json flag: token types carry word shapes
MAX_LENGTH_CONFIG_KEY = "groundlens_max_length"
DEFAULT_MAX_LENGTH = 128
PAD_MULTIPLE = 8  # windows are padded to a multiple of this; only equal lengths share a batch
SPECIAL_TOKENS = 2  # [CLS] ... [SEP]


@dataclass
class EncodedWindow:
    sentence: int
    window: Window
    input_ids: list[int]  # [CLS] sub-tokens [SEP]
    token_types: list[int]
    word_ids: list[int | None]  # word index within the window, None for the special tokens


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
        """Sub-tokens per window, [CLS] and [SEP] included: the trained length, within the position table."""
        config = self.model.config
        trained = int(getattr(config, MAX_LENGTH_CONFIG_KEY, DEFAULT_MAX_LENGTH))
        return min(trained, int(getattr(config, "max_position_embeddings", trained)))

    def padded_length(self, encoded: EncodedWindow) -> int:
        return min(-(-len(encoded.input_ids) // PAD_MULTIPLE) * PAD_MULTIPLE, self.max_length)

    def windows(self, index: int, words: Sequence[str]) -> list[EncodedWindow]:
        """The encoder inputs covering every word of one sentence."""
        pieces = self.tokenizer(
            [encoder_word(w) for w in words], is_split_into_words=True, add_special_tokens=False, verbose=False
        )
        ids, word_ids = pieces["input_ids"], pieces.word_ids()
        shapes = word_shapes(words) if self.uses_shapes else [0] * len(words)
        budget = self.max_length - SPECIAL_TOKENS
        encoded = []
        for window in plan_windows(word_token_bounds(word_ids, len(words)), budget, overlap=budget // 3):
            stop = min(window.stop_token, window.first_token + budget)
            local = [word_ids[p] - window.first_word for p in range(window.first_token, stop)]
            encoded.append(
                EncodedWindow(
                    sentence=index,
                    window=window,
                    input_ids=[
                        self.tokenizer.cls_token_id,
                        *ids[window.first_token : stop],
                        self.tokenizer.sep_token_id,
                    ],
                    token_types=[0, *(shapes[window.first_word + w] for w in local), 0],
                    word_ids=[None, *local, None],
                )
            )
        return encoded

    def logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """[n_words, n_labels] per sentence, each computed from that sentence alone."""
        labels = self.labels
        results = [np.zeros((len(words), len(labels)), dtype=np.float32) for words in sentences]
        by_length: dict[int, list[EncodedWindow]] = defaultdict(list)
        for index, words in enumerate(sentences):
            if words:
                for encoded in self.windows(index, words):
                    by_length[self.padded_length(encoded)].append(encoded)
        with torch.inference_mode():
            for length in sorted(by_length):
                group = by_length[length]
                for first in range(0, len(group), self.batch_size):
                    chunk = group[first : first + self.batch_size]
                    inputs = {name: t.to(self.model.device) for name, t in self.tensors(chunk, length).items()}
                    logits = self.model(**inputs).logits
                    scores = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
                    for row, encoded in enumerate(chunk):
                        window = encoded.window
                        width = window.stop_word - window.first_word
                        word_scores = word_logprobs(scores[row], encoded.word_ids, width, labels)
                        keep = slice(window.keep_from - window.first_word, window.keep_to - window.first_word)
                        results[encoded.sentence][window.keep_from : window.keep_to] = word_scores[keep]
        return results

    def tensors(self, chunk: Sequence[EncodedWindow], length: int) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask and token_type_ids, every row padded to `length`."""
        input_ids = torch.full((len(chunk), length), self.tokenizer.pad_token_id, dtype=torch.long)
        token_types = torch.zeros((len(chunk), length), dtype=torch.long)
        attention = torch.zeros((len(chunk), length), dtype=torch.long)
        for row, encoded in enumerate(chunk):
            size = len(encoded.input_ids)
            input_ids[row, :size] = torch.tensor(encoded.input_ids)
            token_types[row, :size] = torch.tensor(encoded.token_types)
            attention[row, :size] = 1
        return {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": token_types}
