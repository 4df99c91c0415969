"""The evidence rules on hand-made observations: name matching in OCR text, the object
lexicon, and who is who among detected people (no identity from text order alone)."""

from __future__ import annotations

import numpy as np
import pytest

from groundlens.core.pipeline.evidence.lexicon import object_classes
from groundlens.core.pipeline.evidence.people import (
    Person,
    assign,
    face_to_person,
    find_people,
    list_cue_names,
    placed_by_caption,
    slot_cue,
)
from groundlens.core.pipeline.evidence.text_match import find_name, tokens
from groundlens.core.pipeline.types import Mention
from groundlens.core.pipeline.vision.types import Detection
from groundlens.records import ImageText


def line(text: str, box=(0.0, 0.0, 10.0, 10.0), score: float = 0.95) -> ImageText:
    return ImageText(text, box, score)


def mentions_in(text: str, *spans: tuple[str, str]) -> list[Mention]:
    out = []
    for surface, kind in spans:
        start = text.index(surface)
        out.append(Mention(start, start + len(surface), surface, kind, 1.0))
    return out


@pytest.mark.parametrize(
    "name, read, found",
    [
        ("NASA", "the NASA logo", "nasa"),
        ("NASA", "NA5A", "na5a"),  # a digit read for a letter
        ("Coca-Cola", "COCA COLA", "coca cola"),  # punctuation and case
        ("Coca-Cola", "CocaCola", "cocacola"),  # words glued by OCR
        ("Eileen Collins", "EILEEN COLINS", "eileen colins"),  # one letter dropped in a long name
        ("STS-93", "STS 93", "sts 93"),
        ("Zürich", "ZURICH", "zurich"),  # accents
    ],
)
def test_names_are_found_despite_ocr_slips(name, read, found):
    hits = find_name(name, [line(read)])
    assert [h.words for h in hits] == [found]


@pytest.mark.parametrize(
    "name, read",
    [
        ("NASA", "NASAL SPRAY"),  # not inside a longer word
        ("NASA", "NASCAR"),
        ("USA", "USB"),  # short names must be exact
        ("STS-93", "STS-98"),  # a different number is a different name
        ("Hopper", "Shopper"),
        ("Grace Hopper", "GRACE"),  # a first name alone is not a person's name tag
    ],
)
def test_near_misses_are_not_matches(name, read):
    assert find_name(name, [line(read)], surname=True) == []


def test_the_box_is_the_matched_words_share_of_the_line():
    [hit] = find_name("Priory Galleries", [line("the Priory Galleries shop", box=(0, 0, 250, 20))])
    assert hit.box == (40.0, 0, 40.0 + 250 * 16 / 25, 20)


def test_a_name_may_run_over_two_lines_of_a_sign():
    copy, centre = line("copy", box=(155, 436, 342, 499)), line("centre", box=(308, 428, 497, 489))
    [hit] = find_name("Copy Centre", [centre, copy])
    assert hit.words == "copy centre" and hit.box == (155, 428, 497, 499)
    far = line("centre", box=(308, 900, 497, 960))
    assert find_name("Copy Centre", [far, copy]) == []


def test_a_person_is_found_by_surname_alone_with_a_lower_score():
    full, tag = find_name(
        "Grace Hopper", [line("GRACE HOPPER", score=0.9), line("CDR HOPPER", score=0.9)], surname=True
    )
    assert full.words == "grace hopper" and tag.words == "hopper"
    assert full.score > tag.score
    assert find_name("Grace Hopper", [line("CDR HOPPER")], surname=False) == []


def test_tokens_fold_case_accents_and_punctuation():
    assert tokens("Ça-va, O'Brien!") == ["ca", "va", "o", "brien"]


def test_lexicon_maps_products_and_makers_but_not_team_names():
    def classes(text, kind):
        return object_classes(Mention(0, len(text), text, kind, 1.0))

    assert classes("iPhone 15", "OTHER") == ["cell phone"]
    assert classes("Tesla Model 3", "OTHER") == ["car"]
    assert classes("Boeing", "ORG") == ["airplane"]
    assert classes("Chicago Bears", "ORG") == []  # an ORG's words are not a description of it
    assert classes("Paris", "LOC") == []
    assert classes("Kevin Durant", "PER") == []


def person(x0: float, x1: float, score: float = 0.9, y0: float = 0.0, y1: float = 100.0) -> Detection:
    return Detection("person", (x0, y0, x1, y1), score)


