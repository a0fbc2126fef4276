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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def add_engine_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--engine NAME``, one of the registered engines (argparse lists them)."""
    from osim.engines import ENGINES

    parser.add_argument("--engine", choices=sorted(ENGINES), default=None, help=help)


def make_policy(name: str, env, seed: int | None):
    """``random`` (uniform excitations, seeded), ``zero`` (muscles off) or
    ``MODULE:FACTORY``, a function ``FACTORY(env) -> policy(observation) -> action``
    (e.g. ``osim.render.demo_policies:arm_reach``)."""
    import importlib

    import numpy as np

    space = env.action_space
    if name == "zero":
        return lambda observation: np.zeros(space.shape, dtype=space.dtype)
    if name == "random":
        rng = np.random.default_rng(seed)
        return lambda observation: rng.uniform(0.0, 1.0, space.shape).astype(space.dtype)
    module, _, factory = name.partition(":")
    try:
        make = getattr(importlib.import_module(module), factory)
    except (ImportError, AttributeError, ValueError) as err:
        raise SystemExit(f"osim-rl: cannot load policy {name!r} ({err}); use random, zero "
                         "or MODULE:FACTORY") from None
    try:
        return make(env)
    except ValueError as err:
        raise SystemExit(f"osim-rl: policy {name!r}: {err}") from None


def policy_name(text: str) -> str:
    if text in ("random", "zero") or (":" in text and all(text.partition(":")[::2])):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not random, zero or MODULE:FACTORY")
