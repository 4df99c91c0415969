"""Backends without learned weights of their own: templates, box post-processing, the
face-to-person rule and the text-only prior judge."""

from __future__ import annotations

import numpy as np
import pytest

from groundlens.core.pipeline import box_ops as pp
from groundlens.core.pipeline.entailment.prior_judge import PriorJudge, shift_probability
from groundlens.core.pipeline.evidence.people import face_to_person
from groundlens.core.pipeline.expression.template import TemplateExpressionWriter
from groundlens.core.pipeline.types import Mention


def m(text, type_):
    return Mention(0, len(text), text, type_, 1.0)


def test_template_expressions_per_type():
    writer = TemplateExpressionWriter()
    out = writer.express("", [m("Kevin Durant", "PER"), m("Paris", "LOC"), m("Nasa", "ORG"), m("iPhone", "OTHER")])
    assert out == ["Kevin Durant, a person", "Paris, a place", "Nasa, an organisation or its logo", "iPhone"]


def test_cxcywh_conversion_padded_square_and_unpadded():
    # a 200x100 image: OWLv2 saw a 200x200 padded square, so y is relative to 200
    box = np.array([[0.5, 0.25, 0.5, 0.5]])
    assert pp.from_padded_square(box, 200, 100).tolist() == [[50.0, 0.0, 150.0, 100.0]]
    assert pp.from_unpadded(box, 200, 100).tolist() == [[50.0, 0.0, 150.0, 50.0]]
    # a box reaching into the padding is clipped to the real image
    assert pp.from_padded_square(np.array([[0.5, 0.75, 0.2, 0.5]]), 200, 100).tolist() == [[80.0, 100.0, 120.0, 100.0]]
    # a tall image pads on the right instead
    assert pp.from_padded_square(np.array([[0.25, 0.5, 0.5, 1.0]]), 100, 200).tolist() == [[0.0, 0.0, 100.0, 200.0]]


def test_iou_and_nms():
    assert pp.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert pp.iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    boxes = [(0, 0, 10, 10), (1, 0, 11, 10), (50, 50, 60, 60), (0, 0, 9, 10)]
    scores = [0.6, 0.9, 0.5, 0.1]
    assert pp.nms(boxes, scores, iou_threshold=0.5) == [1, 2]
    assert pp.nms(boxes, scores, iou_threshold=0.5, score_threshold=0.55) == [1]
    assert pp.nms([], []) == []


def test_best_per_query_thresholds_and_skips_empty_boxes():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 5, 9], [1, 1, 4, 4]], dtype=float)  # the second has no width
    scores = np.array([[0.2, 0.05], [0.99, 0.9], [0.6, 0.01]])
    assert pp.best_per_query(scores, boxes, threshold=0.3) == [((1.0, 1.0, 4.0, 4.0), 0.6), None]


def test_face_box_grows_to_head_and_shoulders_inside_the_image():
    assert face_to_person((100, 50, 120, 70), 400, 300) == (80.0, 40.0, 140.0, 110.0)
    assert face_to_person((5, 5, 25, 25), 40, 40) == (0.0, 0.0, 40.0, 40.0)


class TablePrior:
    version = "table"

    def __init__(self, p):
        self.p = p

    def predict(self, text, mentions):
        return [self.p[x.type] for x in mentions]


def test_prior_judge_is_the_text_prior_with_its_evidence():
    judge = PriorJudge(TablePrior({"PER": 0.8, "LOC": 0.3}))
    per, loc = judge.judge(None, "", [m("A", "PER"), m("Paris", "LOC")], ["", ""])
    assert (per.score, loc.score) == (0.8, 0.3)
    assert per.evidence[0].detail == "the post's wording suggests it is pictured, 0.80"
    assert loc.evidence[0].detail == "the post's wording suggests it is not pictured, 0.30"
    assert judge.judge(None, "", [], []) == [] and judge.version == "2+table"


def test_shift_probability_moves_log_odds():
    assert shift_probability(0.5, 0.0) == pytest.approx(0.5)
    assert shift_probability(0.5, 1.0) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert shift_probability(0.9, -3.0) == pytest.approx(1 / (1 + np.exp(-(np.log(9) - 3))))
