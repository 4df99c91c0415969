"""Predictions for a dataset split through the product's own file path (`analyze`), for `eval --dataset`.

The split's posts become analyze input lines whose image is `<images_dir>/<id>.jpg` (null when
that file is missing: a post without image, as METHOD.md asks), and `analyze_jsonl` writes the
predictions exactly as `main.py analyze` would, so scoring them is scoring the product.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from groundlens.core.datasets.gmner import GmnerPost
from groundlens.core.jobs.analyze_file import AnalyzeSummary, analyze_jsonl
from groundlens.core.jobs.engine import Engine


def analyze_rows(posts: list[GmnerPost], images_dir: Path | None) -> list[dict]:
    """One analyze input row per post; image paths are absolute so the rows work from any folder."""
    rows = []
    for post in posts:
        image = images_dir / f"{post.image_id}.jpg" if images_dir is not None else None
        rows.append(
            {
                "id": post.image_id,
                "text": post.text,
                "image": str(image.resolve()) if image is not None and image.is_file() else None,
            }
        )
    return rows


def predict_split(
    engine: Engine,
    posts: list[GmnerPost],
    images_dir: Path | None,
    target: Path,
    batch_size: int = 8,
    on_progress: Callable[[int], None] | None = None,
) -> AnalyzeSummary:
    """Run the pipeline on the posts and write `target` (atomically: a crash leaves no half file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".predict-") as work:
        source, partial = Path(work) / "input.jsonl", Path(work) / "predictions.jsonl"
        source.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in analyze_rows(posts, images_dir)),
            encoding="utf-8",
        )
        summary = analyze_jsonl(engine, source, partial, batch_size, on_progress)
        os.replace(partial, target)
    return summary
