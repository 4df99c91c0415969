"""Each file reader on real sample files: pure generators of ParsedItem / ItemError, no store needed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from groundlens.core.ingest.archive import read_archive
from groundlens.core.ingest.csvfile import read_csv
from groundlens.core.ingest.detect import FormatError, detect_format
from groundlens.core.ingest.folder import read_folder
from groundlens.core.ingest.gmner_import import read_gmner
from groundlens.core.ingest.jsonl import read_jsonl
from groundlens.core.ingest.report import ItemError, ParsedItem

X_API = Path(__file__).parent / "fixtures" / "ingest" / "x_api"


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, ParsedItem)], [i for i in items if isinstance(i, ItemError)]


def jpeg(path: Path, size=(32, 24), color=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, "JPEG")
    return path


def test_twarc2_lines_join_authors_and_photos_from_includes(tmp_path):
    page = json.loads((X_API / "search_recent.json").read_text())
    path = tmp_path / "collected.jsonl"
    path.write_text(
        json.dumps(page) + "\n" + json.dumps(json.loads((X_API / "user_tweets_page2.json").read_text())) + "\n"
    )
    posts, errors = split(read_jsonl(path))
    assert errors == []
    assert [p.post.native_id for p in posts] == [
        "1590012345678901234",
        "1590012345678901300",
        "1590012345678901400",
        "1588800000000000030",
    ]
    durant = posts[0].post
    assert durant.source == "x" and durant.author == "NBA" and durant.lang == "en"
    assert durant.created_at == datetime(2022, 11, 8, 3, 11, 42, tzinfo=UTC)
    assert durant.url == "https://x.com/NBA/status/1590012345678901234"
    assert [(m.url, m.width, m.height) for m in durant.media] == [
        ("https://pbs.twimg.com/media/FhDurant40.jpg", 1200, 800)
    ]
    assert posts[1].post.author == "XDevelopers" and posts[1].post.media == []
    # the video is skipped, the photo kept
    assert [m.url for m in posts[2].post.media] == ["https://pbs.twimg.com/media/FhMsgArena.jpg"]
    assert posts[0].location == f"{path}:1 [tweet 0]" and posts[3].location.startswith(f"{path}:2")
    # raw keeps a re-parseable v2 page for this tweet alone
    assert durant.raw["data"]["id"] == "1590012345678901234"
    assert durant.raw["includes"]["users"] == [{"id": "783214", "name": "NBA", "username": "NBA"}]


def test_flattened_jsonl_is_read_liberally(tmp_path):
    jpeg(tmp_path / "pics" / "a.jpg")
    lines = [
        {"id": 17, "text": "plain", "created_at": "2021-03-04 05:06:07", "author": "alice", "image": "pics/a.jpg"},
        {
            "tweet_id": "18",
            "full_text": "twarc flattened",
            "author": {"username": "bob", "id": "9"},
            "author_id": "9",
            "created_at": "2021-03-04T05:06:07.000Z",
            "attachments": {
                "media": [
                    {"type": "photo", "url": "https://pbs.twimg.com/media/x.jpg"},
                    {"type": "video", "preview_image_url": "https://pbs.twimg.com/v.jpg"},
                ]
            },
        },
        {
            "id": "19",
            "content": "epoch ms",
            "timestamp": 1614834367000,
            "image_urls": ["https://e.com/1.png", "https://e.com/2.png"],
        },
    ]
    path = tmp_path / "flat.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    posts, errors = split(read_jsonl(path))
    assert errors == []
    first, second, third = (p.post for p in posts)
    assert (first.source, first.native_id, first.author) == ("jsonl", "17", "alice")
    assert first.media[0].local_path == str((tmp_path / "pics" / "a.jpg").resolve())
    assert first.created_at == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (second.source, second.author) == ("x", "bob")  # twarc-flattened tweets stay X posts
    assert [m.url for m in second.media] == ["https://pbs.twimg.com/media/x.jpg"]
    assert third.created_at == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert [m.url for m in third.media] == ["https://e.com/1.png", "https://e.com/2.png"]


def test_pretty_printed_json_array(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"id": "1", "text": "one"}, {"id": "2", "text": "two"}], indent=2))
    posts, errors = split(read_jsonl(path))
    assert [p.post.text for p in posts] == ["one", "two"] and errors == []
    assert posts[1].location == f"{path} [item 1]"


ARCHIVE_TWEET = {
    "tweet": {
        "edit_info": {
            "initial": {"editTweetIds": ["1050118621198921728"], "editableUntil": "2018-10-10T21:19:24.000Z"}
        },
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [],
            "symbols": [],
            "user_mentions": [],
            "urls": [],
            "media": [
                {
                    "media_url_https": "https://pbs.twimg.com/media/DpL0H1FU0AAkqWc.jpg",
                    "type": "photo",
                    "id_str": "1050118601636663296",
                }
            ],
        },
        "display_text_range": ["0", "37"],
        "favorite_count": "3",
        "id_str": "1050118621198921728",
        "truncated": False,
        "retweet_count": "0",
        "id": "1050118621198921728",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "favorited": False,
        "full_text": "Sunset over the Golden Gate Bridge https://t.co/6m2yCzcCLD",
        "lang": "en",
        "extended_entities": {
            "media": [
                {
                    "media_url_https": "https://pbs.twimg.com/media/DpL0H1FU0AAkqWc.jpg",
                    "type": "photo",
                    "id_str": "1050118601636663296",
                },
                {
                    "media_url_https": "https://pbs.twimg.com/media/DpL0H1GUcAEyz9q.jpg",
                    "type": "photo",
                    "id_str": "1050118601636663297",
                },
            ]
        },
    }
}


def test_x_archive_tweets_js(tmp_path):
    second = json.loads(json.dumps(ARCHIVE_TWEET))
    second["tweet"].update(
        id="1050118621198921999",
        id_str="1050118621198921999",
        full_text="no media here",
        extended_entities={},
        entities={},
    )
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps([ARCHIVE_TWEET, second], indent=2))
    (tmp_path / "account.js").write_text(
        'window.YTD.account.part0 = [{"account": {"username": "golden_gate_fan", "accountId": "12345"}}]'
    )
    local = jpeg(tmp_path / "tweets_media" / "1050118621198921728-DpL0H1FU0AAkqWc.jpg")
    assert detect_format(tmp_path / "tweets.js") == "x-archive"
    posts, errors = split(read_archive(tmp_path / "tweets.js"))
    assert errors == []
    post = posts[0].post
    assert (post.source, post.native_id, post.author) == ("x", "1050118621198921728", "golden_gate_fan")
    assert post.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert post.text.startswith("Sunset over the Golden Gate Bridge")
    assert post.url == "https://x.com/golden_gate_fan/status/1050118621198921728"
    assert [(m.url, m.local_path) for m in post.media] == [
        ("https://pbs.twimg.com/media/DpL0H1FU0AAkqWc.jpg", str(local)),  # shipped in tweets_media/: used
        ("https://pbs.twimg.com/media/DpL0H1GUcAEyz9q.jpg", None),
    ]
    assert posts[1].post.media == [] and posts[1].location == f"{tmp_path / 'tweets.js'} [item 1]"


def test_csv_with_flexible_headers_semicolons_and_multiline_text(tmp_path):
    jpeg(tmp_path / "img" / "b.jpg")
    path = tmp_path / "posts.csv"
    path.write_text(
        "Tweet Text;Image Path;Posted At;Screen Name\n"
        '"Line one\nline two; with semicolon";img/b.jpg;2020-05-01 10:00;carol\n'
        "Second row;https://example.org/p.png;01/02/2020 13:45 +0200;dave\n",
        encoding="utf-8",
    )
    assert detect_format(path) == "csv"
    posts, errors = split(read_csv(path))
    assert errors == []
    first, second = (p.post for p in posts)
    assert first.text == "Line one\nline two; with semicolon" and first.author == "carol"
    assert first.media[0].local_path == str((tmp_path / "img" / "b.jpg").resolve())
    assert second.created_at == datetime(2020, 1, 2, 11, 45, tzinfo=UTC)
    assert posts[1].location == f"{path}:4"  # the first row spans lines 2-3
    assert first.source == "csv" and first.native_id.startswith("sha1:")
    again, _ = split(read_csv(path))
    assert [p.post.native_id for p in again] == [p.post.native_id for p in posts]  # stable ids: re-import updates


def test_utf16_csv_from_excel_is_decoded(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("text\tauthor\nCafé Zürich\tée\n".encode("utf-16"))
    posts, errors = split(read_csv(path))
    assert errors == [] and posts[0].post.text == "Café Zürich" and posts[0].post.author == "ée"


def test_image_folder_with_txt_and_json_sidecars(tmp_path):
    root = tmp_path / "shots"
    jpeg(root / "a.jpg")
    (root / "a.txt").write_text("Protest at Trafalgar Square\n")
    jpeg(root / "sub" / "b.png".replace(".png", ".jpg"))
    (root / "sub" / "b.json").write_text(
        json.dumps({"text": "Eiffel Tower", "author": "eve", "created_at": "2023-07-14"})
    )
    jpeg(root / "c.jpg")  # no sidecar: a post with an empty text
    (root / "README.txt").write_text("not a post")
    (root / "d.json").write_text(json.dumps({"id": "d-1", "text": "names its image", "image": "sub/b.jpg"}))
    assert detect_format(root) == "folder"
    posts, errors = split(read_folder(root))
    assert errors == []
    by_id = {p.post.native_id: p.post for p in posts}
    assert set(by_id) == {"shots/a", "shots/sub/b", "shots/c", "d-1"}
    assert by_id["shots/a"].text == "Protest at Trafalgar Square"
    assert by_id["shots/a"].media[0].local_path == str(root / "a.jpg")
    assert by_id["shots/sub/b"].author == "eve"
    assert by_id["d-1"].media[0].local_path == str((root / "sub" / "b.jpg").resolve())
    assert by_id["shots/c"].text == ""


def write_gmner(root: Path, with_images: bool = True) -> Path:
    (root / "txt").mkdir(parents=True)
    (root / "xml").mkdir()
    (root / "txt" / "dev.txt").write_text(
        "IMGID:1001\nKevin\tB-PER\nDurant\tI-PER\nin\tO\nBrooklyn\tB-LOC\n\n"
        "IMGID:1002\nRain\tO\nin\tO\nSeattle\tB-LOC\n\n"
    )
    (root / "xml" / "1001.xml").write_text(
        "<annotation><filename>1001.jpg</filename><size><width>640</width><height>480</height><depth>3</depth></size>"
        "<object><name>Kevin Durant</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>220</ymax></bndbox></object>"
        "</annotation>"
    )
    if with_images:
        jpeg(root / "images" / "1001.jpg", size=(64, 48))
    return root


def test_gmner_layout_gives_posts_and_gold(tmp_path):
    root = write_gmner(tmp_path / "gmner")
    assert detect_format(root) == "gmner"
    assert detect_format(root / "txt" / "dev.txt") == "gmner"
    posts, errors = split(read_gmner(root))
    assert errors == []
    first, second = posts
    assert (first.post.source, first.post.native_id, first.post.text) == (
        "twitter-gmner",
        "1001",
        "Kevin Durant in Brooklyn",
    )
    assert (
        first.post.media[0].local_path == str(root / "images" / "1001.jpg") and first.post.media[0].status == "pending"
    )
    durant, brooklyn = first.gold
    assert (durant.text, durant.type, durant.start, durant.end, durant.origin) == ("Kevin Durant", "PER", 0, 12, "gold")
    assert durant.groundable and durant.regions[0].box == (10.0, 20.0, 110.0, 220.0) and durant.norm == "kevin durant"
    assert not brooklyn.groundable and brooklyn.regions == []
    # 1002 has no image in the folder: missing, not an error
    assert second.post.media[0].status == "missing"


def test_gmner_without_images_folder_marks_images_missing(tmp_path):
    root = write_gmner(tmp_path / "gmner", with_images=False)
    posts, errors = split(read_gmner(root / "txt" / "dev.txt"))
    assert errors == [] and {p.post.media[0].status for p in posts} == {"missing"}


def test_gmner_shared_dev_split_reads_fully(gmner_data):
    posts, errors = split(read_gmner(gmner_data / "txt" / "dev.txt"))
    assert errors == [] and len(posts) == 1500
    assert sum(len(p.gold) for p in posts) > 1500
    assert any(region for p in posts for e in p.gold for region in e.regions)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("a.jsonl", '{"id": "1", "text": "x"}\n', "jsonl"),
        ("a.ndjson", '{"data": [{"id": "1", "text": "x"}], "includes": {}}\n', "twarc2"),
        ("a.dat", '{"id": "1", "text": "x"}\n', "jsonl"),
        ("tweets-part1.js", "window.YTD.tweets.part1 = []", "x-archive"),
        ("a.txt", "IMGID:1\nA\tO\n", "gmner"),
        ("a.tsv", "text\tauthor\n", "csv"),
        ("export.dat", "author,text,date\nx,y,z\n", "csv"),
    ],
)
def test_detect_format(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    assert detect_format(path) == expected


def test_detect_format_refuses_unknown_content(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01\x02 nothing to see")
    with pytest.raises(FormatError, match="--format"):
        detect_format(path)


def test_folder_with_a_txt_subfolder_is_not_mistaken_for_gmner(tmp_path):
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "notes.txt").write_text("just notes")
    jpeg(tmp_path / "a.jpg")
    assert detect_format(tmp_path) == "folder"


def test_read_conll_reports_through_on_error_and_still_raises_without_it(tmp_path):
    from groundlens.core.datasets.gmner import GmnerFormatError, read_conll

    path = tmp_path / "dev.txt"
    path.write_text("IMGID:1\nno tab here\nx\tO\n\nIMGID:2\nParis\tB-LOC\n")
    errors: list[GmnerFormatError] = []
    assert [image_id for image_id, _, _ in read_conll(path, on_error=errors.append)] == ["2"]
    assert len(errors) == 1 and f"{path}:2:" in str(errors[0])
    with pytest.raises(GmnerFormatError):
        list(read_conll(path))
