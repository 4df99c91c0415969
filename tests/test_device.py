"""The device choice (--device / Settings): auto takes a GPU when torch sees one, cuda without one is
refused with a message, onnxruntime gets the CUDA provider only where it has one. These machines have
no GPU, so torch's and onnxruntime's answers are swapped for a GPU machine's."""

from __future__ import annotations

import onnxruntime as ort
import pytest
import torch

from groundlens.core.pipeline import device


@pytest.fixture(autouse=True)
def _back_to_cpu():
    yield
    device.use("cpu")


def test_auto_is_the_cpu_here_and_cuda_is_refused_with_a_reason():
    assert not torch.cuda.is_available()  # this machine: no GPU
    assert device.use("auto") == "cpu" and device.current() == "cpu"
    with pytest.raises(device.DeviceError, match="torch sees no GPU"):
        device.use("cuda")
    assert device.current() == "cpu"  # a refused choice changes nothing
    with pytest.raises(device.DeviceError, match="auto, cpu or cuda"):
        device.use("tpu")


def test_auto_takes_the_gpu_where_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.use("auto") == "cuda"
    assert device.use("cpu") == "cpu"  # an explicit CPU choice stays on the CPU


def test_onnxruntime_gets_cuda_only_where_it_was_built_with_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    device.use("cuda")
    assert device.onnx_providers() == ["CPUExecutionProvider"]  # this onnxruntime is a CPU build
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert device.onnx_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    device.use("cpu")
    assert device.onnx_providers() == ["CPUExecutionProvider"]


def test_the_analysers_open_their_sessions_on_the_chosen_providers():
    from groundlens.core.pipeline.vision.onnx_model import open_session

    device.use("cpu")
    session = open_session("blazeface_short_range")
    assert session.get_providers() == ["CPUExecutionProvider"]
