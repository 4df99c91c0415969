"""Pipeline orchestration: stage order, skipping, switching off, thresholds, failure isolation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image

from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.pipeline.expression.template import TemplateExpressionWriter
from groundlens.core.pipeline.pipeline import Pipeline
from groundlens.core.pipeline.types import Grounding, Groundings, Judgment, Mention, PointPrompt, PostInput
from groundlens.records import Evidence, ImageObject


class KeywordRecognizer:
    """Finds fixed names; raises on texts containing 'BOOM' (to test isolation)."""

    name, version = "keywords", "t"
    TYPES: ClassVar[dict[str, str]] = {"Grace Hopper": "PER", "Paris": "LOC", "Nasa": "ORG"}

    def __init__(self):
        self.calls: list[int] = []

    def recognize(self, texts):
        self.calls.append(len(texts))
        if any("BOOM" in t for t in texts):
            raise RuntimeError("tokenizer exploded")
        return [
            [
                Mention(m.start(), m.end(), m.group(), self.TYPES[m.group()], 0.9)
                for m in re.finditer("|".join(self.TYPES), t)
            ]
            for t in texts
        ]


class FixedJudge:
    name, version = "fixed", "t"

    def __init__(self, scores):
        self.scores = scores
        self.seen = []

    def judge(self, analysis, text, mentions, expressions):
        self.seen.append(list(expressions))
        return [
            Judgment(self.scores[m.type], [Evidence("prior", f"fixed for {m.type}", self.scores[m.type])])
            for m in mentions
        ]


class CornerGrounder:
    """Boxes the top-left quarter with a score by type; fails on images 13 px wide."""

    name, version = "corner", "t"

    def __init__(self):
        self.calls = 0

    def ground(self, analysis, text, mentions, expressions):
        self.calls += 1
        if analysis.image.size[0] == 13:
            raise ValueError("bad image width")
        w, h = analysis.image.size
        corner = (0.0, 0.0, w / 2, h / 2)
        return Groundings(
            [
                Grounding(
                    corner,
                    {"PER": 0.9, "LOC": 0.05}.get(m.type, 0.5),
                    [Evidence("corner", "top left", 1.0)],
                    points=(PointPrompt(1.0, 1.0),),
                )
                for m in mentions
            ],
            [ImageObject("person", corner, 0.5, candidates=("someone",))],
        )


class BoxMaskSegmenter:
    name, version = "boxmask", "t"

    def __init__(self):
        self.batches = []

    def segment(self, image, boxes, points=None):
        self.batches.append(len(boxes))
        self.points = points
        masks = []
        for x0, y0, x1, y1 in boxes:
            mask = np.zeros((image.size[1], image.size[0]), dtype=bool)
            mask[int(y0) : int(y1), int(x0) : int(x1)] = True
            masks.append(mask)
        return masks


def make(config=None, **overrides):
    backends = {
        "ner": KeywordRecognizer(),
        "expression": TemplateExpressionWriter(),
        "entailment": FixedJudge({"PER": 0.9, "LOC": 0.7, "ORG": 0.2}),
        "grounding": CornerGrounder(),
        "segmentation": BoxMaskSegmenter(),
    }
    backends.update(overrides)
    return Pipeline(config or PipelineConfig(), backends), backends


@pytest.fixture
def image_path(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (40, 20), (120, 80, 40)).save(path)
    return path


def test_full_post_runs_every_stage_in_order(image_path):
    pipeline, b = make()
    [result] = pipeline.run([PostInput("1", "Grace Hopper in Paris with Nasa", image_path)])
    assert result.error is None
    per, loc, org = result.entities
    assert per.expression == "Grace Hopper, a person" and org.expression == "Nasa, an organisation or its logo"
    assert b["entailment"].seen == [["Grace Hopper, a person", "Paris, a place", "Nasa, an organisation or its logo"]]
    assert (per.groundable, loc.groundable, org.groundable) == (True, True, False)
    assert per.box == (0.0, 0.0, 20.0, 10.0) and per.box_score == 0.9
    assert loc.box is None  # below box_threshold
    assert org.box is None and org.mask is None  # not groundable: never grounded
    assert per.mask.shape == (20, 40) and per.mask.sum() == 200
    assert b["segmentation"].batches == [1] and b["segmentation"].points == [(PointPrompt(1.0, 1.0),)]
    assert set(result.timings) == {"ner", "expression", "image", "entailment", "grounding", "segmentation"}
    assert result.model_versions["grounding"] == "corner@t"
    # the verdict follows the box: boxed -> in image, kept without a box -> probably, rejected -> not
    assert (per.verdict, loc.verdict, org.verdict) == ("in_image", "probably", "not_in_image")
    assert [e.kind for e in per.evidence] == ["prior", "corner"] and [e.kind for e in org.evidence] == ["prior"]
    assert result.image_objects == [ImageObject("person", (0.0, 0.0, 20.0, 10.0), 0.5, candidates=("someone",))]


def test_post_without_image_skips_image_stages():
    pipeline, b = make()
    [result] = pipeline.run([PostInput("1", "Grace Hopper", None)])
    assert result.error is None
    [entity] = result.entities
    assert entity.expression == "Grace Hopper, a person"
    assert entity.groundable is None and entity.box is None
    assert b["grounding"].calls == 0 and b["entailment"].seen == []


def test_ner_is_batched_over_texts(image_path):
    pipeline, b = make()
    pipeline.run([PostInput(str(i), "Paris", image_path if i % 2 else None) for i in range(5)])
    assert b["ner"].calls == [5]


def test_entailment_off_grounds_every_entity_and_leaves_groundable_undecided(image_path):
    pipeline, _ = make(PipelineConfig(entailment=None), entailment=None)
    [result] = pipeline.run([PostInput("1", "Grace Hopper and Nasa", image_path)])
    assert [e.groundable for e in result.entities] == [None, None]
    assert [e.verdict for e in result.entities] == [None, None]  # nothing judged: no verdict
    assert [e.box_score for e in result.entities] == [0.9, 0.5]


def test_every_stage_can_be_off(image_path):
    config = PipelineConfig(ner=None, expression=None, entailment=None, grounding=None, segmentation=None)
    pipeline = Pipeline(config, {})
    [result] = pipeline.run([PostInput("1", "Grace Hopper", image_path)])
    assert result.entities == [] and result.error is None and result.model_versions == {}

    pipeline, _ = make(PipelineConfig(expression=None, segmentation=None), expression=None, segmentation=None)
    [result] = pipeline.run([PostInput("1", "Grace Hopper", image_path)])
    [entity] = result.entities
    assert entity.expression is None and entity.box is not None and entity.mask is None


def test_thresholds_come_from_config(image_path):
    config = PipelineConfig(groundable_threshold=0.8, box_threshold=0.95)
    pipeline, _ = make(config)
    [result] = pipeline.run([PostInput("1", "Grace Hopper in Paris", image_path)])
    assert [e.groundable for e in result.entities] == [True, False]
    assert result.entities[0].box is None  # 0.9 < 0.95


def test_a_failing_stage_fails_only_its_post(tmp_path, image_path):
    odd = tmp_path / "odd.png"
    Image.new("RGB", (13, 20)).save(odd)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    pipeline, _ = make()
    results = pipeline.run(
        [
            PostInput("ok", "Grace Hopper", image_path),
            PostInput("grounding", "Grace Hopper", odd),
            PostInput("image", "Grace Hopper", corrupt),
            PostInput("missing", "Grace Hopper", tmp_path / "nope.jpg"),
            PostInput("ner", "BOOM Paris", None),
            PostInput("ok2", "Paris", image_path),
        ]
    )
    by_id = {r.post_id: r for r in results}
    assert by_id["ok"].error is None and by_id["ok"].entities[0].box is not None
    assert by_id["ok2"].error is None and by_id["ok2"].entities[0].groundable is True
    assert by_id["grounding"].error == "grounding: ValueError: bad image width"
    assert by_id["grounding"].entities[0].groundable is True  # earlier stages' results are kept
    assert by_id["image"].error.startswith("image: cannot read") and by_id["image"].entities
    assert by_id["missing"].error.startswith("image: cannot read")
    assert by_id["ner"].error == "ner: RuntimeError: tokenizer exploded" and by_id["ner"].entities == []


def test_backend_returning_wrong_count_is_an_error(image_path):
    class Short(FixedJudge):
        def judge(self, *args):
            return []

    pipeline, _ = make(entailment=Short({}))
    [result] = pipeline.run([PostInput("1", "Grace Hopper", image_path)])
    assert result.error == "entailment: backend returned 0 results for 1 mentions"


def test_from_config_builds_registered_backends():
    config = PipelineConfig(
        ner=None,
        expression=StageConfig("template", {"templates": {"PER": "{name} (person)"}}),
        entailment=StageConfig("prior"),
        grounding=None,
        segmentation=None,
    )
    pipeline = Pipeline.from_config(config)
    assert pipeline.versions["expression"] == "template@1"
    assert pipeline.versions["entailment"].startswith("prior@")
    assert pipeline.backends["expression"].express("", [Mention(0, 3, "Ada", "PER", 1.0)]) == ["Ada (person)"]


def test_broken_image_is_reported_even_when_the_text_has_no_entities(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    pipeline, _ = make()
    [result] = pipeline.run([PostInput("1", "nothing to see", corrupt)])
    assert result.entities == [] and result.error.startswith("image: cannot read")
