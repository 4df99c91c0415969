"""The inspector tells the truth about grounding: each chip shows the verdict with its confidence,
the evidence behind it is one hover away, and what the image showed besides the entities (text
read in it, people not identified) are layers of their own. Real demo import, real database."""

from __future__ import annotations

import pytest

from groundlens.core.config import resolve_paths
from groundlens.core.demo import prepare_demo
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.models.post_bundle import findings_overlays
from groundlens.gui.views.inspector import InspectorView
from groundlens.records import Entity, Evidence, ImageFindings, ImageObject, ImageText, Region
from groundlens.storage import Store


@pytest.fixture
def astronaut_post(tmp_path):
    """The demo post with the astronaut photo, with a result as the evidence pipeline writes it."""
    setup = prepare_demo(resolve_paths(tmp_path / "data"))
    with Store.open(setup.paths.db_path) as store:
        post = next(p for p in (store.get_post(i) for i in store.post_ids(None)) if "Eileen Collins" in p.text)
        start = post.text.index("Eileen Collins")
        nasa_at = post.text.index("NASA")
        collins = Entity(
            start,
            start + 14,
            "Eileen Collins",
            "PER",
            score=0.98,
            groundable=True,
            groundable_score=0.81,
            verdict="probably",
            evidence=[Evidence("person", "1 person detected, not identified", 0.9)],
        )
        nasa = Entity(
            nasa_at,
            nasa_at + 4,
            "NASA",
            "ORG",
            score=0.97,
            groundable=True,
            groundable_score=0.93,
            verdict="in_image",
            evidence=[Evidence("ocr", "read 'NASA' in the image, 0.97", 0.97)],
            regions=[Region((40.0, 60.0, 90.0, 80.0), 0.97)],
        )
        findings = ImageFindings(
            [ImageText("NASA", (40.0, 60.0, 90.0, 80.0), 0.97)],
            [ImageObject("person", (120.0, 0.0, 420.0, 512.0), 0.9, ("Eileen Collins",))],
        )
        store.save_results(setup.config_key, [(post.id, [collins, nasa], None)], {post.id: findings})
    return setup.paths, post.id


def test_chips_show_verdict_confidence_and_evidence(qtbot, astronaut_post):
    paths, post_id = astronaut_post
    application()
    view = InspectorView(open_context(paths))
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_post(post_id)

    rows = {row.text: row for row in view.entities.rows()}
    assert rows["NASA"].status == "in image 0.93"
    assert rows["Eileen Collins"].status == "probably, not located 0.81"
    assert rows["Eileen Collins"].evidence == ("1 person detected, not identified (0.90)",)
    tooltip = view.entities.item(list(rows).index("Eileen Collins")).toolTip()
    assert "1 person detected, not identified (0.90)" in tooltip

    view.entities.entity_hovered.emit(rows["NASA"].key)
    assert "• read 'NASA' in the image, 0.97\n" in view.evidence.text() + "\n"  # its score stated once
    view.entities.entity_hovered.emit("")
    assert view.evidence.text() == ""


def test_text_in_image_and_unidentified_people_are_layers(qtbot, astronaut_post):
    paths, post_id = astronaut_post
    application()
    view = InspectorView(open_context(paths))
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_post(post_id)
    canvas, buttons = view.canvas, view.overlay_bar.layer_buttons

    assert "u0" in canvas.visible_keys("labels")  # people not identified: shown by default
    assert "t0" not in canvas.visible_keys("labels")  # text read in the image: on demand
    buttons["text"].click()
    assert "t0" in canvas.visible_keys("labels")
    buttons["unidentified"].click()
    assert "u0" not in canvas.visible_keys("labels")
    labels = {overlay.key: overlay.label for overlay in findings_overlays(view.bundle.findings)}
    assert labels["u0"] == "person, not identified — maybe Eileen Collins"
    assert labels["t0"] == "“NASA” 0.97"
