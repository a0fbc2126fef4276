"""The ``osim-rl`` command line (also ``python -m osim``).

Each subcommand lives in its own module here and exposes ``add_parser(commands)``,
which adds its subparser and sets ``run`` (a function of the parsed arguments
returning the exit code). Adding a command = one module + one line in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = [
    "demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osim-rl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"osim.cli.{name}").add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
