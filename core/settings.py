"""User settings kept as JSON in the data folder (`AppPaths.settings_file`), and their validation.

Only what changes results lives in `PipelineConfig` (and so in its key); how fast it runs
(threads, batch size) lives here beside it. `Settings.load` is the one way to read the file (the CLI, and
the app's settings owner `gui.context.SettingsStore`); `validate` the one check before a run (JobRunner), so
every reader gets the same message naming the file and field. JobRunner and the worker take a Settings
object and read no file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundlens.core.pipeline import registry
from groundlens.core.pipeline.config import PipelineConfig
from groundlens.core.pipeline.registry import STAGES
from groundlens.core.safe_output import atomic_output

SPEED_FIELDS = ("threads", "batch_size")
ENGINES = ("local", "ray")
DEVICES = ("auto", "cpu", "cuda")
_OWN_KEYS = ("pipeline", *SPEED_FIELDS, "engine", "ray_address", "ray_workers", "device", "run_after_import")


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the file (when there is one) and the field."""


@dataclass
class Settings:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    threads: int = max(1, min(4, os.cpu_count() or 1))  # torch intra-op threads per pipeline worker
    batch_size: int = 8  # posts per pipeline call; also the cancellation granularity
    engine: str = "local"  # "local": a worker process here; "ray": actors on a Ray cluster
    ray_address: str | None = None  # the cluster to join ("127.0.0.1:6379", "ray://host:10001"); None: start one here
    ray_workers: int | None = None  # pipeline actors on the cluster; None: as many as its CPUs (or GPUs) allow
    device: str = "auto"  # where torch and onnxruntime run the models: auto (a GPU when there is one), cpu, cuda
    run_after_import: bool = True  # the app starts the pipeline when an import adds or changes posts
    extra: dict[str, Any] = field(default_factory=dict)  # other parts' keys, written back untouched

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "pipeline": self.pipeline.to_dict(),
            "threads": self.threads,
            "batch_size": self.batch_size,
            "engine": self.engine,
            "ray_address": self.ray_address,
            "ray_workers": self.ray_workers,
            "device": self.device,
            "run_after_import": self.run_after_import,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Settings:
        """SettingsError naming the field for anything that is not a settings object of the right shape."""
        if not isinstance(data, dict):
            raise SettingsError(f"settings must be a JSON object ({{...}}), not {type(data).__name__} {data!r:.60}")
        defaults = cls()
        pipeline = {} if data.get("pipeline") is None else data["pipeline"]
        if not isinstance(pipeline, dict):
            raise SettingsError(f"pipeline: must be a JSON object, not {pipeline!r:.60}")
        try:
            config = PipelineConfig.from_dict(pipeline)
        except (ValueError, TypeError) as error:
            raise SettingsError(f"pipeline: {error}") from None
        engine = data.get("engine", defaults.engine)
        if engine not in ENGINES:
            raise SettingsError(f"engine: must be one of {', '.join(ENGINES)}, not {engine!r:.60}")
        device = data.get("device", defaults.device)
        if device not in DEVICES:
            raise SettingsError(f"device: must be one of {', '.join(DEVICES)}, not {device!r:.60}")
        address = data.get("ray_address")
        if address is not None and not isinstance(address, str):
            raise SettingsError(f"ray_address: must be HOST:PORT text or null, not {address!r:.60}")
        workers = data.get("ray_workers")
        if workers is not None:
            _check_whole_number("ray_workers", workers)
        run_after_import = data.get("run_after_import", defaults.run_after_import)
        if not isinstance(run_after_import, bool):
            raise SettingsError(f"run_after_import: must be true or false, not {run_after_import!r:.60}")
        return cls(
            pipeline=config,
            threads=_whole_number(data, "threads", defaults.threads),
            batch_size=_whole_number(data, "batch_size", defaults.batch_size),
            engine=engine,
            ray_address=address or None,
            ray_workers=workers,
            device=device,
            run_after_import=run_after_import,
            extra={k: v for k, v in data.items() if k not in _OWN_KEYS},
        )

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Defaults when the file does not exist yet; a malformed file is an error naming the file and field,
        never silently reset."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SettingsError(f"settings file {path} is not valid JSON: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"settings file {path} cannot be read: {error}") from None
        try:
            return cls.from_dict(data)
        except SettingsError as error:
            raise SettingsError(f"settings file {path}: {error}") from None

    def validate(self) -> Settings:
        """Raise SettingsError unless these settings can run: numbers in range and, for every stage that is
        on, a backend whose required options are given and whose files are in place (no weights load)."""
        for name in SPEED_FIELDS:
            _check_whole_number(name, getattr(self, name))
        for stage in STAGES:
            chosen = self.pipeline.stage(stage)
            if chosen is None:
                continue
            try:
                registry.check(stage, chosen.backend, chosen.options)
            except ValueError as error:
                raise SettingsError(f"pipeline.{stage}: {error}") from None
            except TypeError as error:  # a backend's own check given an option of the wrong kind (a number for a path)
                raise SettingsError(
                    f"pipeline.{stage}: {chosen.backend}: an option has the wrong type ({error})"
                ) from None
        return self

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path, permissions=0o600) as handle:  # private, whatever the file's mode was
            handle.write(json.dumps(self.to_dict(), indent=2, sort_keys=True))


def _whole_number(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    _check_whole_number(name, value)
    return int(value)


def _check_whole_number(name: str, value: Any) -> None:
    """A count of at least 1; JSON's true/false and numbers in strings ("4") are refused, not guessed at."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name}: must be a whole number of at least 1, not {value!r:.60}")
