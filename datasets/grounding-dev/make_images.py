"""Rebuild images/ from the packages named in SOURCES.md (run once by the annotator; not used at run time).

Usage: python datasets/grounding-dev/make_images.py SKIMAGE_DATA MPL_SAMPLE_DATA OPENCV_EXAMPLES SKLEARN_IMAGES PYWT_DATA
where each argument is the folder the file was unpacked to (see SOURCES.md; PyWavelets keeps its photos as
8-bit arrays in .npz files). Photos are resized to at most
800 px on the long side; composites put two photos side by side at a common height of 400 px.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

LONG_SIDE = 800
COMPOSITE_HEIGHT = 400

# id -> one source (root key, relative path) or two for a side-by-side composite (left, right)
SOURCES: dict[str, list[tuple[str, str]]] = {
    "gd01": [("sk", "astronaut.png")],
    "gd02": [("sk", "astronaut.png")],
    "gd03": [("sk", "astronaut.png"), ("mpl", "grace_hopper.jpg")],
    "gd04": [("mpl", "grace_hopper.jpg"), ("sk", "astronaut.png")],
    "gd05": [("sk", "astronaut.png"), ("mpl", "grace_hopper.jpg")],
    "gd06": [("mpl", "grace_hopper.jpg")],
    "gd07": [("pw", "ascent.npz")],
    "gd08": [("cv", "data/basketball1.png")],
    "gd09": [("cv", "data/basketball2.png")],
    "gd10": [("sk", "camera.png")],
    "gd11": [("sk", "coffee.png")],
    "gd12": [("sk", "chelsea.png")],
    "gd13": [("sk", "rocket.jpg")],
    "gd14": [("cv", "text/scenetext04.jpg")],
    "gd15": [("cv", "text/scenetext01.jpg")],
    "gd16": [("cv", "text/scenetext02.jpg")],
    "gd17": [("cv", "text/scenetext03.jpg")],
    "gd18": [("cv", "text/scenetext06.jpg")],
    "gd19": [("cv", "data/licenseplate_motion.jpg")],
    "gd20": [("cv", "data/home.jpg")],
    "gd21": [("skl", "china.jpg")],
    "gd22": [("cv", "data/box_in_scene.png")],
    "gd23": [("cv", "data/squirrel_cls.jpg")],
    "gd24": [("cv", "data/fruits.jpg")],
    "gd25": [("cv", "data/butterfly.jpg")],
    "gd26": [("sk", "camera.png"), ("mpl", "grace_hopper.jpg")],
    "gd27": [("sk", "coffee.png"), ("sk", "astronaut.png")],
    "gd28": [("cv", "text/scenetext05.jpg")],
    "gd29": [("skl", "flower.jpg")],
    "gd30": [("sk", "camera.png"), ("sk", "astronaut.png")],
    "gd31": [("cv", "data/building.jpg")],
    "gd32": [("cv", "hfs/data/000.jpg")],
    "gd33": [("cv", "hfs/data/002.jpg")],
}


def load(path: Path) -> Image.Image:
    if path.suffix == ".npz":
        with np.load(path) as arrays:
            return Image.fromarray(arrays["data"].astype(np.uint8)).convert("RGB")
    return Image.open(path).convert("RGB")


def single(image: Image.Image) -> Image.Image:
    scale = min(1.0, LONG_SIDE / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    return image


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    parts = [
        p.resize((round(p.width * COMPOSITE_HEIGHT / p.height), COMPOSITE_HEIGHT), Image.LANCZOS) for p in (left, right)
    ]
    canvas = Image.new("RGB", (parts[0].width + parts[1].width, COMPOSITE_HEIGHT))
    canvas.paste(parts[0], (0, 0))
    canvas.paste(parts[1], (parts[0].width, 0))
    return canvas


def main(sk: str, mpl: str, cv: str, skl: str, pw: str) -> None:
    roots = {"sk": Path(sk), "mpl": Path(mpl), "cv": Path(cv), "skl": Path(skl), "pw": Path(pw)}
    out = Path(__file__).parent / "images"
    out.mkdir(exist_ok=True)
    for image_id, parts in SOURCES.items():
        images = [load(roots[root] / rel) for root, rel in parts]
        built = single(images[0] if len(images) == 1 else side_by_side(*images))
        built.save(out / f"{image_id}.jpg", quality=88)


if __name__ == "__main__":
    main(*sys.argv[1:6])
