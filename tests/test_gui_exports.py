"""The Trends page's exports: spreadsheet-safe cells, whole files, never the database (issue 11 items 1, 17)."""

from __future__ import annotations

import csv

import pytest

from groundlens.core.safe_output import OutputError
from groundlens.records import Entity
from groundlens.storage import Store

FORMULA = "=HYPERLINK(evil)"


def test_trends_csv_defuses_entity_names_a_spreadsheet_would_run(qtbot, window, tmp_path):
    with Store.open(window.ctx.paths.db_path) as store:
        post_id = store.post_ids(None)[0]
        store.save_result(post_id, "cfg", [Entity(0, len(FORMULA), FORMULA, "ORG", score=0.9)], None)
    trends = window.trends
    trends.entities_edit.setText(FORMULA)
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    trends.export_csv(tmp_path / "t.csv")
    labels = {row["label"] for row in csv.DictReader((tmp_path / "t.csv").open(newline=""))}
    assert labels == {"'" + FORMULA}


@pytest.mark.parametrize("export", ["export_csv", "export_png"])
def test_trends_export_refuses_the_database(qtbot, window, export):
    db = window.ctx.paths.db_path
    size = db.stat().st_size
    with pytest.raises(OutputError, match="it is the database"):
        getattr(window.trends, export)(db)
    assert db.stat().st_size == size
    with Store.open(db) as store:
        assert store.count_posts() == 10


def test_trends_chart_and_csv_say_whether_retweets_were_counted(qtbot, window, tmp_path):
    trends = window.trends
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    assert "original posts only" in trends.series_axes.get_title(loc="left")
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        trends.counting.setCurrentIndex(1)  # every post, retweets included
    assert "every post (retweets included)" in trends.series_axes.get_title(loc="left")
    trends.export_csv(tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open(newline="")))
    assert rows and {row["counted"] for row in rows} == {"every post (retweets included)"}
