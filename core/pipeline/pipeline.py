"""RiVEG as one object: text NER -> expression -> visual entailment -> grounding -> SAM.

NER runs once over the whole batch of texts (that is where batching pays); the image
stages run per post, each backend seeing all of that post's mentions at once. The image is
decoded once per post into an `ImageAnalysis` that the entailment judge and the grounder
share, so each image analyser (detector, faces, OCR) runs at most once per image. A stage that raises on one post marks that post's
`error` and keeps what earlier stages found; the other posts go on.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from PIL import Image

from groundlens.core.orientation import upright
from groundlens.core.pipeline import registry
from groundlens.core.pipeline.config import PipelineConfig
from groundlens.core.pipeline.registry import STAGES, Stage
from groundlens.core.pipeline.stages import StageBackends
from groundlens.core.pipeline.types import GroundedEntity, ImageBytes, Mention, PostInput, PostResult, as_box
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.core.pipeline.vision.registry import shared_analyser
from groundlens.core.pipeline.vision.types import TextReader

IMAGE_STAGES: tuple[Stage, ...] = ("entailment", "grounding", "segmentation")


class StageError(Exception):
    """One stage failed on one post; the message names the stage and the cause."""


def load_image(source: str | os.PathLike[str] | ImageBytes | Image.Image) -> Image.Image:
    """Decode fully now (PIL is lazy), so a truncated file fails here and not inside a model; turned
    as displayed (EXIF orientation), so boxes and masks match what the GUI shows."""
    readable: str | os.PathLike[str] | io.BytesIO | Image.Image
    if isinstance(source, ImageBytes):
        if source.data is None:
            raise OSError(source.error)
        readable = io.BytesIO(source.data)
    else:
        readable = source
    if isinstance(readable, Image.Image):
        image = upright(readable)
    else:
        with Image.open(readable) as opened:
            opened.load()
            image = upright(opened)
    return image if image.mode == "RGB" else image.convert("RGB")


@contextmanager
def _stage(name: str, result: PostResult, share: int = 1, analysis: ImageAnalysis | None = None) -> Iterator[None]:
    """Times a stage into `result.timings` and turns any exception into a StageError.
    Time the stage spent running image analysers is left out: it is reported per analyser."""
    start = time.perf_counter()
    analysed = analysis.analysis_seconds if analysis is not None else 0.0
    try:
        yield
    except StageError:
        raise
    except Exception as exc:
        raise StageError(f"{name}: {type(exc).__name__}: {exc}") from exc
    finally:
        elapsed = time.perf_counter() - start
        if analysis is not None:
            elapsed -= analysis.analysis_seconds - analysed
        result.timings[name] = result.timings.get(name, 0.0) + elapsed / share


def _check_len(stage: str, values: Sequence[Any], mentions: Sequence[Mention]) -> None:
    if len(values) != len(mentions):
        raise StageError(f"{stage}: backend returned {len(values)} results for {len(mentions)} mentions")


class Pipeline:
    def __init__(self, config: PipelineConfig, backends: StageBackends, reader: TextReader | None = None):
        self.config = config
        self.backends: StageBackends = {
            "ner": backends.get("ner"),
            "expression": backends.get("expression"),
            "entailment": backends.get("entailment"),
            "grounding": backends.get("grounding"),
            "segmentation": backends.get("segmentation"),
        }
        self.reader = reader  # reads every photo's text (config.text_reader), whatever its entities

    @classmethod
    def from_config(cls, config: PipelineConfig) -> Pipeline:
        """Builds every switched-on stage's backend through the registry (loads the models).
        Every backend and its options are checked before any model loads, so a typo or a missing
        file fails in a second with its name (BackendOptionsError), not a minute later as a TypeError."""
        chosen = {stage: config.stage(stage) for stage in STAGES}
        for stage, sc in chosen.items():
            if sc is not None:
                registry.check(stage, sc.backend, sc.options)
        ner, expression, entailment, grounding, segmentation = (chosen[stage] for stage in STAGES)
        backends: StageBackends = {
            "ner": registry.create("ner", ner.backend, **ner.options) if ner else None,
            "expression": registry.create("expression", expression.backend, **expression.options)
            if expression
            else None,
            "entailment": registry.create("entailment", entailment.backend, **entailment.options)
            if entailment
            else None,
            "grounding": registry.create("grounding", grounding.backend, **grounding.options) if grounding else None,
            "segmentation": (
                registry.create("segmentation", segmentation.backend, **segmentation.options) if segmentation else None
            ),
        }
        reader = (
            shared_analyser(config.text_reader)
            if config.text_reader and any(backends[s] is not None for s in IMAGE_STAGES)
            else None
        )
        return cls(config, backends, reader)

    @property
    def versions(self) -> dict[str, str]:
        """stage -> 'backend@version' for the stages that are on."""
        on = ((stage, self.backends.get(stage)) for stage in STAGES)
        return {stage: f"{b.name}@{b.version}" for stage, b in on if b is not None}

    def run(self, posts: Sequence[PostInput]) -> list[PostResult]:
        results = [PostResult(post_id=p.post_id, model_versions=self.versions) for p in posts]
        for post, result, mentions in zip(posts, results, self._recognize(posts, results)):
            if mentions is None:
                continue
            result.entities = [GroundedEntity(mention=m) for m in mentions]
            try:
                self._run_post(post, result)
            except StageError as exc:
                result.error = str(exc)
        return results

    def _recognize(self, posts: Sequence[PostInput], results: list[PostResult]) -> list[list[Mention] | None]:
        """Batched NER; if the batch fails, each text alone, so only the bad post carries the error."""
        ner = self.backends["ner"]
        if ner is None or not posts:
            return [[] for _ in posts]
        texts = [p.text for p in posts]
        start = time.perf_counter()
        try:
            found = ner.recognize(texts)
            if len(found) != len(texts):
                raise StageError(f"ner: backend returned {len(found)} results for {len(texts)} texts")
        except Exception:  # noqa: BLE001 - retried per post below to isolate the failing one
            found = None
        if found is not None:
            share = (time.perf_counter() - start) / len(posts)
            for result in results:
                result.timings["ner"] = share
            return [list(m) for m in found]
        out: list[list[Mention] | None] = []
        for text, result in zip(texts, results):
            try:
                with _stage("ner", result):
                    out.append(list(ner.recognize([text])[0]))
            except StageError as exc:
                result.error = str(exc)
                out.append(None)
        return out

    def _run_post(self, post: PostInput, result: PostResult) -> None:
        entities = result.entities
        mentions = [e.mention for e in entities]
        writer = self.backends["expression"]
        if writer is not None and mentions:
            with _stage("expression", result):
                expressions = writer.express(post.text, mentions)
                _check_len("expression", expressions, mentions)
            for entity, expression in zip(entities, expressions):
                entity.expression = expression
        if post.image is None or all(self.backends[s] is None for s in IMAGE_STAGES):
            return
        with _stage("image", result):  # even without entities: a broken image is reported, not hidden
            try:
                image = load_image(post.image)
            except Exception as exc:
                raise StageError(f"image: cannot read {post.image}: {exc}") from exc
        analysis = ImageAnalysis(image)
        queries = [e.expression or e.mention.text for e in entities]
        try:
            if self.reader is not None:
                with _stage("ocr", result, analysis=analysis):  # every photo's text is stored and searchable
                    analysis.read(self.reader)
            if not entities:
                return
            self._entail(analysis, post.text, entities, queries, result)
            self._ground(analysis, post.text, entities, queries, result)
        finally:
            result.image_text = list(analysis.texts or [])
            result.timings.update({f"vision:{name}": seconds for name, seconds in analysis.timings.items()})
        self._decide(entities)
        self._segment(image, entities, result)

    def _entail(
        self, analysis: ImageAnalysis, text: str, entities: list[GroundedEntity], queries: list[str], result: PostResult
    ) -> None:
        judge = self.backends["entailment"]
        if judge is None:
            return
        mentions = [e.mention for e in entities]
        with _stage("entailment", result, analysis=analysis):
            judgments = judge.judge(analysis, text, mentions, queries)
            _check_len("entailment", judgments, mentions)
        for entity, judgment in zip(entities, judgments):
            entity.groundable_score = float(judgment.score)
            entity.groundable = bool(judgment.score >= self.config.groundable_threshold)
            entity.evidence = list(judgment.evidence)

    def _ground(
        self, analysis: ImageAnalysis, text: str, entities: list[GroundedEntity], queries: list[str], result: PostResult
    ) -> None:
        """Grounds the entities entailment kept (all of them when entailment is off)."""
        grounder = self.backends["grounding"]
        chosen = [i for i, e in enumerate(entities) if e.groundable is not False]
        if grounder is None or not chosen:
            return
        mentions = [entities[i].mention for i in chosen]
        with _stage("grounding", result, analysis=analysis):
            found = grounder.ground(analysis, text, mentions, [queries[i] for i in chosen])
            _check_len("grounding", found.per_mention, mentions)
        result.image_objects = list(found.objects)
        for i, hit in zip(chosen, found.per_mention):
            entities[i].evidence.extend(e for e in hit.evidence if e not in entities[i].evidence)
            if hit.box is not None and hit.score >= self.config.box_threshold:
                entities[i].box = as_box(hit.box)
                entities[i].box_score = float(hit.score)
                entities[i].points = tuple(hit.points)

    @staticmethod
    def _decide(entities: list[GroundedEntity]) -> None:
        """The verdict the analyst sees: boxed -> in image; kept without a box -> probably
        (shown, not located); judged absent -> not in image; no judge -> undecided."""
        for entity in entities:
            if entity.groundable is None:
                continue
            entity.verdict = (
                "not_in_image" if not entity.groundable else "in_image" if entity.box is not None else "probably"
            )

    def _segment(self, image: Image.Image, entities: list[GroundedEntity], result: PostResult) -> None:
        segmenter = self.backends["segmentation"]
        boxed = [e for e in entities if e.box is not None]
        if segmenter is None or not boxed:
            return
        with _stage("segmentation", result):
            masks = segmenter.segment(image, [e.box for e in boxed if e.box is not None], [e.points for e in boxed])
            if len(masks) != len(boxed):
                raise StageError(f"segmentation: backend returned {len(masks)} masks for {len(boxed)} boxes")
        for entity, mask in zip(boxed, masks):
            entity.mask = mask
