"""Train an agent on an osim-rl task (the 2017 rllab entry point, now over ``osim-rl train``).

    python scripts/rllab/experiment.py -e Arm -a DDPG --steps 20000 --out runs/arm-ddpg

writes ``params.pkl``, ``progress.csv`` and ``learning_curve.png`` in the output
folder; ``scripts/rllab/visualize.py -p <out>/params.pkl`` runs the policy.
"""

from __future__ import annotations

import argparse
import sys

from osim.cli import main as osim_rl
from osim.cli.args import positive_int
from osim.tasks import TASKS

ALGORITHMS = ("DDPG", "TRPO", "PPO", "SAC", "TD3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-e", "--env", required=True, choices=list(TASKS), help="task")
    parser.add_argument("-a", "--algorithm", required=True, choices=ALGORITHMS,
                        type=str.upper, help="algorithm (sb3 backend)")
    parser.add_argument("--steps", type=positive_int, default=20000, help="environment steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output folder (default: runs/<env>-<algo>)")
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel environments")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="override a hyperparameter (repeatable)")
    parser.add_argument("--env-option", dest="env_options", action="append", default=[],
                        metavar="KEY=VALUE", help="env/task option, e.g. max_episode_steps=100")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    train_argv = ["train", "--backend", "sb3", "--env", args.env, "--algo", args.algorithm,
                  "--steps", str(args.steps), "--seed", str(args.seed),
                  "--workers", str(args.workers)]
    if args.out is not None:
        train_argv += ["--out", args.out]
    train_argv += [f"--set={item}" for item in args.settings]
    train_argv += [f"--env-option={item}" for item in args.env_options]
    if args.no_progress:
        train_argv.append("--no-progress")
    return osim_rl(train_argv)


if __name__ == "__main__":
    sys.exit(main())
