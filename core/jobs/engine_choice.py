"""Which engine runs the pipeline: the settings choose between this process (LocalEngine) and Ray.

Apart from both engines, so that neither imports the other.
"""

from __future__ import annotations

from groundlens.core.jobs.engine import Engine, LocalEngine
from groundlens.core.settings import Settings


def open_engine(settings: Settings) -> Engine:
    """The engine the settings name, with its models loaded (on the cluster for Ray)."""
    if settings.engine == "ray":
        from groundlens.core.jobs.ray_engine import RayEngine

        return RayEngine(settings)
    return LocalEngine(settings)
