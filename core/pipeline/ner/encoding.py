"""Words -> encoder inputs for training batches. Inference (tagger.py) builds its windows from the same
pieces (`encoder_word`, `word_shapes`), so both see identical features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from groundlens.core.pipeline.ner.shape import word_shapes
from groundlens.core.pipeline.ner.tokenize import is_url

URL_STANDIN = "http"  # URLs carry no entity; one sub-token keeps sequences short
MAX_WORD_CHARS = 40  # runaway words (long hashtags, junk) would eat the length budget


@dataclass
class EncodedBatch:
    tensors: dict[str, Any]  # input_ids, attention_mask, token_type_ids (torch tensors)
    word_ids: list[list[int | None]]  # per sequence, the word index of every sub-token


def encoder_word(word: str) -> str:
    return URL_STANDIN if is_url(word) else word[:MAX_WORD_CHARS]


def encode(tokenizer: Any, sentences: Sequence[Sequence[str]], max_length: int, use_shapes: bool) -> EncodedBatch:
    """Sub-token tensors for a batch of word lists; token types carry word shapes when asked."""
    import torch

    encoded = tokenizer(
        [[encoder_word(w) for w in words] for words in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )
    word_ids = [encoded.word_ids(i) for i in range(len(sentences))]
    types = torch.zeros_like(encoded["input_ids"])
    if use_shapes:
        for row, (words, ids) in enumerate(zip(sentences, word_ids)):
            shapes = word_shapes(words)
            row_types = [0 if i is None else shapes[i] for i in ids]
            types[row, : len(row_types)] = torch.tensor(row_types)
    tensors = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "token_type_ids": types}
    return EncodedBatch(tensors=tensors, word_ids=word_ids)
