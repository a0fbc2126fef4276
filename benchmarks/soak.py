"""Soak: a long run in one process, watching resident memory and the time per step.

    python benchmarks/soak.py [--env Gait] [--steps 100000] [--seed 0] [--out soak-gait]

Random excitations, `reset()` at the end of every episode (falls end HUMAN episodes
early, so resets are frequent too). Reports
  growth  resident memory at the end minus after the warm-up (the first 2% of the
          steps, at least one episode: allocator pools and caches settle there);
  drift   CPU time per step over the last 10% of the steps against the first 10%
          (CPU time of this process, so other work on the machine barely moves it;
          wall time per step is printed beside it).
With ``--out`` it writes the samples as CSV and a PNG of memory and step time.
Targets (the reliability issue): growth < 50 MB and drift < 20% over 100,000 steps.
``--json`` prints one JSON line instead of the table, for tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import psutil
from tqdm import tqdm

import osim  # noqa: F401  (registers the env ids)
from osim.env import OsimGymEnv

SAMPLES = 100  # memory/time samples over the run


def soak(env_name: str, steps: int, seed: int, progress: bool = True) -> dict:
    process = psutil.Process()
    env = OsimGymEnv(env_name)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    every = max(1, steps // SAMPLES)
    rows, episodes, sim_errors = [], 0, 0
    warmup_steps = max(every, steps // 50)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for step in tqdm(range(1, steps + 1), disable=not progress, unit="step", smoothing=0.05):
        action = rng.uniform(0.0, 1.0, env.action_space.shape).astype(np.float32)
        _, _, terminated, truncated, info = env.step(action)
        sim_errors += "sim_error" in info
        if terminated or truncated:
            episodes += 1
            env.reset()
        if step % every == 0:
            cpu1, wall1 = time.process_time(), time.perf_counter()
            rows.append({"step": step, "episodes": episodes,
                         "rss_mb": process.memory_info().rss / 2**20,
                         "cpu_ms_per_step": 1e3 * (cpu1 - cpu0) / every,
                         "wall_ms_per_step": 1e3 * (wall1 - wall0) / every})
            cpu0, wall0 = cpu1, wall1
    env.close()

    after_warmup = next((r for r in rows if r["step"] >= warmup_steps and r["episodes"] >= 1),
                        rows[0])
    tenth = max(1, len(rows) // 10)
    first = [r for r in rows[:tenth]]
    last = [r for r in rows[-tenth:]]

    def mean(rows_, key):
        return float(np.mean([r[key] for r in rows_]))

    return {
        "env": env_name, "steps": steps, "episodes": episodes, "sim_errors": sim_errors,
        "rss_start_mb": after_warmup["rss_mb"], "rss_end_mb": rows[-1]["rss_mb"],
        "growth_mb": rows[-1]["rss_mb"] - after_warmup["rss_mb"],
        "cpu_ms_first": mean(first, "cpu_ms_per_step"), "cpu_ms_last": mean(last, "cpu_ms_per_step"),
        "drift": mean(last, "cpu_ms_per_step") / mean(first, "cpu_ms_per_step") - 1.0,
        "wall_ms_first": mean(first, "wall_ms_per_step"),
        "wall_ms_last": mean(last, "wall_ms_per_step"),
        "samples": rows,
    }


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "soak.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(result["samples"][0]))
        writer.writeheader()
        writer.writerows(result["samples"])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["samples"]
    step = [r["step"] for r in rows]
    fig, (mem, cpu) = plt.subplots(2, 1, sharex=True, figsize=(7, 5), dpi=100)
    mem.plot(step, [r["rss_mb"] for r in rows])
    mem.set_ylabel("resident memory (MB)")
    mem.set_title(f"soak: {result['env']}, {result['steps']} steps, {result['episodes']} episodes")
    cpu.plot(step, [r["cpu_ms_per_step"] for r in rows], label="CPU")
    cpu.plot(step, [r["wall_ms_per_step"] for r in rows], label="wall", alpha=0.6)
    cpu.set_ylabel("ms per step")
    cpu.set_xlabel("steps")
    cpu.legend()
    for ax in (mem, cpu):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "soak.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Gait", help="task name (default: Gait)")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for soak.csv and soak.png")
    parser.add_argument("--json", action="store_true", help="print one JSON line, no table")
    args = parser.parse_args(argv)
    if args.steps < 100:
        parser.error("--steps must be at least 100")

    result = soak(args.env, args.steps, args.seed, progress=not args.json)
    if args.out:
        write_outputs(result, args.out)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "samples"}))
        return 0
    print(f"{result['env']}: {result['steps']} steps, {result['episodes']} episodes, "
          f"{result['sim_errors']} simulation errors")
    print(f"resident memory  {result['rss_start_mb']:.1f} MB after warm-up -> "
          f"{result['rss_end_mb']:.1f} MB at the end: growth {result['growth_mb']:+.1f} MB "
          f"(target < 50 MB)")
    print(f"CPU per step     {result['cpu_ms_first']:.2f} ms first 10% -> "
          f"{result['cpu_ms_last']:.2f} ms last 10%: drift {100 * result['drift']:+.1f}% "
          f"(target < 20%)")
    print(f"wall per step    {result['wall_ms_first']:.2f} ms -> {result['wall_ms_last']:.2f} ms")
    if args.out:
        print(f"samples: {args.out / 'soak.csv'}, plot: {args.out / 'soak.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
