"""Storage faults against the real command line and a real SQLite file: a disk that fills, a read-only
database, a damaged one, a data folder whose database is no database at all, and Ctrl-C during slow
downloads. Each ends with one clear message (never a traceback, never one line per remaining post),
keeps what was committed, and a later run resumes."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from groundlens.cli import cli
from groundlens.storage import SCHEMA_VERSION, Store
from tests.helpers.faults import app, read_only, wait_for

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 24, 1, 2, 3  # linux/prctl.h, capability.h


def write_posts(path: Path, n: int, image_url: str | None = None) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            record = {"id": str(i), "text": f"post {i} about Paris and London, word{i}"}
            if image_url:
                record["image_url"] = f"{image_url}/{i}.jpg"
            out.write(json.dumps(record) + "\n")
    return path


def count_posts(db_path: Path) -> int:
    return read_only(db_path, "SELECT COUNT(*) FROM posts") or 0


def file_size_limit(size: int):
    """For preexec_fn: the process may not make any file larger than `size` bytes, as on a disk that is full
    (SQLite sees the refused write just as it sees ENOSPC: the transaction fails, earlier ones stay)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


# --- a disk that fills, a read-only database: stop at once, keep what is stored, resume ---------------


def test_a_disk_that_fills_mid_import_stops_it_with_one_message_and_a_rerun_resumes(tmp_path):
    n = 30_000  # three write batches: the first fits under the limit, the second does not
    posts, data = write_posts(tmp_path / "posts.jsonl", n), tmp_path / "data"
    full = subprocess.run(
        app(data, "import", str(posts)),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=file_size_limit(3_000_000),
    )
    assert full.returncode == 1
    stored = count_posts(data / "groundlens.db")
    assert 0 < stored < n
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1, full.stderr[-2000:]  # not one line per post that was left
    assert "the import stopped here" in lines[0] and "groundlens.db could not be read or written" in lines[0]
    assert "Traceback" not in full.stderr and "stopped early" in full.stdout
    assert f"{stored} posts added" in full.stdout

    again = subprocess.run(app(data, "import", str(posts)), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{n - stored} posts added, 0 updated, {stored} unchanged" in again.stdout
    assert count_posts(data / "groundlens.db") == n


def without_root_override() -> None:
    """For preexec_fn: file permissions bind this process even when it runs as root (the tests do), as
    they bind an analyst: the capabilities that let root write through them leave its bounding set."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_database_stops_the_import_with_one_message(tmp_path):
    data = tmp_path / "data"
    first = write_posts(tmp_path / "first.jsonl", 10)
    assert subprocess.run(app(data, "import", str(first)), capture_output=True, timeout=120).returncode == 0
    os.chmod(data / "groundlens.db", 0o400)  # its owner may read it, not write it
    second = write_posts(tmp_path / "second.jsonl", 3000)
    result = subprocess.run(
        app(data, "import", str(second)), capture_output=True, text=True, timeout=120, preexec_fn=without_root_override
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]  # not one line per post
    assert "groundlens.db is read-only" in lines[0] and "permissions" in lines[0]
    assert "Traceback" not in result.stderr
    assert count_posts(data / "groundlens.db") == 10


def test_an_image_cache_that_cannot_grow_stops_the_import_with_one_message(tmp_path):
    """The database still has room, the image cache does not: every later image would fail the same way."""
    rng = np.random.default_rng(0)
    with (tmp_path / "posts.jsonl").open("w", encoding="utf-8") as out:
        for i in range(6):  # noise does not compress: each PNG is about 1.4 MB
            Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)).save(tmp_path / f"photo{i}.png")
            out.write(json.dumps({"id": str(i), "text": f"photo {i} from Paris", "image": f"photo{i}.png"}) + "\n")
    data = tmp_path / "data"
    result = subprocess.run(
        app(data, "import", "--copy-images", str(tmp_path / "posts.jsonl")),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=file_size_limit(1_000_000),
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert "the import stopped here: the image cache" in lines[0] and "cannot be written (File too large)" in lines[0]
    assert "--retry-images" in lines[0] and "internal error" not in result.stderr
    assert "6 posts added" in result.stdout and "6 not downloaded" in result.stdout
    conn = sqlite3.connect(data / "groundlens.db")
    assert conn.execute("SELECT status, COUNT(*) FROM media GROUP BY status").fetchall() == [("pending", 6)]
    conn.close()


# --- a damaged database, or no database at all --------------------------------------------------------


def damage(db_path: Path) -> None:
    """Scribbles over the posts table's root page, as a failing disk or a bad copy would."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root, page_size = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'posts'").fetchone()[0], 4096
    conn.close()
    with db_path.open("r+b") as handle:
        handle.seek(page_size * (root - 1) + 100)
        handle.write(b"\xff" * 300)


def invoke(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def test_a_damaged_database_is_refused_for_writing_and_export_and_doctor_says_how_to_recover(tmp_path):
    posts, data = write_posts(tmp_path / "posts.jsonl", 3000), tmp_path / "data"
    assert invoke(data, "import", str(posts)).exit_code == 0
    assert invoke(data, "doctor").exit_code == 0
    db = data / "groundlens.db"
    damage(db)
    before = db.read_bytes()

    imported = invoke(data, "import", str(write_posts(tmp_path / "more.jsonl", 10)))
    assert imported.exit_code == 1 and "is damaged" in imported.output and "will not write into it" in imported.output
    assert ".recover" in imported.output and not isinstance(imported.exception, sqlite3.Error)
    assert db.read_bytes() == before  # nothing was written into it

    out = tmp_path / "export.jsonl"
    exported = invoke(data, "export", str(out))
    assert exported.exit_code == 1 and "is damaged" in exported.output
    assert not out.exists()  # not a silently incomplete export

    checked = invoke(data, "doctor")
    assert checked.exit_code == 1
    assert "On tree page" in checked.output and "problem(s), listed above" in checked.output


def no_database(data: Path, kind: str) -> None:
    data.mkdir()
    db = data / "groundlens.db"
    if kind == "text file":
        db.write_text("id,text\n1,hello\n")
    elif kind == "folder":
        db.mkdir()
    elif kind == "/dev/null":
        db.symlink_to("/dev/null")
    elif kind == "future schema":
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("text file", "is not a GroundLens database"),
        ("folder", "is a folder, not a database file"),
        ("/dev/null", "is a device, pipe or socket, not a database file"),
        ("future schema", f"knows up to {SCHEMA_VERSION} (update it)"),
    ],
)
def test_a_database_that_cannot_be_used_gets_one_message_per_command(tmp_path, kind, said):
    data = tmp_path / "data"
    no_database(data, kind)
    posts = write_posts(tmp_path / "posts.jsonl", 3)
    for args in (["import", str(posts)], ["stats"], ["export", str(tmp_path / "out.jsonl")], ["doctor"]):
        result = invoke(data, *args)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)  # no traceback
        assert said in result.output and result.output.count("Error:") == 1, (args, result.output)
    assert not (data / "crash-reports").exists()


