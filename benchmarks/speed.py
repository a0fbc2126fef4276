"""Steps/s and accuracy: the original osim-rl loop against our envs, in one run.

    python benchmarks/speed.py [--envs Arm Gait Prosthetics] [--rounds 3] [--seconds 1.0]
    python benchmarks/speed.py --workers 2 [--workers-env Gait] [--workers-steps 200]
    python benchmarks/speed.py --muscle-models [--envs Gait]
    python benchmarks/speed.py --policies 300 [--envs Arm Stand Gait L2Run Prosthetics]
    python benchmarks/speed.py --engines [--envs Arm Gait Prosthetics] [--rounds 5]
    python benchmarks/speed.py --workers 2 --engine mujoco
    python benchmarks/speed.py --profile Gait [--engine mujoco]

For each env, the same model and the same excitation pattern are run by
  A  the 2017-2019 osim-rl loop re-created on OpenSim 4.6: a PrescribedController
     with one Constant per muscle, a new Manager every step (Runge-Kutta-Merson,
     accuracy 5e-5, recording states as its default), integrate to t, then the
     full state dictionary read element by element;
  B  our env's step (observation and reward included), once per preset, and
     once more with the fast preset and ``restart_each_step=False`` ("run-on":
     the integrator runs on across steps instead of restarting at each).
A and B alternate (A B B' A B B' ...) so machine load hits all alike; each
figure is the median over rounds. Accuracy: coordinate RMS error against a
reference run (RK-Merson, accuracy 1e-8), at the end of the run ("end", the
issue's figure) and over every step of it ("trajectory"). The ARM is sensitive
under this pattern: its trajectory splits in two nearby branches just before
1 s (end errors jump by ~4e-4 rad between nearby settings), and looser settings,
the original's among them, follow another branch from early on (1e-2 rad).
Steps/s are wall-clock; "CPU steps/s" count this process's CPU time only, the
steadier figure on a shared machine.

--workers N: total env steps/s of a vector env (osim.env.vector) with 1 and with
N worker processes, alternated, and their ratio.
--policies STEPS: CPU steps/s of each env (reset after every fall) under random
excitations drawn anew each step and under zero excitation, per preset.
--engines: env steps/s (observation and reward included) of each env on the
MuJoCo engine (its default and fast presets) against OpenSim's default preset,
alternating in one run (OpenSim, MuJoCo default, MuJoCo fast, OpenSim, ...),
under the same pattern; MuJoCo repeats the episode until its run lasts 0.3 s.
--profile ENV: where the time of one env step goes (cProfile, cumulative).
--muscle-models: steps/s and error (each against its own 1e-8 reference) of the
simulation alone with Thelen 2003 muscles (the models' own) and DeGroote-Fregly
2016 muscles, compliant and rigid tendon.
Run by hand; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import time

import osim  # noqa: F401  (first: it loads the engine before anything imports opensim)

# isort: split
import numpy as np
import opensim
import psutil
from patterns import excitation_pattern  # benchmarks/patterns.py
from tqdm import tqdm

from osim.env import OsimGymEnv
from osim.engines import SimulationError
from osim.engines.opensim import PRESETS, full_state_dict, model_from_spec, quiet_opensim
from osim.engines.opensim import OpenSimEngine as Simulation
from osim.tasks import TASKS


class Stopwatch:
    """Wall-clock and this process's CPU time: on a shared machine the CPU figure
    is the steadier measure of what a step costs."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, n_steps: int) -> tuple[float, float]:
        """(steps per wall-clock second, steps per CPU second)."""
        return (n_steps / (time.perf_counter() - self.wall),
                n_steps / (time.process_time() - self.cpu))



def original_loop(task, excitations: np.ndarray, step_size: float):
    """The 2017-2019 loop (see module docstring). Returns (steps/s, coordinates per step)."""
    model = model_from_spec(task.model_spec())
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
    coordinates = list(model.getCoordinateSet())
    trajectory = []
    clock = Stopwatch()
    for k, action in enumerate(excitations):
        for function, value in zip(controls, action):
            function.setValue(float(value))
        manager = opensim.Manager(model)
        manager.setIntegratorMethod(opensim.Manager.IntegratorMethod_RungeKuttaMerson)
        manager.setIntegratorAccuracy(5e-5)
        manager.initialize(state)
        state = opensim.State(manager.integrate(step_size * (k + 1)))  # outlive the manager
        full_state_dict(model, state)
        trajectory.append([c.getValue(state) for c in coordinates])  # part of the dict above
    return clock.rates(len(excitations)), np.array(trajectory)


