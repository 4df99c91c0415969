"""The groundability prior: the shipped model's judgement, its features, and training end to end."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.pipeline.entailment.prior import DEFAULT_DIR, GroundabilityPrior, PriorModelError, mention_features
from tests.helpers.gmner import mentions


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


def test_load_explains_a_missing_or_stale_model(tmp_path):
    with pytest.raises(PriorModelError, match="cannot load"):
        GroundabilityPrior.load(tmp_path / "nowhere")
    weights = np.zeros(64, dtype=np.float32)
    weights[[3, 17]] = (0.5, -1.25)
    GroundabilityPrior(weights=weights, bias=0.1).save(tmp_path / "copy")
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert np.array_equal(GroundabilityPrior.load(tmp_path / "copy").weights, weights)
    config["features_version"] = -1
    (tmp_path / "copy" / "config.json").write_text(json.dumps(config))
    with pytest.raises(PriorModelError, match="retrain"):
        GroundabilityPrior.load(tmp_path / "copy")


def write_split(root: Path, split: str, count: int, offset: int) -> None:
    """Posts where persons are always pictured and places never: a rule any working trainer learns."""
    lines = []
    for n in range(offset, offset + count):
        lines += [
            f"IMGID:{n}",
            "Alice\tB-PER",
            f"Smith{n % 7}\tI-PER",
            "visits\tO",
            "Springfield\tB-LOC",
            "today\tO",
            "",
        ]
        (root / "xml" / f"{n}.xml").write_text(
            f"<annotation><object><name>Alice Smith{n % 7}</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
            "<xmax>50</xmax><ymax>50</ymax></bndbox></object></annotation>",
            encoding="utf-8",
        )
    (root / "txt" / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")


def train_on_toy_data(tmp_path: Path, train_posts: int, *options: str) -> tuple[str, Path]:
    """Run train-prior on the toy dataset; (its output, the model folder). Both runs must tell persons from places."""
    data = tmp_path / "gmner"
    (data / "txt").mkdir(parents=True)
    (data / "xml").mkdir()
    write_split(data, "train", train_posts, 0)
    write_split(data, "dev", 10, 100)
    out = tmp_path / "model"
    result = CliRunner().invoke(cli, ["train-prior", *options, "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "Alice Smith3 visits Springfield today"
    person, place = GroundabilityPrior.load(out).predict(
        text, mentions(text, ("Alice Smith3", "PER"), ("Springfield", "LOC"))
    )
    assert person > 0.5 > place
    return result.output, out


def test_train_prior_end_to_end(tmp_path: Path):
    output, out = train_on_toy_data(tmp_path, 30)
    assert "dev accuracy 100.00%" in output
    assert {p.name for p in out.iterdir()} == {"weights.npz", "config.json", "MODEL_CARD.md"}
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert re.search(rf"in \d+ s on a {os.cpu_count()}-core machine", card)  # this run's wall time and machine
    assert "2026-11-21" not in card and "76.1%" not in card  # no figures of an earlier study


def test_train_prior_needs_both_splits(tmp_path: Path):
    (tmp_path / "txt").mkdir()
    result = CliRunner().invoke(cli, ["train-prior", "--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "has no train split" in result.output


def tiny_encoder_folder(folder: Path, blend: bool) -> None:
    """A randomly initialised 2-layer BERT with the packaged tokenizer, saved the way training saves it."""
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, BertConfig, BertModel

    from groundlens.core.pipeline.entailment.encoder_net import SpanGroundabilityModel
    from groundlens.core.training.groundability_encoder import (
        EncoderReport,
        EncoderSettings,
        base_model_dir,
        save_encoder_prior,
    )

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    model = SpanGroundabilityModel(BertModel(config))
    report = EncoderReport(
        epoch=1,
        variant="blend" if blend else "encoder",
        dev_accuracy=0.5,
        encoder_dev_accuracy=0.5,
        blend_dev_accuracy=0.5,
        logistic_dev_accuracy=0.5,
        type_only_dev_accuracy=0.5,
        blend=(0.5, 1.0, 0.1),
    )
    logistic = GroundabilityPrior(weights=np.random.default_rng(0).normal(size=64).astype(np.float32), bias=-0.2)
    save_encoder_prior(folder, model, tokenizer, report, logistic, EncoderSettings(max_length=16))


@pytest.mark.slow
@pytest.mark.parametrize("blend", [False, True])
def test_encoder_prior_loads_and_predicts_in_batches(tmp_path: Path, blend: bool):
    from groundlens.core.pipeline.entailment.encoder_prior import EncoderPrior

    tiny_encoder_folder(tmp_path / "enc", blend)
    prior = GroundabilityPrior.load(tmp_path / "enc")
    assert isinstance(prior, EncoderPrior) and (prior.logistic is not None) == blend
    long = "Selfie with Justin Bieber at the mall in London ! " + "so much fun today " * 10 + "Paris"
    posts = [
        (
            "Taylor Swift performs in Paris tonight",
            mentions("Taylor Swift performs in Paris tonight", ("Taylor Swift", "PER"), ("Paris", "LOC")),
        ),
        ("nothing to see", []),
        (
            long,
            mentions(long, ("Justin Bieber", "PER"), ("London", "LOC"), ("Paris", "OTHER")),
        ),  # Paris is cut off at 16 pieces
    ]
    batched = prior.predict_posts(posts)
    assert [len(scores) for scores in batched] == [2, 0, 3]
    assert all(0.0 < s < 1.0 for scores in batched for s in scores)
    for (text, found), scores in zip(posts, batched):
        assert prior.predict(text, found) == pytest.approx(scores, abs=1e-5)  # padding in a batch changes nothing
    config = json.loads((tmp_path / "enc" / "config.json").read_text())
    config["kind"] = "transformer-xl"
    (tmp_path / "enc" / "config.json").write_text(json.dumps(config))
    with pytest.raises(PriorModelError, match="transformer-xl"):
        GroundabilityPrior.load(tmp_path / "enc")


@pytest.mark.slow
def test_train_encoder_prior_end_to_end(tmp_path: Path):
    pytest.importorskip("torch")
    output, out = train_on_toy_data(tmp_path, 40, "--kind", "encoder")
    assert "epoch 3: dev accuracy" in output and "type only 100.00%" in output
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert re.search(r"This run trained in \d+ (min \d+ s|s) with \d+ torch threads? on a \d+-core machine", card)
    assert re.search(r"ran \d+\s+entities/s in float32 there", card) and "446" not in card
    blend = {"logistic"} if "(blend;" in output else set()  # the blend's logistic prior is kept only when it is used
    assert {p.name for p in out.iterdir()} == {"encoder", "config.json", "MODEL_CARD.md", *blend}
    assert GroundabilityPrior.load(out).metadata["settings"]["frozen_layers"] == 0
