"""Image downloads against a real HTTP server on 127.0.0.1, and local-file checks, through the cache.

The server is on a loopback address, which the product refuses to fetch from, so the limits these
tests download with allow private hosts; the refusal itself is tested with the default limits.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from groundlens.core.ingest import fetch_images, images, import_paths
from groundlens.core.ingest.images import PRIVATE_HOSTS_ENV, ImageCache, ImageLimits
from groundlens.records import Media
from groundlens.storage import Store

LIMITS = ImageLimits(
    max_bytes=200_000, connect_timeout=2, read_timeout=2, deadline=3, attempts=3, backoff=0.01, allow_private_hosts=True
)
PUBLIC_ONLY = ImageLimits(connect_timeout=2, read_timeout=2, deadline=3, attempts=2, backoff=0.01)


def jpeg_bytes(size=(64, 48), color=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def bomb_png() -> bytes:
    """100 megapixels of zeros: a few KB on the wire, 100 MB once decoded."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    return buffer.getvalue()


GOOD = jpeg_bytes()
BIG = jpeg_bytes(size=(1500, 1500), color=(1, 2, 3))  # noise-free but still well over 5 KB


class ImageServer(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}
    routes: ClassVar[dict[str, object]] = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        self.hits[path] = self.hits.get(path, 0) + 1
        route = self.routes.get(path)
        if route is None:
            return self._send(404, b"not found", "text/plain")
        route(self, self.hits[path])

    def _send(self, status, body, kind, length=True, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _slow(handler, _hit):
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.send_header("Content-Length", str(len(GOOD)))
    handler.end_headers()
    for start in range(0, len(GOOD), 100):
        handler.wfile.write(GOOD[start : start + 100])
        handler.wfile.flush()
        time.sleep(0.25)


ImageServer.routes = {
    "/ok.jpg": lambda h, n: h._send(200, GOOD, "image/jpeg"),
    "/octet": lambda h, n: h._send(200, GOOD, "application/octet-stream"),
    "/flaky.jpg": lambda h, n: h._send(500, b"oops", "text/plain") if n == 1 else h._send(200, GOOD, "image/jpeg"),
    "/down.jpg": lambda h, n: h._send(503, b"down", "text/plain"),
    "/gone.jpg": lambda h, n: h._send(404, b"gone", "text/plain"),
    "/big.jpg": lambda h, n: h._send(200, BIG, "image/jpeg"),
    "/big-unannounced.jpg": lambda h, n: h._send(200, BIG, "image/jpeg", length=False),
    "/page.html": lambda h, n: h._send(200, b"<html>login wall</html>", "text/html; charset=utf-8"),
    "/truncated.jpg": lambda h, n: h._send(200, GOOD[: len(GOOD) // 2], "image/jpeg"),
    "/empty.jpg": lambda h, n: h._send(200, b"", "image/jpeg"),
    "/bomb.png": lambda h, n: h._send(200, bomb_png(), "image/png"),
    "/to-file": lambda h, n: h._send(302, b"", "text/plain", extra=[("Location", "file:///etc/passwd")]),
    "/to-ok": lambda h, n: h._send(301, b"", "text/plain", extra=[("Location", "/ok.jpg")]),
    "/to-loopback": lambda h, n: h._send(302, b"", "text/plain", extra=[("Location", "http://127.0.0.2/ok.jpg")]),
    "/to-localhost": lambda h, n: h._send(302, b"", "text/plain", extra=[("Location", "http://localhost/ok.jpg")]),
    "/to-metadata": lambda h, n: h._send(
        307, b"", "text/plain", extra=[("Location", "http://169.254.169.254/latest/meta-data/")]
    ),
    "/slow.jpg": _slow,
}


@pytest.fixture(scope="module")
def server_url():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ImageServer)
    httpd.daemon_threads = True  # a handler still dripping /slow.jpg must not hold up shutdown
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def server(server_url):
    ImageServer.hits = {}
    return server_url


@pytest.fixture()
def cache(tmp_path):
    return ImageCache(tmp_path / "images", LIMITS)


def test_ok_download_is_filed_by_content_hash(server, cache, tmp_path):
    media = cache.settle(Media(url=f"{server}/ok.jpg"))
    digest = hashlib.sha256(GOOD).hexdigest()
    assert (media.status, media.error, media.sha256, media.width, media.height) == ("ok", None, digest, 64, 48)
    assert media.local_path == str(tmp_path / "images" / digest[:2] / f"{digest}.jpg")
    assert Path(media.local_path).read_bytes() == GOOD
    again = cache.settle(Media(url=f"{server}/octet"))  # same bytes, octet-stream accepted, same file
    assert again.local_path == media.local_path


def test_redirect_to_http_is_followed(server, cache):
    assert cache.settle(Media(url=f"{server}/to-ok")).status == "ok"


def test_500_then_ok_is_retried(server, cache):
    media = cache.settle(Media(url=f"{server}/flaky.jpg"))
    assert media.status == "ok" and ImageServer.hits["/flaky.jpg"] == 2


def test_5xx_gives_up_after_the_attempt_limit(server, cache):
    media = cache.settle(Media(url=f"{server}/down.jpg"))
    assert media.status == "failed" and "503" in media.error and ImageServer.hits["/down.jpg"] == LIMITS.attempts


def test_404_is_not_retried(server, cache):
    media = cache.settle(Media(url=f"{server}/gone.jpg"))
    assert media.status == "failed" and "HTTP 404" in media.error and ImageServer.hits["/gone.jpg"] == 1


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/big.jpg", "byte limit"),
        ("/big-unannounced.jpg", "byte limit"),
        ("/page.html", "content type 'text/html' is not an image"),
        ("/truncated.jpg", "cannot decode the image"),
        ("/empty.jpg", "empty file"),
        ("/to-file", "redirected to a non-http URL"),
        ("/slow.jpg", "took longer than"),
    ],
)
def test_bad_downloads_fail_with_a_reason(server, tmp_path, path, reason):
    limits = ImageLimits(
        max_bytes=5_000,
        connect_timeout=2,
        read_timeout=2,
        deadline=1,
        attempts=2,
        backoff=0.01,
        allow_private_hosts=True,
    )
    media = ImageCache(tmp_path / "images", limits).settle(Media(url=f"{server}{path}"))
    assert media.status == "failed" and reason in media.error, media.error
    assert not any((tmp_path / "images").rglob("*.jpg"))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused(server, cache):
    media = cache.settle(Media(url=f"{server}/bomb.png"))
    assert media.status == "failed" and "decompression bomb" in media.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:image/png;base64,iVBORw0KGgo=", "ftp://example.org/a.jpg"])
