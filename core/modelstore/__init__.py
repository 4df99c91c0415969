"""The model store: a catalogue of model files, where each comes from, install and presence checks.

Backends call `require(name)` for the path of an installed model; `models list` and
`models install` (cli/model_commands.py) are the user's side of the same catalogue.
"""

from groundlens.core.modelstore.catalog import CATALOG, ModelEntry, Source, UnknownModelError, defaults, get
from groundlens.core.modelstore.installer import InstallResult, install
from groundlens.core.modelstore.status import ModelNotInstalledError, ModelStatus, require, status, verify

__all__ = [
    "CATALOG",
    "InstallResult",
    "ModelEntry",
    "ModelNotInstalledError",
    "ModelStatus",
    "Source",
    "UnknownModelError",
    "defaults",
    "get",
    "install",
    "require",
    "status",
    "verify",
]