def our_env(name: str, excitations: np.ndarray, restart_each_step: bool = True, **settings):
    env = OsimGymEnv(name, **settings)
    env.unwrapped.sim.restart_each_step = restart_each_step
    env.reset(seed=0)
    trajectory = []
    clock = Stopwatch()
    for action in excitations:
        *_, info = env.step(action)
        if "sim_error" in info:
            raise RuntimeError(f"{name} {settings}: {info['sim_error']}")
        trajectory.append(env.unwrapped.sim.coordinate_values())
    return clock.rates(len(excitations)), np.array(trajectory)


def simulation_run(model, excitations: np.ndarray, **settings):
    """The simulation alone (no task): (steps/s, coordinates per step)."""
    sim = Simulation(model, **settings)
    trajectory = []
    clock = Stopwatch()
    for action in excitations:
        sim.step(action)
        trajectory.append(sim.coordinate_values())
    return clock.rates(len(excitations)), np.array(trajectory)


def reference_run(model, excitations: np.ndarray) -> np.ndarray:
    return simulation_run(model, excitations, integrator="rk-merson", accuracy=1e-8)[1]


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def errors(trajectory: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(RMS error at the end, RMS error over the whole trajectory)."""
    return rms(trajectory[-1], reference[-1]), rms(trajectory, reference)


def compare_loops(names: list[str], rounds: int, seconds: float) -> None:
    rows = []
    for name in tqdm(names, desc="envs"):
        task = TASKS[name]()
        env = OsimGymEnv(name)
        # Symmetric tasks take half the actions; A and the reference drive every muscle.
        extra = {} if env.action_space.shape[0] == env.sim.num_muscles else {"symmetric": False}
        step_size = env.sim.step_size
        n_steps = round(seconds / step_size)
        excitations = excitation_pattern(n_steps, env.sim.num_muscles, step_size)
        reference = reference_run(model_from_spec(task.model_spec()), excitations)

        # B rows: each preset, then the fast preset with restart_each_step=False.
        variants = {f"B {p}": {"preset": p} for p in PRESETS}
        variants["B fast run-on"] = {"preset": "fast", "restart_each_step": False}
        runs = {"A original": []} | {label: [] for label in variants}
        final = {}
        for _ in tqdm(range(rounds), desc=name, leave=False):
            speed, final["A original"] = original_loop(task, excitations, step_size)
            runs["A original"].append(speed)
            for label, settings in variants.items():
                speed, final[label] = our_env(name, excitations, **settings, **extra)
                runs[label].append(speed)
        base = np.median(runs["A original"], axis=0)
        for label, speeds in runs.items():
            speed = np.median(speeds, axis=0)
            rows.append((name, label, *speed, *(speed / base), *errors(final[label], reference)))

    print(f"\n{'env':<12} {'loop':<14} {'steps/s':>8} {'CPU steps/s':>12} {'vs A':>6} "
          f"{'vs A CPU':>9} {'end error':>10} {'trajectory':>11}   (coordinate RMS, rad|m)")
    for name, label, speed, cpu_speed, ratio, cpu_ratio, end_error, traj_error in rows:
        print(f"{name:<12} {label:<14} {speed:8.1f} {cpu_speed:12.1f} {ratio:5.1f}x "
              f"{cpu_ratio:8.1f}x {end_error:10.1e} {traj_error:11.1e}")
    print(f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end)")


def engine_run(name: str, excitations: np.ndarray, min_seconds: float, **settings):
    """Env steps/s of the pattern, episodes repeated until ``min_seconds`` have passed."""
    env = OsimGymEnv(name, **settings)
    clock, n_steps = Stopwatch(), 0
    while True:
        env.reset(seed=0)
        for action in excitations:
            env.step(action)  # a fall or a simulation error ends nothing here: same work
        n_steps += len(excitations)
        if time.perf_counter() - clock.wall >= min_seconds:
            return clock.rates(n_steps)


def compare_engines(names: list[str], rounds: int, seconds: float) -> None:
    variants = {"opensim default": {"engine": "opensim", "preset": "default"},
                "mujoco default": {"engine": "mujoco", "preset": "default"},
                "mujoco fast": {"engine": "mujoco", "preset": "fast"}}
    rows = []
    for name in tqdm(names, desc="envs"):
        probe = OsimGymEnv(name, engine="mujoco")
        n_steps = round(seconds / probe.sim.step_size)
        excitations = excitation_pattern(n_steps, probe.action_space.shape[0], probe.sim.step_size)
        runs = {label: [] for label in variants}
        for _ in tqdm(range(rounds), desc=name, leave=False):
            for label, settings in variants.items():
                minimum = 0.0 if settings["engine"] == "opensim" else 0.3
                runs[label].append(engine_run(name, excitations, minimum, **settings))
        base = np.median(runs["opensim default"], axis=0)
        for label, speeds in runs.items():
            speed = np.median(speeds, axis=0)
            rows.append((name, label, *speed, *(speed / base)))
    print(f"\n{'env':<12} {'engine, preset':<16} {'steps/s':>9} {'CPU steps/s':>12} "
          f"{'vs OpenSim':>11} {'CPU':>7}")
    for name, label, speed, cpu_speed, ratio, cpu_ratio in rows:
        print(f"{name:<12} {label:<16} {speed:9.0f} {cpu_speed:12.0f} {ratio:10.1f}x "
              f"{cpu_ratio:6.1f}x")
    print(f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end)")


def profile_step(name: str, engine: str, n_steps: int = 2000) -> None:
    """Where an env step's time goes, random excitations, reset after each fall."""
    import cProfile
    import pstats

    env = OsimGymEnv(name, engine=engine)
    env.reset(seed=0)
    actions = np.random.default_rng(0).random((n_steps, env.action_space.shape[0]))

    def run():
        for action in actions:
            *_, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()

    run()  # warm (compiled kernels, caches)
    profiler = cProfile.Profile()
    clock = Stopwatch()
    profiler.runcall(run)
    print(f"{name} on {engine}: {clock.rates(n_steps)[1]:.0f} CPU steps/s under the profiler")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)


