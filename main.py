"""GroundLens entry point: `python main.py` opens the desktop app, subcommands run headless."""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> None:
    from groundlens.cli import cli

    cli.main(args=argv, prog_name="main.py")


if __name__ == "__main__":
    run(sys.argv[1:])
