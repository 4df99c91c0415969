"""User settings kept as JSON in the data folder (`AppPaths.settings_file`).

Only what changes results lives in `PipelineConfig` (and so in its key); how fast it runs
(threads, batch size) lives here beside it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.pipeline.config import PipelineConfig


ENGINES = ("local", "ray")
DEVICES = ("auto", "cpu", "cuda")
_OWN_KEYS = ("pipeline", "threads", "batch_size", "engine", "ray_address", "ray_workers", "device")


@dataclass
class Settings:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    threads: int = max(1, min(4, os.cpu_count() or 1))  # torch intra-op threads per pipeline worker
    batch_size: int = 8  # posts per pipeline call; also the cancellation granularity
    engine: str = "local"  # "local": a worker process here; "ray": actors on a Ray cluster
    ray_address: str | None = None  # the cluster to join ("127.0.0.1:6379", "ray://host:10001"); None: start one here
    ray_workers: int | None = None  # pipeline actors on the cluster; None: as many as its CPUs (or GPUs) allow
    device: str = "auto"  # where torch and onnxruntime run the models: auto (a GPU when there is one), cpu, cuda
    extra: dict[str, Any] = field(default_factory=dict)  # other parts' keys, written back untouched

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "pipeline": self.pipeline.to_dict(), "threads": self.threads,
                "batch_size": self.batch_size, "engine": self.engine, "ray_address": self.ray_address,
                "ray_workers": self.ray_workers, "device": self.device}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        defaults = cls()
        engine = data.get("engine", defaults.engine)
        if engine not in ENGINES:
            raise ValueError(f"settings: engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        device = data.get("device", defaults.device)
        if device not in DEVICES:
            raise ValueError(f"settings: device must be one of {', '.join(DEVICES)}, not {device!r}")
        workers = data.get("ray_workers")
        return cls(
            pipeline=PipelineConfig.from_dict(data.get("pipeline") or {}),
            threads=int(data.get("threads", defaults.threads)),
            batch_size=int(data.get("batch_size", defaults.batch_size)),
            engine=engine,
            ray_address=data.get("ray_address") or None,
            ray_workers=None if workers is None else int(workers),
            device=device,
            extra={k: v for k, v in data.items() if k not in _OWN_KEYS},
        )

    @classmethod
    def load(cls, path: Path) -> "Settings":
        """Defaults when the file does not exist yet; a malformed file is an error, not silently reset."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"settings file {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
