"""``osim-rl train``: train an agent on a task; writes params.pkl, progress.csv, learning_curve.png."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from osim.cli.args import add_engine_argument, positive_int


def parse_settings(items: list[str], parser: argparse.ArgumentParser,
                   flag: str = "--set") -> dict:
    """``["key=value", ...]`` as a dict; values are Python literals (``3e-4``, ``[64, 64]``,
    ``None``, ``True``) or else plain strings (``activation=relu``)."""
    settings = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            parser.error(f"{flag} expects KEY=VALUE with KEY a name, got {item!r}")
        try:
            settings[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            settings[key] = text.strip()
    return settings


def env_name(text: str) -> str:
    from osim.env.registration import task_name

    try:
        return task_name(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def fail(message: str, code: int = 1) -> int:
    print(f"osim-rl: error: {message}", file=sys.stderr)
    return code


def _train(args: argparse.Namespace) -> int:
    from osim.train import (
        BackendUnavailable,
        SnapshotError,
        TrainConfig,
        TrainingInterrupted,
        choose_backend,
        load_snapshot,
        reward_summary,
    )

    parser = args.parser
    resumed = None
    if args.resume is not None:
        try:
            resumed = load_snapshot(args.resume)
        except SnapshotError as err:
            return fail(str(err))
    env = args.env or (resumed["env"] if resumed else "Arm")
    algorithm = (args.algo or (resumed["algorithm"] if resumed else "PPO")).upper()
    try:
        backend = choose_backend(algorithm, args.backend, resumed)
    except BackendUnavailable as err:
        return fail(str(err))
    except ValueError as err:
        parser.error(str(err))
    env_kwargs = (dict(resumed["env_kwargs"]) if resumed else {})
    env_kwargs.update(parse_settings(args.env_options, parser, "--env-option"))
    if args.engine is not None:
        env_kwargs["engine"] = args.engine
    backend_options = {"address": args.address} if args.address is not None else {}
    out = args.out or Path("runs") / f"{env.lower()}-{algorithm.lower()}"
    try:
        backend.check_algorithm(algorithm)
        backend.check_options(backend_options)
        config = TrainConfig(env=env, algorithm=algorithm, steps=args.steps, out=out,
                             seed=args.seed, workers=args.workers, env_kwargs=env_kwargs,
                             hyperparams=parse_settings(args.settings, parser),
                             resume=args.resume, progress=args.progress,
                             backend_options=backend_options)
    except ValueError as err:
        parser.error(str(err))
    print(f"training {algorithm} ({backend.name}) on {env} for {args.steps} steps"
          f"{f' from {args.resume}' if args.resume else ''}; output in {out}", flush=True)
    try:
        params_path = backend.train(config)
    except SnapshotError as err:
        return fail(str(err))
    except ValueError as err:
        parser.error(str(err))
    except TrainingInterrupted:
        return 130  # the backend has said where the snapshot is
    snapshot = load_snapshot(params_path)
    print(f"params:         {params_path}")
    print(f"progress log:   {Path(config.out) / 'progress.csv'}")
    print(f"learning curve: {Path(config.out) / 'learning_curve.png'}")
    summary = reward_summary(snapshot["log"])
    if summary is None:
        print(f"{snapshot['steps_done']} steps; no episode finished (episodes last longer)")
    else:
        first, last = summary
        print(f"{snapshot['steps_done']} steps, {len(snapshot['log'])} episodes; mean episode "
              f"reward {first:.3f} (first 10%) -> {last:.3f} (last 10%)")
    return 0


def add_parser(commands) -> None:
    from osim.train import BACKENDS, DEFAULT_BACKENDS

    train = commands.add_parser(
        "train", help="train an agent (writes params.pkl, progress.csv, learning_curve.png)",
        description=__doc__.splitlines()[0].split(": ", 1)[1])
    train.add_argument("--env", type=env_name, default=None,
                       help="task name or id, e.g. Arm or osim/Arm-v0 (default: Arm, or the "
                            "resumed run's)")
    train.add_argument("--algo", default=None,
                       help=f"algorithm, e.g. {', '.join(DEFAULT_BACKENDS)} (default: PPO, or "
                            "the resumed run's)")
    train.add_argument("--steps", type=positive_int, default=20000,
                       help="environment steps (added to the resumed run's; default: 20000)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, default=None,
                       help="output folder (default: runs/<env>-<algo>)")
    train.add_argument("--backend", choices=sorted(BACKENDS), default=None,
                       help="training library (default: sb3 for "
                            f"{'/'.join(DEFAULT_BACKENDS)})")
    train.add_argument("--workers", type=positive_int, default=1,
                       help="parallel environments (processes)")
    train.add_argument("--resume", type=Path, default=None, metavar="PARAMS_PKL",
                       help="continue training from this snapshot")
    train.add_argument("--set", dest="settings", action="append", default=[],
                       metavar="KEY=VALUE", help="override a hyperparameter (repeatable)")
    train.add_argument("--env-option", dest="env_options", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="env/task option, e.g. max_episode_steps=100 (repeatable)")
    train.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar")
    train.add_argument("--address", default=None, help="Ray cluster address (rllib backend)")
    add_engine_argument(train, "physics engine of the envs (default: OpenSim, or the resumed "
                               "run's); the snapshot records it")
    train.set_defaults(run=_train, parser=train)
