"""Recorded X API v2 payloads served through a requests transport adapter (no network)."""

from __future__ import annotations

import io
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
import tweepy.streaming
import urllib3
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.x_api import make_client, make_stream

X_API = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "x_api"


TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid-test-bearer-Zq8Xv3"


class RecordedAdapter(BaseAdapter):
    """Answers X API requests from fixture files; `routes` maps (method, path) to a function of (query, call number)
    returning (status, body, headers), where body is bytes or a raw stream such as DroppedConnection, or returning
    an exception to raise as the transport would (a timeout, a refused connection)."""

    def __init__(self, routes):
        super().__init__()
        self.routes = routes
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list = []
        self.calls: dict[tuple[str, str], int] = {}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append(request)
        self.timeouts.append(timeout)
        url = urlparse(request.url)
        key = (request.method, url.path)
        self.calls[key] = self.calls.get(key, 0) + 1
        answer = self.routes[key](parse_qs(url.query), self.calls[key])
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        response = requests.Response()
        response.status_code, response.reason = status, HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict({"content-type": "application/json; charset=utf-8", **headers})
        response.raw = io.BytesIO(body) if isinstance(body, bytes) else body
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


class DroppedConnection(io.BytesIO):
    """A body whose connection drops after these bytes, reported the way urllib3 does (requests turns it into
    ChunkedEncodingError)."""

    def stream(self, amt=2**16, decode_content=None):
        while chunk := self.read(amt):
            yield chunk
        raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read, 512 more expected)")


def fixture(name: str, status: int = 200, headers=None):
    return status, (X_API / name).read_bytes(), headers or {}


def items_of(iterator):
    """(posts, errors) of an API generator; no error text may show the token."""
    items = list(iterator)
    errors = [i for i in items if isinstance(i, ItemError)]
    assert all(TOKEN not in str(error) for error in errors), errors
    return [i.post for i in items if isinstance(i, ParsedItem)], errors


def serve(routes) -> tuple[tweepy.Client, RecordedAdapter]:
    """A client (made the way the app makes it) whose requests the recorded routes answer."""
    client, adapter = make_client(TOKEN), RecordedAdapter(routes)
    client.session.mount("https://", adapter)
    return client, adapter


def serve_stream(routes):
    """A filtered stream (made the way the app makes it) whose requests the recorded routes answer."""
    (stream, lines), adapter = make_stream(TOKEN), RecordedAdapter(routes)
    stream.session.mount("https://", adapter)
    return stream, lines, adapter
