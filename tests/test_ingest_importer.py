"""import_paths as the GUI calls it: progress ticks, cancelling, re-imports, duplicates, copying images."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from PIL import Image

from groundlens.core.ingest import ImportProgress, import_paths
from groundlens.storage import Store


def write_posts(path: Path, count: int, text="post {i}", **extra) -> Path:
    path.write_text("".join(json.dumps({"id": str(i), "text": text.format(i=i), **extra}) + "\n" for i in range(count)))
    return path


def test_progress_ticks_reach_the_total(tmp_path):
    path = write_posts(tmp_path / "a.jsonl", 25)
    ticks: list[ImportProgress] = []
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [path], progress=ticks.append, batch_size=10)
    assert report.ok and report.posts_inserted == 25
    done = [tick.posts_done for tick in ticks]
    assert done == sorted(done) and done[-1] == 25 and ticks[-1].source == str(path)


def test_cancel_stops_early_and_says_so(tmp_path):
    path = write_posts(tmp_path / "a.jsonl", 100)
    cancel = threading.Event()

    def progress(tick: ImportProgress) -> None:
        if tick.posts_done >= 10:
            cancel.set()

    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [path, path], progress=progress, cancel=cancel, batch_size=10)
        assert report.cancelled and not report.ok
        assert store.count_posts() == report.posts_inserted < 100


def test_reimport_updates_instead_of_duplicating(tmp_path):
    with Store.open(tmp_path / "groundlens.db") as store:
        import_paths(store, [write_posts(tmp_path / "a.jsonl", 5)])
        again = import_paths(store, [write_posts(tmp_path / "a.jsonl", 6, text="edited {i}")])
        assert (again.posts_inserted, again.posts_updated) == (1, 5)
        assert store.count_posts() == 6 and store.get_post(1).text == "edited 0"


def test_same_post_twice_in_one_batch_keeps_the_last(tmp_path):
    path = tmp_path / "dup.jsonl"
    Image.new("RGB", (8, 8)).save(tmp_path / "p.jpg")
    path.write_text(
        json.dumps({"id": "1", "text": "first", "image": "p.jpg"})
        + "\n"
        + json.dumps({"id": "1", "text": "second", "image": "p.jpg"})
        + "\n"
    )
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [path])
        assert report.ok and store.count_posts() == 1 and store.get_post(1).text == "second"
        assert store.get_post(1).media[0].status == "ok"


def test_copy_images_files_local_images_into_the_cache(tmp_path):
    Image.new("RGB", (8, 8), "green").save(tmp_path / "p.png")
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "x", "image": "p.png"}) + "\n")
    with Store.open(tmp_path / "groundlens.db") as store:
        import_paths(store, [path], copy_images=True)
        media = store.get_post(1).media[0]
    assert Path(media.local_path).parent.parent == tmp_path / "images" and media.local_path.endswith(".png")
    assert Path(media.local_path).name == f"{media.sha256}.png"


def test_an_unforeseen_error_in_one_record_or_image_fails_only_that_one(tmp_path, monkeypatch):
    """The safety nets behind issue 11 item 2: a converter or image check that raises something nobody
    foresaw (a bug, simulated here) fails its own record or image with the reason; the file goes on."""
    from groundlens.core.ingest import fields, images

    real_author, real_check = fields._author, images.ImageCache.check_local

    def author(value):
        if value == "bug":
            raise RuntimeError("simulated converter bug")
        return real_author(value)

    def check_local(self, path, copy=False):
        if path.name == "bug.jpg":
            raise RuntimeError("simulated image-check bug")
        return real_check(self, path, copy)

    monkeypatch.setattr(fields, "_author", author)
    monkeypatch.setattr(images.ImageCache, "check_local", check_local)
    for name in ("bug.jpg", "fine.jpg"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    path = tmp_path / "a.jsonl"
    path.write_text(
        "".join(
            json.dumps(record) + "\n"
            for record in (
                {"id": "1", "text": "before", "image": "fine.jpg"},
                {"id": "2", "text": "x", "author": "bug"},
                {"id": "3", "text": "image bug", "image": "bug.jpg"},
                {"id": "4", "text": "after"},
            )
        )
    )
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [path])
        assert {(e.location, e.reason) for e in report.errors} == {
            (f"{path}:2", "cannot be read (RuntimeError: simulated converter bug)"),
            (f"{path}:3", "image could not be checked: simulated image-check bug"),
        }
        assert sorted(post.native_id for post in store.get_posts(store.post_ids(None)).values()) == ["1", "3", "4"]
        assert report.images_ok == 1
