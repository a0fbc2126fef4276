"""``osim-rl demo``: episodes with random muscle excitations, to see an env run."""

from __future__ import annotations

import argparse
import time

from osim.cli.args import positive_int


def _demo(args: argparse.Namespace) -> int:
    import numpy as np

    from osim.env import CLASSIC_ENVS
    from osim.tasks import TASKS

    if args.model is not None:
        from osim.env import OsimEnv

        env, name = OsimEnv(model_path=args.model, seed=args.seed), args.model
    else:
        env, name = CLASSIC_ENVS[TASKS[args.env].classic_name](seed=args.seed), args.env
    rng = np.random.default_rng(args.seed)
    print(f"{name}: {env.action_space.shape[0]} actions, "
          f"{env.observation_space.shape[0]} observations, {env.time_limit} steps per episode")
    steps, start = 0, time.perf_counter()
    for episode in range(args.episodes):
        env.reset()
        total, done = 0.0, False
        while not done:
            action = rng.uniform(0.0, 1.0, env.action_space.shape)
            _, reward, done, info = env.step(action)
            total += reward
            steps += 1
        print(f"episode {episode + 1}: total reward {total:8.3f}"
              + (f"  (ended by simulation error: {info['sim_error']})" if "sim_error" in info else ""))
    elapsed = time.perf_counter() - start
    print(f"{steps} steps in {elapsed:.1f} s ({steps / elapsed:.0f} steps/s), random excitations")
    return 0


def add_parser(commands) -> None:
    from osim.tasks import TASKS

    demo = commands.add_parser("demo", help="run episodes with random muscle excitations")
    which = demo.add_mutually_exclusive_group()
    which.add_argument("--env", default="Arm", choices=sorted(TASKS), help="task (default: Arm)")
    which.add_argument("--model", metavar="FILE.osim",
                       help="any OpenSim model file instead of a task (every muscle an action)")
    demo.add_argument("--episodes", type=positive_int, default=3)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)
