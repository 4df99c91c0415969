"""Hostile input: files built to break an importer, each refused with where and why or stored safely.

Every kind below is a case of the same shape as tests/test_bad_input.py's (real files, good items
beside the hostile one): each is imported alone, then all of them, the bad-input kinds included,
in one batch. A kind with a safe result (stored intact, searchable) has no error and checks the
store instead. Kinds 1-25 live in test_bad_input.py, 26-49 and 51-59 here, with the case that builds them;
kind 50 is the search API's (tests/test_storage_search.py adds FTS5 operators and SQL).

 1 invalid JSON line                        invalid_json_line
 2 truncated last line                      truncated_last_line
 3 non-UTF-8 bytes on one line              non_utf8_bytes
 4 missing text field                       missing_text_field
 5 missing id                               id_missing
 6 wrong types; lines that are an array,    wrong_types
   a string or null instead of an object
 7 empty file                               empty_file
 8 twarc2 tweet without an id               twarc2_tweet_without_id
 9 CSV unreadable date                      csv_bad_date
10 CSV ragged rows                          csv_ragged_rows
11 CSV non-UTF-8 cell                       csv_non_utf8_cell
12 tweets.js without its prefix             tweets_js_without_prefix
13 tweets.js broken JSON                    tweets_js_broken_json
14 corrupt image                            corrupt_image
15 zero-byte image                          zero_byte_image
16 decompression bomb (100 Mpx PNG)         decompression_bomb
17 truncated JPEG                           truncated_jpeg_file
18 missing local image                      missing_local_image
19 data: and file: image URLs               non_http_url
20 path traversal (../, absolute) in a      path_traversal_in_sidecar
   sidecar's image name
21 invalid sidecar JSON                     invalid_sidecar_json
22 CoNLL line without a tab                 conll_line_without_tab
23 CoNLL bad BIO tag                        conll_bad_tag
24 malformed VOC XML                        xml_malformed
25 unknown file format                      unknown_format
26 mixed encodings in one file (Latin-1,    mixed_encodings
   cp1252 and CESU-8 lines amid UTF-8)
27 half a surrogate pair escaped in JSON    half_surrogate_escape
28 a 1 MB post text (kept, searchable) and  megabyte_text
   one over the 2,000,000-character limit
29 a CSV field of 10 MB                     csv_ten_megabyte_field
30 a CSV quote never closed                 csv_unclosed_quote
31 JSON nested 100,000 (and 150) deep       deeply_nested_json
32 control characters in text and author    control_characters
   (NUL, ESC sequences, BEL, U+2028, U+0085)
33 escape sequences and a bidi override in  escapes_in_file_names
   a file name (error output stays plain)
34 right-to-left text with an RLO override  right_to_left_override
35 emoji-only posts                         emoji_only
36 zero-width joiners and spaces in words   zero_width_characters
37 image URLs to localhost and private      private_network_urls
   networks (127.0.0.1, ::1, 10.0.0.1,
   169.254.169.254, 2130706433, ...)
38 malformed image URLs (unbalanced IPv6    malformed_urls
   bracket, port out of range, no host)
39 NaN, Infinity, 1e400 and a 5,000-digit   non_finite_and_huge_numbers
   number in JSON fields
40 duplicate ids in one file (last wins)    duplicate_ids
41 a byte-order mark mid-file (cat-joined)  bom_mid_file
42 CRLF and lone CR line endings            line_endings
43 U+2028 and U+0085 in a UTF-16 file       separators_in_utf16
44 dates in year 1 and 9999, and past 9999  extreme_calendar_dates
   once converted to UTC
45 negative and overflowing epoch numbers   extreme_epoch_numbers
46 a symbolic link out of an imported       symlink_out_of_folder
   folder (a sidecar linking to a key file)
47 a device or a FIFO named as the image    device_as_image
48 a PNG whose text chunk inflates to 20 MB png_text_chunk_bomb
49 a file name that is not valid UTF-8      non_utf8_file_name
50 hostile search queries (NUL, ESC,        test_hostile_search_queries_answer_or_explain
   100,000 characters, 10,000 parentheses,
   RLO, emoji, lone surrogates)
51 an image path in the home of a user who  image_path_of_unknown_user
   does not exist here (~nosuchuser/a.jpg)
52 an image path holding a NUL              image_path_with_nul
53 a symbolic link loop as the image        symlink_loop_as_image
   (relative, absolute, in a folder)
54 Twitter-GMNER VOC files with an infinite gmner_non_finite_voc
   size or a box of nan/inf
55 Twitter-GMNER IMGIDs with ../ or an      gmner_escaping_image_id
   absolute path
56 folder names differing only in case      case_collisions
   (photo.jpg + photo.JPG, a.txt + a.TXT)
57 images Pillow cannot read (.heic, .svg)  undecodable_image_formats
58 an unreadable sidecar and an unreadable  test_unreadable_sidecar_and_subfolder_are_reported
   subfolder (run as another user when root)
59 X archive photos: a malformed media URL,  archive_media_names
   an id that would leave the media folder

The images of kinds 37-38 are refused even with downloads off; names that resolve to private
addresses and redirects to them are refused at download time (tests/test_ingest_images.py).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from groundlens.core.ingest import import_paths
from groundlens.core.ingest.fields import MAX_TEXT_CHARS
from groundlens.records import Post
from groundlens.storage import QueryError, Store
from tests.helpers.bad_input import CASES as BAD_INPUT_CASES
from tests.helpers.bad_input import Case, gmner_root, good_jsonl, import_cases, jpeg, jsonl

README = Path(__file__).resolve().parent.parent / "README.md"

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def post_of(store: Store, source: str, native_id: str) -> Post:
    posts = store.get_posts(store.post_ids(None)).values()
    found = [p for p in posts if (p.source, p.native_id) == (source, native_id)]
    assert len(found) == 1, (source, native_id, len(found))
    return found[0]


def texts_kept(expected: dict[str, str], source: str = "jsonl") -> Callable:
    """A verify step: these posts hold exactly these texts."""

    def verify(store: Store, _report) -> None:
        assert {i: post_of(store, source, i).text for i in expected} == expected

    return verify


def found_by(store: Store, query: str) -> set[str]:
    return {summary.native_id for summary in store.search_posts(query, limit=100).items}


def mixed_encodings(d: Path) -> Case:
    p = d / "mixed.jsonl"
    p.write_bytes(
        '{"id": "mix-1", "text": "Zürich, 東京, Kraków ✓"}\n'.encode()
        + b'{"id": "mix-2", "text": "caf\xe9 in Latin-1"}\n'
        + b'{"id": "mix-3", "text": "\x93smart quotes\x94 from cp1252"}\n'
        + b'{"id": "mix-4", "text": "CESU-8 \xed\xa0\xbd\xed\xb8\x80"}\n'
        + '{"id": "mix-5", "text": "naïve — ok"}\n'.encode()
    )
    return Case(
        [p],
        [
            (f"{p}:2", "not valid UTF-8 (byte 0xe9"),
            (f"{p}:3", "not valid UTF-8 (byte 0x93"),
            (f"{p}:4", "not valid UTF-8 (byte 0xed"),
        ],
        {("jsonl", "mix-1"), ("jsonl", "mix-5")},
        texts_kept({"mix-1": "Zürich, 東京, Kraków ✓", "mix-5": "naïve — ok"}),
    )


def half_surrogate_escape(d: Path) -> Case:
    p = jsonl(
        d / "a.jsonl",
        '{"id": "sur-1", "text": "half \\ud83d of an emoji"}',
        '{"id": "sur-2", "text": "ok", "author": "\\udc00x"}',
        '{"id": "sur-3", "text": "whole \\ud83d\\ude00"}',
    )
    return Case(
        [p],
        [
            (f"{p}:1", "\\ud83d is half of a UTF-16 surrogate pair"),
            (f"{p}:2", "\\udc00 is half of a UTF-16 surrogate pair"),
        ],
        {("jsonl", "sur-3")},
        texts_kept({"sur-3": "whole 😀"}),
    )


def megabyte_text(d: Path) -> Case:
    words = random.Random(7)
    text = " ".join("".join(words.choices(string.ascii_lowercase, k=7)) for _ in range(125_000)) + " zanzibarquux"
    assert len(text) > 1_000_000
    p = jsonl(
        d / "long.jsonl",
        {"id": "long-1", "text": text},
        {"id": "long-2", "text": "x" * (MAX_TEXT_CHARS + 1)},
        {"id": "long-3", "text": "short"},
    )

    def verify(store: Store, _report) -> None:
        assert post_of(store, "jsonl", "long-1").text == text
        assert found_by(store, "zanzibarquux") == {"long-1"}  # the last word of a megabyte, found by FTS
        (summary,) = store.search_posts('"zanzibarquux"').items
        assert len(summary.snippet) < 1000  # the feed row carries a snippet, not the megabyte

    return Case(
        [p],
        [(f"{p}:2", "field 'text' is 2,000,001 characters long, over the 2,000,000 limit")],
        {("jsonl", "long-1"), ("jsonl", "long-3")},
        verify,
    )


def csv_ten_megabyte_field(d: Path) -> Case:
    p = d / "big.csv"
    p.write_text("id,text\nbig-1,before\nbig-2," + "y" * 10_000_000 + "\nbig-3,after\n")
    return Case(
        [p],
        [(f"{p}:3", "field 'text' is 10,000,000 characters long, over the 2,000,000 limit")],
        {("csv", "big-1"), ("csv", "big-3")},
    )


def csv_unclosed_quote(d: Path) -> Case:
    p = d / "open.csv"
    p.write_text('id,text\nq-1,ok\nq-2,"this quote never closes\nq-3,would be swallowed\nq-4,and so would this\n')

    def verify(store: Store, _report) -> None:
        assert not any("swallowed" in post.text for post in store.get_posts(store.post_ids(None)).values())

    return Case([p], [(f"{p}:3", "a quote opened in this row is never closed: lines 3 to 5")], {("csv", "q-1")}, verify)


def deeply_nested_json(d: Path) -> Case:
    p = jsonl(
        d / "deep.jsonl",
        {"id": "deep-1", "text": "ok"},
        "[" * 100_000 + "]" * 100_000,
        '{"id": "deep-3", "text": "x", "extra": ' + "[" * 150 + "]" * 150 + "}",
        {"id": "deep-4", "text": "ok"},
    )
    return Case(
        [p],
        [(f"{p}:2", "nested more than 100 levels deep"), (f"{p}:3", "nested more than 100 levels deep")],
        {("jsonl", "deep-1"), ("jsonl", "deep-4")},
    )


def control_characters(d: Path) -> Case:
    text = "before\x00afterword \x1b[2J\x1b]0;owned\x07 bell\u2028next\x85nel"
    p = d / "ctrl.jsonl"
    p.write_text(json.dumps({"id": "ctl-1", "text": text, "author": "\x1b[31mred\x00"}, ensure_ascii=False) + "\n")

    def verify(store: Store, _report) -> None:
        post = post_of(store, "jsonl", "ctl-1")
        assert (post.text, post.author) == (text, "\x1b[31mred\x00")
        assert found_by(store, "afterword") == found_by(store, "nel") == {"ctl-1"}  # NUL does not end the text

    return Case([p], [], {("jsonl", "ctl-1")}, verify)


def escapes_in_file_names(d: Path) -> Case:
    root = d / "names"
    root.mkdir()
    evil = root / "evil\x1b]0;owned\x07\u202egpj.json"
    evil.write_text("{not json")
    jpeg(root / "fine.jpg")

    def verify(_store: Store, report) -> None:
        (shown,) = [str(e) for e in report.errors if e.location == str(evil)]
        assert not any(c in shown for c in "\x1b\x07\u202e\n") and "\\x1b]0;owned\\x07\\u202egpj.json" in shown

    return Case([root], [(str(evil), "invalid JSON at line 1")], {("folder", "names/fine")}, verify)


def right_to_left_override(d: Path) -> Case:
    text = "\u202eعاجل: انفجار في بيروت\u202c و שלום עולם"
    p = d / "rtl.jsonl"
    p.write_text(json.dumps({"id": "rtl-1", "text": text, "author": "\u202egnp.exe"}, ensure_ascii=False) + "\n")

    def verify(store: Store, _report) -> None:
        post = post_of(store, "jsonl", "rtl-1")
        assert (post.text, post.author) == (text, "\u202egnp.exe")
        for word in ("بيروت", "שלום", "\u202eعاجل"):
            assert found_by(store, word) == {"rtl-1"}, word

    return Case([p], [], {("jsonl", "rtl-1")}, verify)


def emoji_only(d: Path) -> Case:
    p = d / "emoji.jsonl"
    p.write_text(
        json.dumps({"id": "emo-1", "text": "😀🔥🇺🇦👨‍👩‍👧"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "emo-2", "text": "🔥 fire 🔥"})
        + "\n"
    )

    def verify(store: Store, _report) -> None:
        assert post_of(store, "jsonl", "emo-1").text == "😀🔥🇺🇦👨‍👩‍👧"
        assert "emo-2" in found_by(store, "fire")
        with pytest.raises(QueryError, match="nothing to search for"):  # said plainly, not an empty result
            store.search_posts("🔥")

    return Case([p], [], {("jsonl", "emo-1"), ("jsonl", "emo-2")}, verify)


def zero_width_characters(d: Path) -> Case:
    text = "Jo\u200dhn Sm\u200bith met Ali\u200cce \ufeffhere"
    p = d / "zw.jsonl"
    p.write_text(json.dumps({"id": "zw-1", "text": text}, ensure_ascii=False) + "\n")

    def verify(store: Store, _report) -> None:
        assert post_of(store, "jsonl", "zw-1").text == text
        assert found_by(store, "Jo\u200dhn") == found_by(store, "met") == {"zw-1"}

    return Case([p], [], {("jsonl", "zw-1")}, verify)


PRIVATE_URLS = [
    "http://127.0.0.1/a.jpg",
    "http://localhost:8080/a.jpg",
    "http://[::1]/a.jpg",
    "http://10.0.0.1/a.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433/a.jpg",
    "https://192.168.0.1/a.png",
]


def private_network_urls(d: Path) -> Case:
    records = ({"id": f"ssrf-{n}", "text": "look", "image": url} for n, url in enumerate(PRIVATE_URLS))
    p = jsonl(d / "ssrf.jsonl", *records)
    return Case(
        [p],
        [(f"{p}:{n + 1}", f"image {url}: refused: ") for n, url in enumerate(PRIVATE_URLS)],
        {("jsonl", f"ssrf-{n}") for n in range(len(PRIVATE_URLS))},
    )


def malformed_urls(d: Path) -> Case:
    p = jsonl(
        d / "urls.jsonl",
        {"id": "url-1", "text": "x", "image": "http://[::1/a.jpg"},
        {"id": "url-2", "text": "x", "image": "http://example.org:99999/a.jpg"},
        {"id": "url-3", "text": "x", "image": "http:///a.jpg"},
    )
    return Case(
        [p],
        [(f"{p}:1", "malformed URL"), (f"{p}:2", "malformed URL"), (f"{p}:3", "the URL has no host")],
        {("jsonl", "url-1"), ("jsonl", "url-2"), ("jsonl", "url-3")},
    )


def non_finite_and_huge_numbers(d: Path) -> Case:
    p = jsonl(
        d / "num.jsonl",
        '{"id": "num-1", "text": "ok", "score": NaN, "views": Infinity, "ratio": -1e400}',
        '{"id": 1e400, "text": "an id that overflows"}',
        '{"id": "num-3", "text": "x", "likes": 1' + "0" * 5000 + "}",
        '{"id": 123456789012345678901234567890, "text": "a long integer id"}',
        '{"id": "num-5", "text": "x", "created_at": 1e300}',
    )

    def verify(store: Store, _report) -> None:
        raw = post_of(store, "jsonl", "num-1").raw
        assert (raw["score"], raw["views"], raw["ratio"]) == (None, None, None)  # valid JSON when stored or exported
        assert post_of(store, "jsonl", "123456789012345678901234567890").text == "a long integer id"

    return Case(
        [p],
        [
            (f"{p}:2", "no id field"),
            (f"{p}:3", "a number has more than 4300 digits"),
            (f"{p}:5", "unreadable date 1e+300"),
        ],
        {("jsonl", "num-1"), ("jsonl", "123456789012345678901234567890")},
        verify,
    )


def duplicate_ids(d: Path) -> Case:
    p = jsonl(
        d / "dup.jsonl",
        {"id": "dup-1", "text": "first"},
        {"id": "dup-2", "text": "other"},
        {"id": "dup-1", "text": "second"},
        {"id": "dup-1", "text": "third and last"},
    )
    return Case([p], [], {("jsonl", "dup-1"), ("jsonl", "dup-2")}, texts_kept({"dup-1": "third and last"}))


def bom_mid_file(d: Path) -> Case:
    p = d / "joined.jsonl"
    p.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"id": "bom-1", "text": "first file"}\n'
        + b"\xef\xbb\xbf"
        + b'{"id": "bom-2", "text": "second file"}\n'
        + '{"id": "bom-3", "text": "a zero\ufeffwidth no-break space inside"}\n'.encode()
    )
    return Case(
        [p],
        [],
        {("jsonl", "bom-1"), ("jsonl", "bom-2"), ("jsonl", "bom-3")},
        texts_kept({"bom-2": "second file", "bom-3": "a zero\ufeffwidth no-break space inside"}),
    )


def line_endings(d: Path) -> Case:
    p = d / "mac.jsonl"
    p.write_bytes(
        b'{"id": "eol-1", "text": "lone CR"}\r{"id": "eol-2", "text": "CRLF"}\r\n'
        b'{"id": "eol-3", "text": "bad",,}\r{"id": "eol-4", "text": "LF"}\n'
    )
    c = d / "mac.csv"
    c.write_bytes(b'id,text\reol-5,"two\rlines"\reol-6,plain\r')
    return Case(
        [p, c],
        [(f"{p}:3", "invalid JSON")],
        {("jsonl", "eol-1"), ("jsonl", "eol-2"), ("jsonl", "eol-4"), ("csv", "eol-5"), ("csv", "eol-6")},
        texts_kept({"eol-1": "lone CR", "eol-2": "CRLF"}),
    )


def separators_in_utf16(d: Path) -> Case:
    p = d / "excel.jsonl"
    p.write_text(
        json.dumps({"id": "sep-1", "text": "one\u2028post\x85still"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "sep-2", "text": "next"})
        + "\n",
        encoding="utf-16",
    )
    return Case([p], [], {("jsonl", "sep-1"), ("jsonl", "sep-2")}, texts_kept({"sep-1": "one\u2028post\x85still"}))


def extreme_calendar_dates(d: Path) -> Case:
    p = jsonl(
        d / "dates.jsonl",
        {"id": "cal-1", "text": "x", "created_at": "0001-01-01T00:00:00Z"},
        {"id": "cal-2", "text": "x", "created_at": "9999-12-31T23:59:59Z"},
        {"id": "cal-3", "text": "x", "created_at": "9999-12-31T23:00:00-05:00"},
        {"id": "cal-4", "text": "x", "created_at": "2024-02-30"},
        {"id": "cal-5", "text": "ok", "created_at": "2099-12-31T23:59:59Z"},
    )
    return Case(
        [p],
        [
            (f"{p}:1", "(0001-01-01) is outside 1970-2099"),
            (f"{p}:2", "(9999-12-31) is outside 1970-2099"),
            (f"{p}:3", "unreadable date '9999-12-31T23:00:00-05:00'"),
            (f"{p}:4", "unreadable date"),
        ],
        {("jsonl", "cal-5")},
    )


def extreme_epoch_numbers(d: Path) -> Case:
    p = jsonl(
        d / "epoch.jsonl",
        {"id": "ep-1", "text": "x", "created_at": -86400},
        {"id": "ep-2", "text": "x", "created_at": "-1"},
        {"id": "ep-3", "text": "x", "created_at": 10**20},
        {"id": "ep-4", "text": "x", "created_at": -(2**63)},
        {"id": "ep-5", "text": "epoch 0", "created_at": 0},
    )

    def verify(store: Store, _report) -> None:
        assert post_of(store, "jsonl", "ep-5").created_at.year == 1970

    return Case(
        [p],
        [
            (f"{p}:1", "(1969-12-31) is outside 1970-2099"),
            (f"{p}:2", "(1969-12-31) is outside"),
            (f"{p}:3", "unreadable date"),
            (f"{p}:4", "unreadable date"),
        ],
        {("jsonl", "ep-5")},
        verify,
    )


def symlink_out_of_folder(d: Path) -> Case:
    secret = d / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- hostile")
    jpeg(d / "outside.jpg")
    root = d / "received"
    root.mkdir()
    jpeg(root / "notes.jpg")
    (root / "notes.txt").symlink_to(secret)
    (root / "photo.jpg").symlink_to(d / "outside.jpg")
    jpeg(root / "fine.jpg")
    (root / "inner.jpg").symlink_to(root / "fine.jpg")  # a link that stays inside is an ordinary file

    def verify(store: Store, _report) -> None:
        assert not any("PRIVATE KEY" in p.text for p in store.get_posts(store.post_ids(None)).values())

    return Case(
        [root],
        [
            (str(root / "notes.txt"), "outside the folder: not followed"),
            (str(root / "photo.jpg"), "outside the folder: not followed"),
        ],
        {("folder", "received/fine"), ("folder", "received/inner")},
        verify,
    )


def device_as_image(d: Path) -> Case:
    os.mkfifo(d / "pipe.jpg")
    p = jsonl(
        d / "dev.jsonl",
        {"id": "dev-1", "text": "endless", "image": "/dev/zero"},
        {"id": "dev-2", "text": "blocks", "image": str(d / "pipe.jpg")},
    )
    return Case(
        [p],
        [(f"{p}:1", "not a regular file"), (f"{p}:2", "not a regular file")],
        {("jsonl", "dev-1"), ("jsonl", "dev-2")},
    )


def png_text_chunk_bomb(d: Path) -> Case:
    root = d / "pngs"
    root.mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "A" * 20_000_000, zip=True)  # 20 KB on disk
    Image.new("RGB", (8, 8)).save(root / "chunk.png", pnginfo=info)
    jpeg(root / "fine.jpg")
    return Case(
        [root],
        [(str(root / "chunk.png"), "Decompressed data too large")],
        {("folder", "pngs/chunk"), ("folder", "pngs/fine")},
    )


def non_utf8_file_name(d: Path) -> Case:
    root = d / "latin"
    root.mkdir()
    jpeg(Path(os.fsdecode(os.path.join(os.fsencode(root), b"caf\xe9.jpg"))))
    jpeg(root / "fine.jpg")
    bad = os.fsdecode(os.path.join(os.fsencode(root), b"caf\xe9.jpg"))
    return Case([root], [(bad, "file name is not valid UTF-8 (byte 0xe9")], {("folder", "latin/fine")})


def image_path_of_unknown_user(d: Path) -> Case:
    p = jsonl(
        d / "home.jsonl",
        {"id": "home-1", "text": "ok"},
        {"id": "home-2", "text": "whose home?", "image": "~nosuchuser/a.jpg"},
        {"id": "home-3", "text": "ok"},
    )
    return Case([p], [(f"{p}:2", "'~nosuchuser' is not a user on this machine")], good_jsonl(p, "home-1", "home-3"))


def image_path_with_nul(d: Path) -> Case:
    p = jsonl(
        d / "nul.jsonl",
        {"id": "nul-1", "text": "relative", "image": "a\u0000.jpg"},
        {"id": "nul-2", "text": "absolute", "image": f"{d}/b\u0000.jpg"},
        {"id": "nul-3", "text": "ok"},
    )
    return Case(
        [p], [(f"{p}:1", "contains a NUL character"), (f"{p}:2", "contains a NUL character")], good_jsonl(p, "nul-3")
    )


def symlink_loop_as_image(d: Path) -> Case:
    (d / "loop.jpg").symlink_to(d / "loop.jpg")
    p = jsonl(
        d / "loop.jsonl",
        {"id": "loop-1", "text": "by name", "image": "loop.jpg"},
        {"id": "loop-2", "text": "by path", "image": str(d / "loop.jpg")},
        {"id": "loop-3", "text": "ok"},
    )
    root = d / "looped"
    root.mkdir()
    (root / "again.jpg").symlink_to(root / "again.jpg")
    jpeg(root / "fine.jpg")
    return Case(
        [p, root],
        [
            (f"{p}:1", "cannot be followed: Symlink loop"),
            (f"{p}:2", "link leads nowhere"),
            (str(root / "again.jpg"), "a link that leads nowhere: not imported"),
        ],
        {("jsonl", "loop-2"), ("jsonl", "loop-3"), ("folder", "looped/fine")},
    )


def gmner_non_finite_voc(d: Path) -> Case:
    def voc(size: tuple[str, str], box: tuple[str, ...]) -> str:
        corners = "".join(f"<{k}>{v}</{k}>" for k, v in zip(("xmin", "ymin", "xmax", "ymax"), box))
        return (
            f"<annotation><size><width>{size[0]}</width><height>{size[1]}</height></size>"
            f"<object><name>Obama</name><bndbox>{corners}</bndbox></object></annotation>"
        )

    root = gmner_root(
        d,
        "".join(f"IMGID:{i}\nObama\tB-PER\n\n" for i in range(1, 5)),
        {
            "1.xml": voc(("inf", "480"), ("1", "2", "3", "4")),
            "2.xml": voc(("640", "480"), ("nan", "2", "3", "4")),
            "3.xml": voc(("640", "480"), ("1", "2", "inf", "4")),
            "4.xml": voc(("640", "480"), ("1", "2", "3", "4")),
        },
    )
    xml = root / "xml"
    return Case(
        [root],
        [
            (str(xml / "1.xml"), "image size inf x 480 is not two positive numbers"),
            (str(xml / "2.xml"), "not finite numbers"),
            (str(xml / "3.xml"), "not finite numbers"),
        ],
        {("twitter-gmner", "4")},
    )


def gmner_escaping_image_id(d: Path) -> Case:
    (d / "secret.xml").write_text("<annotation><size><width>1</width><height>1</height></size></annotation>")
    jpeg(d / "secret.jpg")
    root = gmner_root(
        d, f"IMGID:../../secret\nObama\tB-PER\n\nIMGID:{d / 'secret'}\nObama\tB-PER\n\nIMGID:3\nParis\tB-LOC\n\n"
    )
    conll = root / "txt" / "dev.txt"

    def verify(store: Store, _report) -> None:
        assert all(
            "secret" not in (m.local_path or "")
            for p in store.get_posts(store.post_ids(None)).values()
            for m in p.media
        )

    return Case(
        [root],
        [(f"{conll}:1", "'../../secret' is not a plain file name"), (f"{conll}:4", "is not a plain file name")],
        {("twitter-gmner", "3")},
        verify,
    )


def case_collisions(d: Path) -> Case:
    root = d / "cases"
    root.mkdir()
    jpeg(root / "photo.jpg")
    Image.new("RGB", (8, 8), "blue").save(root / "photo.JPG", "JPEG")
    (root / "photo.txt").write_text("two photos, one caption")
    jpeg(root / "note.jpg")
    (root / "note.txt").write_text("which caption?")
    (root / "note.TXT").write_text("this one?")

    def verify(store: Store, _report) -> None:
        post = post_of(store, "folder", "cases/photo")
        assert sorted(Path(m.local_path).name for m in post.media) == ["photo.JPG", "photo.jpg"]

    return Case(
        [root],
        [(str(root / "note.txt"), "note.TXT and note.txt differ only in case")],
        {("folder", "cases/photo")},
        verify,
    )


def undecodable_image_formats(d: Path) -> Case:
    root = d / "phone"
    root.mkdir()
    (root / "shot.heic").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1")
    (root / "shot.txt").write_text("taken on a phone")
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    jpeg(root / "fine.jpg")
    return Case(
        [root],
        [
            (str(root / "shot.txt"), "not an image format Pillow can read"),
            (str(root / "logo.svg"), "not an image format Pillow can read"),
        ],
        {("folder", "phone/shot"), ("folder", "phone/logo"), ("folder", "phone/fine")},
    )


def archive_media_names(d: Path) -> Case:
    jpeg(d / "secret-a.jpg")
    folder = d / "archive"
    (folder / "tweets_media").mkdir(parents=True)

    def tweet(tweet_id: str, url: str) -> dict:
        media = [{"type": "photo", "media_url_https": url}]
        return {"tweet": {"id_str": tweet_id, "full_text": "photo", "extended_entities": {"media": media}}}

    p = folder / "tweets.js"
    p.write_text(
        "window.YTD.tweets.part0 = "
        + json.dumps(
            [
                tweet("1", "http://[::1/a.jpg"),
                tweet("../../secret", "https://pbs.twimg.com/media/a.jpg"),
                tweet("3", "https://pbs.twimg.com/media/c.jpg"),
            ]
        )
    )

    def verify(store: Store, _report) -> None:
        assert all(m.local_path is None for i in ("1", "../../secret", "3") for m in post_of(store, "x", i).media)

    return Case([p], [(f"{p} [item 0]", "malformed URL")], {("x", "1"), ("x", "../../secret"), ("x", "3")}, verify)


HOSTILE_CASES: dict[str, Callable[[Path], Case]] = {
    f.__name__: f
    for f in (
        mixed_encodings,
        half_surrogate_escape,
        megabyte_text,
        csv_ten_megabyte_field,
        csv_unclosed_quote,
        deeply_nested_json,
        control_characters,
        escapes_in_file_names,
        right_to_left_override,
        emoji_only,
        zero_width_characters,
        private_network_urls,
        malformed_urls,
        non_finite_and_huge_numbers,
        duplicate_ids,
        bom_mid_file,
        line_endings,
        separators_in_utf16,
        extreme_calendar_dates,
        extreme_epoch_numbers,
        symlink_out_of_folder,
        device_as_image,
        png_text_chunk_bomb,
        non_utf8_file_name,
        image_path_of_unknown_user,
        image_path_with_nul,
        symlink_loop_as_image,
        gmner_non_finite_voc,
        gmner_escaping_image_id,
        case_collisions,
        undecodable_image_formats,
        archive_media_names,
    )
}


@pytest.mark.parametrize("kind", HOSTILE_CASES)
def test_each_hostile_input_is_refused_with_a_reason_or_stored_safely(tmp_path, kind):
    folder = tmp_path / "in"
    folder.mkdir()
    import_cases(tmp_path, [HOSTILE_CASES[kind](folder)])


def test_every_kind_in_one_batch(tmp_path):
    kinds = len(BAD_INPUT_CASES) + len(HOSTILE_CASES) + 1  # +1: the search queries below
    claimed = re.search(r"\((\d+) kinds of hostile\s+input", README.read_text(encoding="utf-8"))
    assert claimed and int(claimed.group(1)) == kinds, "README's count of hostile input kinds is not the suite's"
    cases = []
    for kind, build in {**BAD_INPUT_CASES, **HOSTILE_CASES}.items():
        folder = tmp_path / kind
        folder.mkdir()
        cases.append(build(folder))
    import_cases(tmp_path, cases)


@pytest.fixture
def hostile_store(tmp_path):
    """A store holding posts of the hostile kinds that are kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [
        p
        for kind in (control_characters, right_to_left_override, emoji_only, zero_width_characters)
        for p in HOSTILE_CASES[kind.__name__](folder).paths
    ]
    with Store.open(tmp_path / "groundlens.db") as store:
        assert import_paths(store, paths, download=False).ok
        yield store


