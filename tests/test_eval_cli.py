"""`main.py eval` end to end on two-post datasets written in tmp_path (scores and grounding figures computed by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli import cli

CONLL = """IMGID:p1
Ted\tB-PER
Cruz\tI-PER
speaks\tO
in\tO
Texas\tB-LOC

IMGID:p2
Taylor\tB-PER
Swift\tI-PER
and\tO
Apple\tB-ORG
"""

VOC = """<annotation><size><width>500</width><height>400</height><depth>3</depth></size>
<object><name>Ted Cruz</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>220</ymax></bndbox></object>
</annotation>"""


def record(post_id: str, *entities: dict) -> str:
    return json.dumps({"id": post_id, "error": None, "entities": list(entities)})


def ent(text: str, kind: str, box=None, groundable=None) -> dict:
    return {
        "text": text,
        "start": 0,
        "end": len(text),
        "type": kind,
        "score": 0.9,
        "expression": None,
        "groundable": groundable,
        "groundable_score": None,
        "box": box,
        "box_score": None,
        "mask": None,
    }


def write_dataset(root: Path, conll: str, voc_files: dict[str, str]) -> Path:
    """A dev split in the Twitter-GMNER layout: txt/dev.txt and xml/<id>.xml."""
    (root / "txt").mkdir(parents=True)
    (root / "xml").mkdir()
    (root / "txt" / "dev.txt").write_text(conll, encoding="utf-8")
    for image_id, text in voc_files.items():
        (root / "xml" / f"{image_id}.xml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "gmner", CONLL, {"p1": VOC})


def test_eval_end_to_end(dataset: Path, tmp_path: Path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text(
        "\n".join(
            [
                record("p1", ent("Ted Cruz", "PER", [10, 20, 110, 220], True), ent("Texas", "LOC", None, False)),
                record("p2", ent("Taylor Swift", "PER", [0, 0, 10, 10], True), ent("Apple", "OTHER")),
                record("p9"),
                "this is not json",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli, ["eval", "--gold", str(dataset), "--split", "dev", "--pred", str(pred), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "GMNER" in result.output and "1 of 4 lines were malformed" in result.output
    report = json.loads(out.read_text())
    # gold: Ted Cruz (pictured), Texas, Taylor Swift, Apple (not pictured)
    # MNER: 3 of 4 (Apple typed OTHER); EEG: 3 (Taylor Swift's box is wrong); GMNER: 2
    assert (report["mner"]["correct"], report["eeg"]["correct"], report["gmner"]["correct"]) == (3, 3, 2)
    assert report["mner"]["f1"] == pytest.approx(0.75) and report["gmner"]["f1"] == pytest.approx(0.5)
    groundability = report["groundability"]
    assert (groundability["found"], groundability["judged"], groundability["correct"]) == (3, 3, 2)
    assert groundability["accuracy_all_gold"] == pytest.approx(0.5)
    assert report["extra_ids"] == {"count": 1, "first": ["p9"]} and report["malformed_lines"] == 1
    assert report["smner"] is None and any("SMNER" in note for note in report["not_scored"])


def test_eval_missing_split_fails_with_a_message(dataset: Path, tmp_path: Path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "--gold", str(dataset), "--split", "test", "--pred", str(pred)])
    assert result.exit_code != 0
    assert "no split 'test'" in result.output and "Traceback" not in result.output


def test_eval_reports_missing_posts(dataset: Path, tmp_path: Path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text(record("p1", ent("Ted Cruz", "PER", [10, 20, 110, 220])) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "--gold", str(dataset), "--pred", str(pred)])
    assert result.exit_code == 0, result.output
    assert "1 gold posts had no prediction" in result.output
    assert "Groundability on the 1 of 4 gold entities" in result.output


# grounding figures ---------------------------------------------------------------------------------------------
PEOPLE_CONLL = """IMGID:q1
Eileen\tB-PER
Collins\tI-PER
and\tO
Grace\tB-PER
Hopper\tI-PER
in\tO
Houston\tB-LOC
with\tO
Falcon\tB-OTHER
9\tI-OTHER

