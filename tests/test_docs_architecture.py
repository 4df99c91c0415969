"""docs/ARCHITECTURE.md describes the code as it is: every file, folder and module it names exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
TOP = ("cli", "core", "gui", "storage", "records", "resources", "bench", "tools", "tests", "datasets", "docs")


def tree_paths(doc: str) -> list[str]:
    """The paths of the layout block: each entry's name under the folders above it (two spaces a level)."""
    block = doc.split("```\n", 2)[1]
    parents: list[str] = []
    found = []
    for line in block.splitlines():
        match = re.match(r"( *)(\S+)\s", line + " ")
        if not match or not re.match(r"[\w.\-]+/?$", match.group(2)):
            continue
        depth = len(match.group(1)) // 2
        names = [n for n in line.split("  ")[0].split() if re.match(r"[\w.\-]+/?(?:[\w.\-]+)?$", n)]
        parents = parents[:depth]
        for name in names:
            found.append("/".join([*parents, name]))
        if names and names[-1].endswith("/"):
            parents.append(names[-1].rstrip("/"))
    return found


def test_every_path_in_the_layout_exists():
    missing = [path for path in tree_paths(DOC) if not (REPO / path).exists()]
    assert tree_paths(DOC) and not missing, missing


def test_every_path_and_module_named_in_the_text_exists():
    before, _, after = DOC.partition("```\n")
    text = before + after.partition("```\n")[2]  # the layout block's paths are relative to their folder
    paths = set(re.findall(rf"(?<![\w/])(?:{'|'.join(TOP)})/[\w/.\-]*\w", text))
    missing = [p for p in sorted(paths) if not (REPO / p).exists()]
    modules = set(re.findall(r"\bgroundlens(?:\.[a-z_]+)+", text))
    unknown = [m for m in sorted(modules) if not (_exists(m) or _exists(m.rsplit(".", 1)[0]))]  # module, or name in one
    assert not missing and not unknown, (missing, unknown)


def _exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False
