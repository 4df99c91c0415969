"""`search`, `trends`, `export`, `stats` through click's test runner on a real data folder."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.storage import Store
from tests.helpers.storage import make_post, mention


@pytest.fixture
def data_dir(tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        posts = [
            make_post("1", "Kevin Durant joins the Warriors", "2024-01-02", author="nba", image="https://img/1.jpg"),
            make_post("2", "Durant in Boston", "2024-01-10", author="fan"),
            make_post("3", "Rain in Paris", "2024-01-11"),
        ]
        store.upsert_posts(posts)
        kd, boston, paris = posts
        store.save_result(
            kd.id, "cfg", [mention(kd, "Kevin Durant", "PER", groundable=True), mention(kd, "Warriors", "ORG")], None
        )
        store.save_result(boston.id, "cfg", [mention(boston, "Durant", "PER"), mention(boston, "Boston", "LOC")], None)
        store.add_gold_entities(paris.id, [mention(paris, "Paris", "LOC")])
    return tmp_path / "data"


def run(data_dir, *args):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_search_prints_a_table_and_json(data_dir):
    table = run(data_dir, "search", "durant")
    assert table.exit_code == 0
    assert "2 of 2 matching posts" in table.stdout and "Boston" in table.stdout
    lines = run(data_dir, "search", "durant type:LOC", "--json").stdout.splitlines()
    assert [json.loads(line)["native_id"] for line in lines] == ["2"]
    assert json.loads(lines[0])["created_at"] == "2024-01-10T12:00:00+00:00"
    assert len(run(data_dir, "search", "durant", "--limit", "1", "--json").stdout.splitlines()) == 1
    assert "No matches" in run(data_dir, "search", "nothing").stdout


def test_search_entities(data_dir):
    rows = [json.loads(line) for line in run(data_dir, "search", "dur*", "--entities", "--json").stdout.splitlines()]
    assert [(r["norm"], r["mentions"]) for r in rows] == [("durant", 1), ("kevin durant", 1)]
    assert "Kevin Durant" in run(data_dir, "search", "type:PER", "--entities").stdout


@pytest.mark.parametrize("query", ['"durant', "colour:red", "after:2024-13", "type:MISC", "OR", ""])
def test_malformed_query_exits_2_with_a_message_and_no_traceback(data_dir, query):
    result = run(data_dir, "search", query)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert "at character" in result.stderr


def test_trends_series_and_top(data_dir):
    out = run(
        data_dir,
        "trends",
        "--entity",
        "Durant",
        "--entity",
        "kevin durant",
        "--bucket",
        "day",
        "--since",
        "2024-01-02",
        "--until",
        "2024-01-10",
    ).stdout
    assert "Mentions per day" in out
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│ 2024-")]
    rows = {day: counts for day, *counts in cells}
    assert rows["2024-01-02"] == ["0", "1"] and rows["2024-01-10"] == ["1", "0"] and len(rows) == 9
    per_type = run(data_dir, "trends", "--type", "per", "--top", "2").stdout
    assert "Top PER entities" in per_type and "Kevin Durant" in per_type and "Boston" not in per_type
    assert "Paris" not in run(data_dir, "trends").stdout  # gold only
    assert "Paris" in run(data_dir, "trends", "--include-gold").stdout
    bad = run(data_dir, "trends", "--since", "last week")
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_trends_count_undated_posts_and_mark_a_partial_week(data_dir):
    with Store.open(data_dir / "groundlens.db") as store:
        [undated] = [make_post("4", "Durant again", None)]
        store.upsert_posts([undated])
        store.save_result(undated.id, "cfg", [mention(undated, "Durant", "PER")], None)
    out = " ".join(run(data_dir, "trends", "--type", "per").stdout.split())
    assert "│ Durant │ PER │ 2 │" in out  # the undated mention counts
    assert "2024-01-08 (partial)" in out and "2024-01-01 (partial)" not in out  # the data ends on Jan 11
    assert "Processed 3 of 4 posts in all (75%). 1 post has no date" in out


def test_export_jsonl_and_csv(data_dir, tmp_path):
    out = tmp_path / "posts.jsonl"
    result = run(data_dir, "export", str(out))
    assert result.exit_code == 0 and "Wrote 3 posts and 5 mentions" in result.stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["native_id"] for r in records] == ["1", "2", "3"]
    assert records[0]["media"][0]["url"] == "https://img/1.jpg"
    assert [(e["text"], e["origin"], e["groundable"]) for e in records[0]["entities"]] == [
        ("Kevin Durant", "pred", True),
        ("Warriors", "pred", None),
    ]
    assert records[2]["entities"][0]["origin"] == "gold"

    table = tmp_path / "mentions.csv"
    assert run(data_dir, "export", str(table), "--query", "durant").exit_code == 0  # csv from the suffix
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["native_id"], r["text"], r["type"]) for r in rows] == [
        ("1", "Kevin Durant", "PER"),
        ("1", "Warriors", "ORG"),
        ("2", "Durant", "PER"),
        ("2", "Boston", "LOC"),
    ]
    assert rows[0]["image_url"] == "https://img/1.jpg"

    missing = tmp_path / "never.jsonl"
    assert run(data_dir, "export", str(missing), "--query", "type:").exit_code == 2
    assert not missing.exists()


def test_csv_export_says_which_rows_are_retweets_quotes_or_replies(tmp_path):
    """Retweets carry copies of their original's mentions: a spreadsheet must be able to leave them out."""
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        posts = [
            make_post("10", "Kevin Durant scores", source="x"),
            make_post("11", "Kevin Durant scores", source="x", retweet_of="10"),
            make_post("12", "Durant again", source="x", quote_of="10", reply_to="9"),
        ]
        store.upsert_posts(posts)
        for post in posts:
            store.save_result(post.id, "cfg", [mention(post, "Durant", "PER")], None)
    table = tmp_path / "mentions.csv"
    assert run(tmp_path / "data", "export", str(table)).exit_code == 0
    with open(table, newline="", encoding="utf-8") as handle:
        rows = {r["native_id"]: r for r in csv.DictReader(handle)}
    assert [(rows[n]["retweet_of"], rows[n]["quote_of"], rows[n]["reply_to"]) for n in ("10", "11", "12")] == [
        ("", "", ""),
        ("10", "", ""),
        ("", "10", "9"),
    ]


