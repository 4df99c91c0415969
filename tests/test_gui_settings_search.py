"""The app's Settings, Jobs, Trends and Explore pages on the real demo database: settings that cannot
run are refused with the CLI's message, failures are grouped, a missing image says so."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QPushButton

from groundlens.core.config import resolve_paths
from groundlens.core.ingest import credentials
from groundlens.core.pipeline.config import PipelineConfig
from groundlens.gui import import_tasks
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow
from groundlens.gui.widgets.entity_list import ROW_ROLE
from groundlens.records import Entity
from groundlens.storage import Store


def show_settings(qtbot, win):
    page = win.settings
    with qtbot.waitSignal(page.populated, timeout=20_000):
        win.show_page("settings")
    return page


def test_settings_refuse_a_backend_that_cannot_run(qtbot, window):
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
    assert window.ctx.settings.settings.pipeline.grounding == PipelineConfig().grounding  # the default, unchanged


def test_jobs_page_says_why_the_saved_settings_cannot_run(qtbot, window):
    jobs = window.jobs
    window.show_page("jobs")
    assert jobs.run_button.isEnabled()
    window.ctx.paths.settings_file.write_text('{"threads": "abc"}')  # edited outside the app
    why = f"{window.ctx.paths.settings_file}: threads: must be a whole number of at least 1, not 'abc'"
    qtbot.waitUntil(lambda: why in jobs.config_label.text(), timeout=10_000)
    assert not jobs.run_button.isEnabled() and not jobs.retry_button.isEnabled()
    assert jobs.queue_label.text() == ""  # no queue of the defaults shown as if they were the settings
    assert not jobs.start_pipeline() and not jobs.pipeline_running  # the demo's start, a shortcut: refused
    assert why in jobs.pipeline_status.text()


def test_a_backend_option_of_the_wrong_kind_is_refused_in_the_jobs_page_not_raised(qtbot, window):
    """Was: the file passed the Jobs page's reading, and Run pipeline raised TypeError inside its Qt slot."""
    jobs = window.jobs
    window.show_page("jobs")
    settings = json.loads(window.ctx.paths.settings_file.read_text())
    settings["pipeline"] = {"segmentation": {"backend": "mobile_sam", "options": {"checkpoint": 5}}}
    window.ctx.paths.settings_file.write_text(json.dumps(settings))
    qtbot.waitUntil(
        lambda: window.ctx.settings.settings.pipeline.segmentation.options == {"checkpoint": 5}, timeout=10_000
    )
    jobs.run_button.click()
    assert not jobs.pipeline_running
    assert "Cannot run: pipeline.segmentation: mobile_sam: an option has the wrong type" in jobs.pipeline_status.text()


def test_a_setting_saved_in_the_settings_page_reaches_the_jobs_page(qtbot, window):
    page = show_settings(qtbot, window)
    page.backends["ner"].setCurrentText("spacy")
    page.save()
    saved = window.ctx.settings.settings.pipeline
    assert saved.ner is not None and saved.ner.backend == "spacy"
    assert f"Configuration {saved.key()}: ner=spacy" in window.jobs.config_label.text()
    assert window.jobs.config_key == saved.key()
    window.show_page("jobs")
    qtbot.waitUntil(lambda: "10 posts not run with it yet" in window.jobs.queue_label.text(), timeout=10_000)


def test_a_malformed_settings_file_is_reported_once_and_running_waits_for_the_fix(qtbot, tmp_path):
    """Opened on a broken settings.json the app starts, says what is wrong, and runs once it is fixed."""
    paths = resolve_paths(tmp_path / "data").ensure()
    paths.settings_file.write_text('{"batch_size": 0,')
    application()
    win = MainWindow(open_context(paths))
    qtbot.addWidget(win)
    win.show_page("jobs")
    jobs = win.jobs
    assert f"settings file {paths.settings_file} is not valid JSON" in jobs.config_label.text()
    assert not jobs.run_button.isEnabled()
    jobs.run_button.click()  # disabled: nothing happens, nothing raises
    assert not jobs.pipeline_running
    page = show_settings(qtbot, win)
    assert "is not valid JSON" in page.message.text() and "saving will replace the file" in page.message.text()
    page.backends["segmentation"].setCurrentText("off")
    page.save()
    assert page.message.text().startswith("Saved."), page.message.text()
    assert "Configuration" in jobs.config_label.text() and jobs.run_button.isEnabled()
    win.close()


