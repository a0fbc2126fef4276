"""Steps/s and accuracy: the original osim-rl loop against our envs, in one run.

    python benchmarks/speed.py [--envs Arm Gait] [--rounds 3] [--seconds 1.0]

For each env, the same model and the same excitation pattern are run by
  A  the 2017-2019 osim-rl loop re-created on OpenSim 4.6: a PrescribedController
     with one Constant per muscle, a new Manager every step (Runge-Kutta-Merson,
     accuracy 5e-5, recording states as its default), integrate to t, then the
     full state dictionary read element by element;
  B  our env's step (observation and reward included), once per preset.
A and B alternate (A B B' A B B' ...) so machine load hits all alike; each
figure is the median over rounds. Accuracy is the RMS over coordinates of the
error at the end of the run against a reference run at accuracy 1e-8.
Run by hand; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import opensim

import osim  # noqa: F401
from osim.env import OsimGymEnv
from osim.sim import PRESETS, Simulation, full_state_dict, quiet_opensim
from osim.tasks import TASKS


def excitation_pattern(n_steps: int, n_muscles: int, step_size: float) -> np.ndarray:
    """Smooth, phase-shifted sinusoids in [0.1, 0.5]: every muscle works, nobody falls at once."""
    t = np.arange(n_steps)[:, None] * step_size
    phase = np.arange(n_muscles)[None, :] / n_muscles
    return 0.3 + 0.2 * np.sin(2 * np.pi * (1.5 * t + phase))


def original_loop(task, excitations: np.ndarray, step_size: float):
    """The 2017-2019 loop (see module docstring). Returns (steps/s, final coordinates)."""
    model = task.build_model()
    if isinstance(model, str):
        model = opensim.Model(model)
    brain = opensim.PrescribedController()
    for muscle in model.getMuscles():
        function = opensim.Constant(0.0)
        function.setName(muscle.getName())
        brain.addActuator(muscle)
        brain.prescribeControlForActuator(muscle.getName(), function)
    model.addController(brain)
    state = model.initSystem()
    model.equilibrateMuscles(state)
    functions = brain.get_ControlFunctions()
    by_name = {functions.get(i).getName(): opensim.Constant.safeDownCast(functions.get(i))
               for i in range(functions.getSize())}
    controls = [by_name[m.getName()] for m in model.getMuscles()]
    start = time.perf_counter()
    for k, action in enumerate(excitations):
        for function, value in zip(controls, action):
            function.setValue(float(value))
        manager = opensim.Manager(model)
        manager.setIntegratorMethod(opensim.Manager.IntegratorMethod_RungeKuttaMerson)
        manager.setIntegratorAccuracy(5e-5)
        manager.initialize(state)
        state = opensim.State(manager.integrate(step_size * (k + 1)))  # outlive the manager
        full_state_dict(model, state)
    elapsed = time.perf_counter() - start
    q = np.array([c.getValue(state) for c in model.getCoordinateSet()])
    return len(excitations) / elapsed, q


def our_env(name: str, excitations: np.ndarray, **settings):
    env = OsimGymEnv(name, **settings)
    env.reset(seed=0)
    start = time.perf_counter()
    for action in excitations:
        *_, info = env.step(action)
        if "sim_error" in info:
            raise RuntimeError(f"{name} {settings}: {info['sim_error']}")
    elapsed = time.perf_counter() - start
    return len(excitations) / elapsed, env.sim.coordinate_values()


def reference_run(task, excitations: np.ndarray) -> np.ndarray:
    sim = Simulation(task.build_model(), integrator="rk-merson", accuracy=1e-8)
    for action in excitations:
        sim.step(action)
    return sim.coordinate_values()


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["Arm", "Gait"], choices=sorted(TASKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated time per run")
    args = parser.parse_args()
    quiet_opensim()

    rows = []
    for name in args.envs:
        task = TASKS[name]()
        env = OsimGymEnv(name)
        # Symmetric tasks take half the actions; A and the reference drive every muscle.
        extra = {} if env.action_space.shape[0] == env.sim.num_muscles else {"symmetric": False}
        step_size = env.sim.step_size
        n_steps = int(round(args.seconds / step_size))
        excitations = excitation_pattern(n_steps, env.sim.num_muscles, step_size)
        reference = reference_run(task, excitations)

        runs = {"A original": []} | {f"B {p}": [] for p in PRESETS}
        final = {}
        for _ in range(args.rounds):
            speed, final["A original"] = original_loop(task, excitations, step_size)
            runs["A original"].append(speed)
            for preset in PRESETS:
                speed, final[f"B {preset}"] = our_env(name, excitations, preset=preset, **extra)
                runs[f"B {preset}"].append(speed)
        base = statistics.median(runs["A original"])
        for label, speeds in runs.items():
            speed = statistics.median(speeds)
            rows.append((name, label, speed, speed / base, rms(final[label], reference)))

    print(f"\n{'env':<8} {'loop':<14} {'steps/s':>9} {'vs A':>7} {'coord RMS error (rad|m)':>24}")
    for name, label, speed, ratio, error in rows:
        print(f"{name:<8} {label:<14} {speed:9.1f} {ratio:6.1f}x {error:24.2e}")


if __name__ == "__main__":
    main()