HOSTILE_QUERIES = [
    "\x1b[2J",
    "\x07bell",
    "x" * 100_000,
    "(" * 10_000,
    ")" * 10_000,
    '"' * 1001,
    "\u202e",
    "\u202eعاجل",
    "🔥",
    "\ud800",
    "a\u2028b",
    "type:PER\x1b",
    "entity:\x00",
    "NEAR(" * 1000,
    "-" * 5000,
    "OR " * 3000,
    "*" * 500,
]


@pytest.mark.parametrize(
    "query",
    [
        *HOSTILE_QUERIES,
        "before\x00afterword",
    ],
)
def test_hostile_search_queries_answer_or_explain(hostile_store, query):
    """Kind 50: a query is answered or refused with a QueryError (shown inline), never a crash or SQL error."""
    for call in (hostile_store.search_posts, hostile_store.search_entities, hostile_store.count_matching):
        try:
            call(query)
        except QueryError as error:
            assert error.message and 0 <= error.position <= len(query)
    assert hostile_store.count_posts() == 5


@pytest.mark.xfail(
    strict=True,
    reason="storage: FTS5's unicode61 splits words at zero-width characters,"
    " so 'Jo<ZWJ>hn' is not found by John (keyword evasion)",
)
def test_zero_width_characters_do_not_hide_a_word_from_search(hostile_store):
    assert found_by(hostile_store, "John") == found_by(hostile_store, "Smith") == {"zw-1"}