def test_people_are_bodies_left_to_right_with_their_faces_and_background_dropped():
    bodies = [person(200, 300), person(0, 100), person(400, 420, y1=20)]  # the last is small, far away
    faces = [Detection("face", (30, 10, 60, 40), 0.9), Detection("face", (600, 10, 640, 50), 0.8)]
    people = find_people(bodies, faces, 800, 600)
    assert [p.box[0] for p in people] == [0, 200, 600 - 40]  # the lone face became a person box
    assert people[0].face == (30, 10, 60, 40) and people[0].face_centre == (45, 25)
    assert people[2].from_face and people[2].box == face_to_person((600, 10, 640, 50), 800, 600)


def test_a_lone_body_or_face_needs_a_higher_score_than_a_body_with_a_face():
    face = Detection("face", (30, 10, 60, 40), 0.6)
    assert len(find_people([person(0, 100, score=0.4)], [face], 200, 200)) == 1  # both detectors agree
    assert find_people([person(0, 100, score=0.4)], [], 200, 200) == []
    assert find_people([], [face], 200, 200) == []
    assert len(find_people([person(0, 100, score=0.6)], [], 200, 200)) == 1
    assert find_people([person(0, 100, score=0.2)], [Detection("face", (30, 10, 60, 40), 0.9)], 200, 200)[0].from_face


def test_person_prompts_put_the_face_on_and_the_top_corners_off():
    off_left, off_right, on = Person((0, 0, 100, 200), 0.9, face=(40, 10, 60, 30)).prompts()
    assert (on.x, on.y, on.positive) == (50, 20, True)
    assert (off_left.x, off_left.y, off_left.positive) == (5, 10, False)
    assert (off_right.x, off_right.positive) == (95, False)
    assert all(not p.positive for p in Person((0, 0, 100, 200), 0.9).prompts())


TWO = [Person((0, 0, 100, 200), 0.9), Person((150, 0, 250, 200), 0.8)]  # left, right


def names(text, *people):
    return mentions_in(text, *((p, "PER") for p in people))


def tied(ties, mentions):
    return {mentions[i].text: tie.person.box[0] for i, tie in ties.items()}


@pytest.mark.parametrize(
    "text, first, second",
    [
        ("Happy birthday Grace Hopper! Eileen Collins sent a video message", "Grace Hopper", "Eileen Collins"),
        ("Grace Hopper is the hero of Eileen Collins", "Grace Hopper", "Eileen Collins"),
        ("Eileen Collins at the gala with her hero Grace Hopper", "Eileen Collins", "Grace Hopper"),
    ],
)
def test_text_order_alone_ties_nobody(text, first, second):
    mentions = names(text, first, second)
    assert assign(TWO, text, mentions, [0, 1], {}) == {}


@pytest.mark.parametrize(
    "text",
    [
        "Eileen Collins and Grace Hopper at the gala",  # names listed together, as a caption lists them
        "Eileen Collins & Grace Hopper at the gala",
        "Eileen Collins and Grace Hopper (L-R) at the gala",
        "From left: Eileen Collins and Grace Hopper at the gala",
        "Eileen Collins and Grace Hopper, left to right, at the gala",
    ],
)
def test_a_list_cue_maps_names_left_to_right(text):
    mentions = names(text, "Eileen Collins", "Grace Hopper")
    ties = assign(TWO, text, mentions, [0, 1], {})
    assert tied(ties, mentions) == {"Eileen Collins": 0, "Grace Hopper": 150}
    assert all(t.kind == "caption" for t in ties.values())


def test_a_list_needs_as_many_names_as_people():
    text = "From left: Eileen Collins and Grace Hopper at the gala"
    mentions = names(text, "Eileen Collins", "Grace Hopper")
    three = [*TWO, Person((300, 0, 400, 200), 0.8)]
    assert assign(three, text, mentions, [0, 1], {}) == {}


def test_a_list_cue_in_another_sentence_does_not_count():
    text = "Grace Hopper and Eileen Collins at the gala. Our guests from left field were late"
    mentions = names(text, "Grace Hopper", "Eileen Collins")
    assert list_cue_names(text, mentions) is None


def test_a_per_name_position_cue():
    text = "Grace Hopper (right) with Eileen Collins at the gala"
    mentions = names(text, "Grace Hopper", "Eileen Collins")
    assert slot_cue(text, mentions[0]) == "right" and slot_cue(text, mentions[1]) is None
    assert tied(assign(TWO, text, mentions, [0, 1], {}), mentions) == {"Grace Hopper": 150}


