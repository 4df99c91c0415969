"""The pipeline on a Ray cluster started on this machine (loopback only): the same results as the
local engine, every post done exactly once even when a Ray worker is killed mid-run, and a
clear message when the cluster cannot be reached. Real models, real database, real Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.jobs.ray_engine import LOOPBACK_ONLY
from groundlens.records import Media, Post
from groundlens.storage import Store
from tests.helpers.storage import outside

os.environ.update(LOOPBACK_ONLY)  # before ray is imported here: a Ray started in this process stays on loopback
ray = pytest.importorskip("ray", reason="the Ray engine is the optional 'cluster' extra")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo"
POSTS = 40


def demo_folder(data_dir: Path, count: int = POSTS) -> Path:
    """`count` photo posts: the demo's texts and photos, cycled, each photo a real file on disk."""
    lines = (DEMO / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    demo = [item for item in map(json.loads, lines) if item.get("image")]
    data_dir.mkdir(parents=True)
    posts = []
    for i in range(count):
        item = demo[i % len(demo)]
        media = Media(local_path=str(DEMO / item["image"]), status="ok")
        posts.append(Post("test", f"{i:03d}", f"{item['text']} ({i})", media=[media]))
    with Store.open(data_dir / "groundlens.db") as store:
        store.upsert_posts(posts)
    return data_dir


def run_cli(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def results(data_dir: Path) -> dict[str, list[dict]]:
    """Every post's predicted entities as exported, keyed by native id (database ids left out)."""
    out = data_dir / "export.jsonl"
    run_cli("--data-dir", str(data_dir), "export", str(out))
    found = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        found[record["native_id"]] = [
            {k: v for k, v in e.items() if k not in ("id", "post_id")}
            for e in record["entities"]
            if e["origin"] == "pred"
        ]
    return found


def job_states(data_dir: Path) -> tuple[dict[str, int], list[int]]:
    with Store.open(data_dir / "groundlens.db") as store:
        counts = store.job_counts()
    with outside(data_dir / "groundlens.db") as conn:
        attempts = [row[0] for row in conn.execute("SELECT attempts FROM jobs").fetchall()]
    return counts, attempts


def test_ray_engine_gives_the_local_engines_results(tmp_path):
    local, on_ray = demo_folder(tmp_path / "local"), demo_folder(tmp_path / "ray")
    run_cli("--data-dir", str(local), "process", "--threads", "1")
    run_cli("--data-dir", str(on_ray), "process", "--engine", "ray", "--workers", "2", "--threads", "1")

    expected, got = results(local), results(on_ray)
    assert len(expected) == POSTS and sum(map(len, expected.values())) > POSTS  # real entities were found
    assert any(e["regions"] and e["regions"][0]["mask_rle"] for found in expected.values() for e in found)
    assert got == expected
    assert job_states(on_ray)[0] == {"pending": 0, "running": 0, "done": POSTS, "failed": 0}


def ray_workers() -> list[psutil.Process]:
    """The pipeline actors' processes: Ray titles each worker process after its actor class."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if cmdline.startswith("ray::PipelineWorker"):
            found.append(process)
    return found


def ray_helpers() -> list[psutil.Process]:
    """Ray's own worker processes (they are started with the node's address)."""
    return [
        p
        for p in psutil.process_iter(["cmdline"])
        if "ray/_private/workers/default_worker.py" in " ".join(p.info["cmdline"] or [])
    ]


def test_a_killed_ray_worker_is_replaced_and_every_post_is_done_exactly_once(tmp_path):
    data = demo_folder(tmp_path / "data")
    command = [
        sys.executable,
        str(REPO / "main.py"),
        "--data-dir",
        str(data),
        "process",
        "--engine",
        "ray",
        "--workers",
        "2",
        "--threads",
        "1",
    ]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and job_states(data)[0]["done"] < 4:  # models loaded, work under way
            assert run.poll() is None, run.stdout.read()
            time.sleep(0.5)
        victims = ray_workers()
        assert victims, "no Ray pipeline worker process found"
        helpers = [" ".join(p.cmdline()) for p in ray_helpers()]
        assert helpers and all("--node-ip-address=127.0.0.1" in cmdline for cmdline in helpers)  # loopback only
        os.kill(victims[0].pid, signal.SIGKILL)
        output, _ = run.communicate(timeout=600)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, output
    counts, attempts = job_states(data)
    assert counts == {"pending": 0, "running": 0, "done": POSTS, "failed": 0}
    assert attempts == [1] * POSTS  # claimed once each: Ray re-ran the lost batch, the driver saved it once
    with Store.open(data / "groundlens.db") as store:
        mentions = store.entities_for_posts(store.post_ids(None))
    assert all(len({(e.start, e.end) for e in found}) == len(found) for found in mentions.values())


def test_an_unreachable_cluster_is_one_clear_message(tmp_path):
    data = demo_folder(tmp_path / "data", count=2)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data), "process", "--engine", "ray", "--address", "127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in result.output
    assert job_states(data)[0]["pending"] == 2  # nothing was lost or marked


def test_analyze_on_ray_writes_what_the_local_engine_writes(tmp_path):
    """`analyze --engine ray`: the same output lines, in input order, bad lines included."""
    photo = DEMO / "images" / "astronaut.jpg"
    lines = [
        json.dumps({"id": "a", "text": "NASA astronaut Eileen Collins before STS-93", "image": str(photo)}),
        "{not json",
        json.dumps({"id": "b", "text": "Grace Hopper taught at Yale", "image": None}),
        json.dumps({"id": "c", "text": "Eileen Collins again", "image": str(tmp_path / "gone.jpg")}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    light = ["--ner", "spacy", "--segmentation", "off", "--threads", "1"]
    run_cli("--data-dir", str(tmp_path / "d"), "analyze", str(source), "-o", str(tmp_path / "local.jsonl"), *light)
    run_cli(
        "--data-dir",
        str(tmp_path / "d"),
        "analyze",
        str(source),
        "-o",
        str(tmp_path / "ray.jsonl"),
        *light,
        "--engine",
        "ray",
        "--workers",
        "2",
    )
    local = (tmp_path / "local.jsonl").read_text(encoding="utf-8")
    assert (tmp_path / "ray.jsonl").read_text(encoding="utf-8") == local
    assert [json.loads(line)["id"] for line in local.splitlines()] == ["a", "line 2", "b", "c"]
    assert "cannot read" in json.loads(local.splitlines()[3])["error"]  # the driver could not read it either
