"""The image cache: download or check one image, validate it by decoding, file it by content hash.

Remote images land in `<cache>/ab/abcdef....jpg` (sha256 of the bytes), so a photo shared by many
posts is stored once. Local files referenced by imports are checked the same way but left where
they are (an analyst's folder of 100k photos should not be duplicated); `copy_local` files them
into the cache too, for data folders that must survive the originals moving.
Only http(s) is fetched, every redirect hop included; 5xx and timeouts are retried with backoff.

Image URLs come from whoever wrote the posts, so they must not turn the analyst's machine into a
probe of its own network (the cloud metadata service at 169.254.169.254, a router's admin page,
a service on localhost): a URL whose host is, or resolves to, a loopback, private (RFC 1918),
link-local, shared, unspecified, reserved or multicast address is refused before connecting, on
every redirect hop, unless `ImageLimits.allow_private_hosts` is set (tests, intranet image
servers: `$GROUNDLENS_ALLOW_PRIVATE_HOSTS=1`). The check is made on the name's resolved addresses
and again on the address the socket actually connected to, so a name that resolves to a public
address for the check and a private one for the connection (DNS rebinding) is refused as well,
before any request is sent. Through an HTTP(S) proxy the proxy does the connecting: only the
addresses resolved here are checked, and a name that does not resolve here is left to the proxy.
"""

from __future__ import annotations

import functools
import hashlib
import io
import ipaddress
import os
import socket
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
from PIL import Image, UnidentifiedImageError
from requests.adapters import HTTPAdapter
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential,
)
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from groundlens.core.orientation import upright_size
from groundlens.core.safe_output import write_bytes_atomic
from groundlens.records import Media

_EXTENSIONS = {
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
}
_NON_IMAGE_TYPES_ALLOWED = {"", "application/octet-stream", "binary/octet-stream"}
_CHUNK = 64 * 1024
PRIVATE_HOSTS_ENV = "GROUNDLENS_ALLOW_PRIVATE_HOSTS"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # per image, retries included
    attempts: int = 3
    backoff: float = 1.0  # first retry wait in seconds, doubled each time
    max_redirects: int = 5
    max_pixels: int | None = None  # None: Pillow's Image.MAX_IMAGE_PIXELS at call time
    allow_private_hosts: bool = False  # fetch from loopback/private/link-local addresses too

    @classmethod
    def from_environment(cls) -> ImageLimits:
        """The defaults, with private hosts allowed when $GROUNDLENS_ALLOW_PRIVATE_HOSTS is 1."""
        return cls(allow_private_hosts=os.environ.get(PRIVATE_HOSTS_ENV, "").strip() == "1")


class ImageError(Exception):
    """An image that cannot be used; str() is the reason stored on the Media."""


class TransientImageError(ImageError):
    """A failure worth retrying: 5xx, 429, timeouts, dropped connections."""


@dataclass(frozen=True)
class CachedImage:
    path: Path
    sha256: str
    size_bytes: int
    width: int
    height: int


def decode_check(data: bytes, max_pixels: int | None = None) -> tuple[int, int, str]:
    """(width, height, format) after a full decode; ImageError for anything Pillow will not decode.
    Width and height are as displayed (EXIF orientation applied), like the boxes and masks on the image."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    limit = max_pixels or Image.MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if limit and width * height > limit:
                raise ImageError(f"{width}x{height} pixels is over the {limit}-pixel limit (decompression bomb?)")
            image.load()
            return *upright_size(image), image.format or ""
    except Image.DecompressionBombError as error:
        raise ImageError(f"decompression bomb: {error}") from None
    except UnidentifiedImageError:
        raise ImageError("not an image format Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"cannot decode the image: {error}") from None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (CGNAT), reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@functools.lru_cache(maxsize=1024)  # an import checks the same few image hosts over and over
def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, including the legacy IPv4 spellings
    the resolver accepts (2130706433, 0x7f.1, 127.1); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _refusal(address: IPAddress, host: str) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    named = "" if host.strip("[]") == str(address) else f" ({host} stands for it)"
    return f"refused: address {address} is not a public host{named}"


def check_url(url: str, allow_private_hosts: bool = False, redirected: bool = False) -> None:
    """Refuses, without any network access, what can never be fetched: schemes other than http(s)
    and (unless allowed) hosts that are localhost or a non-public IP address as written."""
    prefix = f"redirected to {url}: " if redirected else ""
    try:
        parsed = urlparse(url)
        scheme, host, _ = parsed.scheme.lower(), (parsed.hostname or "").rstrip("."), parsed.port
    except ValueError as error:  # an unbalanced "[" in the host, a port out of range
        raise ImageError(f"{prefix}malformed URL: {error}") from None
    if scheme not in ("http", "https"):
        what = f"'{scheme}:' URLs" if scheme else "URLs without a scheme"
        raise ImageError(f"{'redirected to a non-http URL: ' if redirected else ''}only http(s) is fetched, not {what}")
    if not host:
        raise ImageError(f"{prefix}the URL has no host")
    if allow_private_hosts:
        return
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always loopback, never asked of DNS
        raise ImageError(f"{prefix}refused: {host} is not a public host")
    address = _literal_address(host)
    if address is not None and not is_public(address):
        raise ImageError(prefix + _refusal(address, host))


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to here; [] when it does not resolve (left to the connection or proxy)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def check_resolved(url: str, redirected: bool = False) -> None:
    """Refuses a URL whose host resolves to any non-public address (a name with one private address
    among public ones could be connected to that one)."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").rstrip(".")
    for address in _resolve(host, parsed.port or (443 if parsed.scheme.lower() == "https" else 80)):
        if not is_public(address):
            raise ImageError((f"redirected to {url}: " if redirected else "") + _refusal(address, host))


