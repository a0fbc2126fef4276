"""Frames/s of ``env.render()`` (render_mode="rgb_array") and where the time goes.

    python benchmarks/render.py [--envs Arm Gait Prosthetics] [--size 480] [--frames 100]
                                [--rounds 3]

For each env, a trajectory of --frames states is simulated once (smooth
excitations), then rendered state by state (each frame starts from a fresh
state, so the engine really realizes positions and paths). Reported, as the
median over rounds, alternating the variants so machine load hits all alike:
  render   frames/s of env.render() at --size x --size (supersampled x2, the default),
  query    share of that time spent reading the engine (realizePosition,
           transforms, muscle paths), the rest is drawing with Pillow,
  x1       frames/s without supersampling (supersample=1),
  step     env.step() per second on the same env: the baseline a frame is paid against.
Rates are per second of this process's CPU time (one core, whatever else the
machine runs); "wall fps" is the same render by the wall clock, for comparison.
Run by hand; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import time

from patterns import excitation_pattern  # benchmarks/patterns.py

import osim  # noqa: F401
from osim.env import OsimGymEnv
from osim.render.scene import SceneRenderer


def timed(env: OsimGymEnv, snapshots, work, clock=time.process_time) -> float:
    """Seconds per call of ``work()``, each call from a freshly restored state."""
    total = 0.0
    for snapshot in snapshots:
        env.set_state(snapshot)
        start = clock()
        work()
        total += clock() - start
    return total / len(snapshots)


def bench(name: str, size: int, n_frames: int, rounds: int) -> dict[str, float]:
    env = OsimGymEnv(name, render_mode="rgb_array", width=size, height=size)
    env.reset(seed=0)
    pattern = excitation_pattern(n_frames, env.action_space.shape[0], env.sim.step_size)
    snapshots, step_time = [], 0.0
    for action in pattern:
        start = time.process_time()
        env.step(action)
        step_time += (time.process_time() - start) / n_frames
        snapshots.append(env.get_state())
    env.render()  # builds the renderer (per-model geometry found once)
    plain = SceneRenderer(env.sim, width=size, height=size, supersample=1)
    sim = env.sim
    results: dict[str, list[float]] = {"render": [], "query": [], "x1": [], "wall": []}
    for _ in range(rounds):
        results["wall"].append(1.0 / timed(env, snapshots, env.render, time.perf_counter))
        render = timed(env, snapshots, env.render)
        query = timed(env, snapshots, sim.scene)
        single = timed(env, snapshots, lambda: plain.render(env.task.overlays()))
        results["render"].append(1.0 / render)
        results["query"].append(query / render)
        results["x1"].append(1.0 / single)
    summary = {key: statistics.median(values) for key, values in results.items()}
    summary["step"] = 1.0 / step_time
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["Arm", "Gait", "Prosthetics"])
    parser.add_argument("--size", type=int, default=480)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'env':12s} {'render fps':>10s} {'query':>6s} {'draw':>6s} {'x1 fps':>8s} "
          f"{'steps/s':>8s} {'wall fps':>9s}   ({args.size}x{args.size}, median of {args.rounds})")
    for name in args.envs:
        r = bench(name, args.size, args.frames, args.rounds)
        print(f"{name:12s} {r['render']:10.0f} {r['query']:6.0%} {1 - r['query']:6.0%} "
              f"{r['x1']:8.0f} {r['step']:8.0f} {r['wall']:9.0f}")


if __name__ == "__main__":
    main()
