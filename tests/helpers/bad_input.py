"""The bad-input cases (one broken file each) an import must report alone, with file:line and reason."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from groundlens.core.ingest import ImageLimits, ImportReport, import_paths
from groundlens.storage import Store


@dataclass
class Case:
    paths: list[Path]
    errors: list[tuple[str, str]]  # (exact location, part of the reason); none for a kind with a safe result
    good: set[tuple[str, str]] = field(default_factory=set)  # (source, native_id) that must be stored
    verify: Callable[[Store, ImportReport], None] | None = None  # what else the result must show


def jsonl(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def good_jsonl(path: Path, *ids: str) -> set[tuple[str, str]]:
    return {("jsonl", i) for i in ids}


def jpeg(path: Path) -> Path:
    Image.new("RGB", (16, 16), "red").save(path, "JPEG")
    return path


def invalid_json_line(d: Path) -> Case:
    p = jsonl(d / "a.jsonl", {"id": "1", "text": "ok"}, '{"id": "2", "text": "oops",,}', {"id": "3", "text": "ok"})
    return Case([p], [(f"{p}:2", "invalid JSON")], good_jsonl(p, "1", "3"))


def truncated_last_line(d: Path) -> Case:
    p = d / "a.jsonl"
    p.write_text(json.dumps({"id": "1", "text": "ok"}) + "\n" + '{"id": "2", "text": "cut off mid-wri')
    return Case([p], [(f"{p}:2", "truncated?")], good_jsonl(p, "1"))


def non_utf8_bytes(d: Path) -> Case:
    p = d / "a.jsonl"
    p.write_bytes(b'{"id": "1", "text": "ok"}\n{"id": "2", "text": "caf\xe9 latin-1"}\n{"id": "3", "text": "ok"}\n')
    return Case([p], [(f"{p}:2", "not valid UTF-8 (byte 0xe9 at column 25)")], good_jsonl(p, "1", "3"))


def missing_text_field(d: Path) -> Case:
    p = jsonl(d / "a.jsonl", {"id": "1", "text": "ok"}, {"id": "2", "author": "no text"})
    return Case([p], [(f"{p}:2", "no text field")], good_jsonl(p, "1"))


def id_missing(d: Path) -> Case:
    p = jsonl(d / "a.jsonl", {"text": "who am I"}, {"id": "2", "text": "ok"})
    return Case([p], [(f"{p}:1", "no id field")], good_jsonl(p, "2"))


def wrong_types(d: Path) -> Case:
    p = jsonl(
        d / "a.jsonl",
        {"id": "1", "text": 42},
        {"id": ["2"], "text": "x"},
        {"id": "3", "text": "ok"},
        {"id": "4", "text": "x", "created_at": {"day": 1}},
        [1, 2],
        '"a string line"',
        "null",
    )
    return Case(
        [p],
        [
            (f"{p}:1", "field 'text' must be a string, got int"),
            (f"{p}:2", "field 'id' must be a string or an integer, got list"),
            (f"{p}:4", "date must be text or a number"),
            (f"{p}:5", "expected an object, got list"),
            (f"{p}:6", "expected an object, got str"),
            (f"{p}:7", "expected an object, got NoneType"),
        ],
        good_jsonl(p, "3"),
    )


def empty_file(d: Path) -> Case:
    p = d / "empty.jsonl"
    p.write_text("")
    return Case([p], [(str(p), "no posts found")])


def twarc2_tweet_without_id(d: Path) -> Case:
    page = {
        "data": [{"id": "10", "text": "ok", "author_id": "5"}, {"text": "no id", "author_id": "5"}],
        "includes": {"users": [{"id": "5", "username": "u"}]},
    }
    p = jsonl(d / "twarc.jsonl", page)
    return Case([p], [(f"{p}:1 [tweet 1]", "tweet has no 'id'")], {("x", "10")})


def csv_bad_date(d: Path) -> Case:
    p = d / "a.csv"
    p.write_text("id,text,created_at\n1,ok,2021-01-01\n2,bad date,the day after tomorrow-ish\n3,ok,1600000000\n")
    return Case([p], [(f"{p}:3", "unreadable date")], {("csv", "1"), ("csv", "3")})


def csv_ragged_rows(d: Path) -> Case:
    p = d / "a.csv"
    p.write_text("id,text\n1,ok\n2,too,many,cells\n3\n4,ok\n")
    return Case(
        [p],
        [(f"{p}:3", "row has 4 fields, the header has 2"), (f"{p}:4", "row has 1 fields")],
        {("csv", "1"), ("csv", "4")},
    )


def csv_non_utf8_cell(d: Path) -> Case:
    p = d / "a.csv"
    p.write_bytes(b"id,text\n1,ok\n2,na\xefve\n")
    return Case([p], [(f"{p}:3", "field 'text': not valid UTF-8 (byte 0xef")], {("csv", "1")})


def tweets_js_without_prefix(d: Path) -> Case:
    p = d / "tweets.js"
    p.write_text('var tweets = [{"tweet": {"id_str": "1", "full_text": "x"}}]')
    good = d / "ok" / "tweets.js"
    good.parent.mkdir()
    good.write_text(
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "7", "full_text": "fine",'
        ' "created_at": "Wed Oct 10 20:19:24 +0000 2018"}}, {"like": {}}]'
    )
    return Case(
        [p, good], [(str(p), "must start with 'window.YTD."), (f"{good} [item 1]", "no 'tweet' object")], {("x", "7")}
    )


def tweets_js_broken_json(d: Path) -> Case:
    p = d / "tweets.js"
    p.write_text('window.YTD.tweets.part0 = [\n  {"tweet": {"id_str": "1", "full_text": "x"}},\n  {"tweet": \n')
    return Case([p], [(str(p), "invalid JSON at line")])


def corrupt_image(d: Path) -> Case:
    root = d / "shots"
    root.mkdir()
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "broken.txt").write_text("the post stays, its image fails")
    jpeg(root / "fine.jpg")
    return Case(
        [root],
        [(str(root / "broken.txt"), "cannot decode the image")],
        {("folder", "shots/broken"), ("folder", "shots/fine")},
    )


def zero_byte_image(d: Path) -> Case:
    root = d / "shots"
    root.mkdir()
    (root / "empty.png").write_bytes(b"")
    return Case([root], [(str(root / "empty.png"), "empty file (0 bytes)")], {("folder", "shots/empty")})


def decompression_bomb(d: Path) -> Case:
    root = d / "shots"
    root.mkdir()
    Image.new("1", (10_000, 10_000)).save(root / "bomb.png")  # ~12 KB on disk, 100 Mpx decoded
    (root / "bomb.json").write_text(json.dumps({"text": "tiny file, huge image"}))
    return Case([root], [(str(root / "bomb.json"), "decompression bomb")], {("folder", "shots/bomb")})


def truncated_jpeg_file(d: Path) -> Case:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "blue").save(buffer, "JPEG")
    (d / "half.jpg").write_bytes(buffer.getvalue()[:400])
    p = d / "a.csv"
    p.write_text("id,text,image\n1,half an image,half.jpg\n")
    return Case([p], [(f"{p}:2", "cannot decode the image")], {("csv", "1")})


def missing_local_image(d: Path) -> Case:
    p = jsonl(d / "a.jsonl", {"id": "1", "text": "where is it", "image": "nowhere.jpg"})
    return Case([p], [(f"{p}:1", "file not found")], good_jsonl(p, "1"))


def non_http_url(d: Path) -> Case:
    p = jsonl(
        d / "a.jsonl",
        {"id": "1", "text": "inline", "image": "data:image/png;base64,iVBORw0KGgo="},
        {"id": "2", "text": "local file url", "image_url": "file:///etc/passwd"},
    )
    return Case([p], [(f"{p}:1", "not 'data:' URLs"), (f"{p}:2", "not 'file:' URLs")], good_jsonl(p, "1", "2"))


def path_traversal_in_sidecar(d: Path) -> Case:
    root = d / "shots"
    root.mkdir()
    jpeg(d / "secret.jpg")
    (root / "evil.json").write_text(json.dumps({"text": "look elsewhere", "image": "../secret.jpg"}))
    (root / "abs.json").write_text(json.dumps({"text": "absolute", "image": str(d / "secret.jpg")}))
    jpeg(root / "ok.jpg")
    return Case(
        [root],
        [(str(root / "evil.json"), "leaves the folder"), (str(root / "abs.json"), "is absolute")],
        {("folder", "shots/ok")},
    )


def invalid_sidecar_json(d: Path) -> Case:
    root = d / "shots"
    root.mkdir()
    jpeg(root / "a.jpg")
    (root / "a.json").write_text("{not json")
    jpeg(root / "b.jpg")
    return Case([root], [(str(root / "a.json"), "invalid JSON at line 1")], {("folder", "shots/b")})


def gmner_root(d: Path, conll: str, xml: dict[str, str] | None = None) -> Path:
    root = d / "gmner"
    (root / "txt").mkdir(parents=True)
    (root / "xml").mkdir()
    (root / "txt" / "dev.txt").write_text(conll)
    for name, text in (xml or {}).items():
        (root / "xml" / name).write_text(text)
    return root


def conll_line_without_tab(d: Path) -> Case:
    root = gmner_root(d, "IMGID:1\nGood\tO\n\nIMGID:2\nBad line without tab\nmore\tO\n\nIMGID:3\nParis\tB-LOC\n\n")
    return Case(
        [root],
        [(f"{root / 'txt' / 'dev.txt'}:5", "expected 'token<TAB>tag'")],
        {("twitter-gmner", "1"), ("twitter-gmner", "3")},
    )


def conll_bad_tag(d: Path) -> Case:
    root = gmner_root(d, "IMGID:1\nObama\tX-PER\n\nIMGID:2\nObama\tB-PER\n")
    return Case([root], [(f"{root / 'txt' / 'dev.txt'}:2", "'X-PER' is not a BIO tag")], {("twitter-gmner", "2")})


def xml_malformed(d: Path) -> Case:
    root = gmner_root(
        d,
        "IMGID:1\nObama\tB-PER\n\nIMGID:2\nParis\tB-LOC\n\n",
        {"1.xml": "<annotation><object><name>Obama</name>", "2.xml": "<annotation></annotation>"},
    )
    return Case([root], [(str(root / "xml" / "1.xml"), "not valid XML")], {("twitter-gmner", "2")})


def unknown_format(d: Path) -> Case:
    p = d / "blob.bin"
    p.write_bytes(b"\x00\x01\x02\x03")
    return Case([p], [(str(p), "cannot tell the format")])


CASES: dict[str, Callable[[Path], Case]] = {
    f.__name__: f
    for f in (
        invalid_json_line,
        truncated_last_line,
        non_utf8_bytes,
        missing_text_field,
        id_missing,
        wrong_types,
        empty_file,
        twarc2_tweet_without_id,
        csv_bad_date,
        csv_ragged_rows,
        csv_non_utf8_cell,
        tweets_js_without_prefix,
        tweets_js_broken_json,
        corrupt_image,
        zero_byte_image,
        decompression_bomb,
        truncated_jpeg_file,
        missing_local_image,
        non_http_url,
        path_traversal_in_sidecar,
        invalid_sidecar_json,
        conll_line_without_tab,
        conll_bad_tag,
        xml_malformed,
        unknown_format,
    )
}


def stored_keys(store: Store) -> set[tuple[str, str]]:
    return {(p.source, p.native_id) for p in store.get_posts(store.post_ids(None)).values()}


def check(report, store, cases: list[Case]) -> None:
    expected = [error for case in cases for error in case.errors]
    assert len(report.errors) == len(expected), [str(e) for e in report.errors]
    for location, reason in expected:
        assert any(e.location == location and reason in e.reason for e in report.errors), (
            location,
            reason,
            [str(e) for e in report.errors],
        )
    good = set().union(*(case.good for case in cases))
    assert good <= stored_keys(store)
    assert report.posts_inserted == len(stored_keys(store))  # images failing never drop their post
    for case in cases:
        if case.verify is not None:
            case.verify(store, report)


def import_cases(tmp_path: Path, cases: list[Case]) -> None:
    """Import every case's files in one batch, as the CLI would (downloads off, default image limits)."""
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [p for case in cases for p in case.paths], download=False, limits=ImageLimits())
        check(report, store, cases)
        assert report.ok == (not any(case.errors for case in cases))
