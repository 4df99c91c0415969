"""The X API bearer token: in the OS keyring when there is one, else in a 0600 file in the
per-user config folder, never in the database (which analysts copy and share).

The app's settings save it here and `main.py x ...` reads it from here, so both see one token.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import keyring
import platformdirs
from keyring.errors import KeyringError

from groundlens.core.config import APP_NAME
from groundlens.core.redact import X_TOKEN_ENV, register_secret
from groundlens.core.safe_output import atomic_output

TOKEN_ENV = X_TOKEN_ENV
KEYRING_SERVICE = APP_NAME
KEYRING_USER = "x-bearer-token"
TOKEN_FILE_NAME = "x-bearer-token"


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _keyring_usable() -> bool:
    return keyring.get_keyring().priority > 0  # the "fail" and "null" backends have priority <= 0


def save_token(token: str, config_dir: Path | None = None) -> str:
    """Store the token; returns where it went, in words, for the settings page."""
    token = token.strip()
    if not token:
        raise ValueError("the token is empty")
    register_secret(token)
    if _keyring_usable():
        try:
            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, token)
            return "the system keyring"
        except KeyringError:
            pass
    path = (config_dir or default_config_dir()) / TOKEN_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, permissions=0o600) as handle:  # private from creation, also over a wider old file
        handle.write(token)
    return str(path)


def load_token(config_dir: Path | None = None) -> str | None:
    """Environment variable, then keyring, then the 0600 file; registered for redaction when found."""
    token = _find_token(config_dir)
    register_secret(token)
    return token


def _find_token(config_dir: Path | None) -> str | None:
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    if _keyring_usable():
        try:
            token = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except KeyringError:
            token = None
        if token:
            return token
    path = (config_dir or default_config_dir()) / TOKEN_FILE_NAME
    return path.read_text(encoding="utf-8").strip() or None if path.exists() else None


def forget_token(config_dir: Path | None = None) -> None:
    if _keyring_usable():
        with contextlib.suppress(KeyringError):
            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    ((config_dir or default_config_dir()) / TOKEN_FILE_NAME).unlink(missing_ok=True)


def masked(token: str | None) -> str:
    """What the UI shows of a saved token: never more than its last four characters."""
    if not token:
        return "no token saved"
    return "•" * 8 + token[-4:] if len(token) > 8 else "•" * 8
