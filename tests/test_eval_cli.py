"""`main.py eval` end to end on a two-post dataset written in tmp_path (scores computed by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import cli

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
    return {"text": text, "start": 0, "end": len(text), "type": kind, "score": 0.9, "expression": None,
            "groundable": groundable, "groundable_score": None, "box": box, "box_score": None, "mask": None}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "gmner"
    (root / "txt").mkdir(parents=True)
    (root / "xml").mkdir()
    (root / "txt" / "dev.txt").write_text(CONLL, encoding="utf-8")
    (root / "xml" / "p1.xml").write_text(VOC, encoding="utf-8")
    return root


def test_eval_end_to_end(dataset: Path, tmp_path: Path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join([
        record("p1", ent("Ted Cruz", "PER", [10, 20, 110, 220], True), ent("Texas", "LOC", None, False)),
        record("p2", ent("Taylor Swift", "PER", [0, 0, 10, 10], True), ent("Apple", "OTHER")),
        record("p9"),
        "this is not json",
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["eval", "--gold", str(dataset), "--split", "dev", "--pred", str(pred), "--json", str(out)])
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
