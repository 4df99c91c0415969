"""Text-only groundability prior: how likely the post's image shows an entity, before looking at it.

About 59% of Twitter-GMNER entities are not in the image, and the post text alone says a lot
(a person named first in a headline is usually pictured, a city rarely is). The model is a
logistic regression over hashed string features of the mention and its context; it needs only
numpy, scores tens of thousands of mentions a second, and is stored as plain arrays + JSON
(no pickle). `core.training.groundability` fits it; the `prior` entailment backend uses it.
"""

from __future__ import annotations

import bisect
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.pipeline.types import Mention
from groundlens.core.safe_output import atomic_output, write_text_atomic

if TYPE_CHECKING:
    from groundlens.core.pipeline.entailment.encoder_prior import EncoderPrior

DEFAULT_DIR = RESOURCES_DIR / "models" / "groundability"
WEIGHTS_FILE = "weights.npz"
CONFIG_FILE = "config.json"
FEATURES_VERSION = 1  # bump when mention_features changes: a model only fits the features it was trained on

_TOKEN = re.compile(r"\w+|[^\w\s]")


class PriorModelError(RuntimeError):
    """The model folder is missing, incomplete or made for other features."""


Tokens = tuple[list[int], list[int], list[str]]


def _tokens(text: str) -> Tokens:
    """Token starts, ends and lowercased forms; '@user' and '#tag' split like the dataset's tokens."""
    starts, ends, words = [], [], []
    for match in _TOKEN.finditer(text):
        starts.append(match.start())
        ends.append(match.end())
        words.append(match.group().lower())
    return starts, ends, words


def mention_features(text: str, mentions: Sequence[Mention], index: int, tokens: Tokens | None = None) -> list[str]:
    """The feature strings of mentions[index]: type, name, neighbouring words and layout cues."""
    starts, ends, words = tokens or _tokens(text)
    mention = mentions[index]
    kind = mention.type
    first = bisect.bisect_right(ends, mention.start)  # first token ending after the span starts
    last = bisect.bisect_left(starts, mention.end)  # first token starting at or after the span end
    left, right = words[:first], words[last:]
    name = words[first:last] or mention.text.lower().split()
    previous = left[-1] if left else "<s>"
    retweet = bool(left) and left[0] == "rt"
    colon = left.index(":") if ":" in left[:6] else -1  # "RT @ user :" opens a retweet's own text
    same_type = [i for i, other in enumerate(mentions) if other.type == kind]
    return [
        f"t={kind}",
        f"t={kind}|len={min(len(name), 4)}",
        "ent=" + " ".join(name),
        *(f"t={kind}|ew={word}" for word in name),
        f"t={kind}|prev={previous}",
        f"t={kind}|prev2={' '.join(left[-2:])}",
        f"t={kind}|next={right[0] if right else '</s>'}",
        *("l=" + word for word in left[-3:]),
        *("r=" + word for word in right[:3]),
        f"t={kind}|cpos={min(len(left) - colon - 1, 6)}",
        f"t={kind}|rank={min(same_type.index(index), 2)}",
        f"t={kind}|nsame={min(len(same_type), 3)}",
        f"t={kind}|n={min(len(mentions), 4)}",
        f"t={kind}|at={previous == '@'}|hash={previous == '#'}",
        f"t={kind}|rt={retweet}|rtslot={retweet and previous == '@' and len(left) == 2}",
        f"t={kind}|nper={min(sum(other.type == 'PER' for other in mentions), 3)}",
        f"t={kind}|rlen={min(len(right), 5)}",
    ]


def feature_indices(features: Sequence[str], dim: int) -> np.ndarray:
    """Stable (process-independent) hashed columns of a feature list, without repeats."""
    return np.unique(np.fromiter((zlib.crc32(f.encode("utf-8")) % dim for f in features), dtype=np.int64))


def post_feature_indices(text: str, mentions: Sequence[Mention], dim: int) -> list[np.ndarray]:
    tokens = _tokens(text)
    return [feature_indices(mention_features(text, mentions, i, tokens), dim) for i in range(len(mentions))]


@dataclass(frozen=True)
class GroundabilityPrior:
    weights: np.ndarray  # float32 (dim,): the logistic regression's coefficient per hashed column
    bias: float
    metadata: dict[str, Any] = field(default_factory=dict)  # training facts, shown in model listings
    name: str = "groundability-prior"

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))

    def predict(self, text: str, mentions: Sequence[Mention]) -> list[float]:
        """Probability, per mention, that the post's image shows it."""
        logits = [
            self.bias + float(self.weights[cols].sum()) for cols in post_feature_indices(text, mentions, self.dim)
        ]
        return [float(p) for p in 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))]

    @classmethod
    def load(cls, path: Path | str | None = None) -> GroundabilityPrior | EncoderPrior:
        """The model in `path`, by default the one shipped in resources/models/groundability.

        config.json's "kind" says which: "logistic" (this class; the default for older folders)
        or "encoder" (`encoder_prior.EncoderPrior`, which needs torch). Both have `.predict`.
        """
        folder = Path(path) if path is not None else DEFAULT_DIR
        try:
            config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            kind = config.get("kind", "logistic")
            if kind == "encoder":
                from groundlens.core.pipeline.entailment.encoder_prior import LOGISTIC_DIR, EncoderPrior

                logistic = cls.load(folder / LOGISTIC_DIR) if config.get("blend") else None
                return EncoderPrior.load(folder, config, logistic)
            if kind != "logistic":
                raise PriorModelError(f"{folder} holds a groundability prior of unknown kind {kind!r}")
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as arrays:
                columns, values = arrays["columns"], arrays["values"]
        except (OSError, json.JSONDecodeError, KeyError, ValueError) as error:
            raise PriorModelError(f"cannot load the groundability prior from {folder}: {error}") from None
        if config.get("features_version") != FEATURES_VERSION:
            raise PriorModelError(
                f"{folder} was trained for features version {config.get('features_version')}, "
                f"this code computes version {FEATURES_VERSION}: retrain with `main.py train-prior`"
            )
        weights = np.zeros(int(config["dim"]), dtype=np.float32)
        weights[columns] = values
        return cls(weights=weights, bias=float(config["bias"]), metadata=config.get("metadata", {}))

    def save(self, path: Path | str) -> None:
        """Non-zero weights only (most hashed columns are never used), plus a JSON config."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        columns = np.flatnonzero(self.weights).astype(np.int32)
        with atomic_output(folder / WEIGHTS_FILE, "wb") as handle:
            np.savez_compressed(handle, columns=columns, values=self.weights[columns].astype(np.float32))
        config = {
            "kind": "logistic",
            "features_version": FEATURES_VERSION,
            "dim": self.dim,
            "bias": self.bias,
            "metadata": self.metadata,
        }
        write_text_atomic(folder / CONFIG_FILE, json.dumps(config, indent=2))
