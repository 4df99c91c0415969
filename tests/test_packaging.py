"""The built wheel, installed into a fresh virtual environment and run from another folder.

Run alone with `pytest -m packaging`. The fresh environment borrows this one's third-party packages
through a plain path entry (no .pth files run, so this checkout's editable install is not seen).
"""

from __future__ import annotations

import json
import os
import signal
import site
import subprocess
import sys
import time
import tomllib
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.packaging, pytest.mark.slow]


def test_the_package_list_names_every_package_in_the_tree():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"groundlens", "groundlens.resources"} | {
        "groundlens." + ".".join(init.parent.relative_to(REPO).parts)
        for top in ("cli", "core", "gui", "storage", "records")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert listed == found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh environment holding only the wheel (and, by path, this environment's dependencies)."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(root / "dist"),
            str(REPO),
        ],
        check=True,
        cwd=root,
    )
    wheel = next((root / "dist").glob("groundlens-*.whl"))
    env_dir = root / "env"
    venv.create(env_dir, with_pip=False)
    env_python = env_dir / "bin" / "python"
    env_site = Path(
        subprocess.run(
            [str(env_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (env_site / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env_python), "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
        cwd=root,
    )
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "groundlens"), *args], cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs
    )


def test_the_installed_command_runs_from_another_folder(installed: Path, tmp_path: Path):
    where = subprocess.run(
        [str(installed / "python"), "-c", "import groundlens.core as c; print(c.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(installed.parent) in where and str(REPO) not in where
    assert "author:@nasa" in run(installed, "search", "--help", cwd=tmp_path).stdout


def test_analyze_runs_the_shipped_models_from_the_wheel(installed: Path, tmp_path: Path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "Grace Hopper spoke at Harvard University yesterday."}) + "\n")
    done = run(
        installed,
        "--data-dir",
        str(tmp_path / "data"),
        "analyze",
        str(posts),
        "--output",
        str(tmp_path / "out.jsonl"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    entities = {e["text"] for e in json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])["entities"]}
    assert {"Grace Hopper", "Harvard University"} <= entities


def test_the_demo_opens_from_the_wheel_without_loading_models_in_the_gui_process(installed: Path, tmp_path: Path):
    data = tmp_path / "data"
    app = subprocess.Popen(
        [str(installed / "groundlens"), "--data-dir", str(data), "--demo"],
        cwd=tmp_path,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        stderr=subprocess.PIPE,
        text=True,
    )
    log = data / "logs" / "groundlens.log"
    try:
        deadline = time.monotonic() + 300
        while "main window shown" not in (log.read_text() if log.exists() else ""):
            assert app.poll() is None, app.stderr.read() if app.stderr else ""
            assert time.monotonic() < deadline, "the demo window did not open"
            time.sleep(0.5)
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(60)
    shown = next(line for line in log.read_text().splitlines() if "main window shown" in line)
    assert shown.endswith("model libraries loaded: none")