IMGID:q2
Barack\tB-PER
Obama\tI-PER
visits\tO
NASA\tB-ORG
"""
COLLINS, HOPPER, ROCKET = [10, 10, 200, 390], [300, 10, 590, 390], [250, 0, 280, 100]


def voc(*objects: tuple[str, list[int]]) -> str:
    body = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for name, b in objects
    )
    return f"<annotation><size><width>600</width><height>400</height><depth>3</depth></size>{body}</annotation>"


@pytest.fixture
def two_people(tmp_path: Path) -> Path:
    people = voc(("Eileen Collins", COLLINS), ("Grace Hopper", HOPPER), ("Falcon 9", ROCKET))
    return write_dataset(tmp_path / "set", PEOPLE_CONLL, {"q1": people})


def score_grounding(dataset: Path, tmp_path: Path, q1: list[dict], q2: list[dict]) -> tuple[dict, str]:
    pred = tmp_path / "pred.jsonl"
    pred.write_text(record("q1", *q1) + "\n" + record("q2", *q2) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "data"), "eval", "--gold", str(dataset), "--pred", str(pred), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())["grounding"], result.output


def test_names_in_text_order_on_the_wrong_people(two_people: Path, tmp_path: Path):
    # the recogniser misses Falcon 9; each name is boxed on the other person; Obama boxed though not pictured
    figures, output = score_grounding(
        two_people,
        tmp_path,
        [
            ent("Eileen Collins", "PER", HOPPER, True),
            ent("Grace Hopper", "PER", COLLINS, True),
            ent("Houston", "LOC", None, False),
        ],
        [ent("Barack Obama", "PER", [0, 0, 50, 50], True), ent("NASA", "ORG", [0, 0, 9, 9], False)],
    )
    assert (figures["groundable_found"], figures["box_hits"]) == (2, 0)  # Falcon 9 was not found: not counted
    assert (figures["ungroundable_found"], figures["false_boxes"]) == (3, 1)  # NASA's box is declared not groundable
    assert (figures["person_boxes"], figures["wrong_name_boxes"]) == (3, 2)
    rows = {line.split("│")[1].strip(): line.split("│")[2:5] for line in output.splitlines() if line.count("│") == 5}
    assert [cell.strip() for cell in rows["box hits (groundable, IoU >= 0.5)"]] == ["0.0%", "0", "2"]
    assert [cell.strip() for cell in rows["wrong-name person boxes"]] == ["66.7%", "2", "3"]


def test_names_on_the_right_people(two_people: Path, tmp_path: Path):
    near_collins = [15, 20, 205, 380]  # IoU about 0.9 with Collins's gold box
    figures, _ = score_grounding(
        two_people,
        tmp_path,
        [
            ent("Eileen Collins", "PER", near_collins, True),
            ent("Grace Hopper", "PER", HOPPER, True),
            ent("Falcon 9", "OTHER", [0, 0, 600, 400], True),
        ],
        [ent("Barack Obama", "PER", None, False), ent("NASA", "ORG")],
    )
    assert (figures["groundable_found"], figures["box_hits"], figures["box_hit_rate"]) == (3, 2, pytest.approx(2 / 3))
    assert (figures["ungroundable_found"], figures["false_boxes"], figures["false_box_rate"]) == (2, 0, 0.0)
    assert (figures["person_boxes"], figures["wrong_name_boxes"]) == (2, 0)


def test_a_box_over_both_people_is_not_a_wrong_name(two_people: Path, tmp_path: Path):
    figures, _ = score_grounding(two_people, tmp_path, [ent("Grace Hopper", "PER", [0, 0, 600, 400], True)], [])
    assert (figures["box_hits"], figures["person_boxes"], figures["wrong_name_boxes"]) == (0, 1, 0)


UNTOLD_CONLL = """IMGID:q1
Happy\tO
birthday\tO
Grace\tB-PER
Hopper\tI-PER
!\tO
Eileen\tB-PER
Collins\tI-PER
sent\tO
a\tO
video\tO
with\tO
Falcon\tB-OTHER
9\tI-OTHER
"""


def test_misses_are_split_by_cause_and_people_the_text_does_not_place_are_counted_apart(tmp_path: Path):
    """Two pictured people named without saying who is who: leaving them unlocated is the rule,
    so eval counts them apart and gives the hit rate on the other entities."""
    people = voc(("Eileen Collins", COLLINS), ("Grace Hopper", HOPPER), ("Falcon 9", ROCKET))
    dataset = write_dataset(tmp_path / "set", UNTOLD_CONLL, {"q1": people})
    figures, output = score_grounding(
        dataset,
        tmp_path,
        [
            ent("Grace Hopper", "PER", None, True),  # judged pictured, not located
            ent("Eileen Collins", "PER", None, False),  # judged not pictured
            ent("Falcon 9", "OTHER", ROCKET, True),
        ],
        [],
    )
    assert (figures["groundable_found"], figures["box_hits"]) == (3, 1)
    assert (figures["missed_not_pictured"], figures["missed_unlocated"], figures["missed_off_target"]) == (1, 1, 0)
    assert (figures["unplaced_people"], figures["unplaced_hits"], figures["placed_hit_rate"]) == (2, 0, 1.0)
    assert (figures["gold_unplaced_people"], figures["gold_groundable"]) == (2, 3)
    rows = {line.split("│")[1].strip(): line.split("│")[2:5] for line in output.splitlines() if line.count("│") == 5}
    assert [cell.strip() for cell in rows["people the text does not tell apart"]] == ["66.7%", "2", "3"]
    assert [cell.strip() for cell in rows["box hits on the others"]] == ["100.0%", "1", "1"]
    assert "2 of 3 gold groundable entities" in " ".join(output.split())


def test_a_box_off_target_is_its_own_miss(two_people: Path, tmp_path: Path):
    figures, _ = score_grounding(two_people, tmp_path, [ent("Grace Hopper", "PER", COLLINS, True)], [])
    assert (figures["box_hits"], figures["missed_off_target"], figures["unplaced_people"]) == (0, 1, 0)
