"""GroundLens from a source checkout: `python main.py` opens the desktop app, subcommands run headless.

Installed, the same command line is `groundlens` (groundlens.cli:run).
"""

from __future__ import annotations

import sys

from groundlens.cli import run

if __name__ == "__main__":
    run(sys.argv[1:], prog_name="main.py")
