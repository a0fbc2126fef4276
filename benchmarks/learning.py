"""Proof of learning on ARM: train, then compare the policy with uniform random excitations.

Run by hand (minutes per algorithm, not part of the tests)::

    .venv/bin/python benchmarks/learning.py                      # PPO and DDPG, 20000 steps
    .venv/bin/python benchmarks/learning.py --algos SAC --steps 30000 --set learning_starts=500

For each algorithm it trains with the sb3 backend (one torch thread), writes
``<out>/<algo>/{params.pkl,progress.csv,learning_curve.png}``, then evaluates the
trained policy and a uniform-random policy on the same episode seeds and prints
mean episode reward and wall time. ``<out>/summary.json`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from osim.cli.train import parse_settings
from osim.train import (
    RandomPolicy,
    TrainConfig,
    evaluate,
    get_backend,
    load_policy,
    make_env,
    reward_summary,
    set_torch_threads,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Arm")
    parser.add_argument("--algos", nargs="+", default=["PPO", "DDPG"])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=10, help="evaluation episodes")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="hyperparameter override (all algorithms)")
    parser.add_argument("--no-random", dest="random", action="store_false",
                        help="skip the random baseline (it only depends on --episodes and --seed)")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark-learning"))
    args = parser.parse_args(argv)
    set_torch_threads(1)
    overrides = parse_settings(args.settings, parser)
    eval_seed = 10_000 + args.seed  # episodes never seen in training

    random_rewards = [float("nan")]
    if args.random:
        start = time.perf_counter()
        action_size = make_env(args.env).action_space.shape[0]
        random_rewards = evaluate(RandomPolicy(action_size, seed=args.seed), args.env, {},
                                  args.episodes, eval_seed)
        random_time = time.perf_counter() - start
        print(f"random policy: {np.mean(random_rewards):.2f} +- {np.std(random_rewards):.2f} "
              f"over {args.episodes} episodes ({random_time:.0f} s)", flush=True)
    summary = {"env": args.env, "episodes": args.episodes, "eval_seed": eval_seed,
               "random": {"rewards": random_rewards, "mean": float(np.mean(random_rewards))},
               "runs": {}}
    for algo in args.algos:
        config = TrainConfig(env=args.env, algorithm=algo, steps=args.steps, seed=args.seed,
                             out=args.out / algo.lower(), hyperparams=overrides)
        start, cpu_start = time.perf_counter(), time.process_time()
        params = get_backend("sb3").train(config)
        train_time, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        snapshot, policy = load_policy(params)
        rewards = evaluate(policy, args.env, {}, args.episodes, eval_seed)
        first, last = reward_summary(snapshot["log"])
        summary["runs"][algo] = {
            "steps": snapshot["steps_done"], "train_seconds": round(train_time, 1),
            "train_cpu_seconds": round(train_cpu, 1),
            "hyperparams": {k: repr(v) for k, v in snapshot["hyperparams"].items()},
            "train_first_10pct": first, "train_last_10pct": last,
            "eval_rewards": rewards, "eval_mean": float(np.mean(rewards)),
            "curve": str(args.out / algo.lower() / "learning_curve.png")}
        print(f"{algo}: {snapshot['steps_done']} steps in {train_time:.0f} s "
              f"({train_cpu:.0f} s CPU); training episodes "
              f"{first:.2f} (first 10%) -> {last:.2f} (last 10%); trained policy "
              f"{np.mean(rewards):.2f} +- {np.std(rewards):.2f} vs random "
              f"{np.mean(random_rewards):.2f}", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
