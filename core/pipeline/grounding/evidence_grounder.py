"""Default grounder: boxes from what the image analysers saw, and no invented identities.

- PER: a detected person's box (the whole visible body; a face-derived box when no body was
  detected), only when `people.assign` ties the name to that person on evidence (name tag,
  position cue, caption list, and unless `lone_person` is off, one name and one person whose face
  is clear, the name then being the post's word only). People tied to no name are returned as
  "person" objects with the untied names as candidates, and the mention stays unlocated
  ("2 people in the photo, not identified").
- OTHER (products, vehicles): the best detected object of a class the lexicon gives for the
  mention (a car model -> the car); else the words where its name is read.
- ORG, LOC: the words where the name is read (a sign, a jersey, a logo with letters). A
  maker's product in the photo (a Yamaha motorcycle) makes the judge think the ORG is shown,
  but its box would be the logo, which only OCR can place.
Objects detected for some mention but tied to none are returned too.
"""

from __future__ import annotations

from collections.abc import Sequence

from groundlens.core.pipeline.evidence.analysers import Analysers, shared_analysers
from groundlens.core.pipeline.evidence.lexicon import object_classes
from groundlens.core.pipeline.evidence.people import Person, assign
from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Grounding, Groundings, Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.core.pipeline.vision.types import Detection
from groundlens.records import Evidence, ImageObject

OBJECT_FLOOR = 0.4  # detections below this score are neither boxes nor reported objects


class EvidenceGrounder:
    name = "evidence"
    version = "1"

    def __init__(self, analysers: Analysers, lone_person: bool = True):
        self.analysers = analysers
        self.lone_person = lone_person

    def ground(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> Groundings:
        out = [Grounding() for _ in mentions]
        objects: list[ImageObject] = []
        per = [i for i, m in enumerate(mentions) if m.type == "PER"]
        if per:
            objects += self._people(analysis, text, mentions, per, out)
        used: list[Detection] = []
        detected: list[Detection] = []
        for i, (mention, expression) in enumerate(zip(mentions, expressions)):
            if mention.type == "PER":
                continue
            hits = self.analysers.text_hits(analysis, mention)
            found = [
                d
                for d in self.analysers.objects_of(analysis, object_classes(mention, expression))
                if d.score >= OBJECT_FLOOR
            ]
            detected += [d for d in found if d not in detected]
            if mention.type == "OTHER" and found:  # a product is the object, not its label
                out[i] = Grounding(
                    found[0].box,
                    found[0].score,
                    [Evidence("object", f"boxed the {found[0].label} detected", found[0].score, found[0].box)],
                )
                used.append(found[0])
            elif hits:
                best = hits[0]
                out[i] = Grounding(
                    best.box,
                    best.score,
                    [Evidence("ocr", f"boxed the words '{best.words}' read in '{best.text}'", best.score, best.box)],
                )
        objects += [ImageObject(d.label, d.box, d.score) for d in detected if d not in used]
        return Groundings(out, objects)

    def _people(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], per: list[int], out: list[Grounding]
    ) -> list[ImageObject]:
        people = self.analysers.people(analysis)
        if not people:
            return []
        tags = {i: self.analysers.text_hits(analysis, mentions[i]) for i in per}
        ties = assign(people, text, mentions, per, tags, self.lone_person)
        for i, tie in ties.items():
            how = "from the face" if tie.person.from_face else "the detected person"
            out[i] = Grounding(
                tie.person.box,
                tie.score,
                [Evidence(tie.kind, f"{tie.detail}; box: {how}", tie.score, tie.person.box)],
                tie.person.prompts(),
            )
        tied: list[Person] = [tie.person for tie in ties.values()]
        untied_people = [p for p in people if p not in tied]
        untied_names = tuple(mentions[i].text for i in per if i not in ties)
        if untied_people:
            phrase = "one person" if len(untied_people) == 1 else f"{len(untied_people)} people"
            reason = (
                f": {untied_people[0].unrecognisable}"
                if len(untied_people) == 1 and untied_people[0].unrecognisable
                else ""
            )
            for i in per:
                if i not in ties:
                    out[i] = Grounding(
                        evidence=[
                            Evidence(
                                "person",
                                f"{phrase} detected, not identified{reason}",
                                max(p.score for p in untied_people),
                            )
                        ]
                    )
        return [ImageObject("person", p.box, p.score, candidates=untied_names) for p in untied_people]


@register("grounding", "evidence")
def create_evidence_grounder(
    objects: str | None = "nanodet",
    faces: str | None = "blazeface",
    reader: str | None = "rapidocr",
    lone_person: bool = True,
) -> EvidenceGrounder:
    return EvidenceGrounder(shared_analysers(objects, faces, reader), bool(lone_person))
