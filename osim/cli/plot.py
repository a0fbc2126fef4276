"""``osim-rl plot``: PNG plots of a training run's learning curve, of one
episode, or of the target-velocity field an episode walked in (L2M2019)."""

from __future__ import annotations

import argparse
from pathlib import Path

from osim.cli.args import policy_name, positive_int


def _curve(args: argparse.Namespace) -> int:
    from osim.render.plots import plot_learning_curve

    source = Path(args.source)
    csv_path = source / "progress.csv" if source.is_dir() else source
    if not csv_path.is_file():
        raise SystemExit(f"osim-rl plot curve: no training log at {csv_path}")
    out = Path(args.out) if args.out else csv_path.with_name("learning_curve.png")
    try:
        plot_learning_curve(csv_path, out)
    except ValueError as err:
        raise SystemExit(f"osim-rl plot curve: {err}") from None
    print(f"wrote {out}")
    return 0


def _trace_episode(args: argparse.Namespace, trace_fn, **env_options):
    """Run one episode of ``args.policy`` on ``args.env`` through ``trace_fn``
    (`osim.render.plots.episode_trace` or `field_trace`); returns the output
    path, the trace and the env's task."""
    import gymnasium

    from osim.cli.args import make_policy
    from osim.env import env_id

    out = Path(args.out)
    if not out.parent.is_dir():
        raise SystemExit(f"osim-rl plot {args.kind}: no directory {out.parent} for {out.name}")
    env = gymnasium.make(env_id(args.env), **env_options)
    trace = trace_fn(env, make_policy(args.policy, env, args.seed),
                     seed=args.seed, max_steps=args.steps)
    env.close()
    return out, trace, env.unwrapped.task


def _episode(args: argparse.Namespace) -> int:
    from osim.render.plots import episode_trace, plot_episode

    out, trace, _ = _trace_episode(args, episode_trace)
    total = sum(float(v.sum()) for v in trace["reward_terms"].values())
    plot_episode(trace, out, title=f"{args.env}, policy {args.policy}, seed {args.seed}: "
                                   f"{len(trace['time'])} steps, reward {total:.2f}")
    print(f"wrote {out}")
    return 0


def _field(args: argparse.Namespace) -> int:
    from osim.render.plots import field_trace, plot_field

    options = {} if args.difficulty is None else {"difficulty": args.difficulty}
    out, trace, task = _trace_episode(args, field_trace, **options)
    plot_field(trace, out, title=f"{args.env} difficulty {task.episode['difficulty']}, "
                                 f"policy {args.policy}, seed {args.seed}: "
                                 f"{trace['time']:.2f} s walked")
    print(f"wrote {out}")
    return 0


def _add_episode_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a plot of one episode: its length, seed, policy and PNG file."""
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="at most this many steps (default: the whole episode)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policy", default="random", type=policy_name,
                        help="random (default), zero or MODULE:FACTORY (see osim-rl record)")
    parser.add_argument("--out", required=True, help="PNG file")


def _difficulty(text: str) -> int:
    if text not in ("0", "1", "2", "3"):
        raise argparse.ArgumentTypeError(f"must be 0, 1, 2 or 3, got {text!r}")
    return int(text)


def add_parser(commands) -> None:
    from osim.tasks import TASKS

    plot = commands.add_parser("plot", help="plot a learning curve, an episode or a target "
                                            "field (PNG)")
    kinds = plot.add_subparsers(dest="kind", required=True, metavar="KIND")

    curve = kinds.add_parser("curve", help="episode reward against steps of a training run")
    curve.add_argument("source", metavar="RUN_DIR_or_progress.csv",
                       help="a run directory holding progress.csv, or the csv itself")
    curve.add_argument("--out", help="PNG file (default: learning_curve.png next to the csv)")
    curve.set_defaults(run_command=_curve)

    episode = kinds.add_parser("episode", help="joint angles, activations and reward terms "
                                               "of one episode")
    episode.add_argument("--env", default="Arm", choices=sorted(TASKS), help="task (default: Arm)")
    _add_episode_arguments(episode)
    episode.set_defaults(run_command=_episode)

    fields = sorted(name for name, task in TASKS.items() if hasattr(task, "field_map"))
    field = kinds.add_parser("field", help="the target-velocity field with the pelvis path "
                                           "of one episode")
    field.add_argument("--env", default=fields[0], choices=fields,
                       help=f"task (default: {fields[0]})")
    field.add_argument("--difficulty", type=_difficulty, default=None,
                       help="the field's version, 0-3 (default: the task's)")
    _add_episode_arguments(field)
    field.set_defaults(run_command=_field)
    plot.set_defaults(run=lambda args: args.run_command(args))
