"""Settings that cannot run, and outputs that cannot be written: one clear message naming the file,
field or path, the same from the CLI and the GUI (tests/test_gui_settings_search.py), both of which read
the file through Settings.load."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.core.safe_output import describe_write_error
from groundlens.core.settings import Settings, SettingsError
from groundlens.storage import Store
from tests.helpers.storage import make_post


@pytest.fixture
def data_dir(tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        store.upsert_posts([make_post("1", "Kevin Durant joins the Warriors", "2024-01-02")])
    return paths


def run(paths, *args):
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["--data-dir", str(paths.data_dir), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("[]", "settings must be a JSON object ({...}), not list"),
        ('"fast please"', "settings must be a JSON object ({...}), not str"),
        ('{"batch_size": 0}', "batch_size: must be a whole number of at least 1, not 0"),
        ('{"batch_size": -4}', "batch_size: must be a whole number of at least 1, not -4"),
        ('{"threads": -1}', "threads: must be a whole number of at least 1, not -1"),
        ('{"threads": "abc"}', "threads: must be a whole number of at least 1, not 'abc'"),
        ('{"pipeline": []}', "pipeline: must be a JSON object"),
        ('{"pipeline": {"box_threshold": "high"}}', "pipeline: box_threshold: must be a number from 0 to 1"),
        ('{"run_after_import": "yes"}', "run_after_import: must be true or false, not 'yes'"),
    ],
)
def test_a_settings_file_that_cannot_be_used_is_named_with_its_field(data_dir, content, field):
    data_dir.settings_file.write_text(content)
    result, said = run(data_dir, "process")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"settings file {data_dir.settings_file}: {field}" in said
    with pytest.raises(SettingsError) as raised:  # what the app's settings owner reads the file with
        Settings.load(data_dir.settings_file)
    assert f"{data_dir.settings_file}: {field}" in str(raised.value)


def test_a_backend_without_its_required_model_is_refused_before_any_worker_starts(data_dir):
    result, said = run(data_dir, "process", "--grounding", "owlv2")
    assert result.exit_code == 1 and "TypeError" not in said
    assert "pipeline.grounding: owlv2 needs option 'model'" in said
    with Store.open(data_dir.db_path) as store:
        assert store.job_counts(Settings().pipeline.with_stage("grounding", "owlv2").key())["failed"] == 0


def test_a_model_path_that_does_not_exist_is_called_missing_not_an_invalid_hub_id(data_dir, tmp_path):
    missing = tmp_path / "weights" / "owlv2-base"
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(json.dumps({"id": "a", "text": "Grace Hopper in Paris"}) + "\n")
    for command in (["process"], ["analyze", str(inputs), "-o", str(tmp_path / "out.jsonl")]):
        result, said = run(data_dir, *command, "--grounding", "owlv2", "-O", f"grounding.model={missing}")
        assert result.exit_code == 1, said
        assert f"pipeline.grounding: owlv2: option 'model': {missing} does not exist" in said
        assert "repo" not in said.lower()  # not the hub client's "Repo id must be..." message
    result, said = run(data_dir, "process", "--ner", "transformers", "-O", "ner.model=./no/such/ner")
    assert result.exit_code == 1 and "pipeline.ner: transformers: option 'model': no/such/ner does not exist" in said
    result, said = run(
        data_dir, "process", "--grounding", "owlv2", "-O", "grounding.model=x", "-O", "grounding.modle=1"
    )
    assert result.exit_code == 1 and "owlv2 has no option 'modle' (its options: model, threshold)" in said


def test_an_option_of_the_wrong_kind_is_a_settings_error_not_a_crash(data_dir):
    data_dir.settings_file.write_text(
        json.dumps({"pipeline": {"segmentation": {"backend": "mobile_sam", "options": {"checkpoint": 5}}}})
    )
    result, said = run(data_dir, "process")
    assert result.exit_code == 1 and "Traceback" not in result.output, said
    assert "pipeline.segmentation: mobile_sam: an option has the wrong type" in said


def test_settings_validate_accepts_what_can_run_and_names_the_stage_otherwise():
    assert Settings().validate() == Settings()
    hub = Settings(
        pipeline=Settings().pipeline.with_stage("grounding", {"backend": "owlv2", "options": {"model": "a/b"}})
    )
    assert hub.validate() is hub  # a hub id can only be checked by loading it
    sam = Settings(
        pipeline=Settings().pipeline.with_stage("segmentation", {"backend": "sam", "options": {"variant": "vit_x"}})
    )
    with pytest.raises(SettingsError, match=re.escape("pipeline.segmentation: sam: unknown SAM variant 'vit_x'")):
        sam.validate()


def test_export_to_a_missing_or_read_only_folder_names_the_path(data_dir, tmp_path):
    missing = tmp_path / "no" / "such" / "out.jsonl"
    result, said = run(data_dir, "export", str(missing))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"cannot write {missing}: the folder {missing.parent} does not exist" in said
    target = "/sys/groundlens-export.csv"  # sysfs refuses new files even to root (folder modes do not)
    result, said = run(data_dir, "export", target)
    assert result.exit_code == 1 and f"cannot write {target}: permission denied (is /sys read-only" in said


def test_analyze_refuses_an_output_in_a_missing_folder_before_loading_models(data_dir, tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(json.dumps({"id": "a", "text": "Grace Hopper in Paris"}) + "\n")
    out = tmp_path / "gone" / "out.jsonl"
    result, said = run(data_dir, "analyze", str(inputs), "-o", str(out))
    assert result.exit_code == 1 and f"cannot write {out}: the folder {out.parent} does not exist" in said
    assert "pipeline ner=" not in said  # refused before the pipeline was described and built


def test_a_full_device_is_named_as_such():
    with pytest.raises(OSError) as raised, open("/dev/full", "w", encoding="utf-8") as handle:
        handle.write("x" * 10_000)
    assert raised.value.errno == errno.ENOSPC
    assert describe_write_error(Path("/dev/full"), raised.value) == (
        "cannot write /dev/full: no space left on the device holding /dev"
    )
