"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Commands run without --data-dir must not write logs or crash reports into the user's own data folder.
os.environ["GROUNDLENS_DATA_DIR"] = tempfile.mkdtemp(prefix="groundlens-tests-")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "twitter-gmner"


@pytest.fixture(autouse=True)
def _no_lasting_log_or_crash_hooks():
    """The CLI installs a log file and crash hooks per run; each test starts and ends without them."""
    hooks = sys.excepthook, threading.excepthook
    yield
    from groundlens.core.diagnostics import close_logging

    close_logging()
    sys.excepthook, threading.excepthook = hooks


@pytest.fixture(scope="session")
def gmner_data() -> Path:
    """The Twitter-GMNER train/dev data beside the repo (CI has it; a user's clone may not)."""
    if not (SHARED_DATA / "txt" / "dev.txt").exists():
        pytest.skip(f"Twitter-GMNER data not found at {SHARED_DATA} (only CI and developer machines have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mobile_sam_weights() -> Path:
    """The installed MobileSAM checkpoint, found through the model store. The README's set-up installs
    it, so a missing file fails (with the command to run) instead of skipping."""
    from groundlens.core.config import resolve_paths
    from groundlens.core.modelstore import ModelNotInstalledError, require

    try:
        return require("mobile_sam", resolve_paths())
    except ModelNotInstalledError as error:
        pytest.fail(f"MobileSAM weights missing: {error}. Run `python main.py models install` first.")
