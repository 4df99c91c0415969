"""Deterministic entity expansion expressions: the entity name plus a phrase for its type.

RiVEG asks an LLM for "Kevin Durant, the basketball player"; without one, the coarse type
is still the part a grounding model understands ("a person"), and it costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Mention

TEMPLATES: dict[str, str] = {
    "PER": "{name}, a person",
    "LOC": "{name}, a place",
    "ORG": "{name}, an organisation or its logo",
    "OTHER": "{name}",
}


class TemplateExpressionWriter:
    name = "template"
    version = "1"

    def __init__(self, templates: dict[str, str] | None = None):
        self.templates = {**TEMPLATES, **(templates or {})}

    def express(self, text: str, mentions: Sequence[Mention]) -> list[str]:
        return [self.templates.get(m.type, "{name}").format(name=m.text) for m in mentions]


@register("expression", "template")
def create_template_writer(templates: dict[str, str] | None = None) -> TemplateExpressionWriter:
    return TemplateExpressionWriter(templates)
