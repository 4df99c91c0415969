"""PipelineConfig keys and the settings file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.settings import Settings


def test_key_is_stable_across_processes_and_option_order():
    a = PipelineConfig(grounding=StageConfig("owlv2", {"model": "m", "threshold": 0.2}))
    b = PipelineConfig(grounding=StageConfig("owlv2", {"threshold": 0.2, "model": "m"}))
    assert a.key() == b.key()
    code = (
        "from groundlens.core.pipeline.config import PipelineConfig, StageConfig;"
        "print(PipelineConfig(grounding=StageConfig('owlv2', {'model': 'm', 'threshold': 0.2})).key())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == a.key()


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.with_stage("entailment", None),
        lambda c: c.with_stage("grounding", "owlv2"),
        lambda c: c.with_stage("segmentation", {"backend": "mobile_sam", "options": {"checkpoint": "x.pt"}}),
        lambda c: PipelineConfig(groundable_threshold=0.6),
        lambda c: PipelineConfig(box_threshold=0.3),
    ],
)
def test_anything_that_changes_results_changes_the_key(change):
    assert change(PipelineConfig()).key() != PipelineConfig().key()


def test_round_trip_and_shorthand_forms():
    config = PipelineConfig.from_dict(
        {
            "ner": "spacy",
            "entailment": None,
            "grounding": "off",
            "expression": {"backend": "causal_lm", "options": {"model": "x"}},
            "groundable_threshold": 0.4,
        }
    )
    assert config.ner == StageConfig("spacy") and config.entailment is None and config.grounding is None
    assert config.segmentation == StageConfig("mobile_sam")  # unspecified -> default
    assert PipelineConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.describe().startswith("ner=spacy expression=causal_lm entailment=off grounding=off")


def test_bad_settings_are_rejected_with_a_reason():
    with pytest.raises(ValueError, match="unknown pipeline settings: colour"):
        PipelineConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="backend name"):
        PipelineConfig.from_dict({"ner": 3})
    with pytest.raises(ValueError, match="unknown pipeline stage"):
        PipelineConfig().with_stage("ocr", "x")


def test_settings_file_round_trip_keeps_other_parts_keys(tmp_path):
    path = tmp_path / "settings.json"
    assert Settings.load(path) == Settings()
    path.write_text(json.dumps({"gui": {"theme": "dark"}, "threads": 2}))
    settings = Settings.load(path)
    assert settings.threads == 2 and settings.pipeline == PipelineConfig()
    settings.pipeline = settings.pipeline.with_stage("ner", "spacy")
    settings.save(path)
    data = json.loads(path.read_text())
    assert data["gui"] == {"theme": "dark"} and data["pipeline"]["ner"]["backend"] == "spacy"
    assert Settings.load(path).pipeline.ner == StageConfig("spacy")


def test_malformed_settings_file_is_an_error_not_a_silent_reset(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Settings.load(path)


def test_the_backend_table_names_what_each_module_registers():
    """Settings list backends from BUILTIN_BACKENDS without importing them: the table must tell the truth."""
    code = (
        "import importlib, json\n"
        "from groundlens.core.pipeline import registry\n"
        "listed = {stage: registry.available(stage) for stage in registry.STAGES}\n"
        "for module in sorted(set(registry.BUILTIN_BACKENDS.values())):\n"
        "    importlib.import_module(module)\n"
        "found = {stage: registry.available(stage) for stage in registry.STAGES}\n"
        "print(json.dumps([listed, found]))\n"
    )
    listed, found = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert listed == found
    assert listed["segmentation"] == ["mobile_sam", "sam"]
