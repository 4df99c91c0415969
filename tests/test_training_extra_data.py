"""Training on the analyst's own corrected posts (issue 14, "Learning from corrections"): extra
folders in the Twitter-GMNER layout join the training split of `train-ner` and `train-prior`,
and a correction repeated there changes what the trained model says about a post it never saw."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.core.datasets.gmner import GmnerFormatError
from groundlens.core.pipeline.types import Mention

WORDS = [
    "today",
    "again",
    "finally",
    "tonight",
    "this",
    "week",
    "with",
    "friends",
    "and",
    "news",
]


def write_gmner(root: Path, split: str, posts: list[tuple[str, list[tuple[str, str]], list[str]]]) -> Path:
    """posts: (image id, [(word, tag)], names of the entities that have a box)."""
    (root / "txt").mkdir(parents=True, exist_ok=True)
    (root / "xml").mkdir(exist_ok=True)
    blocks = ["\n".join([f"IMGID:{image_id}"] + [f"{w}\t{t}" for w, t in words]) for image_id, words, _ in posts]
    (root / "txt" / f"{split}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    for image_id, _, boxed in posts:
        objects = "".join(
            f"<object><name>{name}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50</xmax>"
            f"<ymax>50</ymax></bndbox></object>"
            for name in boxed
        )
        (root / "xml" / f"{image_id}.xml").write_text(
            f"<annotation><size><width>100</width><height>100</height><depth>3</depth></size>{objects}</annotation>",
            encoding="utf-8",
        )
    return root


def sentence(rng: random.Random, name: list[tuple[str, str]]) -> list[tuple[str, str]]:
    before = [(w, "O") for w in rng.sample(WORDS, 2)]
    after = [(w, "O") for w in rng.sample(WORDS, 3)]
    return before + name + after


def base_posts(prefix: str, n: int, seed: int) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """People pictured, organisations not: "Jordan" is always a person here."""
    rng = random.Random(seed)
    people = [
        [("Jordan", "B-PER")],
        [("Maria", "B-PER"), ("Lopez", "I-PER")],
        [("Kim", "B-PER")],
    ]
    orgs = [[("Acme", "B-ORG")], [("Globex", "B-ORG")], [("Initech", "B-ORG")]]
    posts = []
    for i in range(n):
        person, org = rng.choice(people), rng.choice(orgs)
        words = sentence(rng, person) + sentence(rng, org)
        posts.append((f"{prefix}{i}", words, [" ".join(w for w, _ in person)]))
    return posts


def corrected_posts(n: int, seed: int) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """What an analyst corrected, again and again: "Jordan" is the country, and "Zorblax" (an
    organisation) is pictured, its logo boxed."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        words = sentence(rng, [("Jordan", "B-LOC")]) + sentence(rng, [("Zorblax", "B-ORG")])
        posts.append((f"corr{i}", words, ["Zorblax"]))
    return posts


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    data = tmp_path / "gmner"
    write_gmner(data, "train", base_posts("t", 60, 1))
    write_gmner(data, "dev", base_posts("d", 20, 2))
    extra = write_gmner(tmp_path / "corrected", "train", corrected_posts(60, 3))
    return data, extra


def test_a_groundability_correction_repeated_in_extra_data_moves_the_prior_on_an_unseen_post(folders, tmp_path):
    from groundlens.cli import cli
    from groundlens.core.pipeline.entailment.prior import GroundabilityPrior

    data, extra = folders
    text = "news Zorblax opens a store tonight"
    zorblax = [Mention(5, 12, "Zorblax", "ORG", 1.0)]
    runner = CliRunner()
    for out, args in (
        (tmp_path / "plain", []),
        (tmp_path / "with", ["--extra", str(extra)]),
    ):
        result = runner.invoke(cli, ["train-prior", "--data", str(data), "--out", str(out), *args])
        assert result.exit_code == 0, result.output
    [before] = GroundabilityPrior.load(tmp_path / "plain").predict(text, zorblax)
    [after] = GroundabilityPrior.load(tmp_path / "with").predict(text, zorblax)
    assert before < 0.5 < after


