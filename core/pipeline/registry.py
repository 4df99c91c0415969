"""Named backends per stage, in the manner of spaCy's factories.

A backend module decorates its factory with `@register(stage, name)`; settings then choose
backends by name. Factories import their heavy libraries (torch, transformers) lazily so
that listing backends stays cheap. `check` tells, without loading any weights, whether a
backend can be built from given options (settings refuse what cannot run).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from groundlens.core.pipeline.stages import (
    Backend,
    EntailmentJudge,
    EntityRecognizer,
    ExpressionWriter,
    Grounder,
    Segmenter,
)

Stage = Literal["ner", "expression", "entailment", "grounding", "segmentation"]
STAGES: tuple[Stage, ...] = ("ner", "expression", "entailment", "grounding", "segmentation")

# Where each built-in backend lives, so that listing backends (the Settings page) imports none of them and
# creating or checking one imports only its own module. tests/test_pipeline_config.py checks that every
# module registers exactly the names given here.
_P = "groundlens.core.pipeline"
BUILTIN_BACKENDS: dict[tuple[Stage, str], str] = {
    ("ner", "transformers"): f"{_P}.ner.transformers_ner",
    ("ner", "spacy"): f"{_P}.ner.spacy_ner",
    ("expression", "template"): f"{_P}.expression.template",
    ("expression", "causal_lm"): f"{_P}.expression.causal_lm",
    ("entailment", "prior"): f"{_P}.entailment.prior_judge",
    ("entailment", "evidence"): f"{_P}.entailment.evidence_judge",
    ("entailment", "clip"): f"{_P}.entailment.clip",
    ("grounding", "evidence"): f"{_P}.grounding.evidence_grounder",
    ("grounding", "owlv2"): f"{_P}.grounding.owlv2",
    ("grounding", "grounding_dino"): f"{_P}.grounding.grounding_dino",
    ("segmentation", "mobile_sam"): f"{_P}.segmentation.sam",
    ("segmentation", "sam"): f"{_P}.segmentation.sam",
}

Factory = Callable[..., Backend]
Validator = Callable[..., None]  # called with the factory's options; raises ValueError/OSError saying what is missing
# One bound per stage: `register("ner", ...)` accepts only a factory whose return type satisfies EntityRecognizer,
# so mypy checks every backend against its stage's protocol where it registers.
NerFactory = TypeVar("NerFactory", bound=Callable[..., EntityRecognizer])
ExpressionFactory = TypeVar("ExpressionFactory", bound=Callable[..., ExpressionWriter])
EntailmentFactory = TypeVar("EntailmentFactory", bound=Callable[..., EntailmentJudge])
GroundingFactory = TypeVar("GroundingFactory", bound=Callable[..., Grounder])
SegmentationFactory = TypeVar("SegmentationFactory", bound=Callable[..., Segmenter])
_factories: dict[tuple[Stage, str], Factory] = {}
_validators: dict[tuple[Stage, str], Validator] = {}


class UnknownBackendError(KeyError):
    """Settings name a backend that no module registered."""


class BackendOptionsError(ValueError):
    """A backend cannot be built from these options; the message names the option and what is wrong."""


@overload
def register(
    stage: Literal["ner"], name: str, validate: Validator | None = None
) -> Callable[[NerFactory], NerFactory]: ...
@overload
def register(
    stage: Literal["expression"], name: str, validate: Validator | None = None
) -> Callable[[ExpressionFactory], ExpressionFactory]: ...
@overload
def register(
    stage: Literal["entailment"], name: str, validate: Validator | None = None
) -> Callable[[EntailmentFactory], EntailmentFactory]: ...
@overload
def register(
    stage: Literal["grounding"], name: str, validate: Validator | None = None
) -> Callable[[GroundingFactory], GroundingFactory]: ...
@overload
def register(
    stage: Literal["segmentation"], name: str, validate: Validator | None = None
) -> Callable[[SegmentationFactory], SegmentationFactory]: ...
def register(stage: Stage, name: str, validate: Validator | None = None) -> Callable[[Any], Any]:
    """`validate(**options)`: the backend's own cheap check (files in place, values in range); no weights load."""
    if stage not in STAGES:
        raise ValueError(f"unknown pipeline stage {stage!r}; stages are {', '.join(STAGES)}")

    def decorate(factory: Factory) -> Factory:
        _factories[(stage, name)] = factory
        if validate is not None:
            _validators[(stage, name)] = validate
        return factory

    return decorate


