"""The demo database with predictions saved through the store, so that GUI tests need no models."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from groundlens.core import masks
from groundlens.core.config import AppPaths, resolve_paths
from groundlens.core.demo import prepare_demo
from groundlens.records import Entity, Region
from groundlens.storage import Store

# (surface text, type) found in the demo posts, and where some of them are in their photo.
NAMES = {
    "Grace Hopper Celebration": "OTHER",
    "Grace Hopper": "PER",
    "Navy": "ORG",
    "COBOL": "OTHER",
    "Remington Rand": "ORG",
    "NASA": "ORG",
    "Eileen Collins": "PER",
    "Space Shuttle": "OTHER",
    "SpaceX": "ORG",
    "Falcon 9": "OTHER",
    "Cape Canaveral": "LOC",
    "Florida": "LOC",
    "ESA": "ORG",
    "MIT": "ORG",
    "Cambridge": "LOC",
    "Chelsea": "PER",
    "Boston": "LOC",
    "Blue Bottle": "ORG",
    "Oakland": "LOC",
    "Yale": "ORG",
    "Houston": "LOC",
}


BOXES = {
    ("demo-001", "Grace Hopper"): (20, 25, 510, 600),
    ("demo-002", "Eileen Collins"): (120, 0, 420, 512),
    ("demo-003", "Falcon 9"): (290, 125, 345, 410),
    ("demo-006", "Chelsea"): (10, 0, 440, 300),
}


def ellipse_mask(size: tuple[int, int], box: tuple[float, float, float, float]) -> np.ndarray:
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1


def find_entities(native_id: str, text: str, image_size: tuple[int, int] | None) -> list[Entity]:
    found, taken = [], set()
    for name, kind in NAMES.items():  # longer names first in NAMES where they overlap
        start = text.find(name)
        if start < 0 or any(i in taken for i in range(start, start + len(name))):
            continue
        taken.update(range(start, start + len(name)))
        box = BOXES.get((native_id, name))
        regions = []
        if box and image_size:
            rle = masks.encode(ellipse_mask(image_size, box))
            regions = [Region(box=box, score=0.9, mask_rle=rle, area=masks.area(rle))]
        found.append(
            Entity(
                start,
                start + len(name),
                name,
                kind,
                score=0.95,
                groundable=bool(regions) if image_size else None,
                regions=regions,
            )
        )
    return sorted(found, key=lambda e: e.start)


def demo_with_predictions(tmp_path: Path) -> AppPaths:
    """The real demo import, then predictions (and one post's gold) saved through the store."""
    setup = prepare_demo(resolve_paths(tmp_path / "data"))
    with Store.open(setup.paths.db_path) as store:
        for post_id in store.post_ids(None):
            post = store.get_post(post_id)
            size = None
            if post.media and post.media[0].local_path:
                from PIL import Image

                with Image.open(post.media[0].local_path) as image:
                    size = (image.height, image.width)
            store.save_result(post_id, setup.config_key, find_entities(post.native_id, post.text, size), None)
            if post.native_id == "demo-001":
                gold_box = (30, 30, 500, 600)
                store.add_gold_entities(
                    post_id,
                    [
                        Entity(
                            post.text.index("Grace Hopper"),
                            post.text.index("Grace Hopper") + 12,
                            "Grace Hopper",
                            "PER",
                            origin="gold",
                            regions=[Region(box=gold_box)],
                        )
                    ],
                )
    return setup.paths
