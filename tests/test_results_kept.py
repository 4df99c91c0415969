"""Issue 11 item 5: a folder import keeps its images, and a re-run that fails never wipes a good result.

Real import, real `process` runs with light real backends (spaCy NER, the default grounder), real files.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.gui import import_tasks
from groundlens.storage import Store

pytestmark = pytest.mark.slow

DEMO_IMAGE = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images" / "grace_hopper.jpg"
LIGHT = ["--ner", "spacy", "--entailment", "off", "--segmentation", "off"]
TEXT = "Grace Hopper gave a talk in Paris."


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "shots"
    folder.mkdir()
    shutil.copy(DEMO_IMAGE, folder / "hopper.jpg")
    (folder / "hopper.txt").write_text(TEXT)
    return folder


def cli_run(data: Path, *args: str):
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result


def boxes(data: Path) -> list[tuple]:
    with Store.open(data / "groundlens.db") as store:
        found = store.entities_for_post(store.post_ids(None)[0])
    return [(e.text, r.box) for e in found for r in e.regions]


def failures(data: Path) -> list[str]:
    with Store.open(data / "groundlens.db") as store:
        return [job.error for key in store.stats()["jobs"] for job in store.failed_jobs(key)]


def test_the_apps_folder_import_copies_images_into_the_data_folder(tmp_path, shots):
    paths = resolve_paths(tmp_path / "data").ensure()
    report = import_tasks.import_files(paths.db_path, [str(shots)], lambda _: None, threading.Event())
    assert report.ok and report.images_ok == 1
    shutil.rmtree(shots)  # the analyst's folder moves away
    with Store.open(paths.db_path) as store:
        media = store.get_post(store.post_ids(None)[0]).media[0]
    assert Path(media.local_path).is_relative_to(paths.image_cache_dir) and Path(media.local_path).is_file()
    cli_run(paths.data_dir, "process", *LIGHT)
    assert boxes(paths.data_dir) and not failures(paths.data_dir)


def processed(tmp_path: Path, shots: Path) -> tuple[Path, list[tuple]]:
    """A data folder whose post was imported and processed once, and the boxes that run found."""
    data = tmp_path / "data"
    cli_run(data, "import", str(shots))
    cli_run(data, "process", *LIGHT)
    found = boxes(data)
    assert found
    return data, found


def test_a_rerun_after_the_image_moved_keeps_the_boxes_and_says_why(tmp_path, shots):
    data, before = processed(tmp_path, shots)
    shots.rename(tmp_path / "elsewhere")
    said = " ".join(cli_run(data, "process", *LIGHT, "--expression", "off").output.split())  # a new configuration
    assert "(1 with errors)" in said, said
    assert boxes(data) == before
    assert any("hopper.jpg" in error for error in failures(data)), failures(data)


def test_a_rerun_on_a_now_truncated_image_keeps_the_earlier_result(tmp_path, shots):
    data, before = processed(tmp_path, shots)
    image = shots / "hopper.jpg"
    image.write_bytes(image.read_bytes()[:2000])
    cli_run(data, "process", *LIGHT, "--expression", "off")
    assert boxes(data) == before
    assert any("image: cannot read" in error for error in failures(data)), failures(data)
