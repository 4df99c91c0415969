"""Backends without learned weights of their own: templates, box post-processing, the Haar
person grounder and the prior judge's evidence rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.pipeline.entailment.prior_judge import PriorJudge, shift_probability
from core.pipeline.expression.template import TemplateExpressionWriter
from core.pipeline.grounding import postprocess as pp
from core.pipeline.grounding.person_detector import (
    Detection, PersonDetectorGrounder, face_to_person, rank_score, shared_detector,
)
from core.pipeline.types import Mention

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images"
needs_demo = pytest.mark.skipif(not (DEMO / "grace_hopper.jpg").exists(), reason="demo images not in resources/demo")


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
    assert face_to_person(100, 50, 20, 20, 400, 300) == (80.0, 40.0, 140.0, 110.0)
    assert face_to_person(5, 5, 20, 20, 40, 40) == (0.0, 0.0, 40.0, 40.0)


def test_ranking_prefers_big_central_confident_people():
    centre = Detection((40, 40, 60, 60), 0.8, "f")
    corner = Detection((0, 0, 20, 20), 0.8, "f")
    big = Detection((20, 20, 80, 80), 0.8, "f")
    assert rank_score(centre, 100, 100) > rank_score(corner, 100, 100)
    assert rank_score(big, 100, 100) > rank_score(centre, 100, 100)


class ListDetector:
    def __init__(self, detections):
        self.detections = detections

    def detect(self, image):
        return self.detections


def test_person_grounder_gives_distinct_people_scenes_for_places_and_nothing_else():
    people = [Detection((10, 10, 50, 90), 0.9, "f"), Detection((60, 10, 90, 90), 0.7, "f")]
    grounder = PersonDetectorGrounder(ListDetector(people))
    image = Image.new("RGB", (100, 100))
    out = grounder.ground(image, [m("A", "PER"), m("Paris", "LOC"), m("B", "PER"), m("C", "PER"), m("Nasa", "ORG"),
                                  m("Oscar", "OTHER")], [""] * 6)
    assert out == [((10, 10, 50, 90), 0.9), ((0.0, 0.0, 100.0, 100.0), 0.5), ((60, 10, 90, 90), 0.7), None, None, None]


@needs_demo
def test_haar_detector_finds_the_portrait_and_not_the_rocket():
    detector = shared_detector()
    hopper = Image.open(DEMO / "grace_hopper.jpg").convert("RGB")
    found = detector.detect(hopper)
    assert found and found[0].kind == "haarcascade_frontalface_alt2.xml" and found[0].score > 0.5
    assert detector.detect(hopper) is found  # same image object: detection cached for the grounder
    small = hopper.resize((hopper.width // 2, hopper.height // 2))
    [half] = detector.detect(small)[:1]
    assert np.allclose(half.box, np.array(found[0].box) / 2, atol=12)  # boxes are in the given image's pixels
    if (DEMO / "rocket.jpg").exists():
        assert detector.detect(Image.open(DEMO / "rocket.jpg").convert("RGB")) == []


class TablePrior:
    version = "table"

    def __init__(self, p):
        self.p = p

    def predict(self, text, mentions):
        return [self.p[x.type] for x in mentions]


def test_prior_judge_shifts_per_by_person_evidence_only():
    prior = TablePrior({"PER": 0.5, "LOC": 0.3})
    one_person = ListDetector([Detection((0, 0, 1, 1), 0.9, "f")])
    judge = PriorJudge(prior, one_person, person_boost=1.0, no_person_shift=-0.5)
    scores = judge.judge(Image.new("RGB", (4, 4)), "", [m("A", "PER"), m("Paris", "LOC"), m("B", "PER")], ["", "", ""])
    assert scores == pytest.approx([shift_probability(0.5, 1.0), 0.3, shift_probability(0.5, -0.5)])
    assert scores[0] > 0.5 > scores[2]
    assert PriorJudge(prior, None).judge(None, "", [m("A", "PER")], [""]) == [0.5]
    assert judge.version == "1+table"


@needs_demo
def test_prior_judge_with_the_shipped_prior_and_real_detector():
    from core.pipeline import registry

    text = "Grace Hopper speaking at the Pentagon in Washington"
    mentions = [Mention(0, 12, "Grace Hopper", "PER", 1.0), Mention(41, 51, "Washington", "LOC", 1.0)]
    hopper = Image.open(DEMO / "grace_hopper.jpg").convert("RGB")
    with_evidence = registry.create("entailment", "prior").judge(hopper, text, mentions, ["", ""])
    prior_only = registry.create("entailment", "prior", person_evidence=False).judge(hopper, text, mentions, ["", ""])
    assert all(0 < p < 1 for p in prior_only)
    assert with_evidence[0] == pytest.approx(shift_probability(prior_only[0], 1.0))  # a face was found
    assert with_evidence[1] == prior_only[1]  # places keep the prior


def test_judge_and_grounder_share_one_detector_so_an_image_is_scanned_once():
    from core.pipeline import registry

    judge = registry.create("entailment", "prior")
    grounder = registry.create("grounding", "person_detector")
    assert judge.detector is grounder.detector
