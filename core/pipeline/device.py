"""Where the models of this process run: the CPU or a CUDA GPU, chosen once per process.

`use(choice)` is called by whoever builds a pipeline (the local worker, each Ray actor, `analyze`)
before any model loads; backends then ask `current()` where to put their weights and tensors and
`onnx_providers()` which onnxruntime providers to open sessions with. "auto" takes the GPU when
torch sees one, so the same settings run on a laptop and on a GPU node of a cluster.
"""

from __future__ import annotations

from typing import Literal

Device = Literal["cpu", "cuda"]
_current: Device = "cpu"


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""


def resolve(choice: str) -> Device:
    """'cpu' or 'cuda' for a setting of 'auto', 'cpu' or 'cuda'; DeviceError for cuda without a GPU."""
    if choice == "cpu":
        return "cpu"
    if choice not in ("auto", "cuda"):
        raise DeviceError(f"device must be auto, cpu or cuda, not {choice!r}")
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if choice == "cuda":
        raise DeviceError("device 'cuda' was chosen but torch sees no GPU here (use 'auto' or 'cpu')")
    return "cpu"


def use(choice: str) -> Device:
    """Resolve `choice` and make it this process's device; returns it."""
    global _current
    _current = resolve(choice)
    return _current


def current() -> Device:
    return _current


def onnx_providers() -> list[str]:
    """CUDA first when this process runs on the GPU and onnxruntime was built with it, the CPU always."""
    if _current == "cuda":
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
