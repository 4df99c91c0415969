"""`doctor` checks every full-text index in the file (found through sqlite-utils), not a fixed list."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from groundlens.cli import cli


def doctor(data: Path):
    return CliRunner().invoke(cli, ["--data-dir", str(data), "doctor"])


def imported(tmp_path: Path) -> Path:
    posts, data = tmp_path / "posts.jsonl", tmp_path / "data"
    posts.write_text("".join(json.dumps({"id": str(i), "text": f"post {i} about Paris"}) + "\n" for i in range(20)))
    assert CliRunner().invoke(cli, ["--data-dir", str(data), "import", str(posts)]).exit_code == 0
    assert doctor(data).exit_code == 0  # the product's own indexes (posts_fts, entity_names_fts) pass
    return data


def test_doctor_checks_a_full_text_index_it_was_not_told_about(tmp_path):
    data = imported(tmp_path)
    with sqlite3.connect(data / "groundlens.db") as conn:  # as a later schema step might add one
        conn.executescript(
            """
            CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
            CREATE VIRTUAL TABLE notes_fts USING fts5 (body, content='notes', content_rowid='id');
            INSERT INTO notes VALUES (1, 'hello');
            INSERT INTO notes_fts (rowid, body) VALUES (1, 'goodbye');
            """
        )
    checked = doctor(data)
    assert checked.exit_code == 1
    assert "full-text index notes_fts" in checked.output and "posts_fts" not in checked.output
