"""The schema as a chain of migrations; `PRAGMA user_version` is the number of steps applied.

A new database runs the whole chain, an older one only the missing steps, so there is a
single description of the schema and every upgrade path is exercised by new databases too.
Never edit a released step: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from groundlens.storage import aggregates, entities
from groundlens.storage.db import register_functions, run_transaction
from groundlens.storage.faults import StoreError
from groundlens.storage.normalize import normalize_entity


class SchemaError(StoreError):
    """The database cannot be used by this version of GroundLens."""


_V1_TABLES = """
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    native_id TEXT NOT NULL,
    author TEXT,
    created_at INTEGER,              -- unix seconds, UTC
    text TEXT NOT NULL,
    lang TEXT,
    url TEXT,
    raw TEXT,                        -- original payload, JSON
    UNIQUE (source, native_id)
);
CREATE INDEX posts_created ON posts (created_at);

CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT,
    local_path TEXT,
    sha256 TEXT,
    size_bytes INTEGER,
    width INTEGER,
    height INTEGER,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'failed', 'missing')),
    error TEXT,
    UNIQUE (post_id, position)
);
CREATE INDEX media_status ON media (status);

CREATE TABLE entities (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    origin TEXT NOT NULL CHECK (origin IN ('pred', 'gold')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    norm TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('PER', 'LOC', 'ORG', 'OTHER')),
    score REAL,
    groundable INTEGER,              -- NULL: not decided
    groundable_score REAL,
    expression TEXT,
    model_version TEXT
);
CREATE INDEX entities_post ON entities (post_id, origin);
CREATE INDEX entities_norm ON entities (norm);

CREATE TABLE regions (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    media_id INTEGER REFERENCES media (id) ON DELETE SET NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    score REAL,
    mask_rle TEXT,                   -- COCO RLE as compact JSON {"size": [h, w], "counts": str}
    area INTEGER
);
CREATE INDEX regions_entity ON regions (entity_id);
CREATE INDEX regions_media ON regions (media_id);

CREATE TABLE jobs (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    config_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    worker TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,        -- unix seconds
    PRIMARY KEY (post_id, config_key)
);
CREATE INDEX jobs_queue ON jobs (config_key, state);
"""

_FTS_TOKENIZER = "unicode61 remove_diacritics 2"

_V2_SEARCH_AND_TRENDS = f"""
-- per-post facts kept by the store, so filters scan one narrow index instead of joining mentions
ALTER TABLE posts ADD COLUMN has_media INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN n_pred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN n_gold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN pred_types INTEGER NOT NULL DEFAULT 0;      -- a bit per type: PER 1, LOC 2, ORG 4, OTHER 8
ALTER TABLE posts ADD COLUMN ground_types INTEGER NOT NULL DEFAULT 0;    -- types of mentions judged groundable
ALTER TABLE posts ADD COLUMN unground_types INTEGER NOT NULL DEFAULT 0;  -- types of mentions judged not groundable
ALTER TABLE entities ADD COLUMN created_at INTEGER;   -- copy of the post's, for date filters without a join
DROP INDEX posts_created;
CREATE INDEX posts_facets ON posts (created_at, id, has_media, pred_types, ground_types, unground_types);
CREATE INDEX posts_by_entities ON posts (n_pred, created_at);
CREATE INDEX posts_author ON posts (author COLLATE NOCASE);
DROP INDEX entities_norm;
CREATE INDEX entities_norm ON entities (norm, origin, created_at);

CREATE VIRTUAL TABLE posts_fts USING fts5 (text, content='posts', content_rowid='id', tokenize="{_FTS_TOKENIZER}");
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER posts_fts_update AFTER UPDATE OF text ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO posts_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE entity_names (
    id INTEGER PRIMARY KEY,
    norm TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL               -- a surface form, for display
);
CREATE VIRTUAL TABLE entity_names_fts USING fts5 (
    norm, content='entity_names', content_rowid='id', tokenize="{_FTS_TOKENIZER}"
);
CREATE TRIGGER entity_names_fts_insert AFTER INSERT ON entity_names BEGIN
    INSERT INTO entity_names_fts (rowid, norm) VALUES (new.id, new.norm);
END;

