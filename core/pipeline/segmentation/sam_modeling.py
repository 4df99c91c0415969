"""Access to segment-anything's model parts without its package `__init__`.

`segment_anything/__init__.py` imports the predictor and the automatic mask generator, which
import torchvision; the product must never install torchvision (its only wheel for our torch
is a CUDA build that breaks transformers). `segment_anything.modeling` itself needs only torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

PACKAGE = "segment_anything"


def sam_modeling() -> ModuleType:
    """Return `segment_anything.modeling`, never executing `segment_anything/__init__.py`.

    The installed package is located with `find_spec` (which does not run it) and registered in
    `sys.modules` as a bare package module built from that spec, with `__path__` pointing at the
    installed folder; Python then imports its submodules from there as usual. If the real package
    was already imported (some other environment that has torchvision), it is reused as is.
    """
    if PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"{PACKAGE} is not installed: pip install segment-anything==1.0")
        sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)  # deliberately not exec_module
    return importlib.import_module(f"{PACKAGE}.modeling")