def test_trends_export_to_a_missing_folder_names_the_path(qtbot, window, tmp_path):
    trends = window.trends
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    target = tmp_path / "gone" / "trends.csv"
    assert trends.export(target, trends.export_csv) == (
        f"cannot write {target}: the folder {target.parent} does not exist"
    )
    assert trends.export(tmp_path / "trends.csv", trends.export_csv) is None


def import_into(qtbot, win, source) -> None:
    with qtbot.waitSignal(win.jobs.results_changed, timeout=60_000):
        assert win.jobs.start_import(
            source.name,
            lambda progress, cancel: import_tasks.import_files(win.ctx.paths.db_path, [str(source)], progress, cancel),
        )


def failure_rows(qtbot, win, kind: str) -> list:
    win.jobs.refresh_queue()
    qtbot.waitUntil(lambda: any(g.kind == kind for g in win.jobs.failures.records.records), timeout=10_000)
    return [g for g in win.jobs.failures.records.records if g.kind == kind]


def test_failures_from_one_unreachable_host_are_one_row_also_after_a_retry(qtbot, window, tmp_path):
    source = tmp_path / "host-down.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"h{i}", "text": f"Photo {i} from the harbour", "image": f"http://127.0.0.1:9/p/{i}.jpg"})
            + "\n"
            for i in range(30)
        )
        + "{not json\n",
        encoding="utf-8",
    )
    import_into(qtbot, window, source)
    [images] = failure_rows(qtbot, window, "image")
    assert images.count == 30 and images.cause.startswith("http://127.0.0.1:9/…: refused")
    assert images.items.endswith("and 25 more") and len(images.post_ids) == 30
    [bad_line] = failure_rows(qtbot, window, "import")
    assert bad_line.count == 1 and "invalid JSON" in bad_line.cause
    with qtbot.waitSignal(window.jobs.results_changed, timeout=60_000):
        window.jobs.retry_images()
    import_into(qtbot, window, source)  # the same file again: its bad line is not listed twice
    assert [g.count for g in failure_rows(qtbot, window, "image")] == [30]
    assert [g.count for g in failure_rows(qtbot, window, "import")] == [1]
    assert len(window.jobs.failures.records.records) == 2


def test_a_post_whose_image_did_not_arrive_says_so_and_offers_a_retry(qtbot, window, tmp_path):
    source = tmp_path / "one.jsonl"
    source.write_text(
        json.dumps({"id": "gone", "text": "Grace Hopper in Paris", "image": "http://127.0.0.1:9/a.jpg"})
        + "\n"
        + json.dumps({"id": "plain", "text": "Only words here"})
        + "\n",
        encoding="utf-8",
    )
    import_into(qtbot, window, source)
    with Store.open(window.ctx.paths.db_path) as store:
        ids = {store.get_post(i).native_id: i for i in store.post_ids(None)}
        store.save_result(ids["gone"], "cfg", [Entity(0, 12, "Grace Hopper", "PER", score=0.9)], None)
    inspector = window.inspector
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 12, timeout=10_000)  # the feed has settled
    qtbot.wait(300)
    inspector.show_post(ids["plain"])
    qtbot.waitUntil(lambda: inspector.bundle is not None and inspector.bundle.post.id == ids["plain"], timeout=10_000)
    qtbot.waitUntil(lambda: inspector.canvas_message.text() == "This post has no image.", timeout=10_000)
    assert not inspector.retry_image_button.isVisible()
    inspector.show_post(ids["gone"])
    qtbot.waitUntil(lambda: inspector.canvas_message.text().startswith("Image not downloaded"), timeout=10_000)
    assert inspector.canvas_message.text().startswith("Image not downloaded (refused: address 127.0.0.1")
    assert inspector.retry_image_button.isVisible()
    chips = [inspector.entities.item(i).data(ROW_ROLE) for i in range(inspector.entities.count())]
    assert [chip.grounding for chip in chips] == ["image not downloaded"]
    with qtbot.waitSignal(window.jobs.results_changed, timeout=60_000):
        inspector.retry_image_button.click()  # the Jobs page fetches the images that did not arrive


