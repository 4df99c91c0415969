"""One process-wide registry of secrets (the X bearer token) and the means to keep them out of text.

Anything that writes text a user may share (log files, crash reports, error messages shown or
stored) passes it through `redact`; loggers get `RedactingFilter`. A secret is registered the
moment it is loaded or saved, so no code path has to remember to; with it, every escaped or encoded
form it takes on the way into text (a repr doubles a backslash, a URL encodes a "+").
"""

from __future__ import annotations

import json
import logging
import os
import threading
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter strings would mask ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()


def _escaped(text: str) -> set[str]:
    """`text` as the ways of writing it that put it into a log or a report: a str's and a bytes' repr
    (backslashes doubled, quotes and non-ASCII escaped), JSON, and URL encoding both ways."""
    return {
        repr(text)[1:-1],
        ascii(text)[1:-1],
        repr(text.encode("utf-8"))[2:-1],
        json.dumps(text)[1:-1],
        quote(text, safe=""),
        quote_plus(text, safe=""),
        unquote(text),
        unquote_plus(text),
    }


def _forms(secret: str) -> set[str]:
    """Every form of `secret` to mask: itself and its escapes, and the escapes of those (a repr inside a
    repr, as in a crash report's local variables, or a JSON body quoted in an error message)."""
    found = {secret}
    for _ in range(2):
        found |= {form for known in found for form in _escaped(known)}
    return {form for form in found if len(form) >= _MIN_SECRET_LENGTH}


X_TOKEN_ENV = "GROUNDLENS_X_BEARER_TOKEN"  # the X API bearer token (core.ingest.credentials reads it)
SECRET_ENV_VARS = (X_TOKEN_ENV,)


def register_environment_secrets() -> None:
    """A secret in the environment is a secret before anything loads it (called when logging starts)."""
    for name in SECRET_ENV_VARS:
        register_secret(os.environ.get(name))


def register_secret(secret: str | None) -> None:
    if secret and len(secret.strip()) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.update(_forms(secret.strip()))


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ***, longest first (one may contain another)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (with its arguments merged) when it contains a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
