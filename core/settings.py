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
from core.safe_output import atomic_output


@dataclass
class Settings:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    threads: int = max(1, min(4, os.cpu_count() or 1))  # torch intra-op threads in the worker
    batch_size: int = 8  # posts per pipeline call; also the cancellation granularity
    extra: dict[str, Any] = field(default_factory=dict)  # other parts' keys, written back untouched

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "pipeline": self.pipeline.to_dict(), "threads": self.threads, "batch_size": self.batch_size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        defaults = cls()
        return cls(
            pipeline=PipelineConfig.from_dict(data.get("pipeline") or {}),
            threads=int(data.get("threads", defaults.threads)),
            batch_size=int(data.get("batch_size", defaults.batch_size)),
            extra={k: v for k, v in data.items() if k not in ("pipeline", "threads", "batch_size")},
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
        with atomic_output(path, permissions=0o600) as handle:  # private, whatever the file's mode was
            handle.write(json.dumps(self.to_dict(), indent=2, sort_keys=True))