def test_settings_show_a_token_saved_elsewhere_a_moment_ago(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)
    monkeypatch.setattr(credentials, "_keyring_usable", lambda: False)
    monkeypatch.setattr(credentials, "default_config_dir", lambda: tmp_path / "config")
    page = show_settings(qtbot, window)
    assert page.token_state.text() == "Bearer token: no token saved"
    window.show_page("jobs")
    credentials.save_token("AAAA-from-the-x-dialog-9876")  # what the X import dialog does with a pasted token
    with qtbot.waitSignal(page.token_shown, timeout=10_000):
        window.show_page("settings")
    assert page.token_state.text() == "Bearer token: ••••••••9876"
    with qtbot.waitSignal(page.token_shown, timeout=10_000):
        next(b for b in page.findChildren(QPushButton) if b.text() == "Forget token").click()
    assert page.token_state.text() == "Bearer token: no token saved"


def test_settings_choose_the_ray_engine_and_device_and_refuse_a_bad_one(qtbot, window, tmp_path):
    from groundlens.core.settings import Settings, SettingsError

    page = show_settings(qtbot, window)
    page.engine.setCurrentText("ray")
    page.ray_address.setText("127.0.0.1:6379")
    page.ray_workers.setValue(3)
    page.device.setCurrentText("cpu")
    page.save()
    saved = Settings.load(window.ctx.paths.settings_file)
    assert (saved.engine, saved.ray_address, saved.ray_workers, saved.device) == ("ray", "127.0.0.1:6379", 3, "cpu")
    for field, value in (("engine", "spark"), ("device", "tpu"), ("ray_workers", 0), ("ray_address", 6379)):
        bad = tmp_path / f"{field}.json"
        bad.write_text(json.dumps({field: value}))
        try:
            Settings.load(bad)
        except SettingsError as error:
            assert field in str(error) and str(bad) in str(error)
        else:
            raise AssertionError(f"{field}={value!r} was accepted")


def test_an_import_that_cannot_open_its_database_says_why_and_the_next_can_start(qtbot, window, tmp_path):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 100)
    jobs = window.jobs
    with qtbot.waitSignal(jobs.imports.failed, timeout=30_000):
        assert jobs.start_import(
            "posts.jsonl",
            lambda progress, cancel: import_tasks.import_files(
                damaged, [str(tmp_path / "posts.jsonl")], progress, cancel
            ),
        )
    assert jobs.import_status.text().startswith("Import of posts.jsonl stopped: ")
    assert all(button.isEnabled() for button in jobs.import_buttons) and not jobs.import_cancel_button.isEnabled()
    assert not jobs.pipeline_running  # a failed import adds nothing to run on


def test_saving_the_settings_page_keeps_what_the_form_does_not_show(qtbot, window):
    """Was: the page rebuilt the pipeline from its fields alone, so saving put the text reader back to
    rapidocr for an analyst who had turned it off in settings.json."""
    file = window.ctx.paths.settings_file
    settings = json.loads(file.read_text())
    settings["pipeline"] = {**settings.get("pipeline", {}), "text_reader": None}
    file.write_text(json.dumps(settings))
    qtbot.waitUntil(lambda: window.ctx.settings.settings.pipeline.text_reader is None, timeout=10_000)
    page = show_settings(qtbot, window)
    page.groundable.setValue(0.6)
    page.save()
    saved = json.loads(file.read_text())["pipeline"]
    assert saved["groundable_threshold"] == 0.6 and saved["text_reader"] is None
