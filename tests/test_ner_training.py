"""Training helpers: MNER scoring, label alignment, token-type widening (core/training/)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from groundlens.core.datasets.gmner import GmnerPost
from groundlens.core.evaluation.metrics import mner_scores


def test_mner_scores_match_text_and_type_one_to_one() -> None:
    gold = [[("Obama", "PER"), ("Paris", "LOC")], [("NBA", "ORG"), ("NBA", "ORG")]]
    predicted = [[("Obama", "PER"), ("Paris", "ORG")], [("NBA", "ORG"), ("NBA", "ORG"), ("NBA", "ORG")]]
    scores = mner_scores(gold, predicted)
    overall = scores["ALL"]
    assert (overall.correct, overall.predicted, overall.gold) == (3, 5, 4)
    assert overall.precision == pytest.approx(0.6) and overall.recall == pytest.approx(0.75)
    assert overall.f1 == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert (scores["LOC"].correct, scores["LOC"].gold, scores["LOC"].predicted) == (0, 1, 0)
    assert scores["LOC"].f1 == 0.0
    assert (scores["ORG"].correct, scores["ORG"].predicted) == (2, 4)


def test_mner_scores_refuse_misaligned_inputs() -> None:
    with pytest.raises(ValueError):
        mner_scores([[]], [[], []])


def test_labels_sit_on_first_subtokens_and_shapes_on_token_types(tmp_path: Path) -> None:
    from transformers import BertTokenizerFast

    from groundlens.core.training.train_ner import IGNORE, LABELS, TrainConfig, batches

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "ob", "##ama", "paris"]
    tokenizer = BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)})
    post = GmnerPost(image_id="1", tokens=["Obama", "in", "PARIS"], tags=["B-PER", "O", "B-LOC"])
    config = TrainConfig(data=tmp_path, out=tmp_path, base="unused", batch_size=4)
    [batch] = list(batches([post], tokenizer, config, random.Random(0)))
    # [CLS] ob ##ama [UNK] paris [SEP]
    assert batch["labels"][0].tolist() == [IGNORE, LABELS.index("B-PER"), IGNORE, 0, LABELS.index("B-LOC"), IGNORE]
    assert batch["token_type_ids"][0].tolist() == [0, 1, 1, 0, 2, 0]


def test_widened_token_types_start_from_the_pretrained_row() -> None:
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from groundlens.core.training.train_ner import widen_token_types

    model = BertForTokenClassification(
        BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    )
    row0 = model.bert.embeddings.token_type_embeddings.weight[0].detach().clone()
    widen_token_types(model, 12)
    table = model.bert.embeddings.token_type_embeddings.weight
    assert table.shape == (12, 8) and model.config.type_vocab_size == 12
    assert torch.equal(table[11], row0) and table.requires_grad


def test_mention_swap_keeps_the_frame_and_relabels_the_new_name() -> None:
    from groundlens.core.datasets.gmner import bio_spans
    from groundlens.core.training.mention_swap import MentionPool, augment, swap_mentions

    donor = GmnerPost(
        image_id="d",
        tokens=["Kevin", "Durant", "at", "Oracle", "Arena"],
        tags=["B-PER", "I-PER", "O", "B-LOC", "I-LOC"],
    )
    post = GmnerPost(
        image_id="p", tokens=["RT", "Obama", "visits", "Paris", "today"], tags=["O", "B-PER", "O", "B-LOC", "O"]
    )
    pool = MentionPool.from_posts([donor])
    assert pool.by_type == {"PER": [("Kevin", "Durant")], "LOC": [("Oracle", "Arena")]}

    swapped = swap_mentions(post, pool, random.Random(0))
    assert swapped.tokens == ["RT", "Kevin", "Durant", "visits", "Oracle", "Arena", "today"]
    assert swapped.tags == ["O", "B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    assert [(s, e, t) for s, e, t in bio_spans(swapped.tags)] == [(1, 3, "PER"), (4, 6, "LOC")]
    assert post.tokens == ["RT", "Obama", "visits", "Paris", "today"]  # the original is untouched

    plain = GmnerPost(image_id="q", tokens=["no", "names"], tags=["O", "O"])
    epoch = augment([post, plain], pool, rate=1.0, rng=random.Random(0))
    assert epoch[0].tokens == swapped.tokens and epoch[1] is plain
    assert augment([post], pool, rate=0.0, rng=random.Random(0))[0] is post
