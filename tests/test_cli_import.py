"""`main.py import` and `main.py x ...`: exit codes, error listing, the store they fill."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from groundlens.cli.import_commands import import_command, x_group
from groundlens.core.config import resolve_paths
from groundlens.core.ingest import credentials, x_api
from groundlens.storage import Store
from tests.helpers.x_api import TOKEN, RecordedAdapter, fixture


@pytest.fixture()
def app(tmp_path):
    return resolve_paths(tmp_path / "data")


def invoke(command, app, *args):
    return CliRunner().invoke(command, [str(a) for a in args], obj=app)


def stored(app, post_id=None):
    with Store.open(app.db_path) as store:
        return store.count_posts() if post_id is None else store.get_post(post_id)


def test_import_files_exits_0_and_fills_the_store(app, tmp_path):
    Image.new("RGB", (20, 10), "white").save(tmp_path / "a.jpg")
    (tmp_path / "posts.jsonl").write_text(json.dumps({"id": "1", "text": "hello", "image": "a.jpg"}) + "\n")
    (tmp_path / "more.csv").write_text("text,author\nsecond post,zoe\n")
    result = invoke(import_command, app, tmp_path / "posts.jsonl", tmp_path / "more.csv")
    assert result.exit_code == 0, result.output
    assert "2 posts added" in result.stdout and "images: 1 ok, 0 failed" in result.stdout
    assert result.stderr.strip() == ""
    assert stored(app) == 2 and stored(app, 1).media[0].status == "ok"


def test_some_bad_items_exit_1_and_are_listed_on_stderr(app, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": "1", "text": "good"}\n{"id": "2", "text": \n{"id": "3"}\n')
    result = invoke(import_command, app, path)
    assert result.exit_code == 1
    assert f"{path}:2: invalid JSON" in result.stderr and f"{path}:3: no text field" in result.stderr
    assert "Traceback" not in result.output and stored(app) == 1


@pytest.mark.parametrize("args", [[], ["--format", "xml", "x.jsonl"], ["does-not-exist.jsonl"]])
def test_usage_errors_exit_2(app, tmp_path, args):
    assert invoke(import_command, app, *args).exit_code == 2


def test_gmner_import_keeps_gold_apart_from_predictions(app, tmp_path):
    root = tmp_path / "gmner"
    (root / "txt").mkdir(parents=True)
    (root / "xml").mkdir()
    (root / "txt" / "train.txt").write_text("IMGID:77\nObama\tB-PER\nspeaks\tO\n\n")
    (root / "xml" / "77.xml").write_text(
        "<annotation><size><width>100</width><height>80</height></size><object><name>Obama</name>"
        "<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>"
    )
    images = tmp_path / "imgs"
    images.mkdir()
    Image.new("RGB", (100, 80), "gray").save(images / "77.jpg")
    result = invoke(import_command, app, root, "--images-dir", images)
    assert result.exit_code == 0, result.output
    with Store.open(app.db_path) as store:
        post = store.get_post(1)
        gold = store.entities_for_post(1, origin="gold")
        assert (post.source, post.text, post.media[0].status) == ("twitter-gmner", "Obama speaks", "ok")
        assert [(e.text, e.type, e.origin) for e in gold] == [("Obama", "PER", "gold")]
        assert gold[0].regions[0].box == (1.0, 2.0, 30.0, 40.0) and gold[0].regions[0].media_id == post.media[0].id
        assert store.entities_for_post(1) == []  # no predictions


def test_no_download_then_retry_images(app, tmp_path, served):
    www, base = served
    path = tmp_path / "posts.jsonl"
    path.write_text(
        json.dumps({"id": "1", "text": "x", "image": f"{base}/later.jpg"})
        + "\n"
        + json.dumps({"id": "2", "text": "y", "image": "ftp://example.org/a.jpg"})
        + "\n"
    )
    first = invoke(import_command, app, path, "--no-download")
    assert first.exit_code == 1 and "1 not downloaded" in first.stdout
    assert f"{path}:2: image ftp://example.org/a.jpg: only http(s) is fetched" in first.stderr
    Image.new("RGB", (8, 8), "blue").save(www / "later.jpg")
    retry = invoke(import_command, app, "--retry-images")
    assert retry.exit_code == 1 and "images: 1 ok, 1 failed" in retry.stdout  # the ftp URL still fails
    assert stored(app, 1).media[0].status == "ok" and stored(app, 2).media[0].status == "failed"


def test_x_search_needs_a_token(app, monkeypatch):
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)
    monkeypatch.setattr(credentials, "load_token", lambda: None)  # no keyring entry or token file either
    result = invoke(x_group, app, "search", "nba")
    assert result.exit_code == 2 and credentials.TOKEN_ENV in result.output


def _record_search(monkeypatch) -> list[str]:
    """Serve recorded search pages to the client the CLI makes; returns the tokens it was made with."""
    make_client, used = x_api.make_client, []

    def recorded_client(token):
        used.append(token)
        client = make_client(token)
        client.session.mount(
            "https://",
            RecordedAdapter({("GET", "/2/tweets/search/recent"): lambda q, n: fixture("search_recent.json")}),
        )
        return client

    monkeypatch.setattr(x_api, "make_client", recorded_client)
    return used


def test_x_search_imports_recorded_page(app, monkeypatch):
    monkeypatch.setenv(credentials.TOKEN_ENV, TOKEN)
    _record_search(monkeypatch)
    result = invoke(x_group, app, "search", "nba", "--no-download", "--max", "2")
    assert result.exit_code == 0, result.output
    assert stored(app) == 2 and TOKEN not in result.output


def test_x_search_uses_the_token_the_app_saved_without_a_keyring(app, monkeypatch, tmp_path):
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)
    monkeypatch.setattr(credentials, "_keyring_usable", lambda: False)
    monkeypatch.setattr(credentials, "default_config_dir", lambda: tmp_path / "config")
    credentials.save_token(TOKEN)  # what the settings page does
    used = _record_search(monkeypatch)
    result = invoke(x_group, app, "search", "nba", "--no-download", "--max", "2")
    assert result.exit_code == 0, result.output
    assert used == [TOKEN] and stored(app) == 2 and TOKEN not in result.output