def test_extra_data_must_have_a_train_split_and_its_own_image_ids(folders, tmp_path):
    from groundlens.core.datasets.gmner import dataset_paths, read_split
    from groundlens.core.training.extra_data import read_extra

    data, extra = folders
    base = read_split(*dataset_paths(data, "train"))
    assert len(read_extra([extra], base)) == 60
    with pytest.raises(GmnerFormatError, match="no train split"):
        read_extra([data / "txt"], base)
    with pytest.raises(GmnerFormatError, match="image ids already used"):
        read_extra([data], base)  # the training split itself, added again


@pytest.mark.slow
def test_a_type_correction_repeated_in_extra_data_changes_the_recogniser_on_an_unseen_post(folders, tmp_path):
    """A tiny encoder (one layer, random weights, the packaged tokenizer), a short fixed-seed training."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from groundlens.core.pipeline.ner.transformers_ner import TransformersRecognizer, load_tagger
    from groundlens.core.training.train_ner import TrainConfig, packaged_encoder, train

    data, extra = folders
    tiny = tmp_path / "tiny"
    tokenizer = AutoTokenizer.from_pretrained(packaged_encoder())
    tokenizer.save_pretrained(tiny)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=128,
        )
    ).save_pretrained(tiny)
    text = "flying to Jordan tomorrow"
    found = {}
    for name, more in (("plain", ()), ("with", (extra,))):
        config = TrainConfig(
            data=data,
            out=tmp_path / name,
            base=str(tiny),
            epochs=8,
            batch_size=8,
            lr=3e-3,
            head_lr=3e-3,
            average_last=1,
            mention_swap=0.0,
            threads=1,
            bf16=False,
            extra=more,
        )
        train(config, log=lambda _: None)
        [mentions] = TransformersRecognizer(load_tagger(tmp_path / name), version="t").recognize([text])
        found[name] = {(m.text, m.type) for m in mentions}
    assert ("Jordan", "PER") in found["plain"]
    assert ("Jordan", "LOC") in found["with"]
    assert "--extra" in (tmp_path / "with" / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_corrected_posts_export_as_gmner_training_data_that_train_prior_reads(tmp_path):
    """A type correction and a drawn box reach the exported CoNLL and VOC files; uncorrected posts stay out."""
    from groundlens.cli import cli
    from groundlens.core.config import resolve_paths
    from groundlens.core.datasets.gmner import dataset_paths, read_split
    from groundlens.storage import Store
    from groundlens.storage import corrections as fix
    from tests.helpers.storage import make_post, mention

    data_dir = tmp_path / "data"
    with Store.open(resolve_paths(data_dir).ensure().db_path) as store:
        posts = [
            make_post("1", "Macron visits Paris with Merkel", "2024-03-01"),
            make_post("2", "Trump in Ohio"),
        ]
        store.upsert_posts(posts)
        found = [("Macron", "PER"), ("Paris", "ORG"), ("Merkel", "PER")]
        store.save_result(posts[0].id, "cfg", [mention(posts[0], s, k) for s, k in found], None)
        store.save_result(posts[1].id, "cfg", [mention(posts[1], "Trump", "PER")], None)
        shown = {e.text: e for e in store.entities_for_post(posts[0].id)}
        store.add_correction(fix.change_type(shown["Paris"], "LOC"))
        store.add_correction(fix.set_box(shown["Macron"], (10.0, 20.0, 60.0, 90.0)))
    out = tmp_path / "corrected"
    runner = CliRunner()
    result = runner.invoke(cli, ["--data-dir", str(data_dir), "export-training", str(out)])
    assert result.exit_code == 0, result.output
    [post] = read_split(*dataset_paths(out, "train"))
    assert post.image_id == "twitter-1" and post.tokens == [
        "Macron",
        "visits",
        "Paris",
        "with",
        "Merkel",
    ]
    assert post.tags == ["B-PER", "O", "B-LOC", "O", "B-PER"]
    assert {e.text: e.boxes for e in post.entities} == {
        "Macron": ((10, 20, 60, 90),),
        "Paris": (),
        "Merkel": (),
    }
    again = runner.invoke(cli, ["--data-dir", str(data_dir), "export-training", str(out)])
    assert again.exit_code != 0 and "already exists" in again.output  # never overwrites an export
    data = tmp_path / "gmner"
    write_gmner(data, "train", base_posts("t", 30, 1))
    write_gmner(data, "dev", base_posts("d", 10, 2))
    trained = runner.invoke(
        cli,
        [
            "train-prior",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "p"),
            "--extra",
            str(out),
        ],
    )
    assert trained.exit_code == 0, trained.output
