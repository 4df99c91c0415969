"""The groundability prior: the shipped model's judgement, its features, and training end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.pipeline.entailment.prior import DEFAULT_DIR, GroundabilityPrior, PriorModelError, mention_features
from core.pipeline.types import Mention


def mentions(text: str, *names: tuple[str, str]) -> list[Mention]:
    found = []
    for name, kind in names:
        start = text.index(name)
        found.append(Mention(start=start, end=start + len(name), text=name, type=kind, score=1.0))  # type: ignore[arg-type]
    return found


@pytest.fixture(scope="module")
def shipped() -> GroundabilityPrior:
    return GroundabilityPrior.load()


@pytest.mark.parametrize(
    ("text", "pictured", "absent"),
    [
        ("Selfie with Justin Bieber at the mall in London !", ("Justin Bieber", "PER"), ("London", "LOC")),
        ("Taylor Swift performs in Paris tonight", ("Taylor Swift", "PER"), ("Paris", "LOC")),
        ("RT @CNN: Obama speaks about the economy http://t.co/abc", ("Obama", "PER"), ("CNN", "ORG")),
    ],
)
def test_shipped_prior_ranks_the_pictured_entity_first(shipped, text, pictured, absent):
    scores = shipped.predict(text, mentions(text, pictured, absent))
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[0] > 0.5 > scores[1]


def test_shipped_prior_records_how_it_was_made(shipped):
    assert shipped.metadata["dev_accuracy"] > shipped.metadata["type_only_dev_accuracy"]
    assert (DEFAULT_DIR / "MODEL_CARD.md").read_text().count("train-prior") == 1
    assert shipped.predict("no entities here", []) == []


def test_raw_and_tokenised_text_give_the_same_features():
    raw = "RT @tedcruz: Ted Cruz speaks for me! #CruzCrew"
    tokenised = "RT @ tedcruz : Ted Cruz speaks for me ! # CruzCrew"
    a = mention_features(raw, mentions(raw, ("Ted Cruz", "PER"), ("CruzCrew", "OTHER")), 0)
    b = mention_features(tokenised, mentions(tokenised, ("Ted Cruz", "PER"), ("CruzCrew", "OTHER")), 0)
    assert a == b
    assert "t=PER|prev=:" in a and "t=PER|rt=True|rtslot=False" in a


def test_load_explains_a_missing_or_stale_model(tmp_path, shipped):
    with pytest.raises(PriorModelError, match="cannot load"):
        GroundabilityPrior.load(tmp_path / "nowhere")
    shipped.save(tmp_path / "copy")
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert np.array_equal(GroundabilityPrior.load(tmp_path / "copy").weights, shipped.weights)
    config["features_version"] = -1
    (tmp_path / "copy" / "config.json").write_text(json.dumps(config))
    with pytest.raises(PriorModelError, match="retrain"):
        GroundabilityPrior.load(tmp_path / "copy")


def write_split(root: Path, split: str, count: int, offset: int) -> None:
    """Posts where persons are always pictured and places never: a rule any working trainer learns."""
    lines = []
    for n in range(offset, offset + count):
        lines += [f"IMGID:{n}", "Alice\tB-PER", f"Smith{n % 7}\tI-PER", "visits\tO", "Springfield\tB-LOC", "today\tO", ""]
        (root / "xml" / f"{n}.xml").write_text(
            f"<annotation><object><name>Alice Smith{n % 7}</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
            "<xmax>50</xmax><ymax>50</ymax></bndbox></object></annotation>",
            encoding="utf-8",
        )
    (root / "txt" / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")


def test_train_prior_end_to_end(tmp_path: Path):
    data = tmp_path / "gmner"
    (data / "txt").mkdir(parents=True)
    (data / "xml").mkdir()
    write_split(data, "train", 30, 0)
    write_split(data, "dev", 10, 100)
    out = tmp_path / "model"
    result = CliRunner().invoke(cli, ["train-prior", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "dev accuracy 100.00%" in result.output
    assert {p.name for p in out.iterdir()} == {"weights.npz", "config.json", "MODEL_CARD.md"}
    prior = GroundabilityPrior.load(out)
    text = "Alice Smith3 visits Springfield today"
    person, place = prior.predict(text, mentions(text, ("Alice Smith3", "PER"), ("Springfield", "LOC")))
    assert person > 0.5 > place


def test_train_prior_needs_both_splits(tmp_path: Path):
    (tmp_path / "txt").mkdir()
    result = CliRunner().invoke(cli, ["train-prior", "--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "has no train split" in result.output