def test_a_name_tag_identifies_its_wearer_and_excludes_the_other_name():
    text = "Eileen Collins was a guest of Grace Hopper at the gala"
    mentions = names(text, "Eileen Collins", "Grace Hopper")
    tag = find_name("Grace Hopper", [line("CDR HOPPER", box=(20, 100, 60, 110))], surname=True)
    ties = assign(TWO, text, mentions, [0, 1], {1: tag})
    assert tied(ties, mentions) == {"Grace Hopper": 0}
    assert ties[1].kind == "name tag" and "CDR HOPPER" in ties[1].detail
    # one person and one name, but that person wears another mentioned name's tag: not this one
    text = "Eileen Collins meets Grace Hopper"
    mentions = names(text, "Eileen Collins", "Grace Hopper")
    assert assign(TWO[:1], text, mentions, [0], {1: tag}) == {}


CLEAR_FACE = [Person((0, 0, 100, 200), 0.9, face=(30, 10, 70, 50), unrecognisable="")]


def test_one_name_and_one_person_whose_face_is_clear():
    text = "Rear Admiral Grace Hopper in 1984"
    mentions = names(text, "Grace Hopper")
    ties = assign(CLEAR_FACE, text, mentions, [0], {})
    assert tied(ties, mentions) == {"Grace Hopper": 0} and "identity not verified" in ties[0].detail
    assert ties[0].score < 0.9 * CLEAR_FACE[0].score  # the post's word only: less sure than the detection
    assert assign(CLEAR_FACE, text, mentions, [], {}) == {}  # the judge did not keep the name
    assert assign(CLEAR_FACE, text, mentions, [0], {}, lone_person=False) == {}  # the rule switched off
    assert assign(CLEAR_FACE + TWO[1:], text, mentions, [0], {}) == {}  # two people: which one?
    two_names = "Grace Hopper and Eileen Collins"
    mentions = names(two_names, "Grace Hopper", "Eileen Collins")
    assert assign(CLEAR_FACE, two_names, mentions, [0], {}) == {}  # two names, one person: which one?


def test_one_name_and_one_person_whose_face_nobody_could_recognise_stays_unidentified():
    text = "Rear Admiral Grace Hopper in 1984"
    mentions = names(text, "Grace Hopper")
    assert assign(TWO[:1], text, mentions, [0], {}) == {}  # a body, face not checked


def face(box, score=0.9, nose_x=None):
    """A BlazeFace-like detection; ears at the box's sides, the nose at nose_x (default: centred)."""
    x0, y0, x1, y1 = box
    nose = (x0 + x1) / 2 if nose_x is None else nose_x
    mid_y = (y0 + y1) / 2
    points = (
        (x0 + 0.3 * (x1 - x0), y0),
        (x0 + 0.7 * (x1 - x0), y0),
        (nose, mid_y),
        (nose, y1),
        (x0, mid_y),
        (x1, mid_y),
    )
    return Detection("face", box, score, points)


@pytest.mark.parametrize(
    "found, reason",
    [
        (face((40, 20, 80, 60)), ""),  # frontal, 40 px of a 200 px image
        (face((40, 20, 80, 60), nose_x=75), "face turned away or partly hidden"),  # nose near one ear
        (face((40, 20, 46, 26)), "face too small to recognise"),
        (face((40, 20, 80, 60), score=0.62), "no clear face (turned away, or hidden by a helmet, a visor or a camera)"),
        (None, "no clear face (turned away, or hidden by a helmet, a visor or a camera)"),  # a body alone
    ],
)
def test_a_person_is_recognisable_only_with_a_clear_frontal_face(found, reason):
    [someone] = find_people([person(0, 150, score=0.9, y1=200)], [found] if found else [], 200, 200)
    assert someone.unrecognisable == reason


class Listed:
    """An analyser that reports fixed observations and counts how often it is asked."""

    def __init__(self, name, found):
        self.name, self.version, self.found, self.calls = name, "t", found, 0

    def detect(self, image):
        self.calls += 1
        return self.found

    read = detect


class HalfPrior:
    version = "half"

    def predict(self, text, mentions):
        return [0.5 for _ in mentions]


def judge_and_ground(text, spans, objects=(), faces=(), lines=(), detectors=True):
    from PIL import Image

    from groundlens.core.pipeline.entailment.evidence_judge import EvidenceJudge
    from groundlens.core.pipeline.evidence.analysers import Analysers
    from groundlens.core.pipeline.grounding.evidence_grounder import EvidenceGrounder
    from groundlens.core.pipeline.vision.analysis import ImageAnalysis

    analysers = Analysers(
        Listed("objects", list(objects)) if detectors else None,
        Listed("faces", list(faces)) if detectors else None,
        Listed("ocr", list(lines)),
    )
    analysis = ImageAnalysis(Image.new("RGB", (400, 300)))
    mentions = mentions_in(text, *spans)
    expressions = [m.text for m in mentions]
    judged = EvidenceJudge(HalfPrior(), analysers).judge(analysis, text, mentions, expressions)
    grounded = EvidenceGrounder(analysers).ground(analysis, text, mentions, expressions)
    return judged, grounded, analysers, analysis


