"""The ``osim-rl`` command line (also ``python -m osim``).

Each subcommand lives in its own module here and exposes ``add_parser(commands)``,
which adds its subparser and sets ``run`` (a function of the parsed arguments
returning the exit code). Adding a command = one module + one line in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = [
    "demo",
    "record",
    "plot",
    "train",
    "evaluate",
    "convert",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osim-rl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"osim.cli.{name}").add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command. User errors (a missing or bad file, a bad value) end with one line on
    stderr and exit code 1; argparse's own errors exit with 2. ``OSIM_RL_DEBUG=1`` shows the
    traceback instead."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, IsADirectoryError, PermissionError, ValueError) as err:
        if os.environ.get("OSIM_RL_DEBUG"):
            raise
        print(f"osim-rl {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"osim-rl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
