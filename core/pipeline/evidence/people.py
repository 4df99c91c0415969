"""The prominent people in a photo, and which named person is which, only on evidence.

A person's box comes from the object detector's person class (the whole visible body, as
GMNER annotators draw it); a face with no detected body around it becomes a person box by
the head-and-shoulders rule (`face_to_person`). Faces inside a body give SAM its positive point.

A PER mention is tied to a person only when evidence says which one (`assign`), in this order:
1. a name tag: the mention's name (or surname) read by OCR inside that person's box; a person
   whose tag reads another mentioned name is not a candidate for this one;
2. a per-name position cue: "Grace Hopper (left)", "(right)", "(centre)";
3. a list, as photo captions write one: names listed together ("A and B", "A, B & C") or the
   names of a sentence carrying "L-R", "left to right", "from left"; when the list holds exactly
   as many names as there are untied people, names map to people left to right;
4. one name, one person: the judge kept one PER mention, and the photo shows one person whose
   face a viewer could recognise (`Person.unrecognisable` is empty: a detected face, frontal
   and not tiny). Without face identification the name is still only the post's word, and a
   post naming someone else over that person is boxed too; the evidence says so and the tie's
   confidence is discounted for it (`UNVERIFIED_IDENTITY`). A person whose face is hidden
   (a visor, a camera held to the eye, a turned head) or too small stays "not identified":
   nobody looking at the box could check the name. Switchable (`lone_person`).
Text order alone never picks a box: in "Happy birthday A! B sent a message" the names are
not a list, and two people there stay unidentified.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from groundlens.core.pipeline.evidence.text_match import TextHit
from groundlens.core.pipeline.types import Box, Mention, PointPrompt
from groundlens.core.pipeline.vision.types import Detection

CORNER_INSET = 0.05  # where, as a share of the box, the background points sit inside its top corners
# Score floors, measured on datasets/grounding-dev: a body with a face inside is two detectors
# agreeing; a body alone or a face alone must be surer (NanoDet saw a "person" of 0.51 in a
# butterfly, BlazeFace a face of 0.61 in a dahlia; real lone bodies there scored 0.58-0.88).
BODY_WITH_FACE = 0.35
BODY_ALONE = 0.55
FACE_ALONE = 0.75
PROMINENT_SHARE = 0.2  # a person smaller than this share of the largest one is background
# When a lone person's face counts as recognisable (rule 4), measured on BlazeFace keypoints of
# datasets/grounding-dev: frontal portraits have the nose within 0.03-0.12 of the ears' midpoint
# (in ear spans), the cameraman with the camera at his eye 0.36.
RECOGNISABLE_FACE = FACE_ALONE  # face score
MAX_FACE_TURN = 0.25  # |nose - ears' midpoint| / ear span
MIN_FACE_SHARE = 0.05  # face height as a share of the image's shorter side
UNVERIFIED_IDENTITY = 0.6  # factor on a lone-person tie's confidence: the name is the post's word only


@dataclass(frozen=True)
class Person:
    box: Box
    score: float
    face: Box | None = None  # the face inside this body, when one was detected
    from_face: bool = False  # True: the box was derived from the face (no body detected)
    unrecognisable: str = "face not checked"  # why a viewer could not tell who this is; "" when they could

    @property
    def centre_x(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def area(self) -> float:
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])

    @property
    def face_centre(self) -> tuple[float, float] | None:
        if self.face is None:
            return None
        return ((self.face[0] + self.face[2]) / 2, (self.face[1] + self.face[3]) / 2)

    def prompts(self) -> tuple[PointPrompt, ...]:
        """SAM points for this person: the face centre on them, and the box's top corners
        off them (a head is narrower than the shoulders, so those corners are background).
        Without the corners a box that fills a portrait comes back as the flag behind her."""
        x0, y0, x1, y1 = self.box
        dx, dy = CORNER_INSET * (x1 - x0), CORNER_INSET * (y1 - y0)
        corners = (PointPrompt(x0 + dx, y0 + dy, False), PointPrompt(x1 - dx, y0 + dy, False))
        face = self.face_centre
        return corners + ((PointPrompt(*face),) if face is not None else ())

    def contains(self, box: Box) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return self.box[0] <= cx <= self.box[2] and self.box[1] <= cy <= self.box[3]


def face_to_person(face: Box, width: int, height: int) -> Box:
    """Head and shoulders around a face: 3 face widths wide, from half a face above it to
    3 face heights below its top, clipped to the image."""
    x0, y0, x1, y1 = face
    w, h = x1 - x0, y1 - y0
    return (max(0.0, x0 - w), max(0.0, y0 - 0.5 * h), min(float(width), x1 + w), min(float(height), y0 + 3 * h))


def face_turn(face: Detection) -> float | None:
    """How far the face is turned from the camera: the nose's offset from the ears' midpoint in
    ear spans (0 frontal, 0.5 profile); None without keypoints."""
    if len(face.keypoints) < 6:
        return None
    (nose_x, _), (right_ear_x, _), (left_ear_x, _) = face.keypoints[2], face.keypoints[4], face.keypoints[5]
    span = abs(left_ear_x - right_ear_x)
    return 0.5 if span <= 0 else min(0.5, abs(nose_x - (left_ear_x + right_ear_x) / 2) / span)


def unrecognisable(face: Detection | None, width: int, height: int) -> str:
    """Why nobody could tell from the photo who this person is, or "" when their face is
    detected, frontal and large enough to be recognised by someone who knows them."""
    if face is None or face.score < RECOGNISABLE_FACE:
        return "no clear face (turned away, or hidden by a helmet, a visor or a camera)"
    if face.box[3] - face.box[1] < MIN_FACE_SHARE * min(width, height):
        return "face too small to recognise"
    turn = face_turn(face)
    if turn is not None and turn > MAX_FACE_TURN:
        return "face turned away or partly hidden"
    return ""


def find_people(
    objects: Sequence[Detection],
    faces: Sequence[Detection],
    width: int,
    height: int,
    prominent_share: float = PROMINENT_SHARE,
) -> list[Person]:
    """Prominent people, left to right: detected bodies (each with the best face inside it),
    then faces with no body around them as face-derived boxes; each above its score floor."""
    bodies = [d for d in objects if d.label == "person" and d.score >= BODY_WITH_FACE]
    people: list[Person] = []
    free_faces = sorted(faces, key=lambda f: -f.score)
    for body in sorted(bodies, key=lambda d: -d.score):
        inside = next((f for f in free_faces if Person(body.box, body.score).contains(f.box)), None)
        if inside is not None:
            free_faces.remove(inside)
            people.append(
                Person(body.box, body.score, face=inside.box, unrecognisable=unrecognisable(inside, width, height))
            )
        elif body.score >= BODY_ALONE:
            people.append(Person(body.box, body.score, unrecognisable=unrecognisable(None, width, height)))
    for face in free_faces:
        if face.score >= FACE_ALONE:
            people.append(
                Person(
                    face_to_person(face.box, width, height),
                    face.score,
                    face=face.box,
                    from_face=True,
                    unrecognisable=unrecognisable(face, width, height),
                )
            )
    if not people:
        return []
    largest = max(p.area for p in people)
    return sorted((p for p in people if p.area >= prominent_share * largest), key=lambda p: p.centre_x)


_SLOT_CUE = re.compile(r"^\s*\(\s*(far\s+left|left|l|far\s+right|right|r|cent(?:er|re)|middle|c)\s*\)", re.I)
_LIST_CUE = re.compile(r"\b(?:l\s*-\s*r|l\s+to\s+r|left\s+to\s+right|from\s+(?:the\s+)?left)\b", re.I)
_SENTENCE_END = re.compile(r"[.!?\n]+")
_LIST_SEPARATOR = re.compile(r"^\s*(?:,|&|\+|and|,\s*and)\s*$", re.I)


@dataclass(frozen=True)
class Tie:
    """A mention tied to a person, and why (the sentence the inspector shows)."""

    person: Person
    kind: str  # "name tag", "caption", "person"
    detail: str
    score: float


def slot_cue(text: str, mention: Mention) -> str | None:
    """'left', 'right' or 'centre' when the name is followed by such a parenthesis."""
    found = _SLOT_CUE.match(text[mention.end :])
    if found is None:
        return None
    word = found.group(1).lower().split()[-1]
    return {"l": "left", "r": "right", "c": "centre", "center": "centre", "middle": "centre"}.get(word, word)


def list_cue_names(text: str, mentions: Sequence[Mention]) -> tuple[str, list[int]] | None:
    """The cue and the indices of the PER mentions in the sentence that carries a list cue."""
    for cue in _LIST_CUE.finditer(text):
        starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
        begin = max(s for s in starts if s <= cue.start())
        ends = [m.start() for m in _SENTENCE_END.finditer(text) if m.start() >= cue.end()]
        end = ends[0] if ends else len(text)
        names = [i for i, m in enumerate(mentions) if m.type == "PER" and begin <= m.start and m.end <= end]
        if len(names) >= 2:
            return cue.group(0), names
    return None


def listed_names(text: str, mentions: Sequence[Mention]) -> list[list[int]]:
    """Runs of two or more PER mentions with only a list separator between them."""
    runs: list[list[int]] = []
    previous: int | None = None
    for i, mention in enumerate(mentions):
        if mention.type != "PER":
            continue
        if previous is not None and _LIST_SEPARATOR.match(text[mentions[previous].end : mention.start]):
            runs[-1].append(i)
        else:
            runs.append([i])
        previous = i
    return [run for run in runs if len(run) >= 2]


def placed_by_caption(text: str, mentions: Sequence[Mention]) -> set[int]:
    """Indices of the PER mentions whose place in the photo the text itself gives (rules 2 and 3
    of `assign`): a position cue after the name, or a list, marked "L-R" or written as names
    listed together. Any other named person can be placed only by a name tag or by being the
    only person and the only name."""
    placed = {i for i, m in enumerate(mentions) if m.type == "PER" and slot_cue(text, m) is not None}
    cued = list_cue_names(text, mentions)
    if cued is not None:
        placed.update(cued[1])
    for run in listed_names(text, mentions):
        placed.update(run)
    return placed


LONE_PERSON_DETAIL = (
    "the only person in the photo, face frontal and clear, and the only name in the post; "
    "identity not verified (GroundLens does not recognise faces): the name is the post's word"
)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def assign(
    people: Sequence[Person],
    text: str,
    mentions: Sequence[Mention],
    visible: Sequence[int],
    tags: dict[int, list[TextHit]],
    lone_person: bool = True,
) -> dict[int, Tie]:
    """Ties from mention index to person, by the rules in the module docstring.

    people: prominent people left to right; visible: indices of the PER mentions the judge
    kept; tags: per mention index, OCR hits of its name (any place in the image);
    lone_person: whether rule 4 (one name, one person) applies.
    """
    ties: dict[int, Tie] = {}
    taken: set[int] = set()  # indices into people
    tagged_other: dict[int, set[int]] = {}  # person -> mentions whose name tag it wears
    for i, hits in tags.items():
        for hit in hits:
            for p, person in enumerate(people):
                if person.contains(hit.box):
                    tagged_other.setdefault(p, set()).add(i)
    for i in visible:
        for hit in tags.get(i, []):
            wearer = next((p for p, person in enumerate(people) if p not in taken and person.contains(hit.box)), None)
            if wearer is not None and tagged_other.get(wearer) == {i}:
                ties[i] = Tie(
                    people[wearer], "name tag", f"read '{hit.text}' on this person, {hit.score:.2f}", hit.score
                )
                taken.add(wearer)
                break

    def free_for(i: int) -> list[int]:
        return [p for p in range(len(people)) if p not in taken and not (tagged_other.get(p, set()) - {i})]

    for i in visible:
        slot = slot_cue(text, mentions[i]) if i not in ties else None
        free = free_for(i)
        if slot is None or not free or (slot == "centre" and len(free) % 2 == 0):
            continue
        p = {"left": free[0], "right": free[-1], "centre": free[len(free) // 2]}[slot]
        where = {"left": "leftmost", "right": "rightmost", "centre": "middle one"}[slot]
        among = f"the {where} of the {len(free)} people not yet named" if len(free) > 1 else "the one person left"
        ties[i] = Tie(people[p], "caption", f"the post says ({slot}): {among}", 0.9)
        taken.add(p)
    cued = list_cue_names(text, mentions)
    lists = [(f"a list marked '{cued[0]}'", cued[1])] if cued is not None else []
    lists += [("names listed together", run) for run in listed_names(text, mentions)]
    for how, names in lists:
        names = [i for i in names if i not in ties]
        free = [p for p in range(len(people)) if p not in taken]
        if (
            names
            and len(names) == len(free)
            and all(i in visible for i in names)
            and all(not (tagged_other.get(p, set()) - {i}) for i, p in zip(names, free))
        ):
            for k, (i, p) in enumerate(zip(names, free), start=1):
                ties[i] = Tie(
                    people[p],
                    "caption",
                    f"named {_ordinal(k)} of {len(free)} in {how}, matched to the people left to right",
                    0.85,
                )
                taken.add(p)
            break
    per_mentions = [i for i, m in enumerate(mentions) if m.type == "PER"]
    if (
        lone_person
        and len(per_mentions) == 1
        and per_mentions[0] in visible
        and per_mentions[0] not in ties
        and len(people) == 1
        and not people[0].unrecognisable
        and not taken
        and not (tagged_other.get(0, set()) - {per_mentions[0]})
    ):
        ties[per_mentions[0]] = Tie(people[0], "person", LONE_PERSON_DETAIL, UNVERIFIED_IDENTITY * people[0].score)
    return ties


def count_phrase(n: int) -> str:
    return "no person detected" if n == 0 else "one person in the photo" if n == 1 else f"{n} people in the photo"
