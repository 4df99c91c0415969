"""datasets/grounding-dev is well-formed: what `eval --dataset` and bench_grounding read is all there and consistent."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from groundlens.core.datasets.gmner import dataset_paths, read_conll, read_split, read_voc

ROOT = Path(__file__).resolve().parent.parent / "datasets" / "grounding-dev"
CONLL, XML = dataset_paths(ROOT, "dev")
POSTS = read_split(CONLL, XML)


def test_the_set_is_large_and_varied_enough():
    entities = [e for post in POSTS for e in post.entities]
    assert len(POSTS) >= 25
    assert sum(e.groundable for e in entities) >= 25 and sum(not e.groundable for e in entities) >= 25
    assert sum(sum(e.type == "PER" and e.groundable for e in post.entities) >= 2 for post in POSTS) >= 5
    assert {e.type for e in entities if e.groundable} == {"PER", "ORG", "LOC", "OTHER"}
    assert len({p.image_id for p in POSTS}) == len(POSTS)


def test_sources_name_every_image():
    sources = (ROOT / "SOURCES.md").read_text(encoding="utf-8")
    assert all(post.image_id in sources for post in POSTS)


def test_every_post_has_an_image_and_a_voc_file_of_that_size():
    for post in POSTS:
        with Image.open(ROOT / "images" / f"{post.image_id}.jpg") as image:
            image.load()  # decodes the whole file, not just the header
            assert image.format == "JPEG" and max(image.size) <= 1024, post.image_id
            assert (XML / f"{post.image_id}.xml").is_file(), post.image_id
            assert post.image_size == image.size, post.image_id


def test_every_gold_box_lies_inside_its_image():
    for post in POSTS:
        width, height = post.image_size
        for entity in post.entities:
            for x0, y0, x1, y1 in entity.boxes:
                assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (post.image_id, entity.text)


def test_every_voc_object_names_an_entity_of_its_post():
    texts = {post.image_id: {e.text for e in post.entities} for post in POSTS}
    for path in sorted(XML.glob("*.xml")):
        _, boxes = read_voc(path)
        unknown = set(boxes) - texts.get(path.stem, set())
        assert not unknown, f"{path.name}: {unknown} is not an entity of post {path.stem}"


def test_no_stray_files():
    ids = {image_id for image_id, _, _ in read_conll(CONLL)}
    assert {p.stem for p in (ROOT / "images").glob("*")} == ids
    assert {p.stem for p in XML.glob("*")} == ids


def test_the_set_stays_small():
    assert sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file()) < 5 * 2**20
