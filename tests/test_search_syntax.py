"""The search language is described once (storage/query.py); the docs, README and the app's help
must say what the parser accepts, and rewriting a query (a trend range) must keep what was typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from groundlens.core.config import resolve_paths
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow, with_date_range
from groundlens.gui.widgets.query_bar import QueryBar
from groundlens.gui.widgets.search_help import SEARCH_TOOLTIP, SearchHelpDialog
from groundlens.storage.query import (
    DATE_FILTERS,
    FILTER_SPECS,
    FILTERS,
    SYNTAX_NOTES,
    TEXT_SYNTAX,
    QueryError,
    parse_query,
    rewrite_filters,
    syntax_markdown,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = Path(__file__).resolve().parent.parent / "README.md"
FILTER_MENTION = re.compile(r"`-?([A-Za-z]+):")  # `key: at the start of a code span, as docs write filters


def readme_search_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Search syntax")
    return text[start : text.index("\n## ", start)]


def test_every_example_in_the_reference_parses_and_shows_its_filter():
    for line in (*TEXT_SYNTAX, *FILTER_SPECS):
        for example in line.examples:
            parse_query(example)  # raises on a documented example the parser refuses
    for spec in FILTER_SPECS:
        assert all(f"{spec.key}:" in example for example in spec.examples), spec.key
    assert list(FILTERS) == [spec.key for spec in FILTER_SPECS]


def test_docs_search_md_holds_the_generated_reference():
    docs = (DOCS / "SEARCH.md").read_text(encoding="utf-8")
    assert syntax_markdown() in docs, (
        "docs/SEARCH.md is out of date: paste the output of "
        "`python -c 'from groundlens.storage.query import syntax_markdown; print(syntax_markdown())'` between its markers"
    )


@pytest.mark.parametrize("where", ["docs/SEARCH.md", "README"])
def test_every_filter_is_documented_and_every_documented_filter_parses(where):
    text = (DOCS / "SEARCH.md").read_text(encoding="utf-8") if where == "docs/SEARCH.md" else readme_search_section()
    mentioned = {key.lower() for key in FILTER_MENTION.findall(text)}
    assert mentioned - set(FILTERS) == set(), f"{where} documents filters the parser does not know"
    assert set(FILTERS) - mentioned == set(), f"{where} leaves out filters"


def test_help_dialog_shows_every_example_and_note_without_reading_the_docs_folder(qtbot):
    dialog = SearchHelpDialog()
    qtbot.addWidget(dialog)
    shown = dialog.browser.toPlainText()
    for line in (*TEXT_SYNTAX, *FILTER_SPECS):
        for example in line.examples:
            assert example in shown
    for note in SYNTAX_NOTES:
        assert note.replace("`", "") in shown
    assert shown.index("warri*") < shown.index("Narrow down") < shown.index("type:PER,LOC")  # words, then filters
    assert "FTS" not in shown and "SEARCH.md" not in shown  # written for analysts, not developers
    assert "type:PER" in SEARCH_TOOLTIP and "Press <b>?</b>" in SEARCH_TOOLTIP


def test_clicking_an_example_in_the_help_runs_it_in_the_bar(qtbot, monkeypatch):
    bar = QueryBar()
    qtbot.addWidget(bar)
    submitted: list[str] = []
    bar.submitted.connect(submitted.append)

    def click_example(dialog: SearchHelpDialog) -> int:  # instead of a modal loop: show it and click a link
        dialog.show()
        qtbot.waitExposed(dialog)
        found = dialog.browser.document().find('author:"Jane Doe"')
        assert not found.isNull()
        dialog.browser.setTextCursor(found)
        dialog.browser.ensureCursorVisible()
        spot = dialog.browser.cursorRect(found).center() - QPoint(20, 0)  # inside the link, not at its end
        qtbot.mouseClick(dialog.browser.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        return int(dialog.result())

    monkeypatch.setattr(SearchHelpDialog, "exec", click_example)
    bar.help_button.click()
    assert bar.text() == 'author:"Jane Doe"' and submitted[-1] == 'author:"Jane Doe"'


# --- rewriting a query -------------------------------------------------------------------------------


RANGE = "after:2026-11-01 before:2026-11-11"


@pytest.mark.parametrize(
    ("typed", "rewritten"),
    [
        ("nasa after:2020-01-01 type:ORG", f"nasa type:ORG {RANGE}"),
        ("-date:2024 nasa", f"nasa {RANGE}"),  # an excluded date filter is a date filter too
        ("NOT date:2024 nasa", f"nasa {RANGE}"),  # no orphan NOT left to exclude the new range
        ("nasa date:2024 OR date:2025", f"nasa {RANGE}"),  # no orphan OR
        ("nasa AND date:2024", f"nasa {RANGE}"),  # no dangling AND
        ('"after:2020 party" nasa', f'"after:2020 party" nasa {RANGE}'),  # a phrase is not a filter
        ('"grace  hopper" -"navy yard"', f'"grace  hopper" -"navy yard" {RANGE}'),  # phrases kept as typed
        ('author:"Jane Doe" -type:PER', f'author:"Jane Doe" -type:PER {RANGE}'),
        ("nba OR nfl -is:retweet", f"nba OR nfl -is:retweet {RANGE}"),
        ("", RANGE),
    ],
)
def test_a_trend_range_replaces_only_the_date_filters(typed, rewritten):
    assert with_date_range(typed, RANGE) == rewritten
    assert parse_query(rewritten)  # the result is a query the bar can run


def test_clearing_the_range_removes_date_filters_and_keeps_the_rest():
    assert with_date_range('"kevin durant" NOT after:2024 -date:2023', "") == '"kevin durant"'
    assert with_date_range("date:2024", "") == ""


def test_rewrite_filters_adds_replaces_and_refuses_bad_text():
    assert rewrite_filters("nasa type:PER", {"type"}, "type:ORG,LOC") == "nasa type:ORG,LOC"
    assert rewrite_filters("nasa", {"type"}, "-type:PER") == "nasa -type:PER"
    assert rewrite_filters("nasa -type:PER", {"type"}) == "nasa"
    with pytest.raises(QueryError):
        rewrite_filters("nasa", DATE_FILTERS, "date:soon")
    with pytest.raises(QueryError):
        rewrite_filters('"unclosed nasa', DATE_FILTERS, RANGE)


def test_a_malformed_query_keeps_its_text_and_gets_the_range():
    assert with_date_range('"unclosed nasa', RANGE) == f'"unclosed nasa {RANGE}'


def test_trends_range_in_the_window_keeps_the_typed_query(qtbot, tmp_path):
    application()
    window = MainWindow(open_context(resolve_paths(tmp_path / "data")))
    qtbot.addWidget(window)
    window.query_bar.set_text('NOT date:2024 "after:2020 party"')
    window.trends.range_selected.emit(RANGE)
    assert window.query_bar.text() == f'"after:2020 party" {RANGE}'
    window.trends.range_selected.emit("")
    assert window.query_bar.text() == '"after:2020 party"'
    window.close()