CREATE TABLE mention_daily (
    norm TEXT NOT NULL,
    day INTEGER NOT NULL,            -- days since 1970-01-01 (UTC)
    type TEXT NOT NULL,
    origin TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    posts INTEGER NOT NULL,          -- distinct posts
    groundable INTEGER NOT NULL,     -- mentions judged groundable
    PRIMARY KEY (norm, day, type, origin)
) WITHOUT ROWID;
CREATE INDEX mention_daily_day ON mention_daily (day);
CREATE TABLE entity_totals (
    origin TEXT NOT NULL,
    type TEXT NOT NULL,              -- '*': all types
    norm TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    posts INTEGER NOT NULL,
    groundable INTEGER NOT NULL,
    PRIMARY KEY (origin, type, norm)
) WITHOUT ROWID;
CREATE INDEX entity_totals_rank ON entity_totals (origin, type, mentions);
CREATE TABLE type_daily (
    type TEXT NOT NULL,
    day INTEGER NOT NULL,
    origin TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (type, day, origin)
) WITHOUT ROWID;
"""

_V2_BACKFILL = """
UPDATE entities SET created_at = (SELECT created_at FROM posts WHERE posts.id = entities.post_id);
UPDATE posts SET has_media = EXISTS (SELECT 1 FROM media WHERE media.post_id = posts.id);
INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
INSERT INTO entity_names (norm, name) SELECT norm, MIN(text) FROM entities GROUP BY norm;
"""


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in _split(sql):
            conn.execute(statement)

    return apply


def _split(sql: str) -> list[str]:
    """Statements of a script (executescript would COMMIT our transaction); triggers keep their bodies."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def _v2(conn: sqlite3.Connection) -> None:
    _script(_V2_SEARCH_AND_TRENDS)(conn)
    _script(_V2_BACKFILL)(conn)
    entities.refresh_post_facts(conn, None)
    aggregates.rebuild(conn)


# Post text is indexed by storage.posts in one statement per batch (see storage.post_index).
_V3_SET_BASED_TEXT_INDEX = """
DROP TRIGGER posts_fts_insert;
DROP TRIGGER posts_fts_update;
"""

# Retweets, quotes and replies link to the post they share, quote or answer (by native id of the same
# source, so the link holds before that post is stored); result_of names the stored original whose
# pipeline result a retweet of the same text and images reuses (storage/reposts.py). Mentions carry
# their post's retweet flag and the aggregates count original mentions apart, so trends can count
# originals only or every post (amplification). Stored posts hold no retweets yet: originals = all.
_V4_REPOSTS = """
ALTER TABLE posts ADD COLUMN retweet_of TEXT;
ALTER TABLE posts ADD COLUMN quote_of TEXT;
ALTER TABLE posts ADD COLUMN reply_to TEXT;
ALTER TABLE posts ADD COLUMN result_of INTEGER REFERENCES posts (id) ON DELETE SET NULL;
CREATE INDEX posts_retweets ON posts (source, retweet_of) WHERE retweet_of IS NOT NULL;
CREATE INDEX posts_result_of ON posts (result_of) WHERE result_of IS NOT NULL;
ALTER TABLE entities ADD COLUMN retweet INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mention_daily ADD COLUMN original_mentions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE type_daily ADD COLUMN original_mentions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entity_totals ADD COLUMN original_mentions INTEGER NOT NULL DEFAULT 0;
UPDATE mention_daily SET original_mentions = mentions;
UPDATE type_daily SET original_mentions = mentions;
UPDATE entity_totals SET original_mentions = mentions;
"""

# Verdicts with their evidence on mentions; what the image showed besides them (OCR lines, people not
# identified); the OCR text joins the post text in the full-text index at step 6.
_V5_GROUNDING_EVIDENCE = """
ALTER TABLE entities ADD COLUMN verdict TEXT CHECK (verdict IN ('in_image', 'probably', 'not_in_image'));
ALTER TABLE entities ADD COLUMN evidence TEXT;        -- JSON list of {kind, detail, score, box}
ALTER TABLE posts ADD COLUMN ocr_text TEXT;           -- the OCR lines of the post's image, one per line

CREATE TABLE image_text (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    media_id INTEGER REFERENCES media (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    score REAL
);
CREATE INDEX image_text_post ON image_text (post_id);
CREATE TABLE image_objects (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    media_id INTEGER REFERENCES media (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    score REAL,
    candidates TEXT                  -- JSON list of the names it may be
);
CREATE INDEX image_objects_post ON image_objects (post_id);
"""

# Post search and entity search fold text alike (storage.normalize.fold: NFKC, casefold, accents, dotless i),
# and a word search finds a post by the text read in its image too (`ocr:` searches that column alone).
# The post index holds folded text, which is not the posts' stored text, so it becomes contentless (an
# external-content index would read posts.text back for 'rebuild' and 'integrity-check' and disagree).
_V6_FOLDED_SEARCH = f"""
DROP TRIGGER posts_fts_delete;
DROP TABLE posts_fts;
CREATE VIRTUAL TABLE posts_fts USING fts5 (text, ocr_text, content='', tokenize="{_FTS_TOKENIZER}");
INSERT INTO posts_fts (rowid, text, ocr_text) SELECT id, search_fold(text), search_fold(ocr_text) FROM posts;
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text, ocr_text)
    VALUES ('delete', old.id, search_fold(old.text), search_fold(old.ocr_text));
END;
UPDATE entities SET norm = entity_norm(norm) WHERE norm != entity_norm(norm) AND entity_norm(norm) != '';
DELETE FROM entity_names;
INSERT INTO entity_names (norm, name) SELECT norm, MIN(text) FROM entities GROUP BY norm;
INSERT INTO entity_names_fts (entity_names_fts) VALUES ('rebuild');
"""


