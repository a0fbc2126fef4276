"""Tune the reflex controller's parameters with CMA-ES, and write the table.

    python scripts/tune_reflex.py --env Gait --start l2m2019_2d --out human_2d
    python scripts/tune_reflex.py --env Gait --start human_2d --conditions default:0:0 --generations 10

Each candidate (a raw parameter vector) walks one episode of ``--seconds`` from
the task's walking start (``init_pose="walking"``) in each of the
``--conditions`` (integrator preset, start-pose noise and seed); its score in
an episode is the distance walked plus two points per second upright, plus 10
for not falling, minus the mean squared excitation (so equal walkers prefer
less effort), and its score overall the worst of its episodes, so that a
controller tuned on one integrator does not walk on that integrator's errors
alone. CMA-ES (the
``cma`` package) starts from the ``--start`` table with step size ``--sigma``
in raw units (raw 1 = nominal), as the Learn-to-Move 2019 recipe did (there:
sigma 0.01, population 16, reward of difficulty 0). Candidates run in
``--workers`` processes; the best vector seen is written to
``osim/control/params/<out>.json`` with its provenance after every
generation, so an interrupted run keeps its best so far.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

PARAMS = Path(__file__).resolve().parents[1] / "osim" / "control" / "params"
_worker: dict = {}


def parse_condition(text: str) -> tuple[str, float, int]:
    """``PRESET:NOISE:SEED``, e.g. ``default:0:0`` or ``fast:0.01:1``."""
    try:
        preset, noise, seed = text.split(":")
        return preset, float(noise), int(seed)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PRESET:NOISE:SEED, got {text!r}") from None


def _init_worker(env_name: str, conditions: list, steps: int) -> None:
    import osim  # noqa: F401  (first: it loads the engine)
    from osim.env import OsimGymEnv

    _worker["envs"] = [(OsimGymEnv(env_name, preset=preset, reset_noise_scale=noise,
                                   init_pose="walking"), seed)
                       for preset, noise, seed in conditions]
    _worker["steps"] = steps


def walk_all(raw: np.ndarray) -> dict:
    """The worst episode of the candidate over the conditions."""
    return min((walk(env, seed, raw) for env, seed in _worker["envs"]),
               key=lambda result: result["score"])


def walk(env, seed: int, raw: np.ndarray) -> dict:
    """One episode of the controller with these raw parameters, from the walking start."""
    from osim.control import ReflexParameters, reflex

    steps = _worker["steps"]
    observation, _ = env.reset(seed=seed)
    policy = reflex(env, ReflexParameters("candidate", raw, "tuning"))
    x0 = env.sim.coordinate("pelvis_tx")
    effort, done, fell = 0.0, 0, False
    for done in range(1, steps + 1):
        action = policy(observation)
        effort += float(np.mean(action ** 2))
        observation, _, terminated, _, info = env.step(action)
        if terminated:
            fell = True
            break
    distance = env.sim.coordinate("pelvis_tx") - x0
    seconds = done * env.sim.step_size
    score = distance + 2.0 * seconds + (0.0 if fell else 10.0) - effort / done
    return {"score": score, "distance": distance, "seconds": seconds, "fell": fell}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Gait", help="a HUMAN task (default Gait)")
    parser.add_argument("--start", default="l2m2019_2d", help="parameter table to start from")
    parser.add_argument("--out", default="human_2d", help="parameter table to write")
    parser.add_argument("--conditions", nargs="+", type=parse_condition,
                        default=[("default", 0.0, 0), ("fast", 0.01, 1)],
                        help="episodes per candidate as PRESET:NOISE:SEED (default: "
                             "default:0:0 fast:0.01:1)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--popsize", type=int, default=16)
    parser.add_argument("--generations", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    import cma

    from osim.control import ReflexParameters

    start = ReflexParameters.load(args.start)
    steps = int(round(args.seconds / 0.01))
    out = PARAMS / f"{args.out}.json"
    strategy = cma.CMAEvolutionStrategy(start.raw.tolist(), args.sigma, {
        "popsize": args.popsize, "seed": args.seed, "verbose": -9})
    best: dict = {"score": -np.inf}
    began = time.time()
    with multiprocessing.get_context("spawn").Pool(
            args.workers, _init_worker, (args.env, args.conditions, steps)) as pool:
        for generation in range(1, args.generations + 1):
            candidates = strategy.ask()
            results = pool.map(walk_all, [np.asarray(c) for c in candidates])
            strategy.tell(candidates, [-r["score"] for r in results])
            top = int(np.argmax([r["score"] for r in results]))
            if results[top]["score"] > best["score"]:
                best = {**results[top], "raw": list(map(float, candidates[top]))}
                out.write_text(json.dumps({
                    "provenance": (
                        f"Tuned by scripts/tune_reflex.py on the {args.env} task (walking "
                        f"start, {args.seconds:g} s episodes, the worst of "
                        f"{' '.join(':'.join(map(str, c)) for c in args.conditions)} "
                        f"(preset:noise:seed)) with "
                        f"CMA-ES (sigma {args.sigma}, population {args.popsize}, seed "
                        f"{args.seed}) from '{args.start}'; best after {generation} "
                        f"generations: {best['distance']:.2f} m in {best['seconds']:.2f} s in "
                        f"its worst episode, "
                        f"{'fell' if best['fell'] else 'did not fall'}."),
                    "raw": best["raw"]}, indent=1) + "\n")
            print(f"generation {generation}: best {results[top]['score']:.2f} "
                  f"({results[top]['distance']:.2f} m, {results[top]['seconds']:.2f} s"
                  f"{', fell' if results[top]['fell'] else ''}); best so far "
                  f"{best['score']:.2f}; {time.time() - began:.0f} s", flush=True)
            if strategy.stop():
                break
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
