"""The X API token's storage: private, never shown in full, shared by the app and the CLI."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from groundlens.core.ingest import credentials


def test_token_file_is_private_and_never_shown_in_full(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDLENS_X_BEARER_TOKEN", raising=False)
    monkeypatch.setattr(credentials, "_keyring_usable", lambda: False)
    where = credentials.save_token("AAAA-secret-token-1234", tmp_path)
    path = Path(where)
    assert path.parent == tmp_path and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert credentials.load_token(tmp_path) == "AAAA-secret-token-1234"
    shown = credentials.masked(credentials.load_token(tmp_path))
    assert shown.endswith("1234") and "secret" not in shown
    credentials.forget_token(tmp_path)
    assert credentials.load_token(tmp_path) is None
