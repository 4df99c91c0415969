"""`analyze` and `process` from the command line, with real backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from groundlens.cli import cli
from groundlens.core import masks
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.records import Post
from groundlens.storage import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "images"
LIGHT = ["--ner", "spacy", "--entailment", "off", "--segmentation", "off"]


@pytest.fixture
def inputs(tmp_path) -> Path:
    photo = tmp_path / "imgs" / "hopper.jpg"
    photo.parent.mkdir()
    if (DEMO / "grace_hopper.jpg").exists():
        Image.open(DEMO / "grace_hopper.jpg").save(photo)
    else:
        Image.new("RGB", (320, 240), (90, 120, 150)).save(photo)
    (tmp_path / "imgs" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    lines = [
        json.dumps({"id": "a", "text": "Grace Hopper gave a talk in Paris.", "image": "imgs/hopper.jpg"}),
        json.dumps({"id": "b", "text": "Barack Obama visited Berlin.", "image": None}),
        "{this is not json",
        json.dumps({"id": "d", "image": "imgs/hopper.jpg"}),
        "",
        json.dumps({"id": "e", "text": "Grace Hopper in Paris", "image": "imgs/nowhere.jpg"}),
        json.dumps({"id": 6, "text": "Grace Hopper in Paris", "image": "imgs/corrupt.jpg"}),
        json.dumps(["a", "list"]),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(tmp_path, *args):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False)
    return result


def read(path: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {row["id"]: row for row in rows}


def test_analyze_writes_one_line_per_post_and_bad_lines_fail_alone(tmp_path, inputs):
    out = tmp_path / "out.jsonl"
    result = run(tmp_path, "analyze", str(inputs), "-o", str(out), *LIGHT)
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert list(rows) == ["a", "b", "line 3", "d", "e", "6", "line 8"]
    a = rows["a"]
    assert a["error"] is None
    hopper = next(e for e in a["entities"] if e["text"] == "Grace Hopper")
    assert set(a) == {"id", "error", "entities", "image_text", "image_objects"}
    assert set(hopper) == {
        "text",
        "start",
        "end",
        "type",
        "score",
        "expression",
        "groundable",
        "groundable_score",
        "verdict",
        "evidence",
        "box",
        "box_score",
        "mask",
    }
    assert hopper["verdict"] is None  # entailment is off: nothing was judged
    text = "Grace Hopper gave a talk in Paris."
    assert text[hopper["start"] : hopper["end"]] == "Grace Hopper" and hopper["type"] == "PER"
    assert hopper["expression"] == "Grace Hopper, a person" and hopper["groundable"] is None
    width, height = Image.open(inputs.parent / "imgs" / "hopper.jpg").size
    x0, y0, x1, y1 = hopper["box"]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and hopper["mask"] is None
    assert rows["b"]["error"] is None and all(e["box"] is None for e in rows["b"]["entities"])
    assert "invalid JSON" in rows["line 3"]["error"]
    assert "missing or non-string 'text'" in rows["d"]["error"]
    assert rows["e"]["error"].startswith("image: cannot read") and rows["e"]["entities"]  # text entities kept
    assert rows["6"]["error"].startswith("image: cannot read")
    assert "expected a JSON object" in rows["line 8"]["error"]
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "7 posts written" in said and "(5 with errors)" in said


def test_analyze_gives_hostile_lines_an_error_row_and_goes_on(tmp_path):
    """Issue 11 item 6: nesting 100,000 deep, a 5,001-digit integer and an id holding half a surrogate pair."""
    source = tmp_path / "hostile.jsonl"
    lines = [
        json.dumps({"id": "first", "text": "Barack Obama visited Berlin."}),
        '{"id": "deep", "text": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"id": ' + "9" * 5001 + ', "text": "a huge id"}',
        '{"id": "\\ud800", "text": "half a surrogate pair"}',
        json.dumps({"id": "last", "text": "Angela Merkel in Paris."}),
    ]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = run(tmp_path, "analyze", str(source), "-o", str(out), *LIGHT)
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert list(rows) == ["first", "line 2", "line 3", "line 4", "last"]
    assert "nested more than 100 levels" in rows["line 2"]["error"]
    assert "more than 4300 digits" in rows["line 3"]["error"]
    assert "surrogate" in rows["line 4"]["error"]
    assert rows["first"]["entities"] and rows["last"]["entities"] and rows["last"]["error"] is None


def test_analyze_rejects_unknown_backends_and_bad_options_without_traceback(tmp_path, inputs):
    out = tmp_path / "out.jsonl"
    result = run(tmp_path, "analyze", str(inputs), "-o", str(out), "--grounding", "yolo")
    assert result.exit_code == 1 and "no grounding backend named 'yolo'" in " ".join(result.output.split())
    result = run(tmp_path, "analyze", str(inputs), "-o", str(out), "-O", "grounding=3")
    assert result.exit_code == 2 and "STAGE.KEY=VALUE" in result.output


def _default_models_installed() -> bool:
    from groundlens.core.config import resolve_paths
    from groundlens.core.modelstore import get, status

    paths = resolve_paths()
    return all(status(get(name), paths).present for name in ("ner", "groundability", "mobile_sam"))


@pytest.mark.skipif(
    not _default_models_installed(), reason="default models not installed (python main.py models install)"
)
def test_analyze_with_the_default_pipeline_gives_masks_inside_boxes(tmp_path, inputs):
    out = tmp_path / "out.jsonl"
    result = run(tmp_path, "analyze", str(inputs), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = read(out)
    width, height = Image.open(inputs.parent / "imgs" / "hopper.jpg").size
    for entity in rows["a"]["entities"]:
        assert entity["expression"] and 0 <= entity["groundable_score"] <= 1
        assert entity["verdict"] in ("in_image", "probably", "not_in_image")
        assert entity["evidence"][0]["kind"] == "prior" and entity["evidence"][0]["detail"]
        if entity["box"] is not None:
            mask = masks.decode(entity["mask"])
            assert mask.shape == (height, width)
    hopper = next(e for e in rows["a"]["entities"] if e["text"] == "Grace Hopper")
    assert hopper["verdict"] == "in_image"
    assert any(e["kind"] == "name tag" and "HOPPER" in e["detail"] for e in hopper["evidence"])
    [tag] = [t for t in rows["a"]["image_text"] if "HOPPER" in t["text"]]  # her name tag, read by OCR
    assert set(tag) == {"text", "box", "score"} and len(tag["box"]) == 4
    assert all(e["groundable"] is None and e["verdict"] is None for e in rows["b"]["entities"])  # no image
    assert rows["b"]["image_text"] == [] and rows["b"]["image_objects"] == []


def make_db(tmp_path: Path, n: int) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    with Store.open(data / "groundlens.db") as store:
        store.upsert_posts(
            [Post(source="t", native_id=str(i), text=f"Grace Hopper visited Paris ({i}).") for i in range(n)]
        )
    return data / "groundlens.db"


def test_process_runs_pending_posts_with_limit_then_the_rest(tmp_path):
    db = make_db(tmp_path, 5)
    key = PipelineConfig(ner=StageConfig("spacy"), entailment=None, segmentation=None).key()
    result = run(tmp_path, "process", "--limit", "2", *LIGHT)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"(key {key})" in said and "finished: 2 of 2 posts" in said
    result = run(tmp_path, "process", *LIGHT)
    assert "finished: 3 of 3 posts" in " ".join(result.output.split())
    with Store.open(db) as store:
        assert store.job_counts(key) == {"pending": 0, "running": 0, "done": 5, "failed": 0}


def test_process_ctrl_c_cancels_cleanly(tmp_path):
    db = make_db(tmp_path, 400)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "main.py"),
            "--data-dir",
            str(tmp_path / "data"),
            "process",
            *LIGHT,
            "--ner",
            "spacy",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    key = PipelineConfig(ner=StageConfig("spacy"), entailment=None, segmentation=None).key()
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline and proc.poll() is None
        with Store.open(db) as store:
            if store.job_counts(key)["done"] > 0:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert "cancelled:" in output and "Traceback" not in output
    with Store.open(db) as store:
        counts = store.job_counts(key)
    assert counts["running"] == 0 and counts["done"] + counts["pending"] == 400
