"""MNER, EEG, GMNER and SMNER scores plus groundability accuracy (protocol: ../shared/METHOD.md).

Per post, gold entities and predictions are matched one-to-one by a maximum bipartite matching
under each task's criterion, so duplicate predictions can never both count and no greedy order
can lose a match. Counts are summed over posts (micro P/R/F1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from groundlens.core.datasets.gmner import GmnerPost, GoldEntity
from groundlens.core.evaluation.boxes import IOU_THRESHOLD, best_box_iou
from groundlens.core.evaluation.grounding import GroundingFigures
from groundlens.core.evaluation.masks import GoldMasks, best_mask_iou
from groundlens.core.evaluation.metrics import PRF
from groundlens.core.evaluation.predictions import PredictedEntity, PredictionFile

MAX_LISTED_IDS = 10


def region_correct(gold_regions: Sequence, region, best_iou: Callable = best_box_iou) -> bool:
    """Both ungroundable, or the predicted region overlaps ANY gold region of the entity with IoU >= 0.5.

    Regions are boxes by default; SMNER passes masks with `best_mask_iou`.
    """
    if not gold_regions or region is None:
        return not gold_regions and region is None
    return best_iou(region, gold_regions) >= IOU_THRESHOLD


def max_matching(gold: Sequence, predicted: Sequence, ok: Callable) -> list[tuple[int, int]]:
    """Index pairs (gold, predicted) of a maximum one-to-one matching where ok(gold, predicted)."""
    if not gold or not predicted:
        return []
    allowed = np.array([[ok(g, p) for p in predicted] for g in gold], dtype=float)
    from scipy.optimize import linear_sum_assignment  # the [train] extra: evaluation is not in every app

    rows, cols = linear_sum_assignment(allowed, maximize=True)
    return [(r, c) for r, c in zip(rows, cols) if allowed[r, c]]


@dataclass
class Counts(PRF):
    """Micro P/R/F1 counts (the same arithmetic as NER training's MNER score), summed post by post."""

    def add(self, correct: int, predicted: int, gold: int) -> None:
        self.correct += correct
        self.predicted += predicted
        self.gold += gold

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Groundability:
    """Predicted groundable vs gold on the gold entities the prediction found (same text and type)."""

    gold_entities: int = 0
    found: int = 0  # matched by text and type
    judged: int = 0  # found and carrying a verdict (a groundable flag or a box)
    correct: int = 0
    gold_ungroundable_judged: int = 0  # for the all-ungroundable baseline on the same entities

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.judged if self.judged else None

    @property
    def accuracy_all_gold(self) -> float:
        """Missing entities count as wrong: the accuracy 'with gold entities given' when every one was judged."""
        return self.correct / self.gold_entities if self.gold_entities else 0.0

    @property
    def ungroundable_baseline(self) -> float | None:
        return self.gold_ungroundable_judged / self.judged if self.judged else None

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "accuracy": self.accuracy,
            "accuracy_all_gold": self.accuracy_all_gold,
            "ungroundable_baseline": self.ungroundable_baseline,
        }


@dataclass
class MaskScores:
    """SMNER on the posts that have a gold mask file, plus mean IoU over found groundable entities."""

    counts: Counts = field(default_factory=Counts)
    posts: int = 0
    iou_sum: float = 0.0
    iou_entities: int = 0

    def to_dict(self) -> dict:
        mean = self.iou_sum / self.iou_entities if self.iou_entities else 0.0
        return {**self.counts.to_dict(), "posts": self.posts, "mean_iou": mean, "iou_entities": self.iou_entities}


@dataclass
class EvalReport:
    split_posts: int
    mner: Counts = field(default_factory=Counts)
    eeg: Counts = field(default_factory=Counts)
    gmner: Counts = field(default_factory=Counts)
    groundability: Groundability = field(default_factory=Groundability)
    grounding: GroundingFigures = field(default_factory=GroundingFigures)
    smner: MaskScores | None = None
    missing_ids: list[str] = field(default_factory=list)  # gold posts without a prediction
    extra_ids: list[str] = field(default_factory=list)  # predictions for posts not in the split
    failed_posts: int = 0  # predictions whose `error` is set (scored as they are)
    prediction_lines: int = 0
    malformed_lines: int = 0
    duplicate_ids: int = 0
    problems: list[str] = field(default_factory=list)
    not_scored: list[str] = field(default_factory=list)  # what this run could not measure, and why

    def to_dict(self) -> dict:
        return {
            "posts": self.split_posts,
            "mner": self.mner.to_dict(),
            "eeg": self.eeg.to_dict(),
            "gmner": self.gmner.to_dict(),
            "groundability": self.groundability.to_dict(),
            "grounding": self.grounding.to_dict(),
            "smner": self.smner.to_dict() if self.smner else None,
            "missing_ids": {"count": len(self.missing_ids), "first": self.missing_ids[:MAX_LISTED_IDS]},
            "extra_ids": {"count": len(self.extra_ids), "first": self.extra_ids[:MAX_LISTED_IDS]},
            "failed_posts": self.failed_posts,
            "prediction_lines": self.prediction_lines,
            "malformed_lines": self.malformed_lines,
            "duplicate_ids": self.duplicate_ids,
            "problems": self.problems,
            "not_scored": self.not_scored,
        }