def test_csv_export_defuses_spreadsheet_formulas(tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        post = make_post("1", "=HYPERLINK(x) met Paris", author="=cmd|' /C calc'!A0")
        store.upsert_posts([post])
        store.save_result(
            post.id, "cfg", [mention(post, "=HYPERLINK(x)", "OTHER"), mention(post, "Paris", "LOC")], None
        )
    table = tmp_path / "mentions.csv"
    assert run(tmp_path / "data", "export", str(table)).exit_code == 0
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["author"], r["text"]) for r in rows] == [
        ("'=cmd|' /C calc'!A0", "'=HYPERLINK(x)"),
        ("'=cmd|' /C calc'!A0", "Paris"),
    ]


def test_trends_heads_an_entity_series_with_its_name_as_written(data_dir):
    out = run(data_dir, "trends", "--entity", "KEVIN durant", "--entity", "nobody", "--top", "0").stdout
    header = next(line for line in out.splitlines() if "week of" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == ["week of", "Kevin Durant", "nobody"]


def test_stats(data_dir):
    out = run(data_dir, "stats").stdout
    assert "posts" in out and "Pipeline jobs" in out
    counts = json.loads(run(data_dir, "stats", "--json").stdout)
    assert counts["posts"] == 3 and counts["entities"]["pred"] == {"PER": 2, "ORG": 1, "LOC": 1}
    assert counts["jobs"]["cfg"]["done"] == 2 and counts["media"] == {"pending": 1}
