"""An export read back by `import`: the same posts (source, native id), links and texts, no copies.

An analyst moves a collection to another machine, or merges a colleague's export into their own
data folder, with `export` then `import`; the export names each post by (source, native_id) and
its retweet/quote/reply links by native id, and the import must keep those.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from groundlens.cli import cli

COLLECTION = Path(__file__).parent / "fixtures" / "ingest" / "twarc2" / "collection.jsonl"


def run(data_dir: Path, *args: str):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def posts(data_dir: Path, query: str) -> set[tuple[str, str]]:
    lines = run(data_dir, "search", query, "--json", "--limit", "10000").stdout.splitlines()
    return {(row["source"], row["native_id"]) for row in map(json.loads, lines)}


def exported(out: Path) -> dict[tuple[str, str], dict]:
    return {(row["source"], row["native_id"]): row for row in map(json.loads, out.read_text().splitlines())}


def test_jsonl_export_imported_again_is_the_same_posts_with_their_links(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert run(first, "import", str(COLLECTION), "--no-download").exit_code == 0
    out = tmp_path / "posts.jsonl"
    assert run(first, "export", str(out)).exit_code == 0

    again = run(first, "import", str(out), "--no-download")  # into the folder it came from: nothing new
    assert again.exit_code == 0 and "0 posts added" in again.stdout, again.stdout

    assert run(second, "import", str(out), "--no-download").exit_code == 0
    for query in ("is:retweet", "is:quote", "is:reply", "-is:retweet", "source:x"):
        assert posts(second, query) == posts(first, query), query
    assert posts(second, "is:retweet")  # the fixture has retweets: the comparison above is not vacuous
    out2 = tmp_path / "again.jsonl"
    assert run(second, "export", str(out2)).exit_code == 0
    before, after = exported(out), exported(out2)
    assert before.keys() == after.keys()
    for key, row in before.items():
        fields = ("text", "retweet_of", "quote_of", "reply_to", "author", "created_at", "raw")
        assert {f: after[key][f] for f in fields} == {f: row[f] for f in fields}, key


def test_csv_export_imported_again_keeps_each_posts_identity(tmp_path):
    data = tmp_path / "data"
    source = tmp_path / "in.csv"
    source.write_text("id,text,created_at\nA1,Grace Hopper at Yale,2024-01-05\nB2,Cafe in Paris,2024-01-06\n")
    assert run(data, "import", str(source)).exit_code == 0
    # the CSV export's columns (post_id: the database row, then source and native_id); its rows are mentions,
    # which these unprocessed posts have none of, so the sheet is built from the JSONL export's posts
    out = tmp_path / "posts.jsonl"
    assert run(data, "export", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "post_id,source,native_id,text,created_at\n"
        + "".join(f"{r['id']},{r['source']},{r['native_id']},{r['text']},{r['created_at']}\n" for r in rows)
    )
    again = run(data, "import", str(sheet))
    assert again.exit_code == 0 and "0 posts added" in again.stdout, again.stdout
    assert posts(data, "paris") == {("csv", "B2")}


def test_export_imported_again_keeps_photos_stored_from_local_files(tmp_path):
    demo = Path(__file__).parent.parent / "resources" / "demo" / "posts.jsonl"
    first, second = tmp_path / "first", tmp_path / "second"
    assert run(first, "import", str(demo)).exit_code == 0
    out = tmp_path / "posts.jsonl"
    assert run(first, "export", str(out)).exit_code == 0
    assert run(second, "import", str(out)).exit_code == 0
    assert posts(first, "has:image")  # the demo's photos are local files
    assert posts(second, "has:image") == posts(first, "has:image")
