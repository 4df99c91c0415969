"""Named image analysers ("nanodet", "blazeface", "rapidocr"), one shared instance per settings.

Like core/pipeline/registry.py, a module registers a factory under a name and settings pick
analysers by name; unlike pipeline stages, the entailment judge and the grounder both ask the
same analyser about the same photo, so `shared_analyser` hands out one instance per name and
options per process and each model is loaded once.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from groundlens.core.pipeline.registry import UnknownBackendError

BUILTIN_ANALYSER_MODULES = (
    "groundlens.core.pipeline.vision.nanodet",
    "groundlens.core.pipeline.vision.blazeface",
    "groundlens.core.pipeline.vision.rapidocr_reader",
)

Factory = Callable[..., Any]
_factories: dict[str, Factory] = {}
_shared: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
_lock = threading.Lock()


def register_analyser(name: str) -> Callable[[Factory], Factory]:
    def decorate(factory: Factory) -> Factory:
        _factories[name] = factory
        return factory

    return decorate


def load_builtin_analysers() -> None:
    for module in BUILTIN_ANALYSER_MODULES:
        importlib.import_module(module)


def available_analysers() -> list[str]:
    load_builtin_analysers()
    return sorted(_factories)


def create_analyser(name: str, **options: Any) -> Any:
    """A new analyser instance (loads its model)."""
    load_builtin_analysers()
    try:
        factory = _factories[name]
    except KeyError:
        raise UnknownBackendError(
            f"no image analyser named {name!r}; available: {', '.join(available_analysers())}"
        ) from None
    return factory(**options)


def shared_analyser(name: str, **options: Any) -> Any:
    """The process's one analyser for this name and these options, created on first use."""
    key = (name, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items())))
    with _lock:
        if key not in _shared:
            _shared[key] = create_analyser(name, **options)
        return _shared[key]
