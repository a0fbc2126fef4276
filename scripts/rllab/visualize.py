"""Run a policy trained by experiment.py (or ``osim-rl train``) and print its episode rewards.

    python scripts/rllab/visualize.py -p runs/arm-ddpg/params.pkl --episodes 3 --video arm.mp4
"""

from __future__ import annotations

import argparse
import sys

from osim.cli import main as osim_rl
from osim.cli.args import positive_int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--params", required=True, help="the params.pkl of a run")
    parser.add_argument("--episodes", type=positive_int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video", default=None, metavar="OUT",
                        help="save the episodes as a video (.mp4 or .gif)")
    args = parser.parse_args(argv)
    evaluate_argv = ["evaluate", args.params, "--episodes", str(args.episodes),
                     "--seed", str(args.seed)]
    if args.video is not None:
        evaluate_argv += ["--video", args.video]
    return osim_rl(evaluate_argv)


if __name__ == "__main__":
    sys.exit(main())
