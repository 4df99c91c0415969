"""Hand-computed cases for the GMNER protocol: spans, types, IoU at the threshold, one-to-one matching."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from groundlens.core.datasets.gmner import GmnerPost, GoldEntity
from groundlens.core.evaluation.boxes import box_iou
from groundlens.core.evaluation.masks import GoldMasks, read_gold_masks
from groundlens.core.evaluation.predictions import PredictionFile, parse_line, read_predictions
from groundlens.core.evaluation.scoring import evaluate, region_correct

BOX = (0.0, 0.0, 100.0, 100.0)


def gold(post_id: str, *entities: tuple[str, str, tuple]) -> GmnerPost:
    """A gold post from (text, type, boxes) triples; offsets do not matter to scoring."""
    return GmnerPost(
        image_id=post_id,
        tokens=[],
        tags=[],
        entities=[
            GoldEntity(text=t, type=k, start=0, end=len(t), token_start=0, token_end=1, boxes=b) for t, k, b in entities
        ],
    )


def entity(text: str, kind: str, box=None, groundable=None, mask=None) -> dict:
    return {
        "text": text,
        "start": 0,
        "end": len(text),
        "type": kind,
        "score": 1.0,
        "groundable": groundable,
        "box": list(box) if box else None,
        "mask": mask,
    }


def predictions(**posts: list[dict]) -> PredictionFile:
    result = PredictionFile()
    for post_id, entities in posts.items():
        result.posts[post_id] = parse_line(json.dumps({"id": post_id, "error": None, "entities": entities}))
    return result


def f1s(report) -> tuple[float, float, float]:
    return round(report.mner.f1, 4), round(report.eeg.f1, 4), round(report.gmner.f1, 4)


def test_exact_match_scores_one_everywhere():
    report = evaluate(
        [gold("1", ("Ted Cruz", "PER", (BOX,)), ("Texas", "LOC", ()))],
        predictions(**{"1": [entity("Ted Cruz", "PER", BOX), entity("Texas", "LOC")]}),
    )
    assert f1s(report) == (1.0, 1.0, 1.0)
    assert report.groundability.accuracy == 1.0


def test_wrong_type_counts_for_eeg_only():
    report = evaluate([gold("1", ("Ted Cruz", "PER", (BOX,)))], predictions(**{"1": [entity("Ted Cruz", "ORG", BOX)]}))
    assert f1s(report) == (0.0, 1.0, 0.0)
    assert report.groundability.found == 0  # groundability is judged on entities found with the right type


@pytest.mark.parametrize(
    ("height", "iou", "correct"),
    [(50.0, 0.5, True), (49.9, 0.499, False), (51.0, 0.51, True)],
)
def test_iou_at_the_threshold(height: float, iou: float, correct: bool):
    box = (0.0, 0.0, 100.0, height)
    assert box_iou(box, BOX) == pytest.approx(iou)
    report = evaluate([gold("1", ("Paris", "LOC", (BOX,)))], predictions(**{"1": [entity("Paris", "LOC", box)]}))
    assert report.gmner.correct == int(correct)
    assert report.mner.correct == 1


def test_any_of_several_gold_boxes_is_enough():
    boxes = ((0.0, 0.0, 10.0, 10.0), (100.0, 100.0, 200.0, 200.0))
    assert region_correct(boxes, (105.0, 100.0, 200.0, 200.0))
    assert not region_correct(boxes, (300.0, 300.0, 400.0, 400.0))
    assert box_iou((0.0, 0.0, 10.0, 10.0), (20.0, 20.0, 30.0, 30.0)) == 0.0


def test_duplicate_predictions_match_once():
    report = evaluate(
        [gold("1", ("Trump", "PER", ()))], predictions(**{"1": [entity("Trump", "PER"), entity("Trump", "PER")]})
    )
    # one correct out of two predicted and one gold: P = 0.5, R = 1, F1 = 2/3
    assert (report.mner.correct, report.mner.predicted, report.mner.gold) == (1, 2, 1)
    assert report.gmner.precision == 0.5 and report.gmner.recall == 1.0
    assert report.gmner.f1 == pytest.approx(2 / 3)


def test_two_gold_mentions_of_one_name_need_two_predictions():
    post = gold("1", ("Trump", "PER", ()), ("Trump", "PER", ()))
    assert evaluate([post], predictions(**{"1": [entity("Trump", "PER")]})).mner.correct == 1
    assert evaluate([post], predictions(**{"1": [entity("Trump", "PER")] * 2})).mner.correct == 2


def test_ungroundable_regions():
    post = gold("1", ("Texas", "LOC", ()), ("Ted Cruz", "PER", (BOX,)))
    # both say ungroundable: correct; a box declared not groundable is no region; a missing box on a pictured entity is wrong
    both = predictions(**{"1": [entity("Texas", "LOC", BOX, groundable=False), entity("Ted Cruz", "PER")]})
    report = evaluate([post], both)
    assert report.gmner.correct == 1
    # a box on an entity the image does not show is wrong
    report = evaluate([post], predictions(**{"1": [entity("Texas", "LOC", BOX, groundable=True)]}))
    assert report.gmner.correct == 0 and report.mner.correct == 1


def test_groundability_accuracy_counts_only_found_entities_with_a_verdict():
    post = gold("1", ("Texas", "LOC", ()), ("Ted Cruz", "PER", (BOX,)), ("NASA", "ORG", ()), ("Obama", "PER", (BOX,)))
    pred = predictions(
        **{
            "1": [
                entity("Texas", "LOC", groundable=False),  # right
                entity("Ted Cruz", "PER", groundable=False),  # wrong
                entity("NASA", "ORG"),  # no verdict: not judged
            ]
        }
    )  # Obama not found
    stats = evaluate([post], pred).groundability
    assert (stats.gold_entities, stats.found, stats.judged, stats.correct) == (4, 3, 2, 1)
    assert stats.accuracy == 0.5 and stats.accuracy_all_gold == 0.25
    assert stats.ungroundable_baseline == 0.5


def test_missing_extra_and_failed_posts():
    posts = [gold("1", ("Texas", "LOC", ())), gold("2", ("NASA", "ORG", ()))]
    pred = predictions(**{"1": [], "99": [entity("NASA", "ORG")]})
    pred.posts["1"].error = "grounding failed"
    report = evaluate(posts, pred)
    assert report.missing_ids == ["2"] and report.extra_ids == ["99"] and report.failed_posts == 1
    assert (report.mner.correct, report.mner.predicted, report.mner.gold) == (0, 0, 2)
    assert any("text-only baseline" in note for note in report.not_scored)  # no prediction has a box or verdict
    assert any("SMNER: not scored" in note for note in report.not_scored)


def test_malformed_lines_are_counted_and_skipped(tmp_path):
    lines = [
        json.dumps({"id": "1", "error": None, "entities": [entity("Texas", "LOC")]}),
        "{not json",
        json.dumps({"id": "2", "entities": [{"text": "x", "type": "PER", "box": [1, 2, 3]}]}),
        json.dumps({"id": "3", "entities": "none"}),
        json.dumps({"entities": []}),
        json.dumps({"id": "1", "entities": []}),
        "",
    ]
    path = tmp_path / "pred.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    found = read_predictions(path)
    assert list(found.posts) == ["1"] and found.posts["1"].entities[0].text == "Texas"
    assert (found.lines, found.malformed, found.duplicates) == (6, 4, 1)
    assert found.messages[0].startswith("line 2: not valid JSON")
    assert "box" in found.messages[1] and "line 6" in found.messages[-1]


def rle(array: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(array.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode()}


def test_smner_mask_iou(tmp_path):
    pictured = np.zeros((10, 10), bool)
    pictured[0:10, 0:4] = True  # 40 px
    half = np.zeros((10, 10), bool)
    half[0:10, 0:2] = True  # IoU 20/40 = 0.5
    less = np.zeros((10, 10), bool)
    less[0:9, 0:2] = True  # IoU 18/40 < 0.5
    (tmp_path / "1.json").write_text(
        json.dumps({"size": [10, 10], "objects": [{"name": "Ted Cruz", "segmentation": rle(pictured)}]})
    )
    (tmp_path / "2.json").write_text("{broken")
    masks = read_gold_masks(tmp_path, ["1", "2", "3"])
    assert list(masks.by_post) == ["1"] and "2.json" in masks.malformed[0]
    post = gold("1", ("Ted Cruz", "PER", (BOX,)), ("Texas", "LOC", ()))
    for mask, correct, mean in ((half, 2, 0.5), (less, 1, 0.45)):
        report = evaluate(
            [post],
            predictions(**{"1": [entity("Ted Cruz", "PER", BOX, mask=rle(mask)), entity("Texas", "LOC")]}),
            masks,
        )
        scores = report.smner.to_dict()
        assert scores["correct"] == correct and scores["posts"] == 1
        assert scores["mean_iou"] == pytest.approx(mean)


def test_gold_masks_lookup_matches_case_insensitively():
    masks = GoldMasks(by_post={"1": {"Ted Cruz": [{"size": [1, 1], "counts": "01"}]}})
    assert len(masks.for_entity("1", "ted cruz")) == 1 and masks.for_entity("1", "Texas") == ()
