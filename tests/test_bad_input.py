"""Bad input of many kinds: each bad item is reported with where it is and why, the good ones all land.

Every case writes real files holding good items next to one bad item; the test imports them into
a real store and checks both halves of the promise. tests/test_hostile_inputs.py adds the
hostile kinds (the numbered list of every kind is there) and imports all of them, these
included, together in one batch.
"""

from __future__ import annotations

import json

import pytest

from groundlens.core.ingest import import_paths
from groundlens.storage import Store
from tests.helpers.bad_input import (
    CASES,
    import_cases,
)

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


@pytest.mark.parametrize("kind", CASES)
def test_each_bad_input_is_reported_and_the_rest_lands(tmp_path, kind):
    folder = tmp_path / "in"
    folder.mkdir()
    import_cases(tmp_path, [CASES[kind](folder)])


def test_utf16_jsonl_with_bom_is_decoded_not_refused(tmp_path):
    p = tmp_path / "notepad.jsonl"
    p.write_text(json.dumps({"id": "1", "text": "Zürich"}, ensure_ascii=False) + "\n", encoding="utf-16")
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [p])
        assert report.ok and store.get_post(1).text == "Zürich"