def test_the_app_shows_every_kept_hostile_post(qtbot, tmp_path):
    """The feed and the inspector take the megabyte text, control characters, RTL, emoji and
    zero-width posts like any other, and show their words."""
    from groundlens.core.config import resolve_paths
    from groundlens.gui.app import application
    from groundlens.gui.context import open_context
    from groundlens.gui.main_window import MainWindow

    shown = {
        "long-1": "zanzibarquux",
        "ctl-1": "afterword",
        "rtl-1": "بيروت",
        "emo-1": "🔥",
        "emo-2": "fire",
        "zw-1": "met Ali",
    }
    paths = resolve_paths(tmp_path / "data").ensure()
    cases = []
    for kind in (megabyte_text, control_characters, right_to_left_override, emoji_only, zero_width_characters):
        (tmp_path / kind.__name__).mkdir()
        cases.append(kind(tmp_path / kind.__name__))
    with Store.open(paths.db_path) as store:
        import_paths(store, [p for case in cases for p in case.paths], download=False)
        assert store.count_posts() == len(shown) + 1  # and long-3
    application()
    window = MainWindow(open_context(paths))
    qtbot.addWidget(window)
    window.show()
    model = window.feed.model
    qtbot.waitUntil(lambda: model.rowCount() == len(shown) + 1, timeout=10_000)
    for row in range(model.rowCount()):
        qtbot.waitUntil(lambda: model.summary(row) is not None)  # noqa: B023 - waitUntil runs it in this iteration
        window.feed.select_row(row)
        inspector = window.inspector
        qtbot.waitUntil(lambda: inspector.bundle is not None and inspector.bundle.post.id == model.post_id(row))  # noqa: B023 - waitUntil runs it in this iteration
        native_id = inspector.bundle.post.native_id
        assert shown.get(native_id, "short") in window.inspector.text.toPlainText(), native_id
    window.close()