def test_non_http_urls_are_not_fetched(cache, url):
    media = cache.settle(Media(url=url))
    assert media.status == "failed" and "only http(s) is fetched" in media.error


def test_local_files_are_checked_in_place_or_copied(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(GOOD)
    cache = ImageCache(tmp_path / "images", LIMITS)
    in_place = cache.settle(Media(local_path=str(photo)))
    assert (in_place.status, in_place.local_path) == ("ok", str(photo.resolve()))
    copied = cache.settle(Media(local_path=str(photo)), copy_local=True)
    assert copied.local_path.startswith(str(tmp_path / "images")) and Path(copied.local_path).read_bytes() == GOOD
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(GOOD[:300])
    assert cache.settle(Media(local_path=str(broken))).status == "failed"
    assert cache.settle(Media(local_path=str(tmp_path / "nope.jpg"))).status == "missing"


def test_no_download_leaves_remote_images_pending(cache):
    assert cache.settle(Media(url="https://example.invalid/a.jpg"), download=False).status == "pending"


def test_failed_images_keep_their_post_and_can_be_retried(server, tmp_path):
    ImageServer.routes["/later.jpg"] = lambda h, n: (
        h._send(404, b"", "text/plain") if n == 1 else h._send(200, GOOD, "image/jpeg")
    )
    path = tmp_path / "posts.jsonl"
    path.write_text(
        json.dumps({"id": "1", "text": "fine", "image": f"{server}/ok.jpg"})
        + "\n"
        + json.dumps({"id": "2", "text": "image comes later", "image": f"{server}/later.jpg"})
        + "\n"
    )
    store = Store.open(tmp_path / "groundlens.db")
    try:
        report = import_paths(store, [path], limits=LIMITS)
        assert (report.posts_inserted, report.images_ok, report.images_failed) == (2, 1, 1)
        assert [str(e) for e in report.errors] == [f"{path}:2: image {server}/later.jpg: HTTP 404 Not Found"]
        assert store.count_posts() == 2
        assert [m.status for _, m in store.media_to_fetch(retry_failed=True)] == ["failed"]
        retry = fetch_images(store, limits=LIMITS)
        assert (retry.images_ok, retry.errors) == (1, [])
        assert store.media_to_fetch(retry_failed=True) == []
        stored = store.get_post(2).media[0]
        assert stored.status == "ok" and Path(stored.local_path).is_file() and stored.error is None
    finally:
        store.close()


def test_reimport_does_not_download_again(server, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "once", "image": f"{server}/ok.jpg"}) + "\n")
    store = Store.open(tmp_path / "groundlens.db")
    try:
        import_paths(store, [path], limits=LIMITS)
        again = import_paths(store, [path], limits=LIMITS)
        assert ImageServer.hits["/ok.jpg"] == 1 and again.errors == [] and store.count_posts() == 1
        assert store.get_post(1).media[0].status == "ok"
    finally:
        store.close()


