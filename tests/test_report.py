"""The shareable HTML report (`report`): one file that opens offline, on the real demo with masks."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from io import BytesIO

from click.testing import CliRunner
from PIL import Image

from groundlens.cli import cli
from groundlens.storage import Store
from tests.helpers.storage import make_post


class Page(HTMLParser):
    """Every src/href in the page, the images by id/class, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.links += [value for name, value in attrs if name in ("src", "href") and value]
        if tag == "img":
            self.images.append(values)

    def handle_data(self, data):
        self.text.append(data)


def report(data_dir, out, *args):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "report", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    return result, page


def decoded(uri: str) -> bytes:
    head, payload = uri.split(",", 1)
    assert head.endswith(";base64")
    return base64.b64decode(payload)


def test_report_opens_offline_with_chart_overlays_and_top_entities(demo_paths, tmp_path):
    out = tmp_path / "report.html"
    result, page = report(demo_paths.data_dir, out)
    assert "Wrote a report on 10 posts" in result.output
    assert page.links and all(link.startswith("data:") for link in page.links)  # nothing to fetch
    by_id = {image.get("id"): image for image in page.images}
    trend = decoded(by_id["trend-chart"]["src"])
    assert by_id["trend-chart"]["src"].startswith("data:image/svg+xml") and b"<svg" in trend
    overlays = [image for image in page.images if image.get("class") == "overlay"]
    assert len(overlays) == 4  # the four demo posts whose pictures have entity regions
    with Image.open(BytesIO(decoded(overlays[0]["src"]))) as picture:
        assert picture.format == "JPEG" and max(picture.size) <= 640
    with Store.open(demo_paths.db_path) as store:
        top = store.summarize_posts(store.post_ids(None), top=3).entities
    text = " ".join(page.text)
    assert all(entity.name in text for entity in top)
    assert "processed 10 of them (100%)" in " ".join(text.split())


def test_report_overlay_shows_the_mask_colour_on_the_picture(demo_paths, tmp_path):
    """The Falcon 9 post (an OTHER entity, pink #CC79A7) gets its mask tinted into the picture."""
    _, page = report(demo_paths.data_dir, tmp_path / "r.html", "--query", "Falcon")
    (overlay,) = [image for image in page.images if image.get("class") == "overlay"]
    with Image.open(BytesIO(decoded(overlay["src"]))) as picture:
        scale = picture.width / 640 if picture.width < 640 else 1.0
        centre = picture.convert("RGB").getpixel((round(317 * scale), round(270 * scale)))
    red, green, blue = centre
    assert red > green and blue > green  # pink tint over the rocket's middle


def test_report_is_the_same_file_twice_and_counts_only_the_query(demo_paths, tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    report(demo_paths.data_dir, first, "--query", "NASA")
    _, page = report(demo_paths.data_dir, second, "--query", "NASA")
    assert first.read_bytes() == second.read_bytes()
    with Store.open(demo_paths.db_path) as store:
        matching = store.count_matching("NASA")
    assert f"{matching} posts; the pipeline" in " ".join(" ".join(page.text).split())


def test_report_refuses_to_overwrite_the_database(demo_paths):
    db = demo_paths.db_path
    size = db.stat().st_size
    result = CliRunner().invoke(cli, ["--data-dir", str(demo_paths.data_dir), "report", "--out", str(db)])
    assert result.exit_code == 2 and "it is the database" in result.output
    assert db.stat().st_size == size


def test_report_says_what_its_figures_leave_out(demo_paths, tmp_path):
    """An unprocessed post lowers the processed share; an undated one is named as off the time line."""
    with Store.open(demo_paths.db_path) as store:
        store.upsert_posts([make_post("late", "NASA news without a date", None)])
    _, page = report(demo_paths.data_dir, tmp_path / "r.html")
    text = " ".join(" ".join(page.text).split())
    assert "11 posts; the pipeline has processed 10 of them (91%)" in text
    assert "1 post has no date: its mentions count in the top entities" in text
    assert "0 retweets are left out" in text