def test_the_inspector_header_shows_markup_as_text_and_links_only_the_web(qtbot, tmp_path):
    """An author name is text, not HTML; a post's file:// link is not clickable (it would open a local file)."""
    from groundlens.core.config import resolve_paths
    from groundlens.gui.app import application
    from groundlens.gui.context import open_context
    from groundlens.gui.main_window import MainWindow

    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        store.upsert_posts(
            [Post("jsonl", "h1", "hello", author="<img src=x onerror=alert(1)>", url="file:///etc/passwd")]
        )
    application()
    window = MainWindow(open_context(paths))
    qtbot.addWidget(window)
    window.show()
    inspector = window.inspector
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 1)
    window.feed.select_row(0)
    qtbot.waitUntil(lambda: inspector.bundle is not None)
    header = inspector.header.text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in header and "<img" not in header
    assert "<a " not in header and "file:" not in header
    window.close()


def test_unreadable_sidecar_and_subfolder_are_reported(tmp_path):
    """Kind 58, through the CLI. Permissions do not stop root, so as root the import runs without the
    capabilities that bypass them (setpriv drops them from the bounding set)."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: unreadable files cannot be made")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    root = tmp_path / "shots"
    (root / "locked").mkdir(parents=True)
    for name in ("a", "b", "c"):
        jpeg(root / f"{name}.jpg")
        (root / f"{name}.txt").write_text(f"caption {name}")
    jpeg(root / "locked" / "d.jpg")
    (root / "b.txt").chmod(0)
    (root / "locked").chmod(0)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, str(REPO / "main.py"), "--data-dir", str(tmp_path / "data"), "import", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    finally:
        (root / "locked").chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert f"{root / 'b.txt'}: cannot be read (Permission denied)" in result.stderr
    assert f"{root / 'locked'}: folder cannot be read (Permission denied)" in result.stderr
    assert "2 posts added" in result.stdout, result.stdout  # a and c: the files after the unreadable one land too
