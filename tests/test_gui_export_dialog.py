"""The Export dialog driven through its widgets on the real demo (predictions with masks): every kind
is written off the main thread and read back with the tool an analyst would use on it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from pycocotools.coco import COCO
from PySide6.QtGui import QAction

from groundlens.cli import cli
from groundlens.core import masks
from groundlens.core.config import RESOURCES_DIR
from groundlens.core.exporting import CROP_INDEX
from groundlens.core.output_folders import default_folder, remembered_folder, remembering
from groundlens.core.settings import Settings
from groundlens.gui.views.export_dialog import ExportDialog
from groundlens.records import Entity
from groundlens.storage import Store
from tests.helpers.storage import make_post

FORMULA = "=HYPERLINK(evil)"


def export(qtbot, window, kind: str, out: Path, ids: list[int] | None = None) -> str:
    """Open the dialog as the toolbar (or a selection) does, aim it at `out`, press Export, wait."""
    dialog = window.export_posts(ids, kind)
    dialog.set_target(out)
    with qtbot.waitSignal(dialog.done_export, timeout=30_000) as finished:
        dialog.export_button.click()
    dialog.close()
    return finished.args[0]


def test_jsonl_of_the_current_search_imports_back_as_the_same_posts(qtbot, window, tmp_path):
    window.query_bar.set_text("NASA")
    out = tmp_path / "nasa.jsonl"
    assert "to " + str(out) in export(qtbot, window, "jsonl", out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with Store.open(window.ctx.paths.db_path) as store:
        assert len(records) == store.count_matching("NASA") > 0
    assert all("NASA" in record["text"] for record in records)
    again = tmp_path / "again"
    result = CliRunner().invoke(cli, ["--data-dir", str(again), "import", str(out), "--no-download"])
    assert result.exit_code == 0, result.output
    with Store.open(again / "groundlens.db") as store:
        back = {(p.source, p.native_id, p.text) for p in store.get_posts(store.post_ids(None)).values()}
    assert back == {(r["source"], r["native_id"], r["text"]) for r in records}


def test_csv_of_a_selection_is_one_row_per_mention_and_formula_safe(qtbot, window, tmp_path):
    with Store.open(window.ctx.paths.db_path) as store:
        first, second = store.post_ids(None)[:2]
        store.save_result(first, "cfg", [Entity(0, len(FORMULA), FORMULA, "ORG", score=0.9)], None)
        expected = sum(len(found) for found in store.entities_for_posts([first, second], origin=None).values())
    out = tmp_path / "chosen.csv"
    export(qtbot, window, "csv", out, ids=[first, second])
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert len(rows) == expected and {int(row["post_id"]) for row in rows} == {first, second}
    assert "'" + FORMULA in {row["text"] for row in rows}


def test_coco_loads_in_pycocotools_with_the_stored_masks(qtbot, window, tmp_path):
    out = tmp_path / "coco.json"
    export(qtbot, window, "coco", out)
    coco = COCO(str(out))
    with Store.open(window.ctx.paths.db_path) as store:
        mentions = store.entities_for_posts(store.post_ids(None), origin=None)
    regions = [(e, r) for found in mentions.values() for e in found for r in e.regions]
    assert len(coco.getAnnIds()) == len(regions) == 5  # four predicted masks and one gold box
    falcon = coco.loadAnns(coco.getAnnIds(catIds=coco.getCatIds(catNms=["OTHER"])))
    (rocket,) = [ann for ann in falcon if ann["entity"] == "Falcon 9"]
    stored = next(r for e, r in regions if e.text == "Falcon 9")
    assert np.array_equal(coco.annToMask(rocket).astype(bool), masks.decode(stored.mask_rle))
    image = coco.loadImgs(rocket["image_id"])[0]
    with Image.open(image["file_name"]) as picture:
        assert (image["width"], image["height"]) == picture.size
    gold = [ann for ann in coco.loadAnns(coco.getAnnIds()) if ann["origin"] == "gold"]
    assert len(gold) == 1 and coco.annToMask(gold[0]).sum() == 470 * 570  # the gold box, as a polygon


def test_crops_are_pngs_of_each_box_listed_in_the_index(qtbot, window, tmp_path):
    out = tmp_path / "crops"
    export(qtbot, window, "crops", out)
    rows = list(csv.DictReader((out / CROP_INDEX).open(newline="", encoding="utf-8")))
    assert len(rows) == 5
    assert sorted(path.name for path in out.glob("*.png")) == sorted(row["file"] for row in rows)
    falcon = next(row for row in rows if row["entity"] == "Falcon 9")
    assert falcon["file"].endswith("-OTHER-falcon-9.png") and falcon["has_mask"] == "True"
    with Image.open(out / falcon["file"]) as crop:
        assert crop.format == "PNG" and crop.size == (345 - 290, 410 - 125)


def test_report_action_writes_the_offline_report(qtbot, window, tmp_path):
    (action,) = [a for a in window.findChildren(QAction) if a.text() == "Report…"]
    action.trigger()  # the toolbar's Report… opens the dialog on the report, for the current search
    dialog = window.findChildren(ExportDialog)[-1]
    assert dialog.isVisible() and dialog.current_kind() == "report"
    out = tmp_path / "r.html"
    dialog.set_target(out)
    with qtbot.waitSignal(dialog.done_export, timeout=30_000) as finished:
        dialog.export_button.click()
    assert "Wrote a report on 10 posts" in finished.args[0]
    assert "data:image/svg+xml;base64," in out.read_text(encoding="utf-8")


def test_report_of_a_selection_counts_only_those_posts(qtbot, window, tmp_path):
    with Store.open(window.ctx.paths.db_path) as store:
        chosen = store.post_ids("Falcon")
    out = tmp_path / "chosen.html"
    assert "Wrote a report on 2 posts" in export(qtbot, window, "report", out, ids=chosen)
    text = " ".join(out.read_text(encoding="utf-8").split())
    assert "2 posts chosen by hand." in text and "Search:" not in text


def test_each_kind_remembers_its_folder_in_the_settings(qtbot, window, tmp_path):
    settings_file = window.ctx.paths.settings_file
    before = json.loads(settings_file.read_text())
    fresh = window.export_posts(None, "csv")
    assert Path(fresh.target.text()).parent == default_folder() != Path.cwd()
    fresh.close()
    (tmp_path / "sheets").mkdir()
    export(qtbot, window, "csv", tmp_path / "sheets" / "x.csv")
    again = window.export_posts(None, "csv")
    assert Path(again.target.text()) == tmp_path / "sheets" / "groundlens-export.csv"
    again.set_kind("jsonl")  # another kind keeps its own folder
    assert Path(again.target.text()).parent == default_folder()
    again.close()
    after = json.loads(settings_file.read_text())
    assert after["output_folders"] == {"csv": str(tmp_path / "sheets")}
    assert {k: v for k, v in after.items() if k != "output_folders"} == before  # nothing else changed


def test_export_refuses_the_database_and_writes_nothing(qtbot, window):
    db = window.ctx.paths.db_path
    size = db.stat().st_size
    dialog = window.export_posts(None, "jsonl")
    dialog.set_target(db)
    with qtbot.waitSignal(dialog.failed_export, timeout=5_000) as failed:
        dialog.export_button.click()
    assert "it is the database" in failed.args[0] and "it is the database" in dialog.status.text()
    assert db.stat().st_size == size
    with Store.open(db) as store:
        assert store.count_posts() == 10


@pytest.fixture
def many_posts(window):
    with Store.open(window.ctx.paths.db_path) as store:
        store.upsert_posts([make_post(f"bulk-{i}", f"bulk post {i} about NASA") for i in range(3000)])


def test_cancel_stops_the_export_and_leaves_no_file(qtbot, window, many_posts, tmp_path):
    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / "big.jsonl"
    dialog = window.export_posts(None, "jsonl")
    dialog.set_target(out)
    with qtbot.waitSignal(dialog.failed_export, timeout=30_000) as failed:
        dialog.export_button.click()
        assert dialog.cancel_button.text() == "Cancel"
        dialog.cancel_button.click()
    assert failed.args[0] == f"Cancelled: nothing was written to {out}."
    assert list(out.parent.iterdir()) == []  # not even the temporary file
    assert dialog.export_button.isEnabled()


def test_the_cli_writes_what_the_dialog_writes(qtbot, window, tmp_path):
    from_dialog, from_cli = tmp_path / "dialog.json", tmp_path / "cli.json"
    export(qtbot, window, "coco", from_dialog)
    result = CliRunner().invoke(cli, ["--data-dir", str(window.ctx.paths.data_dir), "export", str(from_cli)])
    assert result.exit_code == 0 and "(coco)" in result.output, result.output
    assert from_cli.read_bytes() == from_dialog.read_bytes()


def test_a_missing_picture_fails_alone_in_the_crops(demo_paths, tmp_path):
    with Store.open(demo_paths.db_path) as store:
        rocket = next(p for p in store.get_posts(store.post_ids(None)).values() if p.native_id == "demo-003")
    (demo_paths.data_dir / rocket.media[0].local_path).unlink()
    out = tmp_path / "crops"
    result = CliRunner().invoke(cli, ["--data-dir", str(demo_paths.data_dir), "export", str(out), "--format", "crops"])
    assert result.exit_code == 0, result.output
    assert "4 crops" in result.output and f"post {rocket.id} (Falcon 9)" in result.output
    rows = list(csv.DictReader((out / CROP_INDEX).open(newline="", encoding="utf-8")))
    assert len(rows) == 4 and "Falcon 9" not in {row["entity"] for row in rows}


def test_the_install_folder_is_never_remembered_or_offered(tmp_path):
    settings_file = tmp_path / "settings.json"
    assert remembering(Settings(), "csv", RESOURCES_DIR.parent) is None
    settings_file.write_text(json.dumps({"output_folders": {"csv": str(RESOURCES_DIR / "demo")}, "threads": 2}))
    hand_edited = Settings.load(settings_file)
    assert remembered_folder(hand_edited, "csv") == default_folder()  # a hand-edited file cannot point there
    kept = remembering(hand_edited, "csv", tmp_path)
    assert kept is not None and remembered_folder(kept, "csv") == tmp_path and kept.threads == 2
