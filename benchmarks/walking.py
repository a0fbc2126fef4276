"""How far the reflex controller walks: distance in 10 s, mean speed, footsteps,
falls, on each env and mode, from the walking start; optionally a GIF.

    python benchmarks/walking.py [--seconds 10] [--preset default] [--gif docs/img/walk.gif]

Footsteps are counted as the L2M2019 environment counts them: a rising edge of
either foot's vertical ground reaction force through 5% of body weight (the
initial stance does not count). Run by hand; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import time

import osim  # noqa: F401  (first: it loads the engine before anything imports opensim)

# isort: split
import numpy as np

from osim.control import reflex
from osim.env import OsimGymEnv

CASES = {  # label -> (task, env options)
    "L2M2019 2D": ("L2M2019", {"model": "2D", "difficulty": 0}),
    "L2M2019 3D": ("L2M2019", {"model": "3D", "difficulty": 0}),
    "HUMAN Gait": ("Gait", {}),
}
CONTACT = 0.05  # body weights
GIF_EVERY = 5  # control steps per GIF frame: 20 frames/s, real time


def walk(task: str, options: dict, seconds: float, preset: str, engine: str,
         gif_every: int = 0, gif_size: int = 320) -> tuple[dict, list[np.ndarray]]:
    env = OsimGymEnv(task, preset=preset, engine=engine, init_pose="walking",
                     width=gif_size, height=gif_size, **options)
    observation, _ = env.reset(seed=0)
    sim = env.sim
    policy = reflex(env)
    weight = float(sim.body_masses().sum()) * 9.80665
    x0, footsteps, began = sim.coordinate("pelvis_tx"), 0, time.process_time()
    in_contact = {"foot_r": True, "foot_l": True}
    frames = [env.render_frame()] if gif_every else []
    steps, fell = 0, False
    for steps in range(1, int(round(seconds / sim.step_size)) + 1):
        observation, _, terminated, _, _ = env.step(policy(observation))
        forces = sim.ground_reaction_forces()
        landed = False
        for foot in in_contact:
            contact = forces[foot][1] > CONTACT * weight
            landed |= contact and not in_contact[foot]
            in_contact[foot] = contact
        footsteps += landed
        if gif_every and steps % gif_every == 0:
            frames.append(env.render_frame())
        if terminated:
            fell = True
            break
    distance = sim.coordinate("pelvis_tx") - x0
    duration = steps * sim.step_size
    return {"distance": distance, "speed": distance / duration, "footsteps": footsteps,
            "seconds": duration, "fell": fell,
            "steps/s": steps / (time.process_time() - began)}, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--engine", default="opensim")
    parser.add_argument("--gif", default=None, help="a GIF of the HUMAN Gait walk")
    args = parser.parse_args()
    print(f"{'env':12s} {'distance (m)':>12s} {'speed (m/s)':>11s} {'footsteps':>9s} "
          f"{'time (s)':>8s}  fell   CPU steps/s   ({args.preset} preset, {args.engine})")
    for label in args.cases:
        task, options = CASES[label]
        gif = args.gif if label == "HUMAN Gait" else None
        result, frames = walk(task, options, args.seconds, args.preset, args.engine,
                              gif_every=GIF_EVERY if gif else 0)
        print(f"{label:12s} {result['distance']:12.2f} {result['speed']:11.2f} "
              f"{result['footsteps']:9d} {result['seconds']:8.2f}  "
              f"{'yes' if result['fell'] else 'no ':4s} {result['steps/s']:11.0f}", flush=True)
        if gif:
            from osim.render.video import save_video

            save_video(frames, gif, fps=100 / GIF_EVERY)
            print(f"wrote {gif} ({len(frames)} frames)")


if __name__ == "__main__":
    main()
