"""A first start on an empty data folder: the Explore page offers "Import data" and "Open the demo"
instead of an empty feed, and an import starts the pipeline by itself unless the setting says not to."""

from __future__ import annotations

import json

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QFileDialog

from groundlens.core.config import resolve_paths
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.settings import Settings
from groundlens.gui import import_tasks
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow
from groundlens.storage import Store

# real backends, light enough for a test: spaCy NER and templates, no image stages
LIGHT = PipelineConfig(
    ner=StageConfig("spacy"), expression=StageConfig("template"), entailment=None, grounding=None, segmentation=None
)


@pytest.fixture
def empty_window(qtbot, tmp_path):
    opened: list[MainWindow] = []

    def open_window(**settings: object) -> MainWindow:
        paths = resolve_paths(tmp_path / "data").ensure()
        Settings(pipeline=LIGHT, batch_size=2, **settings).save(paths.settings_file)  # type: ignore[arg-type]
        application()
        win = MainWindow(open_context(paths))
        opened.append(win)
        win.show()
        return win

    yield open_window
    for win in opened:  # not qtbot.addWidget: opening the demo closes and deletes the first window itself
        if shiboken6.isValid(win):
            win.close()


def posts_file(tmp_path, name: str = "posts"):
    source = tmp_path / f"{name}.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"{name}{i}", "text": f"Grace Hopper spoke in Paris on day {i}."}) + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    return source


def import_through_the_first_run_screen(qtbot, win, source, monkeypatch) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args, **kwargs: ([str(source)], ""))
    first_run = win.first_run
    qtbot.waitUntil(lambda: win.explore.currentWidget() is first_run and first_run.isVisible(), timeout=10_000)
    with qtbot.waitSignal(win.jobs.results_changed, timeout=60_000):
        first_run.import_button.click()
    assert win.current_page() == "jobs"  # where the import's progress shows


def test_an_empty_folder_offers_import_and_the_import_runs_the_pipeline(qtbot, empty_window, tmp_path, monkeypatch):
    win = empty_window()  # the setting at its default: on
    import_through_the_first_run_screen(qtbot, win, posts_file(tmp_path), monkeypatch)
    assert "3 posts added" in win.jobs.import_status.text()
    qtbot.waitUntil(
        lambda: win.jobs.pipeline_running or "finished" in win.jobs.pipeline_status.text().lower(), timeout=10_000
    )  # started without a click
    qtbot.waitUntil(lambda: not win.jobs.pipeline_running, timeout=300_000)
    assert win.jobs.pipeline_status.text().startswith("Finished · 3 of 3 posts"), win.jobs.pipeline_status.text()
    with Store.open(win.ctx.paths.db_path) as store:
        assert store.job_counts(LIGHT.key()) == {"pending": 0, "running": 0, "done": 3, "failed": 0}
    win.show_page("explore")
    qtbot.waitUntil(
        lambda: win.explore.currentWidget() is not win.first_run and win.feed.model.rowCount() == 3, timeout=10_000
    )


def test_with_the_setting_off_an_import_leaves_the_pipeline_to_the_analyst(qtbot, empty_window, tmp_path, monkeypatch):
    win = empty_window(run_after_import=False)
    import_through_the_first_run_screen(qtbot, win, posts_file(tmp_path), monkeypatch)
    qtbot.wait(500)  # a run would have started at once, in the import's finished signal
    assert not win.jobs.pipeline_running and win.jobs.pipeline_status.text() == "Idle."
    qtbot.waitUntil(lambda: "3 posts not run with it yet" in win.jobs.queue_label.text(), timeout=10_000)


def test_the_setting_is_in_the_settings_page_and_saved(qtbot, empty_window):
    win = empty_window(run_after_import=False)
    page = win.settings
    with qtbot.waitSignal(page.populated, timeout=20_000):
        win.show_page("settings")
    assert not page.run_after_import.isChecked()
    page.run_after_import.setChecked(True)
    page.save()
    assert json.loads(win.ctx.paths.settings_file.read_text())["run_after_import"] is True
    assert win.ctx.settings.settings.run_after_import is True


def test_open_the_demo_from_the_first_run_screen(qtbot, empty_window):
    win = empty_window()
    qtbot.waitUntil(lambda: win.first_run.isVisible(), timeout=10_000)
    win.first_run.demo_button.click()

    def demo_window() -> MainWindow | None:
        return next(
            (
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w is not win and w.windowTitle().startswith("GroundLens — demo")
            ),
            None,
        )

    qtbot.waitUntil(lambda: demo_window() is not None, timeout=60_000)
    demo = demo_window()
    assert demo is not None
    try:
        assert demo.ctx.paths.data_dir == win.ctx.paths.data_dir / "demo"
        assert demo.jobs.pipeline_running  # as `--demo` does: its posts are being analysed
        qtbot.waitUntil(lambda: demo.feed.model.rowCount() == 10, timeout=10_000)
        assert demo.explore.currentWidget() is not demo.first_run
        qtbot.waitUntil(lambda: not shiboken6.isValid(win), timeout=10_000)  # the empty window made way for it
    finally:
        demo.close()


def test_an_import_during_a_run_is_processed_by_a_run_that_follows(qtbot, empty_window, tmp_path, monkeypatch):
    win = empty_window()
    import_through_the_first_run_screen(qtbot, win, posts_file(tmp_path, "first"), monkeypatch)
    qtbot.waitUntil(lambda: win.jobs.pipeline_running, timeout=10_000)
    second = posts_file(tmp_path, "second")
    with qtbot.waitSignal(win.jobs.imports.finished, timeout=60_000):  # while the first run loads its models
        assert win.jobs.start_import(
            second.name,
            lambda progress, cancel: import_tasks.import_files(win.ctx.paths.db_path, [str(second)], progress, cancel),
        )

    def all_done() -> bool:
        with Store.open(win.ctx.paths.db_path) as store:
            return store.job_counts(LIGHT.key())["done"] == 6

    qtbot.waitUntil(lambda: all_done() and not win.jobs.pipeline_running, timeout=300_000)
