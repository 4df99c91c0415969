"""Which backend runs each pipeline stage, with what options and thresholds.

`PipelineConfig.key()` is a stable hash of everything that changes results; the job queue
uses it as `config_key`, so changing a backend or a threshold makes every post pending
again for the new configuration while the old results stay attributable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

from groundlens.core.pipeline.registry import STAGES, Stage


@dataclass(frozen=True)
class StageConfig:
    """A backend name as registered in `core.pipeline.registry`, plus its factory options."""

    backend: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "options": dict(self.options)}

    @classmethod
    def from_value(cls, value: Any) -> StageConfig | None:
        """Accepts None/"off", a bare backend name, or {"backend": ..., "options": {...}}."""
        if value is None or value == "off":
            return None
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict) and isinstance(value.get("backend"), str):
            return cls(value["backend"], dict(value.get("options") or {}))
        raise ValueError(f"a stage must be null, a backend name or {{'backend': ..., 'options': ...}}, not {value!r}")


def _probability(value: Any) -> float:
    """A threshold: a number from 0 to 1 (true/false and numbers in strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a number from 0 to 1, not {value!r:.60}")
    return float(value)


def _analyser_name(value: Any) -> str | None:
    if value is None or value == "off":
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be an image analyser's name or null, not {value!r:.60}")
    return value


@dataclass(frozen=True)
class PipelineConfig:
    """One backend (or None = stage off) per RiVEG stage, and the decision thresholds.

    groundable_threshold: an entity is groundable when the entailment probability reaches it.
    box_threshold: a grounding box scoring below it is dropped (the entity keeps no box).
    text_reader: the image analyser (core.pipeline.vision) that reads the text of EVERY photo, so what a
    photo says is stored and searchable even when no entity asks for it; None reads text only for
    the entities that can use it.
    """

    ner: StageConfig | None = StageConfig("transformers")
    expression: StageConfig | None = StageConfig("template")
    entailment: StageConfig | None = StageConfig("evidence")
    grounding: StageConfig | None = StageConfig("evidence")
    segmentation: StageConfig | None = StageConfig("mobile_sam")
    groundable_threshold: float = 0.5
    box_threshold: float = 0.1
    text_reader: str | None = "rapidocr"

    def stage(self, stage: Stage) -> StageConfig | None:
        config: StageConfig | None = getattr(self, stage)
        return config

    def with_stage(self, stage: Stage, value: Any) -> PipelineConfig:
        """A copy with one stage replaced (value as accepted by `StageConfig.from_value`)."""
        if stage not in STAGES:
            raise ValueError(f"unknown pipeline stage {stage!r}; stages are {', '.join(STAGES)}")
        changed: dict[str, Any] = {stage: StageConfig.from_value(value)}
        return replace(self, **changed)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, StageConfig) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        """Missing keys keep their defaults, so settings written by older versions still load."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown pipeline settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            try:
                if name in STAGES:
                    values[name] = StageConfig.from_value(value)
                elif name == "text_reader":
                    values[name] = _analyser_name(value)
                else:
                    values[name] = _probability(value)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        return cls(**values)

    def key(self) -> str:
        """Stable across processes and runs: sha256 of the canonical JSON, 16 hex digits."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def describe(self) -> str:
        parts = []
        for stage in STAGES:
            sc = self.stage(stage)
            parts.append(f"{stage}={sc.backend if sc else 'off'}")
        return " ".join(parts)
