"""Micro P/R/F1 counts, and MNER per type: a prediction counts when its span text and type equal a gold
entity's (one-to-one). NER training chooses epochs with it; `scoring` builds the full protocol on `PRF`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Entity = tuple[str, str]  # (span text, type)


@dataclass
class PRF:
    correct: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return f"P {100 * self.precision:.2f} R {100 * self.recall:.2f} F1 {100 * self.f1:.2f}"


def mner_scores(gold: Sequence[Iterable[Entity]], predicted: Sequence[Iterable[Entity]]) -> dict[str, PRF]:
    """Per-type and overall ("ALL") counts, summed over posts."""
    scores: dict[str, PRF] = {"ALL": PRF()}
    for gold_post, predicted_post in zip(gold, predicted, strict=True):
        gold_counts, predicted_counts = Counter(gold_post), Counter(predicted_post)
        matched = gold_counts & predicted_counts
        for counts, field in ((gold_counts, "gold"), (predicted_counts, "predicted"), (matched, "correct")):
            for (_, kind), n in counts.items():
                for key in ("ALL", kind):
                    score = scores.setdefault(key, PRF())
                    setattr(score, field, getattr(score, field) + n)
    return scores
