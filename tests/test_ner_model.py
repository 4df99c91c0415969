"""The transformers NER backend end to end: a tiny random model in tmp_path, and the shipped model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groundlens.core.pipeline import registry
from groundlens.core.pipeline.ner.transformers_ner import DEFAULT_MODEL_DIR, weights_version

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-OTHER", "I-OTHER"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "barack", "obama", "paris", "google", "visits", "with", "@", "#"]


def save_tiny_model(folder: Path, favoured_label: str) -> Path:
    """A 1-layer random BERT whose classifier always prefers one label (so the output is known)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    BertTokenizerFast(vocab={word: i for i, word in enumerate(VOCAB)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    torch.manual_seed(0)
    model = BertForTokenClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([5.0 if label == favoured_label else 0.0 for label in LABELS]))
    model.save_pretrained(folder)
    return folder


def test_tiny_random_model_runs_through_the_backend(tmp_path: Path) -> None:
    folder = save_tiny_model(tmp_path / "tiny", favoured_label="B-PER")
    recognizer = registry.create("ner", "transformers", model=str(folder), batch_size=2, threads=1)
    texts = ["Barack Obama visits #Paris 😂 https://t.co/x", "", "  ", "google"]
    found = recognizer.recognize(texts)
    assert len(found) == len(texts)
    # Every word is B-PER: one mention per word, offsets into the raw text, URL and emoji included.
    assert [m.text for m in found[0]] == ["Barack", "Obama", "visits", "#", "Paris", "😂", "https://t.co/x"]
    assert all(texts[0][m.start : m.end] == m.text and m.type == "PER" for m in found[0])
    assert found[1] == [] and found[2] == [] and [m.text for m in found[3]] == ["google"]
    assert recognizer.name == "transformers" and recognizer.version == weights_version(folder)


def test_inside_only_model_is_decoded_into_one_valid_span(tmp_path: Path) -> None:
    # A sequence cannot start with I-ORG, so Viterbi opens it with B-ORG and continues with I-ORG.
    folder = save_tiny_model(tmp_path / "tiny", favoured_label="I-ORG")
    recognizer = registry.create("ner", "transformers", model=str(folder), quantize=False)
    [[mention]] = recognizer.recognize(["Barack Obama visits Paris"])
    assert (mention.start, mention.end, mention.type) == (0, 25, "ORG")


@pytest.mark.slow
def test_shipped_model_finds_obvious_entities() -> None:
    if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
        pytest.fail(f"the shipped NER model is missing from {DEFAULT_MODEL_DIR}")
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").exists()
    recognizer = registry.create("ner", "transformers")
    texts = [
        "Barack Obama visits Paris to meet Google CEO Sundar Pichai",
        "RT @NASA : Astronaut Scott Kelly returns to Houston after a year in space",
        "Great night at Madison Square Garden with Taylor Swift !",
    ]
    found = [{(m.text, m.type) for m in mentions} for mentions in recognizer.recognize(texts)]
    # "Google engineers" alone is a toss-up between ORG and OTHER (products) in this dataset's style.
    assert {("Barack Obama", "PER"), ("Paris", "LOC"), ("Google", "ORG"), ("Sundar Pichai", "PER")} <= found[0]
    assert {("Scott Kelly", "PER"), ("Houston", "LOC")} <= found[1]
    assert ("Taylor Swift", "PER") in found[2]


CONLL = """IMGID:1
RT\tO
@\tO
ESPN\tB-ORG
:\tO
Barack\tB-PER
Obama\tI-PER
visits\tO
Paris\tB-LOC

IMGID:2
#\tO
WorldCup\tB-OTHER
in\tO
Paris\tB-LOC
"""


@pytest.mark.slow
def test_train_ner_command_writes_a_loadable_model_and_card(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from groundlens.cli import cli

    data = tmp_path / "gmner"
    (data / "txt").mkdir(parents=True)
    for split in ("train", "dev"):
        (data / "txt" / f"{split}.txt").write_text(CONLL, encoding="utf-8")
    base = save_tiny_model(tmp_path / "base", favoured_label="O")
    out = tmp_path / "trained"
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(tmp_path / "app"),
            "train-ner",
            "--data",
            str(data),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--base",
            str(base),
            "--mention-swap",
            "0.5",
            "--order-seeds",
            "1,2",
            "--threads",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dev MNER" in result.output
    assert "order 1 epoch 2 done" in result.output and "order 2 epoch 2 done" in result.output
    assert "average of the 2 runs: dev F1" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["groundlens_word_shapes"] is True and config["type_vocab_size"] == 12
    card = (out / "MODEL_CARD.md").read_text()
    assert "train-ner" in card and "--mention-swap 0.5 --order-seeds 1,2" in card and "| ALL |" in card
    assert f"(1 torch thread on a {os.cpu_count()}-core machine, batch 64, measured by this" in card
    assert "2 CPU threads" not in card  # the figure every card printed, whatever the run
    recognizer = registry.create("ner", "transformers", model=str(out))
    repeated = CliRunner().invoke(cli, ["train-ner", "--data", str(data), "--order-seeds", "1,1"])
    assert repeated.exit_code != 0 and "each seed once" in repeated.output
    assert len(recognizer.recognize(["Barack Obama visits Paris", ""])) == 2
