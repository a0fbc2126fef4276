"""``osim-rl plot``: PNG plots of a training run's learning curve or of one episode."""

from __future__ import annotations

import argparse
from pathlib import Path

from osim.cli.args import positive_int
from osim.cli.record import policy_name


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


def _episode(args: argparse.Namespace) -> int:
    import gymnasium

    from osim.cli.record import make_policy
    from osim.env import env_id
    from osim.render.plots import episode_trace, plot_episode

    out = Path(args.out)
    if not out.parent.is_dir():
        raise SystemExit(f"osim-rl plot episode: no directory {out.parent} for {out.name}")
    env = gymnasium.make(env_id(args.env))
    trace = episode_trace(env, make_policy(args.policy, env, args.seed),
                          seed=args.seed, max_steps=args.steps)
    env.close()
    total = sum(float(v.sum()) for v in trace["reward_terms"].values())
    plot_episode(trace, out, title=f"{args.env}, policy {args.policy}, seed {args.seed}: "
                                   f"{len(trace['time'])} steps, reward {total:.2f}")
    print(f"wrote {out}")
    return 0


def add_parser(commands) -> None:
    from osim.tasks import TASKS

    plot = commands.add_parser("plot", help="plot a learning curve or an episode (PNG)")
    kinds = plot.add_subparsers(dest="kind", required=True, metavar="KIND")

    curve = kinds.add_parser("curve", help="episode reward against steps of a training run")
    curve.add_argument("source", metavar="RUN_DIR_or_progress.csv",
                       help="a run directory holding progress.csv, or the csv itself")
    curve.add_argument("--out", help="PNG file (default: learning_curve.png next to the csv)")
    curve.set_defaults(run_command=_curve)

    episode = kinds.add_parser("episode", help="joint angles, activations and reward terms "
                                               "of one episode")
    episode.add_argument("--env", default="Arm", choices=sorted(TASKS), help="task (default: Arm)")
    episode.add_argument("--steps", type=positive_int, default=None,
                         help="at most this many steps (default: the whole episode)")
    episode.add_argument("--seed", type=int, default=0)
    episode.add_argument("--policy", default="random", type=policy_name,
                         help="random (default), zero or MODULE:FACTORY (see osim-rl record)")
    episode.add_argument("--out", required=True, help="PNG file")
    episode.set_defaults(run_command=_episode)
    plot.set_defaults(run=lambda args: args.run_command(args))