def test_each_analyser_runs_once_per_image_for_judge_and_grounder_together():
    _, _, analysers, analysis = judge_and_ground(
        "Grace Hopper and Nasa",
        [("Grace Hopper", "PER"), ("Nasa", "ORG")],
        objects=[person(0, 100)],
        lines=[line("NASA")],
    )
    assert (analysers.objects.calls, analysers.faces.calls, analysers.reader.calls) == (1, 1, 1)
    assert set(analysis.timings) == {"objects", "faces", "ocr"}
    _, _, analysers, _ = judge_and_ground("Greetings from Paris", [("Paris", "LOC")])
    assert (analysers.objects.calls, analysers.faces.calls, analysers.reader.calls) == (0, 0, 1)


def test_a_name_read_in_the_photo_is_evidence_and_its_words_are_the_box():
    [nasa], grounded, _, _ = judge_and_ground("Nasa", [("Nasa", "ORG")], lines=[line("NASA", box=(10, 10, 50, 20))])
    assert nasa.score > 0.95 and nasa.evidence[-1].detail == "read 'NASA' in the image, 0.95"
    assert grounded.per_mention[0].box == (10, 10, 50, 20)


def test_a_person_s_name_printed_off_any_person_is_not_evidence_they_are_shown():
    cover = line("OLIVIER FAUGERAS", box=(300, 10, 390, 30))
    [judged], grounded, analysers, _ = judge_and_ground(
        "Olivier Faugeras", [("Olivier Faugeras", "PER")], lines=[cover]
    )
    assert judged.score < 0.5 and [e.detail for e in judged.evidence][1:] == ["no person detected"]
    assert grounded.per_mention[0].box is None
    assert analysers.reader.calls == 0  # nobody to wear a name tag: OCR is not needed
    [judged], grounded, _, _ = judge_and_ground(
        "Olivier Faugeras", [("Olivier Faugeras", "PER")], objects=[person(0, 100), person(150, 250)], lines=[cover]
    )
    assert "read 'OLIVIER FAUGERAS' in the image, not on a person" in [e.detail for e in judged.evidence]
    assert judged.score == pytest.approx(1 / (1 + np.exp(-1.0)))  # people: +1; the printed name: nothing
    assert grounded.per_mention[0].box is None


def test_a_name_tag_on_a_person_is_strong_evidence():
    tag = line("HOPPER", box=(20, 60, 60, 70))
    [judged], grounded, _, _ = judge_and_ground(
        "Grace Hopper", [("Grace Hopper", "PER")], objects=[person(0, 100), person(150, 250)], lines=[tag]
    )
    assert judged.score > 0.95 and judged.evidence[-1].detail == "read 'HOPPER' in the image, 0.85"
    assert grounded.per_mention[0].box == (0, 0.0, 100, 100.0)


def test_without_person_detectors_absence_of_people_is_not_evidence():
    [judged], _, _, _ = judge_and_ground("Grace Hopper", [("Grace Hopper", "PER")], detectors=False)
    assert judged.score == 0.5 and [e.kind for e in judged.evidence] == ["prior"]


def test_a_product_is_boxed_on_its_object_and_a_maker_only_moves_the_verdict():
    car = Detection("car", (20, 20, 200, 150), 0.8)
    (civic, honda), grounded, _, _ = judge_and_ground(
        "Honda Civic by Honda", [("Honda Civic", "OTHER"), ("Honda", "ORG")], objects=[car]
    )
    assert civic.score > 0.5 and honda.score > 0.5 and civic.evidence[-1].detail == "a car detected, 0.80"
    assert grounded.per_mention[0].box == car.box and grounded.per_mention[1].box is None


@pytest.mark.parametrize(
    "text, placed",
    [
        ("Grace Hopper ( left ) and Eileen Collins ( right ) in 1984", {"Grace Hopper", "Eileen Collins"}),
        ("Happy birthday Grace Hopper ! Eileen Collins sent a video", set()),  # text order only
        ("Eileen Collins and Grace Hopper at the gala", {"Eileen Collins", "Grace Hopper"}),  # a caption list
        ("L-R : Eileen Collins with NASA and Grace Hopper", {"Eileen Collins", "Grace Hopper"}),
        ("Grace Hopper ( left ) met Eileen Collins", {"Grace Hopper"}),  # one cue places one name
    ],
)
def test_the_text_places_names_only_by_a_position_cue_or_a_caption_list(text, placed):
    mentions = sorted(mentions_in(text, ("Grace Hopper", "PER"), ("Eileen Collins", "PER")), key=lambda m: m.start)
    assert {mentions[i].text for i in placed_by_caption(text, mentions)} == placed
