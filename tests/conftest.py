"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "twitter-gmner"


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
    from core.config import resolve_paths
    from core.modelstore import ModelNotInstalledError, require

    try:
        return require("mobile_sam", resolve_paths())
    except ModelNotInstalledError as error:
        pytest.fail(f"MobileSAM weights missing: {error}. Run `python main.py models install` first.")