@pytest.mark.parametrize(
    "host, shown",
    [
        ("127.0.0.1:{port}", "address 127.0.0.1"),  # the live test server: must not be reached
        ("localhost:{port}", "localhost"),
        ("LOCALHOST.:{port}", "localhost"),
        ("images.localhost:{port}", "images.localhost"),
        ("[::1]:{port}", "address ::1"),
        ("[::ffff:127.0.0.1]:{port}", "address 127.0.0.1"),
        ("2130706433:{port}", "address 127.0.0.1"),  # 127.0.0.1 as one decimal number
        ("0x7f.1:{port}", "address 127.0.0.1"),
        ("127.1:{port}", "address 127.0.0.1"),
        ("0.0.0.0", "address 0.0.0.0"),
        ("10.0.0.1", "address 10.0.0.1"),
        ("172.16.5.4", "address 172.16.5.4"),
        ("192.168.1.1", "address 192.168.1.1"),
        ("100.64.0.1", "address 100.64.0.1"),
        ("169.254.169.254", "address 169.254.169.254"),  # cloud metadata service
        ("[fe80::1]", "address fe80::1"),
        ("[fd00::1]", "address fd00::1"),
        ("224.0.0.1", "address 224.0.0.1"),
        ("[ff0e::1]", "address ff0e::1"),
    ],
)
def test_non_public_hosts_are_refused_before_connecting(server, tmp_path, host, shown):
    port = server.rsplit(":", 1)[1]
    url = f"http://{host.format(port=port)}/ok.jpg"
    media = ImageCache(tmp_path / "images", PUBLIC_ONLY).settle(Media(url=url))
    assert media.status == "failed" and media.error.startswith(f"refused: {shown}"), media.error
    assert "is not a public host" in media.error and ImageServer.hits == {}
    pending = ImageCache(tmp_path / "images", PUBLIC_ONLY).settle(Media(url=url), download=False)
    assert pending.status == "failed" and "is not a public host" in pending.error  # refused even unfetched


