"""Open a catalogued ONNX model with onnxruntime, after checking it is the file we shipped.

A truncated or swapped model file would otherwise fail deep inside onnxruntime with a protobuf
message that names no file, or, worse, load and give wrong boxes; so the size and sha256 recorded
in the model catalogue are checked first and every failure names the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any  # onnxruntime ships no types: its InferenceSession is Any

from groundlens.core.modelstore.catalog import get
from groundlens.core.modelstore.status import require, sha256_file


class ModelFileError(RuntimeError):
    """A model file is missing, truncated, altered or unreadable; the message names the file."""


def default_threads() -> int:
    """Few intra-op threads: the analysers are small and share the CPU with the rest of the pipeline."""
    return max(1, min(2, os.cpu_count() or 1))


def verified_model_path(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """The catalogue model `name` (or the file at `path` standing in for it), checked against the
    catalogue's size and sha256."""
    entry = get(name)
    file = Path(path) if path is not None else require(name)
    if not file.is_file():
        raise ModelFileError(f"{file}: model file for {name!r} not found")
    size = file.stat().st_size
    if entry.size_bytes is not None and size != entry.size_bytes:
        raise ModelFileError(
            f"{file}: {size} bytes where {name!r} has {entry.size_bytes}: truncated or a different file"
        )
    if entry.sha256 is not None and (digest := sha256_file(file)) != entry.sha256:
        raise ModelFileError(f"{file}: sha256 {digest} is not {name!r}'s {entry.sha256}: corrupt or altered")
    return file


def open_session(name: str, threads: int | None = None, path: str | os.PathLike[str] | None = None) -> Any:
    """An onnxruntime session for the verified model, with `threads` intra-op threads, on this process's
    device (core.pipeline.device: the CUDA provider where there is one and the GPU was chosen)."""
    import onnxruntime as ort

    from groundlens.core.pipeline import device

    file = verified_model_path(name, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or default_threads())
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the converted graphs carry harmless initializer warnings
    try:
        return ort.InferenceSession(str(file), options, providers=device.onnx_providers())
    except Exception as error:  # onnxruntime raises its own unexported exception types
        raise ModelFileError(f"{file}: onnxruntime cannot load {name!r}: {error}") from error
