"""Trends as an analyst reads them: undated posts (a Twitter-GMNER import) still rank, the processed share
is shown, and a week that has only begun is marked partial instead of looking like a collapse."""

from __future__ import annotations

from datetime import date

import matplotlib.dates as mdates
import pytest

from groundlens.core.config import resolve_paths
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.views.trends import TrendsView
from groundlens.storage import Store
from tests.helpers.storage import make_post, mention


def fill(data_dir, dated: list[str], undated: int, unprocessed: int = 0):
    paths = resolve_paths(data_dir).ensure()
    posts = [make_post(f"d{i}", "Obama in Berlin", day) for i, day in enumerate(dated)]
    posts += [make_post(f"u{i}", "Obama in Berlin", None) for i in range(undated + unprocessed)]
    with Store.open(paths.db_path) as store:
        store.upsert_posts(posts)
        for post in posts[: len(posts) - unprocessed]:
            store.save_result(post.id, "cfg", [mention(post, "Obama", "PER"), mention(post, "Berlin", "LOC")], None)
    return paths


@pytest.fixture
def open_trends(qtbot):
    views = []

    def show(paths) -> TrendsView:
        application()
        view = TrendsView(open_context(paths))
        qtbot.addWidget(view)
        views.append(view)
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            view.show()
            view.reload()
        return view

    yield show
    for view in views:
        view.ctx.db.close()


def test_an_undated_import_ranks_its_entities_and_says_why_the_time_line_is_empty(tmp_path, open_trends):
    view = open_trends(fill(tmp_path / "data", dated=[], undated=3, unprocessed=1))
    assert [(c.name, c.count) for c in view.data.top] == [("Berlin", 3), ("Obama", 3)]
    texts = [t.get_text() for t in view.series_axes.texts]
    assert any("No dated mentions: 4 posts have no date" in t for t in texts), texts
    said = view.coverage_label.text()
    assert "Processed 3 of 4 posts in all (75%)" in said and "4 posts have no date" in said


def partial_spans(view: TrendsView) -> list[date]:
    """Where the marked partial buckets start."""
    return [mdates.num2date(p.get_x()).date() for p in view.series_axes.patches if p.get_gid() == "partial"]


def test_a_week_that_has_only_begun_is_marked_partial(tmp_path, open_trends, qtbot):
    # 2024-01-01 and 01-08 are Mondays: the second week has 2 of its 7 days
    days = ["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-08", "2024-01-09"]
    view = open_trends(fill(tmp_path / "data", dated=days, undated=0))
    assert view.bucket.currentText() == "week"
    assert partial_spans(view) == [date(2024, 1, 8)]
    assert any("partial week" in t.get_text() for t in view.series_axes.texts)
    assert view.coverage_label.text() == "Processed 5 of 5 posts in all (100%)."
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.bucket.setCurrentText("day")  # the last day is the latest post's: complete as far as we know
    assert partial_spans(view) == []