class _PublicPeer:
    """Connection mix-in: refuses a socket whose peer is not public, before a byte of the request is sent.
    Closes the gap between check_resolved's lookup and the connection's own (DNS rebinding)."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]  # a mix-in: the urllib3 connection class after it has _new_conn
        peer = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
        if not is_public(peer):
            sock.close()
            raise ImageError(f"{_refusal(peer, self.host)}; its address changed after it was checked")
        return sock


class _PublicHTTPConnection(_PublicPeer, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicPeer, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    """Direct connections only to public peers (proxied ones use requests' own proxy managers)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


class _Once:
    """One URL's fetch: the first caller downloads, callers meanwhile and after get its outcome."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcome: CachedImage | ImageError | None = None


class ImageCache:
    """Thread-safe: each worker thread gets its own requests.Session.

    A URL is fetched once per cache (one import): a retweet wave carries its original's photo in
    every copy, and 10,000 downloads of one picture would be 9,999 too many. The most recent
    RECENT_URLS outcomes (the picture, or the reason it failed) are kept. Once `cancel` is set,
    downloads give up at the next chunk or retry wait instead of running on to their deadline."""

    RECENT_URLS = 4096

    def __init__(self, root: Path, limits: ImageLimits | None = None, cancel: threading.Event | None = None):
        self.root = Path(root)
        self.limits = limits or ImageLimits.from_environment()
        self.cancel = cancel or threading.Event()
        self._local = threading.local()
        self._recent: OrderedDict[str, _Once] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            if not self.limits.allow_private_hosts:
                for prefix in ("http://", "https://"):
                    session.mount(prefix, _PublicOnlyAdapter())
            self._local.session = session
        return self._local.session

    def path_for(self, sha256: str, extension: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{extension}"

    def _file(self, data: bytes, sha256: str, extension: str) -> Path:
        target = self.path_for(sha256, extension)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, data)
        return target

    def _accept(self, data: bytes, original: Path | None) -> CachedImage:
        width, height, kind = decode_check(data, self.limits.max_pixels)
        sha256 = hashlib.sha256(data).hexdigest()
        extension = _EXTENSIONS.get(kind, f".{kind.lower() or 'img'}")
        path = original if original is not None else self._file(data, sha256, extension)
        return CachedImage(path=path, sha256=sha256, size_bytes=len(data), width=width, height=height)

    def check_local(self, path: Path, copy: bool = False) -> CachedImage:
        try:
            # opened once, so what is checked is what is read; non-blocking, or opening a FIFO waits for a writer
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # /dev/zero or a FIFO would be read forever
                os.close(fd)
                raise ImageError("not a regular file (a folder, a device or a pipe)")
            with open(fd, "rb") as handle:
                if info.st_size > self.limits.max_bytes:
                    raise ImageError(f"file is {info.st_size} bytes, over the {self.limits.max_bytes}-byte limit")
                data = handle.read(self.limits.max_bytes + 1)
        except OSError as error:
            raise ImageError(f"cannot read the file: {error.strerror or error}") from None
        except ValueError as error:  # a NUL in the name
            raise ImageError(f"cannot read the file: {error}") from None
        if len(data) > self.limits.max_bytes:  # it grew after fstat
            raise ImageError(f"more than the {self.limits.max_bytes}-byte limit")
        return self._accept(data, None if copy else path.resolve())

    def fetch(self, url: str) -> CachedImage:
        with self._recent_lock:
            once = self._recent.pop(url, None) or _Once()
            self._recent[url] = once
            if len(self._recent) > self.RECENT_URLS:
                self._recent.popitem(last=False)
        with once.lock:
            if once.outcome is None:
                try:
                    once.outcome = self._download(url)
                except ImageError as error:
                    once.outcome = error
        if isinstance(once.outcome, ImageError):
            raise type(once.outcome)(*once.outcome.args)  # a fresh one: threads must not share a traceback
        return once.outcome

    def _download(self, url: str) -> CachedImage:
        deadline = time.monotonic() + self.limits.deadline
        retrying = Retrying(
            retry=retry_if_exception_type(TransientImageError),
            stop=stop_after_attempt(self.limits.attempts)
            | stop_after_delay(self.limits.deadline)
            | stop_when_event_set(self.cancel),
            wait=wait_exponential(multiplier=self.limits.backoff, max=self.limits.deadline),
            sleep=self.cancel.wait,  # type: ignore[arg-type]  # a cancel cuts the wait short; tenacity ignores the bool it returns
            reraise=True,
        )
        return self._accept(retrying(self._get, url, deadline), None)

    def _get(self, url: str, deadline: float) -> bytes:
        """One attempt: follows redirects by hand so that each hop's scheme and host are checked."""
        current = url
        for hop in range(self.limits.max_redirects + 1):
            check_url(current, self.limits.allow_private_hosts, redirected=hop > 0)
            if not self.limits.allow_private_hosts:
                check_resolved(current, redirected=hop > 0)
            try:
                with self._session().get(
                    current,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.limits.connect_timeout, self.limits.read_timeout),
                ) as response:
                    if response.is_redirect:
                        current = urljoin(current, response.headers["location"])
                        continue
                    self._check_response(response)
                    return self._read_body(response, deadline)
            except requests.Timeout:
                raise TransientImageError(
                    f"timed out (connect {self.limits.connect_timeout:g} s, read {self.limits.read_timeout:g} s)"
                ) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                raise TransientImageError(f"connection failed: {type(error).__name__}") from None
            except requests.RequestException as error:
                raise ImageError(f"request failed: {error}") from None
        raise ImageError(f"more than {self.limits.max_redirects} redirects")

    def _check_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status >= 500 or status == 429:
            raise TransientImageError(f"HTTP {status} {response.reason}")
        if status >= 400:
            raise ImageError(f"HTTP {status} {response.reason}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not kind.startswith("image/") and kind not in _NON_IMAGE_TYPES_ALLOWED:
            raise ImageError(f"content type {kind!r} is not an image")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_bytes:
            raise ImageError(f"{length} bytes is over the {self.limits.max_bytes}-byte limit")

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        body = bytearray()
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            body += chunk
            if len(body) > self.limits.max_bytes:
                raise ImageError(f"more than the {self.limits.max_bytes}-byte limit")
            if time.monotonic() > deadline:
                raise ImageError(f"took longer than {self.limits.deadline:g} s")
            if self.cancel.is_set():
                raise ImageError("cancelled")
        return bytes(body)

    def settle(self, media: Media, download: bool = True, copy_local: bool = False) -> Media:
        """Check or fetch one pending image, in place: ok, failed (reason in .error), missing, or still pending."""
        try:
            if media.local_path and (media.url is None or Path(media.local_path).is_file()):
                if not Path(media.local_path).exists():
                    dangling = Path(media.local_path).is_symlink()  # a loop, or a link to nothing
                    media.status = "missing"
                    media.error = f"{'link leads nowhere' if dangling else 'file not found'}: {media.local_path}"
                    return media
                cached = self.check_local(Path(media.local_path), copy=copy_local)
            elif media.url:
                check_url(media.url, self.limits.allow_private_hosts)  # even with downloads off: never fetchable
                if not download:
                    return media
                cached = self.fetch(media.url)
            else:
                media.status, media.error = "missing", "no URL or file for this image"
                return media
        except ImageError as error:
            media.status, media.error = "failed", str(error)
            return media
        media.local_path, media.sha256, media.size_bytes = str(cached.path), cached.sha256, cached.size_bytes
        media.width, media.height, media.status, media.error = cached.width, cached.height, "ok", None
        return media
