"""The app's Settings, Jobs, Trends and Explore pages on the real demo database: settings that cannot
run are refused with the CLI's message, failures are grouped, a missing image says so."""

from __future__ import annotations

import json

from test_gui import demo_paths, window  # noqa: F401 - the real demo database and main window


def show_settings(qtbot, win):
    page = win.settings
    with qtbot.waitSignal(page.populated, timeout=20_000):
        win.show_page("settings")
    return page


def test_settings_refuse_a_backend_that_cannot_run(qtbot, window):  # noqa: F811
    page = show_settings(qtbot, window)
    before = window.ctx.paths.settings_file.read_text()
    page.backends["grounding"].setCurrentText("owlv2")
    page.options["grounding"].setText("")
    page.save()
    message = page.message.text()
    assert message.startswith("Not saved: Grounding (boxes): pipeline.grounding: owlv2 needs option 'model'"), message
    assert window.ctx.paths.settings_file.read_text() == before  # nothing saved that would die in the worker
    missing = window.ctx.paths.data_dir / "weights" / "owlv2"
    page.options["grounding"].setText(json.dumps({"model": str(missing)}))
    page.save()
    assert f"option 'model': {missing} does not exist" in page.message.text()
    assert window.ctx.paths.settings_file.read_text() == before
    assert window.jobs.settings.pipeline.grounding.backend == "person_detector"


def test_jobs_page_says_why_the_saved_settings_cannot_run(qtbot, window):  # noqa: F811
    window.ctx.paths.settings_file.write_text('{"threads": "abc"}')
    window.show_page("jobs")
    window.jobs.start_pipeline()
    assert not window.jobs.pipeline_running
    status = window.jobs.pipeline_status.text()
    assert f"{window.ctx.paths.settings_file}: threads: must be a whole number of at least 1, not 'abc'" in status


def test_trends_export_to_a_missing_folder_names_the_path(qtbot, window, tmp_path):  # noqa: F811
    trends = window.trends
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    target = tmp_path / "gone" / "trends.csv"
    assert trends.export(target, trends.export_csv) == (
        f"cannot write {target}: the folder {target.parent} does not exist"
    )
    assert trends.export(tmp_path / "trends.csv", trends.export_csv) is None
