"""One process-wide registry of secrets (the X bearer token) and the means to keep them out of text.

Anything that writes text a user may share (log files, crash reports, error messages shown or
stored) passes it through `redact`; loggers get `RedactingFilter`. A secret is registered the
moment it is loaded or saved, so no code path has to remember to.
"""

from __future__ import annotations

import logging
import threading

MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter strings would mask ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    if secret and len(secret.strip()) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(secret.strip())


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
