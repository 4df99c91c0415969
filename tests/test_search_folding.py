"""Post search and entity search fold text the same way (storage.normalize.fold), on new databases and
on databases written with the older entity keys (migration 4); a leading minus on the command line."""

from __future__ import annotations

import json
import sqlite3
import unicodedata

import pytest
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core.config import resolve_paths
from groundlens.storage import Store
from groundlens.storage.normalize import fold, normalize_entity
from groundlens.storage.schema import SCHEMA_VERSION, migrate
from tests.helpers.storage import make_post, mention, open_store, scalar

# (post text, its predicted entity, its type)
POSTS = [
    ("ＯＢＡＭＡ speaks in Chicago", "ＯＢＡＭＡ", "PER"),
    ("Coffee at Café de Flore this morning", "Café de Flore", "ORG"),
    ("Flooding in Diyarbakır tonight", "Diyarbakır", "LOC"),
    ("İstanbul marathon on Sunday", "İstanbul", "LOC"),
    ("Straße closed near Brandenburger Tor", "Straße", "LOC"),
]
# what an analyst types -> the post (index in POSTS) both searches must find
QUERIES = [
    ("obama", 0),
    ("ＯＢＡＭＡ", 0),
    ("Obama", 0),
    ("cafe", 1),
    ("café", 1),
    ("CAFÉ", 1),
    ("diyarbakir", 2),
    ("Diyarbakır", 2),
    ("DİYARBAKIR", 2),
    ("DIYARBAKIR", 2),
    ("istanbul", 3),
    ("İstanbul", 3),
    ("ıstanbul", 3),
    ("ISTANBUL", 3),
    ("strasse", 4),
    ("straße", 4),
    ("STRASSE", 4),
]


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path) as store:
        posts = [make_post(str(i), text) for i, (text, _, _) in enumerate(POSTS)]
        store.upsert_posts(posts)
        for post, (_, name, kind) in zip(posts, POSTS):
            store.save_result(post.id, "cfg", [mention(post, name, kind)], None)
        yield store


def found_by_both(store: Store, word: str) -> tuple[set[str], set[str], set[str]]:
    """(posts whose text matches, entities whose name matches, posts with entity:word)."""
    posts = {p.native_id for p in store.search_posts(word, limit=50).items}
    entities = {e.norm for e in store.search_entities(word, limit=50).items}
    quoted = word.replace('"', "")
    tagged = {p.native_id for p in store.search_posts(f'entity:"{quoted}"', limit=50).items}
    return posts, entities, tagged


@pytest.mark.parametrize(("word", "index"), QUERIES)
def test_post_search_and_entity_search_agree_on_folded_words(store, word, index):
    _, name, _ = POSTS[index]
    posts, entities, tagged = found_by_both(store, word)
    assert posts == {str(index)}, (word, posts)
    assert entities == {normalize_entity(name)}, (word, entities)
    if fold(word) == normalize_entity(name):  # the whole name typed: the entity: filter finds the post too
        assert tagged == {str(index)}


def test_entity_filter_matches_a_name_with_accents_typed_without():
    assert normalize_entity("Café") == normalize_entity("cafe") == "cafe"
    assert normalize_entity("İstanbul") == normalize_entity("ıstanbul") == normalize_entity("ISTANBUL") == "istanbul"
    assert normalize_entity("ＮＢＡ's") == "nba"


def test_phrases_and_prefixes_fold_too(store):
    assert [p.native_id for p in store.search_posts('"cafe de flore"').items] == ["1"]
    assert [p.native_id for p in store.search_posts("diyarb*").items] == ["2"]
    assert [e.norm for e in store.search_entities("ıstan*").items] == ["istanbul"]


def _database_with_old_keys(path):
    """A version-3 database as earlier releases wrote it: entity keys by NFKC + casefold only (so
    "café", "i̇stanbul" with a combining dot, "diyarbakır"), the post index over the raw text."""
    conn = sqlite3.connect(path)
    migrate(conn, target=1)
    rows = [(i + 1, text, name, kind) for i, (text, name, kind) in enumerate(POSTS)]
    for post_id, text, name, kind in rows:
        conn.execute(
            "INSERT INTO posts (id, source, native_id, created_at, text) VALUES (?, 'x', ?, 1704888000, ?)",
            (post_id, str(post_id - 1), text),
        )
        start = text.index(name)
        old_key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
        for origin in ("pred", "gold"):
            conn.execute(
                'INSERT INTO entities (post_id, origin, start, "end", text, norm, type) VALUES (?, ?, ?, ?, ?, ?, ?)',
                (post_id, origin, start, start + len(name), name, old_key, kind),
            )
    conn.commit()
    migrate(conn, target=3)
    assert {n for (n,) in conn.execute("SELECT norm FROM entity_names")} >= {"café de flore", "i\u0307stanbul"}
    conn.close()


def test_migration_recomputes_old_entity_keys_and_the_post_index(tmp_path):
    path = tmp_path / "old.db"
    _database_with_old_keys(path)
    with Store.open(path) as store:
        assert scalar(path, "PRAGMA user_version") == SCHEMA_VERSION
        for word, index in QUERIES:
            posts, entities, _ = found_by_both(store, word)
            assert posts == {str(index)} and entities == {normalize_entity(POSTS[index][1])}, word
        assert [p.native_id for p in store.search_posts("entity:cafe").items] == []  # "Café de Flore", not "Café"
        assert [p.native_id for p in store.search_posts('entity:"cafe de flore"').items] == ["1"]
        top = {c.norm: c.count for c in store.top_entities(include_gold=True)}
        assert top["istanbul"] == 2 and "i\u0307stanbul" not in top  # aggregates follow the new keys
        assert store.search_entities("istanbul").items[0].name == "İstanbul"  # shown as written
        store.upsert_posts([make_post("9", "Back in İstanbul")])  # the new index takes new posts
        assert {p.native_id for p in store.search_posts("istanbul").items} == {"3", "9"}


@pytest.fixture
def data_dir(tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    with Store.open(paths.db_path) as store:
        store.upsert_posts(
            [make_post("1", "Obama meets Trump"), make_post("2", "Trump rally"), make_post("3", "Obama library")]
        )
    return paths


def cli_ids(paths, *args) -> list[str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(paths.data_dir), "search", "--json", *args])
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["native_id"] for line in result.output.splitlines())


def test_a_search_may_start_with_an_exclusion_on_the_command_line(data_dir):
    assert cli_ids(data_dir, "-obama", "trump") == ["2"]
    assert cli_ids(data_dir, "--", "-obama", "trump") == ["2"]
    assert cli_ids(data_dir, "-obama trump") == ["2"]
    assert cli_ids(data_dir, "trump", "-obama") == ["2"]
    assert cli_ids(data_dir, "obama") == ["1", "3"]
    assert cli_ids(data_dir, "-hillary", "obama") == ["1", "3"]  # not -h (help) with "illary"
    assert cli_ids(data_dir, "--limit", "1", "-trump") == ["3"]
    mistyped = CliRunner().invoke(cli, ["--data-dir", str(data_dir.data_dir), "search", "--limt", "5", "obama"])
    assert mistyped.exit_code == 2 and "No such option '--limt'" in mistyped.output  # not a search for "--limt"