def _same_span(g: GoldEntity, p: PredictedEntity) -> bool:
    return g.text == p.text


def _same_typed_span(g: GoldEntity, p: PredictedEntity) -> bool:
    return g.text == p.text and g.type == p.type


def _score_groundability(
    stats: Groundability, gold: list[GoldEntity], predicted: list[PredictedEntity], found: list[tuple[int, int]]
) -> None:
    stats.gold_entities += len(gold)
    for g, p in found:
        stats.found += 1
        verdict = predicted[p].verdict
        if verdict is None:
            continue
        stats.judged += 1
        stats.correct += verdict == gold[g].groundable
        stats.gold_ungroundable_judged += not gold[g].groundable


def _score_masks(
    scores: MaskScores,
    gold_masks: list[tuple],
    gold: list[GoldEntity],
    predicted: list[PredictedEntity],
    found: list[tuple[int, int]],
) -> None:
    """`gold_masks[i]` holds the masks of gold[i]; an entity without masks is ungroundable."""

    def ok(index: int, p: PredictedEntity) -> bool:
        region = None if p.groundable is False else p.mask
        return _same_typed_span(gold[index], p) and region_correct(gold_masks[index], region, best_mask_iou)

    matched = max_matching(range(len(gold)), predicted, ok)
    scores.counts.add(len(matched), len(predicted), len(gold))
    scores.posts += 1
    for g, p in found:
        if gold_masks[g]:
            scores.iou_entities += 1
            mask = predicted[p].mask
            scores.iou_sum += best_mask_iou(mask, gold_masks[g]) if mask is not None else 0.0


def _limits(report: EvalReport, predictions: PredictionFile, masks: GoldMasks | None) -> list[str]:
    """Plain statements of what the numbers do not cover."""
    notes = []
    entities = [e for post in predictions.posts.values() for e in post.entities]
    if entities and all(e.verdict is None for e in entities):
        notes.append(
            "No prediction carries a groundability verdict or a box (were the images missing when it ran?): "
            "every entity counts as ungroundable, so EEG and GMNER measure the text-only baseline."
        )
    boxless = sum(e.groundable is True and e.box is None for e in entities)
    if boxless:
        notes.append(
            f"{boxless} entities are declared groundable without a box: no region, so wrong where gold is pictured."
        )
    if masks is None:
        with_masks = sum(e.mask is not None for e in entities)
        notes.append(
            "SMNER: not scored. Twitter-GMNER has boxes only; masks need a gold mask folder (--gold-masks)"
            + (f"; {with_masks} predicted masks were not checked." if with_masks else ".")
        )
    elif report.smner is not None and report.smner.posts < report.split_posts:
        notes.append(f"SMNER: only the {report.smner.posts} posts with a gold mask file are scored.")
    return notes


def evaluate(gold_posts: list[GmnerPost], predictions: PredictionFile, masks: GoldMasks | None = None) -> EvalReport:
    """Score a prediction file against one split; posts without a prediction count as finding nothing."""
    report = EvalReport(split_posts=len(gold_posts))
    report.smner = MaskScores() if masks is not None else None
    gold_ids = {post.image_id for post in gold_posts}
    for post in gold_posts:
        found = predictions.posts.get(post.image_id)
        if found is None:
            report.missing_ids.append(post.image_id)
        elif found.error is not None:
            report.failed_posts += 1
        predicted = found.entities if found else []
        gold = post.entities
        found_pairs = max_matching(gold, predicted, _same_typed_span)
        report.mner.add(len(found_pairs), len(predicted), len(gold))
        eeg = max_matching(gold, predicted, lambda g, p: _same_span(g, p) and region_correct(g.boxes, p.region))
        report.eeg.add(len(eeg), len(predicted), len(gold))
        gmner = max_matching(gold, predicted, lambda g, p: _same_typed_span(g, p) and region_correct(g.boxes, p.region))
        report.gmner.add(len(gmner), len(predicted), len(gold))
        _score_groundability(report.groundability, gold, predicted, found_pairs)
        report.grounding.add_post(post.text, gold, predicted, found_pairs)
        if masks is not None and report.smner is not None and post.image_id in masks.by_post:
            gold_masks = [masks.for_entity(post.image_id, g.text) for g in gold]
            _score_masks(report.smner, gold_masks, gold, predicted, found_pairs)
    report.extra_ids = sorted(set(predictions.posts) - gold_ids)
    report.prediction_lines = predictions.lines
    report.malformed_lines = predictions.malformed
    report.duplicate_ids = predictions.duplicates
    report.problems = predictions.messages + (masks.malformed if masks else [])
    report.not_scored = _limits(report, predictions, masks)
    return report
