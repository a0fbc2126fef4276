"""Why a 10 ms step costs what it does: integrator work per step, and the model's stiffness.

    python benchmarks/integration.py [--envs Arm Gait Prosthetics] [--seconds 1.0]

Two tables, on the excitation pattern of benchmarks/speed.py:

1. Integrator work per control step, per preset: internal steps taken, steps
   rejected by the error test, derivative evaluations ("realizations"), CPU ms
   per evaluation. The counts come from Simbody's own statistics: the opensim
   Python package hands out the Manager's integrator only as an opaque pointer,
   so they are read by calling the exported ``SimTK::Integrator`` getters
   through ctypes (Linux only; the library never does this).
2. Stiffness: the eigenvalues of the state derivative's Jacobian (central
   differences) at a few instants, with every force on and with each kind of
   force switched off. An explicit integrator is stable only for internal steps
   below about 2/|lambda| (explicit Euler; Runge-Kutta-Merson ~3.5/|lambda|),
   whatever accuracy is asked, so the largest |lambda| sets the step.

Run by hand; nothing here passes or fails.
"""

from __future__ import annotations

import osim  # noqa: F401  (first: it loads the engine before anything imports opensim)

# isort: split
import argparse
import ctypes
import time
from pathlib import Path

import numpy as np
import opensim
from patterns import excitation_pattern  # benchmarks/patterns.py

from osim.engines.opensim import PRESETS, model_from_spec
from osim.engines.opensim import OpenSimEngine as Simulation
from osim.tasks import TASKS

# Exported, non-virtual getters of SimTK::Integrator (Itanium C++ ABI: ``this`` first).
INTEGRATOR_COUNTERS = {
    "realizations": "_ZNK5SimTK10Integrator18getNumRealizationsEv",
    "taken": "_ZNK5SimTK10Integrator16getNumStepsTakenEv",
    "attempted": "_ZNK5SimTK10Integrator20getNumStepsAttemptedEv",
}



class IntegratorCounters:
    """Simbody's statistics for a Simulation's integrator, per control step.

    Simbody resets the step counts when the integrator is initialized (every
    control step, by default) but never the realization count: both are turned
    into per-step differences here.
    """

    def __init__(self, sim: Simulation):
        library = ctypes.CDLL(str(Path(opensim.__path__[0]) / "libSimTKmath.so.3.9"))
        self._getters = {}
        for name, symbol in INTEGRATOR_COUNTERS.items():
            getter = getattr(library, symbol)
            getter.restype, getter.argtypes = ctypes.c_int, [ctypes.c_void_p]
            self._getters[name] = getter
        self._sim = sim
        self._initialize = sim._manager.initialize
        sim._manager.initialize = self._initialized  # see which steps start afresh
        self._fresh = True
        self._last = self._read()

    def _pointer(self) -> int:
        return int(self._sim._manager.getIntegrator())

    def _read(self) -> dict[str, int]:
        pointer = self._pointer()
        return {name: getter(pointer) for name, getter in self._getters.items()}

    def _initialized(self, state):
        self._initialize(state)
        self._fresh = True

    def after_step(self) -> dict[str, int]:
        now = self._read()
        delta = {"realizations": now["realizations"] - self._last["realizations"]}
        for name in ("taken", "attempted"):
            delta[name] = now[name] - (0 if self._fresh else self._last[name])
        self._last, self._fresh = now, False
        return delta


