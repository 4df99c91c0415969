"""Access to segment-anything's model parts without its package `__init__`.

`segment_anything/__init__.py` imports the predictor and the automatic mask generator, which
import torchvision; the product must never install torchvision (its only wheel for our torch
is a CUDA build that breaks transformers). `segment_anything.modeling` itself needs only torch
and imports nothing outside its own folder (relative imports only).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "segment_anything"
# The name the modeling folder is imported under: ours, so that no module named `segment_anything` is faked
# in sys.modules (a real import of the package elsewhere in the process stays a real one).
MODELING = "groundlens_sam_modeling"


def sam_modeling() -> ModuleType:
    """The installed `segment_anything/modeling` package, loaded under the name MODELING.

    `find_spec` locates the installed package without running it; the modeling folder is then loaded
    as a package of its own from its `__init__.py`, and its relative imports (`.sam`, `.common`) resolve
    inside that folder. `segment_anything/__init__.py` never runs.
    """
    loaded = sys.modules.get(MODELING)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{PACKAGE} is not installed: pip install segment-anything==1.0")
    folder = Path(next(iter(spec.submodule_search_locations))) / "modeling"
    modeling_spec = importlib.util.spec_from_file_location(
        MODELING, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if modeling_spec is None or modeling_spec.loader is None:
        raise ModuleNotFoundError(f"{PACKAGE} has no modeling package at {folder}")
    module = importlib.util.module_from_spec(modeling_spec)
    sys.modules[MODELING] = module  # before running it, as the import system does: its submodules look it up
    try:
        modeling_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(MODELING, None)
        raise
    return module
