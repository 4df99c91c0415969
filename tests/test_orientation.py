"""Photos stored sideways with an EXIF Orientation tag: the pipeline, the store and the GUI all use the
picture as displayed, so boxes and masks land on what the analyst sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from groundlens.cli import cli
from groundlens.storage import Store

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images" / "grace_hopper.jpg"
LIGHT = ["--ner", "spacy", "--entailment", "off", "--segmentation", "off"]  # person_detector grounds
ROTATE_90_CW = 6  # EXIF: turn the stored pixels 90 degrees clockwise to display them


def sideways(upright: Image.Image, path: Path) -> Path:
    """A JPEG whose pixels are `upright` turned a quarter anticlockwise, tagged to be shown upright."""
    exif = Image.Exif()
    exif[0x0112] = ROTATE_90_CW
    upright.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif.tobytes(), quality=95)
    return path


def run(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)


def test_imported_size_is_the_displayed_size(tmp_path, qapp) -> None:
    from groundlens.gui.workers import read_image

    photo = sideways(Image.new("RGB", (60, 40), "red"), tmp_path / "photo.jpg")  # shown 60 wide, 40 high
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "a photo", "image": str(photo)}) + "\n")
    assert run(tmp_path / "data", "import", str(posts)).exit_code == 0
    with Store.open(tmp_path / "data" / "groundlens.db") as store:
        [media] = store.get_post(store.post_ids(None)[0]).media
    shown = read_image(photo).size()
    assert (media.width, media.height) == (shown.width(), shown.height()) == (60, 40)


@pytest.mark.slow
def test_boxes_are_found_on_the_picture_as_displayed(tmp_path) -> None:
    upright = Image.open(DEMO).convert("RGB")
    upright.save(tmp_path / "upright.jpg", quality=95)
    sideways(upright, tmp_path / "sideways.jpg")
    lines = [
        json.dumps({"id": name, "text": "Grace Hopper at Yale", "image": f"{name}.jpg"})
        for name in ("upright", "sideways")
    ]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = run(tmp_path / "data", "analyze", str(tmp_path / "posts.jsonl"), "-o", str(out), *LIGHT)
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    boxes = {name: [e["box"] for e in rows[name]["entities"] if e["text"] == "Grace Hopper"] for name in rows}
    assert boxes["upright"] and boxes["upright"][0] is not None
    width, height = upright.size
    x0, y0, x1, y1 = boxes["sideways"][0]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert boxes["sideways"][0] == pytest.approx(boxes["upright"][0], abs=4)  # same face, same place