def _v6(conn: sqlite3.Connection) -> None:
    """Mentions' keys recomputed with the new normalisation (from the stored key, so a key a caller chose
    keeps its meaning), then the names and trend aggregates built on them."""
    register_functions(conn)
    conn.create_function("entity_norm", 1, normalize_entity, deterministic=True)
    _script(_V6_FOLDED_SEARCH)(conn)
    aggregates.rebuild(conn)


# Each job notes the image its result was computed from (storage/job_images.py). Results already
# stored are taken to match their post's image as it is now (else every post would be redone).
_V7_JOB_IMAGES = """
ALTER TABLE jobs ADD COLUMN image TEXT;
UPDATE jobs SET image = (SELECT sha256 FROM media WHERE media.post_id = jobs.post_id AND position = 0 AND status = 'ok');
"""

# The analyst's corrections, a layer apart from predictions and gold (storage/corrections.py). `entities`
# (origin 'pred') holds the corrected view every reader uses; the pipeline's own output of a post that a
# correction touches is kept in `raw_predictions`, so a re-run or a revert recomputes that view exactly.
_V8_CORRECTIONS = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,   -- NULL: about an entity in every post (merge, split)
    kind TEXT NOT NULL,
    target TEXT NOT NULL,            -- JSON: the mention (start, end, text, type) or the entity (norm) corrected
    payload TEXT NOT NULL,           -- JSON: what the analyst said instead
    author TEXT NOT NULL,            -- the OS user
    created_at REAL NOT NULL,        -- unix seconds
    reverted_at REAL,                -- NULL: in force
    status TEXT NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'stale', 'unmatched'))
);
CREATE INDEX IF NOT EXISTS corrections_post ON corrections (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS corrections_entity_level ON corrections (kind) WHERE post_id IS NULL;
CREATE TABLE IF NOT EXISTS raw_predictions (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    entities TEXT NOT NULL           -- JSON list of the pipeline's mentions with their regions
);
"""


def _v8(conn: sqlite3.Connection) -> None:
    _script(_V8_CORRECTIONS)(conn)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(entities)")}
    if "corrections" not in columns:
        conn.execute("ALTER TABLE entities ADD COLUMN corrections TEXT")  # JSON ids of the mention corrections applied
    if "pred_norm" not in columns:
        conn.execute("ALTER TABLE entities ADD COLUMN pred_norm TEXT")  # the name before merges; NULL: not merged
    conn.execute("CREATE INDEX IF NOT EXISTS entities_merged ON entities (pred_norm) WHERE pred_norm IS NOT NULL")


# Analysts' own organisation of posts: tags on posts (storage/tags.py; a tag doubles as a "collection") and
# saved searches, named queries kept as typed (storage/saved_searches.py). Self-contained and idempotent.
_V9_TAGS_AND_SAVED_SEARCHES = """
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS post_tags (
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, post_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_tags_post ON post_tags (post_id);
CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    query TEXT NOT NULL,
    created_at REAL NOT NULL         -- unix seconds
);
"""

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _script(_V1_TABLES),  # 1: posts, media, entities, regions, job queue
    _v2,  # 2: full-text search, feed counters, trend aggregates
    _script(_V3_SET_BASED_TEXT_INDEX),  # 3: post text indexed per batch, not per row (4x faster imports)
    _script(_V4_REPOSTS),  # 4: retweet/quote/reply links, shared results, original-only counts
    _script(_V5_GROUNDING_EVIDENCE),  # 5: verdicts and evidence, OCR text (searchable), people not identified
    _v6,  # 6: one normalisation for post and entity search (folded post index with OCR text, recomputed keys)
    _script(_V7_JOB_IMAGES),  # 7: jobs.image, the image a result used (redone when the post's image changes)
    _v8,  # 8: the analyst's corrections, raw predictions of corrected posts, entities.corrections and pred_norm
    _script(_V9_TAGS_AND_SAVED_SEARCHES),  # 9: tags on posts, saved searches
]
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to `target` in one transaction (all or nothing); returns the version found."""

    def work(conn: sqlite3.Connection) -> int:
        found = _check(user_version(conn))  # again: another process may have migrated meanwhile
        for version in range(found + 1, target + 1):
            MIGRATIONS[version - 1](conn)
        if target > found:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        return found

    found = _check(user_version(conn))
    return found if found >= target else run_transaction(conn, work, write=True)


def _check(found: int) -> int:
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"the database has schema version {found}; this GroundLens knows up to {SCHEMA_VERSION} (update it)"
        )
    return found