def compare_muscle_models(names: list[str], rounds: int, seconds: float) -> None:
    variants = {"thelen2003": ("thelen2003", False),
                "degroote2016": ("degroote2016", False),
                "degroote2016 rigid": ("degroote2016", True)}
    rows, failures = [], []
    for name in names:
        task = TASKS[name]()
        for label, (muscle_model, rigid) in tqdm(variants.items(), desc=name):
            model = model_from_spec(task.model_spec(), muscle_model)
            if isinstance(model, str):
                model = opensim.Model(model)
            if rigid:
                for muscle in model.getMuscles():
                    opensim.DeGrooteFregly2016Muscle.safeDownCast(
                        muscle).set_ignore_tendon_compliance(True)
                model.finalizeFromProperties()
            n_steps = round(seconds / task.step_size)
            excitations = excitation_pattern(n_steps, model.getMuscles().getSize(), task.step_size)
            try:
                reference = reference_run(model, excitations)
            except SimulationError as err:
                failures.append(f"{name} {label}: the 1e-8 reference run failed: {err}")
                continue
            for preset in ("default", "fast"):
                speeds, trajectory = [], None
                try:
                    for _ in range(rounds):
                        speed, trajectory = simulation_run(model, excitations, preset=preset)
                        speeds.append(speed)
                except SimulationError as err:
                    failures.append(f"{name} {label} {preset}: {err}")
                    continue
                rows.append((name, label, preset, *np.median(speeds, axis=0),
                             *errors(trajectory, reference)))
    print(f"\n{'env':<12} {'muscles':<20} {'preset':<8} {'steps/s':>8} {'CPU steps/s':>12} "
          f"{'end error':>10} {'trajectory':>11}   (simulation only; vs own reference)")
    for name, label, preset, speed, cpu_speed, end_error, traj_error in rows:
        print(f"{name:<12} {label:<20} {preset:<8} {speed:8.1f} {cpu_speed:12.1f} "
              f"{end_error:10.1e} {traj_error:11.1e}")
    for failure in failures:
        print("failed:", failure)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    times = [psutil.Process(pid).cpu_times() for pid in pids]
    return sum(t.user + t.system for t in times)


def vector_throughput(envs, n_steps: int) -> tuple[float, float]:
    """(env steps per wall-clock second, env steps per CPU second of parent and workers).

    The second figure does not depend on what else runs on the machine: if it
    stays the same with more workers, the workers add no overhead and N free
    cores give N times the steps/s.
    """
    envs.reset(seed=0)
    actions = np.full(envs.action_space.shape, 0.3, dtype=np.float32)
    envs.step(actions)  # first step outside the clock
    pids = [os.getpid(), *envs.worker_pids()]
    cpu_before, start = cpu_seconds(pids), time.perf_counter()
    for _ in range(n_steps):
        envs.step(actions)
    wall, cpu = time.perf_counter() - start, cpu_seconds(pids) - cpu_before
    return n_steps * envs.num_envs / wall, n_steps * envs.num_envs / cpu


