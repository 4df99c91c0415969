"""The benchmark corpus generator: valid spans, the flattened JSONL shape, records the store accepts."""

from __future__ import annotations

import json

import pytest

import bench.corpus as corpus
from tests.helpers.storage import open_store


@pytest.fixture(params=["built-in", "twitter-gmner"])
def generator(request, monkeypatch):
    """A generator factory, from the built-in names or from the Twitter-GMNER train split."""
    if request.param == "built-in":
        monkeypatch.setattr(corpus, "GMNER_DIR", corpus.GMNER_DIR / "absent")
    else:
        request.getfixturevalue("gmner_data")  # skips where the dataset is not beside the repo

    def make() -> corpus.CorpusGenerator:
        made = corpus.CorpusGenerator(seed=7, days=30)
        assert made.from_dataset == (request.param == "twitter-gmner")
        return made

    return make


def test_posts_are_deterministic_with_valid_spans_and_jsonl_fields(generator):
    first, again = list(generator().posts(300)), list(generator().posts(300))
    assert [p.json_line() for p in first] == [p.json_line() for p in again]
    assert all(post.text[start:end] == surface for post in first for start, end, surface, _ in post.mentions)
    record = json.loads(first[0].json_line())
    assert set(record) == {"id", "text", "author", "created_at", "lang", "image_url"}
    with_image = sum(post.image_url is not None for post in first)
    assert 0 < with_image < len(first)
    assert len({post.created_at.date() for post in first}) > 10  # spread over the days


def test_records_load_into_the_store(generator, tmp_path):
    synthetic = list(generator().posts(200))
    store = open_store(tmp_path)
    posts = [item.post() for item in synthetic]
    store.upsert_posts(posts)
    saved = store.save_results("bench", [(post.id, item.predictions(), None) for post, item in zip(posts, synthetic)])
    assert saved == 200
    mentions = sum(len(item.mentions) for item in synthetic)
    assert sum(store.stats()["entities"]["pred"].values()) == mentions
    groundable = [e for item in synthetic for e in item.predictions() if e.groundable]
    assert all(e.regions and e.regions[0].mask_rle["counts"] for e in groundable)