def integrator_work(names: list[str], seconds: float) -> None:
    print(f"\n{'env':<12} {'preset':<14} {'internal steps':>15} {'rejected':>9} "
          f"{'evaluations':>12} {'CPU ms/eval':>12} {'CPU ms/step':>12}   (per 10 ms control step)")
    for name in names:
        task = TASKS[name]()
        model = model_from_spec(task.model_spec())
        variants = [(p, {"preset": p}) for p in PRESETS]
        variants.append(("fast run-on", {"preset": "fast", "restart_each_step": False}))
        for label, settings in variants:
            sim = Simulation(model, step_size=task.step_size, **settings)
            counters = IntegratorCounters(sim)
            pattern = excitation_pattern(round(seconds / task.step_size), sim.num_muscles,
                                         task.step_size)
            totals = {"realizations": 0, "taken": 0, "attempted": 0}
            start = time.process_time()
            for excitations in pattern:
                sim.step(excitations)
                for key, value in counters.after_step().items():
                    totals[key] += value
            cpu_ms = 1e3 * (time.process_time() - start)
            n = len(pattern)
            print(f"{name:<12} {label:<14} {totals['taken'] / n:15.1f} "
                  f"{(totals['attempted'] - totals['taken']) / n:9.1f} "
                  f"{totals['realizations'] / n:12.1f} {cpu_ms / totals['realizations']:12.3f} "
                  f"{cpu_ms / n:12.2f}")


def state_derivative(sim: Simulation, state: opensim.State):
    def f(y: np.ndarray) -> np.ndarray:
        state.setY(opensim.Vector.createFromMat(y))
        sim.model.realizeAcceleration(state)
        return state.getYDot().to_numpy().copy()
    return f


def jacobian(f, y: np.ndarray) -> np.ndarray:
    columns = []
    for j in range(y.size):
        h = 1e-7 * max(1.0, abs(y[j]))
        up, down = y.copy(), y.copy()
        up[j] += h
        down[j] -= h
        columns.append((f(up) - f(down)) / (2 * h))
    return np.array(columns).T


def stiffness(names: list[str], instants: list[float]) -> None:
    print(f"\n{'env':<12} {'t (s)':>6} {'forces':<32} {'max |lambda|':>13} "
          f"{'2/|lambda| (ms)':>16}   stiffest mode's largest components")
    for name in names:
        task = TASKS[name]()
        sim = Simulation(model_from_spec(task.model_spec()), step_size=task.step_size)
        by_index = {index: label for label, index in sim._y_index.items()}
        forces = sim.model.getForceSet()
        kinds: dict[str, list] = {}
        for i in range(forces.getSize()):
            force = forces.get(i)
            kind = force.getConcreteClassName()
            kinds.setdefault("muscles" if "Muscle" in kind else kind, []).append(force)
        pattern = excitation_pattern(round(max(instants) / task.step_size) + 1, sim.num_muscles,
                                     task.step_size)
        for k, excitations in enumerate(pattern):
            if any(abs(k * task.step_size - t) < 1e-9 for t in instants):
                state = opensim.State(sim.state)
                f = state_derivative(sim, state)
                y = state.getY().to_numpy().copy()
                for off in [None, *kinds]:
                    for force in kinds.get(off, []):
                        force.setAppliesForce(state, False)
                    values, vectors = np.linalg.eig(jacobian(f, y))
                    for force in kinds.get(off, []):
                        force.setAppliesForce(state, True)
                    top = int(np.argmax(np.abs(values)))
                    weights = np.abs(vectors[:, top])
                    parts = ", ".join(f"{by_index[i].split('/', 1)[-1].replace('jointset/', '')} "
                                      f"{weights[i]:.2f}" for i in np.argsort(-weights)[:2])
                    label = "all" if off is None else f"all but {off}"
                    print(f"{name:<12} {k * task.step_size:6.2f} {label:<32} "
                          f"{abs(values[top]):13.0f} {2e3 / abs(values[top]):16.2f}   {parts}")
            sim.step(excitations)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", default=["Arm", "Gait", "Prosthetics"],
                        choices=sorted(TASKS))
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated time per run")
    parser.add_argument("--instants", type=float, nargs="+", default=[0.3, 0.8],
                        help="times (s) at which to measure stiffness")
    args = parser.parse_args(argv)
    integrator_work(args.envs, args.seconds)
    stiffness(args.envs, args.instants)


if __name__ == "__main__":
    main()
