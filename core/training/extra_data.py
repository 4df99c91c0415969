"""Extra training posts beside a dataset's train split: the analyst's own corrected posts.

An extra folder has the Twitter-GMNER layout (`txt/train.txt` CoNLL with `IMGID:` lines, `xml/`
VOC boxes), as an export of corrected posts writes it. Its posts join the training split only:
the model is still chosen on the dataset's dev split, so a domain the analyst adds cannot
quietly move the yardstick it is measured by. Image ids must not clash with the training
split's or another extra folder's, since an id names one image's boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from groundlens.core.datasets.gmner import GmnerFormatError, GmnerPost, dataset_paths, read_split

SPLIT = "train"


def read_extra(folders: Sequence[Path], taken: Sequence[GmnerPost] = ()) -> list[GmnerPost]:
    """The train split of each folder, in the order given; a missing split or an image id seen
    before (in `taken` or an earlier folder) is an error that names the folder."""
    seen = {post.image_id for post in taken}
    posts: list[GmnerPost] = []
    for folder in folders:
        conll, xml_dir = dataset_paths(Path(folder), SPLIT)
        if not conll.is_file():
            raise GmnerFormatError(f"{folder}: no {SPLIT} split (expected {conll})")
        found = read_split(conll, xml_dir if xml_dir.is_dir() else None)
        clashes = sorted({post.image_id for post in found} & seen)
        if clashes:
            raise GmnerFormatError(f"{folder}: image ids already used by the training data: {', '.join(clashes[:5])}")
        seen |= {post.image_id for post in found}
        posts += found
    return posts
