"""`analyze`: the pipeline from one JSON-lines file to another, without touching the database.

Input lines are {"id": str, "text": str, "image": path or null}; a relative image path is
read from the input file's folder. A line that cannot be used (bad JSON, no text, a wrong
field type, JSON built to break a parser: nesting 100,000 deep, a 5,001-digit number, half a
surrogate pair) becomes an output line with only an `error`; an unreadable image becomes an
error on that post (its text entities are still given). Output keeps the input order, and
appears only when complete (core.safe_output), never over the input or the database.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TextIO

from groundlens.core.ingest.jsonl import JSONProblem, parse_json
from groundlens.core.jobs.convert import result_to_json
from groundlens.core.jobs.engine import Engine
from groundlens.core.pipeline.types import PostInput
from groundlens.core.safe_output import atomic_output, refuse_overwriting


@dataclass
class AnalyzeSummary:
    posts: int = 0
    errors: int = 0


def parse_line(number: int, line: str, base: Path) -> PostInput | dict:
    """A PostInput, or the output row saying why the line cannot be one."""
    try:
        obj = parse_json(line)
    except json.JSONDecodeError as exc:
        return {"id": f"line {number}", "error": f"line {number}: invalid JSON ({exc.msg})", "entities": []}
    except JSONProblem as exc:
        return {"id": f"line {number}", "error": f"line {number}: invalid JSON ({exc})", "entities": []}
    if not isinstance(obj, dict):
        return {"id": f"line {number}", "error": f"line {number}: expected a JSON object", "entities": []}
    post_id = str(obj["id"]) if isinstance(obj.get("id"), (str, int)) else f"line {number}"
    text, image = obj.get("text"), obj.get("image")
    if not isinstance(text, str):
        return {"id": post_id, "error": f"line {number}: missing or non-string 'text'", "entities": []}
    if image is not None and not isinstance(image, str):
        return {"id": post_id, "error": f"line {number}: 'image' must be a path or null", "entities": []}
    return PostInput(post_id, text, base / image if image else None)


def _numbered_lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def analyze_jsonl(
    engine: Engine, source: Path, target: Path, batch_size: int = 8, on_progress: Callable[[int], None] | None = None
) -> AnalyzeSummary:
    """Runs the pipeline (on `engine`) over `source` in batches into `target`; OutputError when `target`
    is `source`. Output lines keep the input's order whatever engine runs the batches."""
    refuse_overwriting(target, {"the input": [source]})
    summary = AnalyzeSummary()
    base = source.resolve().parent
    parsed: deque[list[PostInput | dict]] = deque()  # each batch's lines, bad ones included, in order

    def batches(lines: Iterator[tuple[int, str]]) -> Iterator[list[PostInput]]:
        while batch := [parse_line(n, line, base) for n, line in islice(lines, batch_size)]:
            parsed.append(batch)
            yield [item for item in batch if isinstance(item, PostInput)]

    with source.open(encoding="utf-8", errors="replace") as reader, atomic_output(target) as writer:
        for done in engine.map_batches(batches(_numbered_lines(reader))):
            batch, results = parsed.popleft(), iter(done)
            for item in batch:
                row = result_to_json(next(results)) if isinstance(item, PostInput) else item
                writer.write(json.dumps(row, ensure_ascii=False) + "\n")
                summary.posts += 1
                summary.errors += row["error"] is not None
            writer.flush()
            if on_progress:
                on_progress(len(batch))
    return summary