def test_a_disk_full_while_creating_or_migrating_the_database_is_one_message(tmp_path):
    data = tmp_path / "data"
    result = subprocess.run(
        app(data, "stats"), capture_output=True, text=True, timeout=120, preexec_fn=file_size_limit(64 * 1024)
    )  # the schema's pages do not fit
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the database") and "could not be read or written" in result.stderr
    assert "Traceback" not in result.stderr and not (data / "crash-reports").exists()
    with Store.open(data / "groundlens.db") as store:  # the failed migration left nothing half done
        assert store.stats()["schema_version"] == SCHEMA_VERSION


# --- Ctrl-C while images download slowly ---------------------------------------------------------------


class Stalling(BaseHTTPRequestHandler):
    """An image host that accepts the request and never answers within the client's timeouts."""

    def do_GET(self) -> None:
        time.sleep(30)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stalling_host():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ctrl_c_during_slow_downloads_stops_at_once_and_keeps_every_post(tmp_path, stalling_host):
    n = 40
    posts, data = write_posts(tmp_path / "posts.jsonl", n, image_url=stalling_host), tmp_path / "data"
    env = {**os.environ, "GROUNDLENS_ALLOW_PRIVATE_HOSTS": "1"}
    running = subprocess.Popen(
        app(data, "import", str(posts)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    wait_for(lambda: count_posts(data / "groundlens.db") == n, 60, running)
    time.sleep(1)  # the downloads are under way, each held by the host
    running.send_signal(signal.SIGINT)
    pressed = time.monotonic()
    out, err = running.communicate(timeout=60)
    stopped_after = time.monotonic() - pressed
    assert stopped_after < 10, stopped_after  # not the minutes the downloads in flight would take
    assert running.returncode == 1
    assert f"{n} posts added" in out and f"{n} not downloaded" in out and "cancelled" in out
    assert "Cancelled: the posts counted above are stored" in err and "--retry-images" in err
    assert "internal error" not in err and "Traceback" not in err and "timed out" not in err
    conn = sqlite3.connect(data / "groundlens.db")
    assert conn.execute("SELECT status, COUNT(*) FROM media GROUP BY status").fetchall() == [("pending", n)]
    conn.close()
