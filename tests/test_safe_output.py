"""Outputs never destroy their source and appear whole or not at all (issue 11 item 1 and its siblings)."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.core.safe_output import (
    OutputError,
    atomic_output,
    database_files,
    refuse_overwriting,
    write_text_atomic,
)
from groundlens.storage import Store
from tests.helpers.storage import make_post


@pytest.fixture
def data_dir(tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        store.upsert_posts([make_post(str(i), f"Rain in Paris {i}", "2024-01-02") for i in range(3)])
    return paths.data_dir


def invoke(data_dir, *args):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def posts_in(db) -> int:
    with Store.open(db) as store:
        return store.count_posts()


@pytest.mark.parametrize("target", ["groundlens.db", "groundlens.db-wal", "groundlens.db-shm", "link-to-db"])
def test_export_refuses_the_database_and_its_side_files(data_dir, target):
    db = data_dir / "groundlens.db"
    (data_dir / "link-to-db").symlink_to(db)
    size = db.stat().st_size
    result = invoke(data_dir, "export", str(data_dir / target))
    assert result.exit_code == 2 and "it is the database" in result.output, result.output
    assert db.stat().st_size == size and posts_in(db) == 3


def test_analyze_refuses_to_write_over_its_input(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"id": "1", "text": "Grace Hopper in Paris"}) + "\n")
    before = source.read_bytes()
    result = invoke(tmp_path / "data", "analyze", str(source), "-o", str(source), "--ner", "spacy")
    assert result.exit_code == 2 and "it is the input" in result.output, result.output
    assert source.read_bytes() == before


def test_analyze_refuses_the_database(data_dir, tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"id": "1", "text": "Grace Hopper in Paris"}) + "\n")
    result = invoke(data_dir, "analyze", str(source), "-o", str(data_dir / "groundlens.db"), "--ner", "spacy")
    assert result.exit_code == 2 and "it is the database" in result.output
    assert posts_in(data_dir / "groundlens.db") == 3


def test_export_replaces_an_old_file_only_when_complete(data_dir, tmp_path):
    out = tmp_path / "posts.jsonl"
    out.write_text("the previous export\n")
    out.chmod(0o640)
    assert invoke(data_dir, "export", str(out)).exit_code == 0
    assert len(out.read_text().splitlines()) == 3 and out.stat().st_mode & 0o777 == 0o640
    assert invoke(data_dir, "export", str(out), "--query", '"unclosed').exit_code == 2
    assert len(out.read_text().splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "posts.jsonl"]  # no temporary file left


def test_an_error_while_writing_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("disk gone")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["report.json"]


def test_a_hard_link_to_the_input_is_refused(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("x")
    os.link(source, tmp_path / "alias.jsonl")
    with pytest.raises(OutputError, match="it is the input"):
        refuse_overwriting(tmp_path / "alias.jsonl", {"the input": [source]})
    database = database_files(tmp_path / "groundlens.db")
    refuse_overwriting(tmp_path / "other.jsonl", {"the input": [source], "the database": database})


def test_eval_json_report_refuses_to_replace_the_predictions(tmp_path):
    dataset = tmp_path / "gmner"
    (dataset / "txt").mkdir(parents=True)
    (dataset / "txt" / "dev.txt").write_text("IMGID:p1\nParis\tB-LOC\n\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": "p1", "error": None, "entities": []}) + "\n")
    before = pred.read_bytes()
    result = CliRunner().invoke(cli, ["eval", "--gold", str(dataset), "--pred", str(pred), "--json", str(pred)])
    assert result.exit_code == 2 and "it is an input" in result.output
    assert pred.read_bytes() == before


def test_eval_scores_past_hostile_prediction_lines(tmp_path):
    """A sibling of item 6: eval reads analyze output with the same hostile-safe JSON parser."""
    dataset = tmp_path / "gmner"
    (dataset / "txt").mkdir(parents=True)
    (dataset / "txt" / "dev.txt").write_text("IMGID:p1\nParis\tB-LOC\n\n")
    pred = tmp_path / "pred.jsonl"
    entity = {"text": "Paris", "start": 0, "end": 5, "type": "LOC", "groundable": False, "box": None}
    pred.write_text(
        "\n".join(
            [
                '{"id": "deep", "entities": ' + "[" * 100_000 + "]" * 100_000 + "}",
                '{"id": ' + "9" * 5001 + ', "entities": []}',
                json.dumps({"id": "p1", "error": None, "entities": [entity]}),
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(cli, ["eval", "--gold", str(dataset), "--pred", str(pred)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "2 of 3 lines were malformed" in said and "nested more than 100 levels" in said


def test_a_missing_folder_is_reported_with_the_chosen_name(tmp_path):
    with pytest.raises(FileNotFoundError) as raised, atomic_output(tmp_path / "nowhere" / "out.csv"):
        pass
    assert raised.value.filename == str(tmp_path / "nowhere" / "out.csv")