def _load(stage: Stage, name: str) -> None:
    """Import the module of a built-in backend (it registers itself); unknown names are left to the caller."""
    module = BUILTIN_BACKENDS.get((stage, name))
    if module is not None:
        importlib.import_module(module)


def available(stage: Stage) -> list[str]:
    """Backend names for a stage, built-in and registered, without importing any backend."""
    names = {n for (s, n) in BUILTIN_BACKENDS if s == stage} | {n for (s, n) in _factories if s == stage}
    return sorted(names)


@overload
def create(stage: Literal["ner"], name: str, **options: Any) -> EntityRecognizer: ...
@overload
def create(stage: Literal["expression"], name: str, **options: Any) -> ExpressionWriter: ...
@overload
def create(stage: Literal["entailment"], name: str, **options: Any) -> EntailmentJudge: ...
@overload
def create(stage: Literal["grounding"], name: str, **options: Any) -> Grounder: ...
@overload
def create(stage: Literal["segmentation"], name: str, **options: Any) -> Segmenter: ...
def create(stage: Stage, name: str, **options: Any) -> Backend:
    """The backend `name` of `stage`, of that stage's protocol (register checked the factory's type)."""
    _load(stage, name)
    try:
        factory = _factories[(stage, name)]
    except KeyError:
        raise UnknownBackendError(
            f"no {stage} backend named {name!r}; available: {', '.join(available(stage)) or 'none'}"
        ) from None
    return factory(**options)


def check(stage: Stage, name: str, options: dict[str, Any]) -> None:
    """Raise BackendOptionsError unless `create(stage, name, **options)` can be attempted: the backend
    exists, every required option is given, none is unknown, and its validator accepts them."""
    _load(stage, name)
    factory = _factories.get((stage, name))
    if factory is None:
        raise BackendOptionsError(
            f"no {stage} backend named {name!r}; available: {', '.join(available(stage)) or 'none'}"
        )
    parameters = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(set(options) - set(parameters)) if not takes_any else []
    if unknown:
        known = ", ".join(parameters) or "none"
        raise BackendOptionsError(f"{name} has no option {unknown[0]!r} (its options: {known})")
    missing = [
        p
        for p, spec in parameters.items()
        if spec.default is inspect.Parameter.empty
        and spec.kind is not inspect.Parameter.VAR_KEYWORD
        and p not in options
    ]
    if missing:
        raise BackendOptionsError(f'{name} needs option {missing[0]!r} (e.g. {{"{missing[0]}": "/path/to/weights"}})')
    validator = _validators.get((stage, name))
    if validator is not None:
        try:
            validator(**options)
        except (ValueError, OSError) as error:
            raise BackendOptionsError(f"{name}: {error}") from None


def looks_like_path(text: str) -> bool:
    """A hub id is "name" or "owner/name"; anything absolute, relative (./, ~) or deeper is a path."""
    return Path(text).is_absolute() or text.startswith(("~", ".")) or "\\" in text or text.count("/") > 1


def check_model_source(value: Any, option: str = "model") -> None:
    """A local folder that exists, or a hub id (which only loading can check); a missing path is said
    to be missing, not reported by the hub client as a malformed id."""
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ValueError(f"option {option!r} must be a model folder or a Hugging Face id, not {value!r}")
    path = Path(str(value)).expanduser()
    if not path.exists() and looks_like_path(str(value)):
        raise FileNotFoundError(f"option {option!r}: {path} does not exist")


def model_validator(model: Any = None, **_: Any) -> None:
    """The validator of backends whose weights are named by a `model` option (folder or hub id)."""
    if model is not None:
        check_model_source(model)
