"""Named backends per stage, in the manner of spaCy's factories.

A backend module decorates its factory with `@register(stage, name)`; settings then choose
backends by name. Factories import their heavy libraries (torch, transformers) lazily so
that listing backends stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Literal

Stage = Literal["ner", "expression", "entailment", "grounding", "segmentation"]
STAGES: tuple[Stage, ...] = ("ner", "expression", "entailment", "grounding", "segmentation")

BUILTIN_BACKEND_MODULES = (
    "core.pipeline.ner.transformers_ner",
    "core.pipeline.ner.spacy_ner",
    "core.pipeline.expression.template",
    "core.pipeline.expression.causal_lm",
    "core.pipeline.entailment.prior_judge",
    "core.pipeline.entailment.evidence_judge",
    "core.pipeline.entailment.clip",
    "core.pipeline.grounding.evidence_grounder",
    "core.pipeline.grounding.owlv2",
    "core.pipeline.grounding.grounding_dino",
    "core.pipeline.segmentation.sam",
)

Factory = Callable[..., Any]
_factories: dict[tuple[Stage, str], Factory] = {}


class UnknownBackendError(KeyError):
    """Settings name a backend that no module registered."""


def register(stage: Stage, name: str) -> Callable[[Factory], Factory]:
    if stage not in STAGES:
        raise ValueError(f"unknown pipeline stage {stage!r}; stages are {', '.join(STAGES)}")

    def decorate(factory: Factory) -> Factory:
        _factories[(stage, name)] = factory
        return factory

    return decorate


def load_builtin_backends() -> None:
    for module in BUILTIN_BACKEND_MODULES:
        importlib.import_module(module)


def available(stage: Stage) -> list[str]:
    load_builtin_backends()
    return sorted(name for (s, name) in _factories if s == stage)


def create(stage: Stage, name: str, **options: Any) -> Any:
    load_builtin_backends()
    try:
        factory = _factories[(stage, name)]
    except KeyError:
        raise UnknownBackendError(
            f"no {stage} backend named {name!r}; available: {', '.join(available(stage)) or 'none'}"
        ) from None
    return factory(**options)
