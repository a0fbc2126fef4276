"""Argument types shared by the subcommands (argparse turns their errors into exit code 2)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_engine_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--engine NAME``, one of the registered engines (argparse lists them)."""
    from osim.engines import ENGINES

    parser.add_argument("--engine", choices=sorted(ENGINES), default=None, help=help)