def test_a_name_that_resolves_to_a_private_address_is_refused(server, tmp_path):
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except socket.gaierror:
        pytest.skip(f"this machine's own name {name!r} does not resolve")
    if all(images.is_public(images.ipaddress.ip_address(a)) for a in addresses):
        pytest.skip(f"this machine's name resolves only to public addresses {addresses}")
    url = f"http://{name}:{server.rsplit(':', 1)[1]}/ok.jpg"
    media = ImageCache(tmp_path / "images", PUBLIC_ONLY).settle(Media(url=url))
    assert media.status == "failed" and "is not a public host" in media.error, media.error
    assert f"({name} stands for it)" in media.error
    assert ImageServer.hits == {}


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/to-loopback", "redirected to http://127.0.0.2/ok.jpg: refused: address 127.0.0.2 is not a public host"),
        ("/to-localhost", "redirected to http://localhost/ok.jpg: refused: localhost is not a public host"),
        ("/to-metadata", "refused: address 169.254.169.254 is not a public host"),
    ],
)
def test_a_public_url_redirecting_to_a_private_address_is_refused(server, tmp_path, monkeypatch, path, reason):
    """The test server stands in for a public host (only its own address counts as public here); the
    hop it redirects to is checked like the first URL."""
    real = images.is_public
    monkeypatch.setattr(images, "is_public", lambda a: a == images.ipaddress.ip_address("127.0.0.1") or real(a))
    media = ImageCache(tmp_path / "images", PUBLIC_ONLY).settle(Media(url=f"{server}{path}"))
    assert media.status == "failed" and reason in media.error, media.error
    assert ImageServer.hits == {path: 1}  # asked once: a refusal is not retried


def test_dns_rebinding_is_caught_on_the_connected_address(server, tmp_path, monkeypatch):
    """A name that answers a public address to the check and 127.0.0.1 to the connection is refused
    once connected, before the request is sent."""
    real_getaddrinfo, answers = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers.append(address := "93.184.215.14" if not answers else "127.0.0.1")
        return real_getaddrinfo(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.test:{server.rsplit(':', 1)[1]}/ok.jpg"
    media = ImageCache(tmp_path / "images", PUBLIC_ONLY).settle(Media(url=url))
    assert media.status == "failed", media.error
    assert "refused: address 127.0.0.1 is not a public host" in media.error and "changed after" in media.error
    assert answers[0] == "93.184.215.14" and ImageServer.hits == {}


def test_private_hosts_are_allowed_only_when_asked(server, tmp_path, monkeypatch):
    monkeypatch.delenv(PRIVATE_HOSTS_ENV, raising=False)
    assert not ImageLimits.from_environment().allow_private_hosts
    monkeypatch.setenv(PRIVATE_HOSTS_ENV, "1")
    media = ImageCache(tmp_path / "images").settle(Media(url=f"{server}/ok.jpg"))  # limits from the environment
    assert media.status == "ok" and ImageServer.hits == {"/ok.jpg": 1}


@pytest.mark.parametrize("url", ["http://[::1/a.jpg", "http://example.org:99999/a.jpg", "http:///a.jpg"])
def test_malformed_urls_fail_with_a_reason(cache, url):
    media = cache.settle(Media(url=url))
    assert media.status == "failed" and ("malformed URL" in media.error or "no host" in media.error), media.error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_named_as_an_image_is_not_read(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        media = ImageCache(tmp_path / "images", LIMITS).settle(Media(local_path=path))
        assert media.status == "failed" and "not a regular file" in media.error, (path, media.error)


def test_a_retweet_wave_downloads_its_photo_once(server, tmp_path):
    """Every retweet carries its original's photo: one download, however many copies, and each post has it."""
    original = {"id": "1", "text": "Wave", "author_id": "10", "attachments": {"media_keys": ["3_1"]}}
    retweets = [
        {
            "id": str(100 + i),
            "text": "RT @nba: Wave",
            "author_id": "20",
            "attachments": {"media_keys": ["3_1"]},
            "referenced_tweets": [{"type": "retweeted", "id": "1"}],
        }
        for i in range(40)
    ]
    page = {
        "data": retweets,
        "includes": {"tweets": [original], "media": [{"media_key": "3_1", "type": "photo", "url": f"{server}/ok.jpg"}]},
    }
    path = tmp_path / "wave.jsonl"
    path.write_text(json.dumps(page) + "\n")
    with Store.open(tmp_path / "groundlens.db") as store:
        report = import_paths(store, [path], limits=LIMITS)
        assert (report.errors, report.images_ok, ImageServer.hits["/ok.jpg"]) == ([], 41, 1)
        assert {m.status for p in store.get_posts(store.post_ids(None)).values() for m in p.media} == {"ok"}