def compare_workers(name: str, workers: int, rounds: int, n_steps: int, preset: str,
                    engine: str = "opensim") -> None:
    from osim.env.vector import make_vector_env

    pools = {n: make_vector_env(name, num_envs=n, seed=0, preset=preset, engine=engine)
             for n in (1, workers)}
    try:
        speeds: dict[int, list[tuple[float, float]]] = {n: [] for n in pools}
        for _ in tqdm(range(rounds), desc=f"{name} workers"):
            for n, envs in pools.items():
                speeds[n].append(vector_throughput(envs, n_steps))
    finally:
        for envs in pools.values():
            envs.close()
    one = np.median(speeds[1], axis=0)
    print(f"\n{'env':<12} {'engine':<8} {'preset':<8} {'workers':>7} {'steps/s (total)':>16} "
          f"{'vs 1':>6} {'steps per CPU s':>16} {'vs 1':>6}")
    for n, values in speeds.items():
        speed, per_cpu = np.median(values, axis=0)
        print(f"{name:<12} {engine:<8} {preset:<8} {n:7d} {speed:16.1f} {speed / one[0]:5.2f}x "
              f"{per_cpu:16.1f} {per_cpu / one[1]:5.2f}x")
    print(f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end; steps/s "
          f"scale with workers only on idle cores, steps per CPU second show the overhead)")


def compare_policies(names: list[str], presets: list[str], n_steps: int) -> None:
    """Steps/s of each env under random excitations (a new draw every step, reset
    after every fall) and under zero excitation: what RL training sees."""
    print(f"\n{'env':<12} {'preset':<8} {'random':>8} {'zero':>8}   (CPU steps/s, {n_steps} steps)")
    for name in tqdm(names, desc="envs", leave=False):
        for preset in presets:
            rates = []
            for policy in ("random", "zero"):
                env = OsimGymEnv(name, preset=preset)
                env.reset(seed=0)
                env.action_space.seed(0)
                clock = Stopwatch()
                for _ in range(n_steps):
                    action = (env.action_space.sample() if policy == "random"
                              else np.zeros(env.action_space.shape))
                    *_, terminated, truncated, _ = env.step(action)
                    if terminated or truncated:
                        env.reset()
                rates.append(clock.rates(n_steps)[1])
            print(f"{name:<12} {preset:<8} {rates[0]:8.1f} {rates[1]:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["Arm", "Gait", "Prosthetics"],
                        choices=sorted(TASKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated time per run")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="instead: throughput of a vector env with 1 and N workers")
    parser.add_argument("--workers-env", default="Gait", choices=sorted(TASKS))
    parser.add_argument("--workers-steps", type=int, default=200, help="vector steps per round")
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS),
                        help="preset of the --workers envs")
    parser.add_argument("--engine", default="opensim", choices=["opensim", "mujoco"],
                        help="engine of the --workers and --profile envs")
    parser.add_argument("--engines", action="store_true",
                        help="instead: MuJoCo's steps/s against OpenSim's default preset")
    parser.add_argument("--profile", default=None, choices=sorted(TASKS), metavar="ENV",
                        help="instead: profile one env's step")
    parser.add_argument("--muscle-models", action="store_true",
                        help="instead: Thelen vs DeGroote-Fregly (compliant, rigid tendon)")
    parser.add_argument("--policies", type=int, default=None, metavar="STEPS",
                        help="instead: steps/s of each env under random and zero excitations, "
                             "default and fast presets")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.workers_steps < 1:
        parser.error("--rounds and --workers-steps must be >= 1 and --seconds > 0")
    if args.workers is not None and args.workers < 2:
        parser.error("--workers must be at least 2 (it is compared with 1 worker)")
    quiet_opensim()
    if args.workers:
        compare_workers(args.workers_env, args.workers, args.rounds, args.workers_steps,
                        args.preset, args.engine)
    elif args.engines:
        compare_engines(args.envs, args.rounds, args.seconds)
    elif args.profile:
        profile_step(args.profile, args.engine)
    elif args.policies:
        compare_policies(args.envs, ["default", "fast"], args.policies)
    elif args.muscle_models:
        compare_muscle_models(args.envs, args.rounds, args.seconds)
    else:
        compare_loops(args.envs, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
