"""Train or test a DDPG muscle controller, as osim-rl's original keras-rl example.

The agent is keras-rl's DDPG rebuilt on Keras 3 (torch backend): see
`osim.train.keras_ddpg`. Examples::

    python scripts/keras-rl/train.ddpg.py --train --env Arm --steps 100000
    python scripts/keras-rl/train.ddpg.py --test --env Arm --visualize

Training writes, in the ``--output`` folder: ``params.pkl`` (the weights, saved
every 10000 steps and at the end; Ctrl+C saves too), ``progress.csv`` and
``learning_curve.png``. Testing loads ``<output>/params.pkl`` and runs 5 episodes,
printing each one's total reward; every episode starts from a fresh reset, so the
ARM reaches for a new random target each time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from osim.cli.args import positive_int

ENVS = ("Arm", "Gait", "Stand", "Crouch", "Jump", "L2Run", "Prosthetics")
DEFAULT_STEPS = 100_000  # as the --steps default of osim-rl's later keras-rl example
TEST_EPISODES = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train or test a DDPG muscle controller (Keras 3 on torch, keras-rl's "
                    "design).",
        epilog="Files: DIR (--output) is a folder (default keras-ddpg-<env>, e.g. keras-ddpg-arm). "
               "--train writes DIR/params.pkl (the weights; every 10000 steps, at the end "
               "and on Ctrl+C), DIR/progress.csv and DIR/learning_curve.png; --test "
               "reads DIR/params.pkl.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--train", action="store_true", help="train and save the weights")
    mode.add_argument("--test", action="store_true",
                      help=f"load the weights and run {TEST_EPISODES} episodes, printing each "
                           f"total reward")
    parser.add_argument("--env", choices=ENVS, default=None,
                        help="task (default: Arm; --test checks it is the trained one)")
    parser.add_argument("--visualize", action="store_true",
                        help="show the Simbody visualizer (warns and runs headless without a "
                             "display)")
    parser.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help="folder of the weights and training log (default: keras-ddpg-<env>)")
    parser.add_argument("--steps", type=positive_int, default=DEFAULT_STEPS,
                        help=f"training steps (default: {DEFAULT_STEPS})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def train(args: argparse.Namespace, output: Path) -> int:
    from osim.train import TrainConfig
    from osim.train.keras_ddpg import KerasDDPGBackend

    config = TrainConfig(env=args.env or "Arm", algorithm="DDPG", steps=args.steps, out=output,
                         seed=args.seed,
                         backend_options={"render_mode": "human" if args.visualize else None})
    try:
        path = KerasDDPGBackend().train(config)
    except KeyboardInterrupt:
        return 130  # while learning, the backend saved the weights and said where
    print(f"weights saved to {path}")
    return 0


def test(args: argparse.Namespace, output: Path) -> int:
    params = output / "params.pkl"
    if not params.is_file():
        print(f"error: no trained weights at {params}; train first with --train "
              f"--output {output}", file=sys.stderr)
        return 1
    from osim.train import SnapshotError, load_snapshot, make_env
    from osim.train.keras_ddpg import KerasDDPGBackend

    try:
        snapshot = load_snapshot(params)
        policy = KerasDDPGBackend().load_policy(snapshot)
    except SnapshotError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.env is not None and args.env != snapshot["env"]:
        print(f"error: {params} was trained on {snapshot['env']}, not {args.env}",
              file=sys.stderr)
        return 1
    env = make_env(snapshot["env"], snapshot["env_kwargs"], seed=args.seed,
                   render_mode="human" if args.visualize else None)
    try:
        for episode in range(1, TEST_EPISODES + 1):
            obs, _ = env.reset()  # a fresh reset draws a new target for the ARM
            target = env.unwrapped.task.episode.get("target")
            total, steps, done = 0.0, 0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy.act(obs))
                total += float(reward)
                steps += 1
                done = terminated or truncated
            where = f", target x={target[0]:.3f} y={target[1]:.3f}" if target is not None else ""
            print(f"episode {episode}: total reward {total:.3f}, {steps} steps{where}")
    finally:
        env.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output = args.output or Path(f"keras-ddpg-{(args.env or 'Arm').lower()}")
    if output.exists() and not output.is_dir():
        print(f"error: --output {output} is a file; it must be a folder", file=sys.stderr)
        return 1
    return train(args, output) if args.train else test(args, output)


if __name__ == "__main__":
    sys.exit(main())
