"""The spaCy backend: OntoNotes label mapping and span clean-up (core/pipeline/ner/spacy_ner.py)."""

from __future__ import annotations

import pytest

from groundlens.core.pipeline import registry
from groundlens.core.pipeline.ner.spacy_ner import LABEL_MAP, to_mention


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("PERSON", "PER"),
        ("GPE", "LOC"),
        ("FAC", "LOC"),
        ("LOC", "LOC"),
        ("ORG", "ORG"),
        ("NORP", "OTHER"),
        ("EVENT", "OTHER"),
        ("WORK_OF_ART", "OTHER"),
        ("PRODUCT", "OTHER"),
    ],
)
def test_named_labels_map_to_the_four_types(label: str, expected: str) -> None:
    mention = to_mention("Word here", 0, 4, label)
    assert mention is not None and mention.type == expected


@pytest.mark.parametrize("label", ["DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"])
def test_numeric_labels_are_dropped(label: str) -> None:
    assert label not in LABEL_MAP
    assert to_mention("Monday 5", 0, 6, label) is None


def test_signs_are_trimmed_and_urls_dropped() -> None:
    text = "#Paris and https://t.co/abc"
    mention = to_mention(text, 0, 6, "GPE")
    assert mention is not None and (mention.start, mention.end, mention.text) == (1, 6, "Paris")
    assert to_mention(text, 11, len(text), "PERSON") is None
    assert to_mention("#", 0, 1, "ORG") is None


@pytest.mark.slow
def test_spacy_backend_finds_entities_with_raw_offsets() -> None:
    recognizer = registry.create("ner", "spacy")
    texts = ["Barack Obama met Angela Merkel in Berlin on Monday.", ""]
    found = recognizer.recognize(texts)
    assert len(found) == 2 and found[1] == []
    assert ("Barack Obama", "PER") in {(m.text, m.type) for m in found[0]}
    assert all(texts[0][m.start : m.end] == m.text for m in found[0])
    assert recognizer.name == "spacy" and recognizer.version
