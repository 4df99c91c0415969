"""Corrections through `main.py`: exports carry the corrected view and say what was corrected (read back);
`corrections list | revert | restore | export` on the data folder's real database."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.storage import Store
from groundlens.storage import corrections as fix
from tests.helpers.storage import make_post, mention


def run(data_dir, *args):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--data-dir", str(data_dir), *args])


@pytest.fixture
def corrected(tmp_path):
    """Two posts; Paris corrected to LOC in the first, a missed entity added to the second, a merge."""
    data_dir = tmp_path / "data"
    with Store.open(resolve_paths(data_dir).ensure().db_path) as store:
        posts = [make_post("1", "Macron visits Paris", "2024-03-01"), make_post("2", "Trump in Ohio", "2024-03-02")]
        store.upsert_posts(posts)
        store.save_result(
            posts[0].id, "cfg", [mention(posts[0], "Macron", "PER"), mention(posts[0], "Paris", "ORG")], None
        )
        store.save_result(posts[1].id, "cfg", [mention(posts[1], "Trump", "PER")], None)
        paris = next(e for e in store.entities_for_post(posts[0].id) if e.text == "Paris")
        ids = [
            store.add_correction(fix.change_type(paris, "LOC"), author="ana").id,
            store.add_correction(fix.add_entity(posts[1].id, 9, 13, "Ohio", "LOC"), author="ben").id,
            store.merge_entities("trump", "donald trump", author="ana").id,
        ]
    return data_dir, ids


def test_jsonl_and_csv_exports_carry_the_corrected_view_and_say_what_was_corrected(corrected, tmp_path):
    data_dir, (type_fix, added, merge) = corrected
    out = tmp_path / "posts.jsonl"
    assert run(data_dir, "export", str(out)).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    got = [
        [(e["text"], e["type"], e["norm"], e["corrected"], e["corrected_by"]) for e in r["entities"]] for r in records
    ]
    assert got == [
        [("Macron", "PER", "macron", False, []), ("Paris", "LOC", "paris", True, [type_fix])],
        [("Trump", "PER", "donald trump", True, [merge]), ("Ohio", "LOC", "ohio", True, [added])],
    ]
    table = tmp_path / "mentions.csv"
    assert run(data_dir, "export", str(table)).exit_code == 0
    with open(table, newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["type"], r["corrected"], r["corrections"]) for r in csv.DictReader(handle)]
    assert rows == [
        ("Macron", "PER", "no", ""),
        ("Paris", "LOC", "yes", str(type_fix)),
        ("Trump", "PER", "yes", str(merge)),
        ("Ohio", "LOC", "yes", str(added)),
    ]


def test_corrections_list_filters_revert_restore_and_export(corrected, tmp_path):
    data_dir, (type_fix, added, merge) = corrected
    listed = run(data_dir, "corrections", "list")
    assert listed.exit_code == 0 and "3 correction(s)" in listed.stdout and "merge 'trump'" in listed.stdout
    as_json = run(data_dir, "corrections", "list", "--json", "--author", "ana", "--kind", "type")
    assert [json.loads(line)["id"] for line in as_json.stdout.splitlines()] == [type_fix]

    reverted = run(data_dir, "corrections", "revert", str(type_fix), "999")
    assert reverted.exit_code == 1 and f"{type_fix}: type 'Paris'" in reverted.stdout
    assert "correction 999: no correction with id 999" in reverted.stderr
    with Store.open(resolve_paths(data_dir).db_path) as store:
        assert [(e.text, e.type) for e in store.entities_for_post(1)] == [("Macron", "PER"), ("Paris", "ORG")]
    in_force = run(data_dir, "corrections", "list", "--json", "--in-force")
    assert sorted(json.loads(line)["id"] for line in in_force.stdout.splitlines()) == [added, merge]
    assert run(data_dir, "corrections", "restore", str(type_fix)).exit_code == 0
    with Store.open(resolve_paths(data_dir).db_path) as store:
        assert sorted(p.id for p in store.search_posts("type:LOC").items) == [1, 2]

    out = tmp_path / "corrections.jsonl"
    exported = run(data_dir, "corrections", "export", str(out), "--since", "2000-01-01")
    assert exported.exit_code == 0 and "Wrote 3 corrections" in exported.stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["kind"], r["author"], r["native_id"], r["status"]) for r in records] == [
        (type_fix, "type", "ana", "1", "applied"),
        (added, "add", "ben", "2", "applied"),
        (merge, "merge", "ana", None, "applied"),
    ]
    assert records[0]["target"] == {"start": 14, "end": 19, "text": "Paris", "type": "ORG"}
    assert records[0]["payload"] == {"type": "LOC"}
    assert run(data_dir, "corrections", "list", "--until", "2000-01-01").stdout.strip() == "No corrections."


def test_a_coco_export_says_which_boxes_an_analyst_corrected(tmp_path):
    from PIL import Image

    from groundlens.records import Media, Region
    from groundlens.storage import corrections as fix

    data_dir = tmp_path / "data"
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), "white").save(photo)
    with Store.open(resolve_paths(data_dir).ensure().db_path) as store:
        post = make_post("1", "Macron visits Paris")
        post.media = [Media(url="https://example.org/p.png", local_path=str(photo), status="ok", width=64, height=48)]
        store.upsert_posts([post])
        store.save_result(
            post.id,
            "cfg",
            [
                mention(post, "Macron", "PER", regions=[Region(box=(1, 1, 20, 30))]),
                mention(post, "Paris", "LOC", regions=[Region(box=(30, 5, 60, 40))]),
            ],
            None,
        )
        macron = next(e for e in store.entities_for_post(post.id) if e.text == "Macron")
        moved = store.add_correction(fix.set_box(macron, (2, 2, 22, 32)), author="ana").id
    out = tmp_path / "coco.json"
    assert run(data_dir, "export", str(out), "--format", "coco").exit_code == 0
    annotations = {a["entity"]: a for a in json.loads(out.read_text())["annotations"]}
    assert (annotations["Macron"]["corrected"], annotations["Macron"]["corrected_by"]) == (True, [moved])
    assert annotations["Macron"]["bbox"] == [2, 2, 20, 30]
    assert (annotations["Paris"]["corrected"], annotations["Paris"]["corrected_by"]) == (False, [])
