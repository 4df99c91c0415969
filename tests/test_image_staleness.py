"""A post's pipeline result follows its image: an image that arrives, changes or vanishes after the post
was processed gets the post processed again, and a deleted cached file is fetched again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.storage import Store

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images" / "grace_hopper.jpg"
LIGHT = ["--ner", "spacy", "--entailment", "off", "--segmentation", "off"]  # person_detector grounds
KEY = PipelineConfig(ner=StageConfig("spacy"), entailment=None, segmentation=None).key()


def run(data: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)
    return " ".join(result.output.split())


def hopper_regions(data: Path) -> int:
    with Store.open(data / "groundlens.db") as store:
        [post_id] = store.post_ids(None)
        return sum(len(e.regions) for e in store.entities_for_post(post_id) if e.text == "Grace Hopper")


def test_a_post_processed_before_its_image_arrived_is_redone_when_it_arrives(tmp_path, served):
    www, base = served
    data = tmp_path / "data"
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "Grace Hopper at Yale", "image": f"{base}/hopper.jpg"}) + "\n")
    run(data, "import", str(posts), "--no-download")
    assert "finished: 1 of 1 posts" in run(data, "process", *LIGHT)
    assert hopper_regions(data) == 0  # text only: the image is not there yet

    shutil.copy(DEMO, www / "hopper.jpg")
    assert "1 ok" in run(data, "import", "--retry-images")
    assert "finished: 1 of 1 posts" in run(data, "process", *LIGHT)  # was "0 of 0"
    assert hopper_regions(data) == 1
    assert "finished: 0 of 0 posts" in run(data, "process", *LIGHT)  # nothing changed: nothing redone


def test_a_deleted_image_cache_is_noticed_fetched_again_and_used(tmp_path, served):
    www, base = served
    shutil.copy(DEMO, www / "hopper.jpg")
    data = tmp_path / "data"
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "Grace Hopper at Yale", "image": f"{base}/hopper.jpg"}) + "\n")
    run(data, "import", str(posts))
    shutil.rmtree(data / "images")

    # another configuration runs while the file is gone: text only, and the image is marked to fetch again
    other = [*LIGHT, "-O", "ner.batch_size=16"]
    assert "finished: 1 of 1 posts" in run(data, "process", *other)
    assert hopper_regions(data) == 0
    with Store.open(data / "groundlens.db") as store:
        [media] = store.get_post(store.post_ids(None)[0]).media
    assert media.status == "pending" and "the image file is gone" in media.error

    assert "1 ok" in run(data, "import", "--retry-images")
    assert Path(media.local_path).is_file()
    assert "finished: 1 of 1 posts" in run(data, "process", *other)  # redone with the image
    assert hopper_regions(data) == 1
