"""Agreement of the MuJoCo engine with the OpenSim engine, target by target.

    python benchmarks/agreement.py [--quick] [--models arm human ...] [--episodes N]
                                   [--preset default] [--tendon equilibrium] [--json out.json]

For each model (the ARM as the Arm task builds it, with joint stops; HUMAN; the
3D model with and without its prosthesis) the issue's targets, each figure
printed next to its limit with PASS or FAIL:

1 skeleton    body origins at random poses (uniform within every unlocked
              coordinate's range, set by ``reset`` on both engines): within
              1e-6 m, or 1 mm for bodies that the knee's coupled translations
              move (MuJoCo holds them to a fitted polynomial).
2 paths       musculotendon lengths (RMS per muscle <= 1% of its mean length)
              and moment arms (RMS per muscle-coordinate pair <= 5 mm, mean over
              pairs <= 2 mm), from `osim.engines.mujoco.paths.agreement`.
3 force       tendon force at full and at minimum activation, at rest, at the
              random poses: RMS per muscle <= 10% of its max isometric force,
              mean over muscles <= 5%. OpenSim: its Thelen muscle (compliant
              tendon) in static equilibrium. MuJoCo: the engine's muscle model
              with the tendon it runs, and, labelled "option", the other one.
4 activation  ARM, 1 ms steps: time to 63% of the rise (excitation 0 -> 1) and
              of the fall (1 -> 0), per muscle, within 5% of OpenSim's.
5 contact     standing with every joint locked at its default (pelvis
              translations free), 1 s: vertical ground reaction within 2% of
              body weight, pelvis height within 2 mm of OpenSim's.
6 dynamics    ARM under benchmarks/patterns.py's pattern for 1 s: RMS per
              coordinate <= 0.1 rad. HUMAN at zero excitation: falls below the
              Gait task's ``min_pelvis_height`` within 20% of OpenSim's time.
              Every task of the model: mean return of uniform random
              excitations (seeded; the same actions on both engines) over
              ``--episodes`` episodes within 20% of OpenSim's.

The MuJoCo engine runs with ``--preset`` and ``--tendon``; the OpenSim engine
with its defaults. A final line per model and target sums up; ``--json``
writes every figure, with the per-muscle (per-pair, per-episode) values behind
them. The exit status is 1 when a figure fails. Run by hand: the random
episodes take minutes on OpenSim (``--quick``: 3 episodes per task).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import osim  # noqa: F401  (first: it loads the engine's libraries before anything imports opensim)

# isort: split
import mujoco
import numpy as np
import opensim
from patterns import excitation_pattern  # benchmarks/patterns.py
from tqdm import tqdm

from osim.engines import Engine, ModelSpec, SimulationError, make_engine
from osim.engines.mujoco.contact import configure_contacts
from osim.engines.mujoco.convert import convert_skeleton
from osim.engines.mujoco import kernels
from osim.engines.mujoco.engine import DEFAULT_TENDON, INTEGRATORS, PRESETS, TENDONS
from osim.engines.mujoco.paths import agreement
from osim.engines.opensim import OpenSimEngine, quiet_opensim
from osim.env import OsimGymEnv
from osim.models import build_model
from osim.tasks import TASKS

MODELS = {
    "arm": ModelSpec("arm", options={"joint_stops": True}),  # as the Arm task builds it
    "human": ModelSpec("human"),
    "gait3d_prosthetic": ModelSpec("gait3d", options={"prosthetic": True}),
    "gait3d_healthy": ModelSpec("gait3d", options={"prosthetic": False}),
}
CONTACT_MODELS = ("human", "gait3d_prosthetic", "gait3d_healthy")

N_POSES = 100
POSE_SEED = 0
EPISODE_SEED = 1000
ACTIVATION_STEP = 0.001  # s: resolves the 10-20 ms rise time to a few percent
RISE_TIME, FALL_TIME = 0.3, 0.6  # s: each phase long enough to settle (slowest tau ~80 ms)
CHANGE_FRACTION = 1.0 - math.exp(-1.0)  # "63%": one time constant of an exponential
STAND_TIME = 1.0  # s: both engines settle within 0.5 s (tests/test_mujoco_contact.py)
PELVIS_TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
PATTERN_STEPS = 100  # 1 s at the ARM's 10 ms steps
MAX_FALL_TIME = 5.0  # s


# ---------------------------------------------------------------------------
# Figures and their report
# ---------------------------------------------------------------------------
@dataclass
class Figure:
    """One measured figure against its limit (passes when value <= limit)."""

    model: str
    target: str  # the target, e.g. "2 paths"
    name: str  # what was measured
    value: float
    limit: float
    unit: str
    detail: str = ""  # where the worst case is, the values compared

    @property
    def passed(self) -> bool:
        return bool(self.value <= self.limit)  # NaN fails

    def line(self) -> str:
        result = "PASS" if self.passed else "FAIL"
        return (f"  {self.target:<27} {self.name:<40} {self.value:>9.3g} {self.unit:<3}"
                f" <= {self.limit:<5g} {self.unit:<3} {result}  {self.detail}")

    @staticmethod
    def header() -> str:
        return f"  {'target':<27} {'figure':<40} {'value':>13}    {'limit':<9} result  detail"


@dataclass
class Section:
    """The figures of one model and target, and the values behind them."""

    figures: list[Figure]
    details: dict


class Report:
    """Collects figures (printed as they come) and the values behind them."""

    def __init__(self):
        self.figures: list[Figure] = []
        self.details: dict[str, dict[str, dict]] = {}

    def add(self, sections: list[Section]) -> None:
        for section in sections:
            for figure in section.figures:
                print(figure.line(), flush=True)
            self.figures += section.figures
            first = section.figures[0]
            by_target = self.details.setdefault(first.model, {})
            by_target.setdefault(first.target, {}).update(section.details)

    def summary(self) -> list[str]:
        """One line per model and target: PASS when all its figures pass."""
        groups: dict[tuple[str, str], list[Figure]] = {}
        for figure in self.figures:
            groups.setdefault((figure.model, figure.target), []).append(figure)
        lines = []
        for (model, target), figures in groups.items():
            failed = sum(not f.passed for f in figures)
            verdict = f"FAIL ({failed} of {len(figures)} figures)" if failed else "PASS"
            lines.append(f"  {model:<18} {target:<27} {verdict}")
        passed = sum(all(f.passed for f in group) for group in groups.values())
        lines.append(f"  {passed} of {len(groups)} model/target lines pass")
        return lines


def rms(errors: np.ndarray, axis: int = 0) -> np.ndarray:
    """Root mean square, ignoring NaN (samples OpenSim could not compute)."""
    return np.sqrt(np.nanmean(np.square(errors), axis=axis))


# ---------------------------------------------------------------------------
# 1 skeleton
# ---------------------------------------------------------------------------
def random_poses(model: opensim.Model, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` poses uniform within each unlocked coordinate's range."""
    rng = np.random.default_rng(seed)
    free = [c for c in model.getCoordinateSet() if not c.getDefaultLocked()]
    return [{c.getName(): float(rng.uniform(c.getRangeMin(), c.getRangeMax())) for c in free}
            for _ in range(n)]


def bodies_moved_by_couplings(sim) -> set[str]:
    """Bodies whose origin a coupled joint moves: its body and all it carries."""
    m, skeleton = sim.mj_model, sim.built.skeleton
    coupled = {m.body(c.body).id for c in skeleton.couplings}

    def carried(body_id: int) -> bool:
        while body_id != 0:
            if body_id in coupled:
                return True
            body_id = int(m.body_parentid[body_id])
        return False

    return {name for name in sim.body_names if carried(m.body(skeleton.bodies[name]).id)}


def check_skeleton(key: str, ours: Engine, reference: Engine, poses) -> list[Section]:
    errors = np.zeros(len(ours.body_names))  # largest distance per body, m
    skipped = 0
    for pose in tqdm(poses, desc=f"{key}: skeleton", leave=False, disable=None):
        ours.reset(coordinates=pose)
        try:
            reference.reset(coordinates=pose)
        except SimulationError:  # OpenSim's muscles found no equilibrium there
            skipped += 1
            continue
        distance = np.linalg.norm(ours.body_positions() - reference.body_positions(), axis=1)
        errors = np.maximum(errors, distance)
    coupled = bodies_moved_by_couplings(ours)
    worst = int(np.argmax(errors))
    note = f"; {skipped} poses skipped (OpenSim's reset failed)" if skipped else ""
    figures = []
    for moved, name, limit in ((False, "body origin error, exact joints", 1e-6),
                               (True, "body origin error, coupled knee and below", 1e-3)):
        group = [i for i, body in enumerate(ours.body_names) if (body in coupled) == moved]
        if group:
            i = max(group, key=lambda j: errors[j])
            where = f"worst {ours.body_names[i]}" + (", the largest overall" if i == worst else "")
            figures.append(Figure(key, "1 skeleton", name, float(errors[i]), limit, "m",
                                  where + note))
    details = {"poses": len(poses), "skipped_poses": skipped,
               "max_error_m": dict(zip(ours.body_names, errors.tolist())),
               "coupled_bodies": sorted(coupled)}
    return [Section(figures, details)]


# ---------------------------------------------------------------------------
# 2 paths
# ---------------------------------------------------------------------------
def check_paths(key: str, ours) -> list[Section]:
    result = agreement(ours.opensim_model, ours.built.paths, n_poses=N_POSES)
    (muscle, length), ((pair_muscle, pair_coordinate), pair) = (result["worst_length"],
                                                                  result["worst_pair"])
    figures = [
        Figure(key, "2 paths", "length RMS, worst muscle", length, 1.0, "%",
               f"{muscle} (% of its mean length)"),
        Figure(key, "2 paths", "moment arm RMS, worst pair", pair, 5.0, "mm",
               f"{pair_muscle} about {pair_coordinate}"),
        Figure(key, "2 paths", "moment arm RMS, mean over pairs", result["mean_pair_mm"], 2.0,
               "mm", f"{len(result['moment_arm_rms_mm'])} pairs"),
    ]
    pairs = {f"{m}/{c}": v for (m, c), v in result["moment_arm_rms_mm"].items()}
    details = {"poses": result["n_poses"], "length_rms_percent": result["length_rms_percent"],
               "moment_arm_rms_mm": pairs}
    return [Section(figures, details)]


# ---------------------------------------------------------------------------
# 3 force
# ---------------------------------------------------------------------------
class OpenSimMuscles:
    """An initialised copy of an OpenSim model: its muscles' tendon forces in
    static equilibrium (zero speeds) at a pose and activations."""

    def __init__(self, model: opensim.Model):
        self.model = opensim.Model(model)
        self.state = self.model.initSystem()  # speeds 0, and never set otherwise
        self.coordinates = list(self.model.getCoordinateSet())
        self.muscles = [opensim.Thelen2003Muscle.safeDownCast(m) for m in self.model.getMuscles()]

    def tendon_forces(self, q: np.ndarray, activation: np.ndarray) -> np.ndarray:
        """Per muscle; NaN where OpenSim finds no equilibrium (rare: one
        muscle at one pose of the 3D model's). Solved muscle by muscle, as
        ``equilibrateMuscles`` does, since that one throws for the whole
        model when one muscle fails."""
        for coordinate, value in zip(self.coordinates, q):
            if not coordinate.getLocked(self.state):
                coordinate.setValue(self.state, float(value), False)
        for muscle, a in zip(self.muscles, activation):
            muscle.setActivation(self.state, float(a))
        self.model.realizeVelocity(self.state)
        solved = np.zeros(len(self.muscles), dtype=bool)
        for i, muscle in enumerate(self.muscles):
            try:
                muscle.computeInitialFiberEquilibrium(self.state)
                solved[i] = True
            except RuntimeError:
                pass
        self.model.realizeDynamics(self.state)
        return np.array([m.getTendonForce(self.state) if ok else np.nan
                         for m, ok in zip(self.muscles, solved)])


def engine_tendon_forces(muscles, activation, lengths, tendon: str) -> np.ndarray:
    """The MuJoCo engine's tendon forces at rest with each of its tendons."""
    at_rest = np.zeros_like(lengths)
    if tendon == "rigid":
        return muscles.rigid_tendon(activation, lengths, at_rest).tendon_force
    if tendon == "equilibrium":  # the engine's compiled solver
        out = [np.zeros_like(lengths) for _ in range(5)]
        kernels.equilibrium_tendon(kernels.muscle_table(muscles), activation, lengths, at_rest, *out)
        return out[3]
    fiber_length = muscles.equilibrium(activation, lengths)
    return muscles.compliant_tendon(activation, fiber_length, activation, lengths).tendon_force


def coordinate_vector(sim, pose: dict[str, float]) -> np.ndarray:
    """Every coordinate's value (``coordinate_names`` order), defaults where not posed."""
    defaults = sim.built.skeleton.default_coordinates
    return np.array([pose.get(name, defaults[name]) for name in sim.coordinate_names])


def check_forces(key: str, ours, poses) -> list[Section]:
    muscles = ours.built.muscles
    probe = OpenSimMuscles(ours.opensim_model)
    levels = {"active": np.ones(muscles.count),  # full activation
              "passive": muscles.clamp_activation(np.zeros(muscles.count))}  # its minimum
    tendons = [ours.tendon] + [t for t in TENDONS if t != ours.tendon]
    errors = {(level, tendon): [] for level in levels for tendon in tendons}
    for pose in tqdm(poses, desc=f"{key}: muscle forces", leave=False, disable=None):
        q = coordinate_vector(ours, pose)
        lengths, _ = ours.built.paths.evaluate(q)
        for level, activation in levels.items():
            reference = probe.tendon_forces(q, activation)
            for tendon in tendons:
                errors[level, tendon].append(
                    engine_tendon_forces(muscles, activation, lengths, tendon) - reference)
    sections = []
    for tendon in tendons:
        target = f"3 force ({tendon})" if tendon == ours.tendon else f"3 force ({tendon}, option)"
        figures, details = [], {}
        for level in levels:
            error = np.array(errors[level, tendon])
            percent = 100 * rms(error) / muscles.max_isometric_force
            worst = int(np.nanargmax(percent))
            # the median next to the RMS: is the worst muscle off everywhere, or at a few poses?
            median = (100 * np.nanmedian(np.abs(error[:, worst]))
                      / muscles.max_isometric_force[worst])
            unsolved = int(np.isnan(error).sum())
            note = f"; {unsolved} of {error.size} OpenSim equilibria failed" if unsolved else ""
            figures += [
                Figure(key, target, f"{level}: RMS, worst muscle", float(percent[worst]), 10.0,
                       "%", f"{ours.muscle_names[worst]} (% of max isometric force; median "
                            f"|error| {median:.3g}%){note}"),
                Figure(key, target, f"{level}: RMS, mean over muscles", float(np.mean(percent)),
                       5.0, "%"),
            ]
            details[level] = {
                "rms_percent_of_max_force": dict(zip(ours.muscle_names, percent.tolist())),
                "opensim_failures": unsolved}
        sections.append(Section(figures, details))
    return sections


# ---------------------------------------------------------------------------
# 4 activation
# ---------------------------------------------------------------------------
def time_to_change(activations: np.ndarray, dt: float) -> np.ndarray:
    """Per muscle, the time (s) to cover `CHANGE_FRACTION` of the change from
    the first row to the last, interpolated linearly between steps."""
    start, end = activations[0], activations[-1]
    level = start + CHANGE_FRACTION * (end - start)
    progress = (activations - level) * np.sign(end - start)  # crosses 0 upwards
    times = np.full(activations.shape[1], np.nan)
    for m in range(activations.shape[1]):
        k = int(np.argmax(progress[:, m] >= 0))
        if k > 0:
            before, after = progress[k - 1, m], progress[k, m]
            times[m] = dt * (k - 1 + before / (before - after))
    return times


def activation_phases(sim: Engine) -> dict[str, np.ndarray]:
    """Activations from rest under excitation 1, then 0: time to 63% of each change."""
    sim.reset()
    times = {}
    for phase, excitation, duration in (("rise", 1.0, RISE_TIME), ("fall", 0.0, FALL_TIME)):
        u = np.full(sim.num_muscles, excitation)
        trace = [sim.muscle_activations()]
        for _ in range(round(duration / sim.step_size)):
            sim.step(u)
            trace.append(sim.muscle_activations())
        times[phase] = time_to_change(np.array(trace), sim.step_size)
    return times


def check_activation(key: str, mujoco_settings: dict) -> list[Section]:
    spec = MODELS[key]
    ours = activation_phases(
        make_engine("mujoco", spec, step_size=ACTIVATION_STEP, **mujoco_settings))
    reference_sim = make_engine("opensim", spec, step_size=ACTIVATION_STEP)
    reference = activation_phases(reference_sim)
    figures, details = [], {}
    for phase in ("rise", "fall"):
        relative = 100 * np.abs(ours[phase] / reference[phase] - 1.0)
        worst = int(np.nanargmax(relative)) if np.any(np.isfinite(relative)) else 0
        figures.append(Figure(
            key, "4 activation", f"time to 63% of the {phase}, worst muscle",
            float(relative[worst]), 5.0, "%",
            f"{reference_sim.muscle_names[worst]}: MuJoCo {1000 * ours[phase][worst]:.2f} ms, "
            f"OpenSim {1000 * reference[phase][worst]:.2f} ms"))
        details[phase] = {"mujoco_s": ours[phase].tolist(), "opensim_s": reference[phase].tolist(),
                          "muscles": reference_sim.muscle_names}
    return [Section(figures, details)]


# ---------------------------------------------------------------------------
# 5 contact
# ---------------------------------------------------------------------------
def standing_model(spec: ModelSpec) -> opensim.Model:
    """The model with every coordinate but the pelvis translations locked at its
    default: no muscle can move it, so both engines stand still on their feet."""
    model = build_model(spec.name, **spec.options)
    for coordinate in model.getCoordinateSet():
        if coordinate.getName() not in PELVIS_TRANSLATIONS:
            coordinate.setDefaultLocked(True)
    model.finalizeConnections()
    return model


def stand_in_mujoco(model: opensim.Model, preset: str) -> tuple[float, float]:
    """(pelvis height, vertical ground reaction) after `STAND_TIME` in MuJoCo.

    The skeleton and contacts as the engine builds them, without the engine:
    it cannot fit muscle paths to a model whose muscles span no free
    coordinate (every joint locked here)."""
    settings = PRESETS[preset]
    skeleton = convert_skeleton(model, settings.timestep)
    mj_model = mujoco.MjModel.from_xml_string(skeleton.xml)
    contacts = configure_contacts(skeleton, mj_model)
    mj_model.opt.integrator = INTEGRATORS[settings.integrator]
    data = mujoco.MjData(mj_model)
    skeleton.set_qpos(data.qpos)
    mujoco.mj_step(mj_model, data, round(STAND_TIME / settings.timestep))
    mujoco.mj_forward(mj_model, data)  # contact forces of the final state
    vertical = sum(contacts.ground_reaction_forces(mj_model, data).values())[1]
    return skeleton.coordinates_from_qpos(data.qpos)["pelvis_ty"], float(vertical)


def stand_in_opensim(model: opensim.Model) -> tuple[float, float]:
    sim = OpenSimEngine(model)
    excitations = np.zeros(sim.num_muscles)
    for _ in range(round(STAND_TIME / sim.step_size)):
        sim.step(excitations)
    vertical = sum(sim.ground_reaction_forces().values())[1]
    return sim.coordinate("pelvis_ty"), float(vertical)


def body_weight(model: opensim.Model) -> float:
    gravity = model.getGravity()
    mass = sum(body.getMass() for body in model.getBodySet())
    return mass * float(np.linalg.norm([gravity.get(i) for i in range(3)]))


def check_contact(key: str, preset: str) -> list[Section]:
    model = standing_model(MODELS[key])
    weight = body_weight(model)
    height, vertical = stand_in_mujoco(model, preset)
    height_opensim, vertical_opensim = stand_in_opensim(model)
    figures = [
        Figure(key, "5 contact", "vertical ground reaction vs weight",
               100 * abs(vertical / weight - 1.0), 2.0, "%",
               f"MuJoCo {vertical / weight:.4f}, OpenSim {vertical_opensim / weight:.4f} x weight"),
        Figure(key, "5 contact", "pelvis height vs OpenSim", 1000 * abs(height - height_opensim),
               2.0, "mm", f"MuJoCo {height:.5f} m, OpenSim {height_opensim:.5f} m"),
    ]
    details = {"body_weight_n": weight,
               "vertical_reaction_n": {"mujoco": vertical, "opensim": vertical_opensim},
               "pelvis_height_m": {"mujoco": height, "opensim": height_opensim}}
    return [Section(figures, details)]


# ---------------------------------------------------------------------------
# 6 dynamics
# ---------------------------------------------------------------------------
def check_arm_pattern(key: str, ours: Engine, reference: Engine) -> list[Section]:
    ours.reset()
    reference.reset()
    errors = []
    for excitation in excitation_pattern(PATTERN_STEPS, ours.num_muscles, ours.step_size):
        ours.step(excitation)
        reference.step(excitation)
        errors.append(ours.coordinate_values() - reference.coordinate_values())
    per_coordinate = rms(np.array(errors))
    worst = int(np.argmax(per_coordinate))
    listing = ", ".join(f"{n} {v:.3g}" for n, v in zip(ours.coordinate_names, per_coordinate))
    figures = [Figure(key, "6 dynamics", "pattern, 1 s: RMS, worst coordinate",
                      float(per_coordinate[worst]), 0.1, "rad", listing)]
    return [Section(figures, {"pattern_rms_rad": dict(zip(ours.coordinate_names,
                                                         per_coordinate.tolist()))})]


def fall_time(sim: Engine, min_height: float) -> float:
    """When the pelvis first drops below ``min_height`` at zero excitation
    (inf: not within `MAX_FALL_TIME`)."""
    sim.reset()
    pelvis = sim.coordinate_names.index("pelvis_ty")
    excitations = np.zeros(sim.num_muscles)
    steps = round(MAX_FALL_TIME / sim.step_size)
    for _ in tqdm(range(steps), desc=f"fall ({sim.name})", leave=False, disable=None):
        sim.step(excitations)
        if sim.coordinate_values()[pelvis] < min_height:
            return sim.time
    return math.inf


def check_fall(key: str, ours: Engine, reference: Engine) -> list[Section]:
    min_height = TASKS["Gait"]().min_pelvis_height
    times, errors = {}, []
    for sim in (ours, reference):
        try:
            times[sim.name] = fall_time(sim, min_height)
        except SimulationError as err:
            times[sim.name] = math.nan
            errors.append(f"; {sim.name}: {err}")
    mine, theirs = times["mujoco"], times["opensim"]
    relative = 0.0 if mine == theirs == math.inf else 100 * abs(mine / theirs - 1.0)
    figures = [Figure(key, "6 dynamics", "zero excitation: time to fall", relative, 20.0, "%",
                      f"pelvis_ty < {min_height} m: MuJoCo {mine:.2f} s, OpenSim {theirs:.2f} s"
                      + "".join(errors))]
    return [Section(figures, {"fall_time_s": times, "min_pelvis_height_m": min_height})]


def task_model(task: str) -> str:
    """The key in `MODELS` of the model a task runs."""
    spec = TASKS[task]().model_spec()
    if spec.name == "gait3d":
        return "gait3d_prosthetic" if spec.options.get("prosthetic") else "gait3d_healthy"
    return spec.name


def make_env(task: str, engine: str, mujoco_settings: dict) -> OsimGymEnv:
    if engine == "opensim":
        return OsimGymEnv(task, engine="opensim")
    return OsimGymEnv(task, engine="mujoco", preset=mujoco_settings["preset"],
                      engine_options={"tendon": mujoco_settings["tendon"]})


@dataclass
class Episodes:
    returns: list[float]
    steps: list[int]
    sim_errors: int  # episodes ended by a SimulationError (the env's info["sim_error"])


def random_episodes(env: OsimGymEnv, n_episodes: int, label: str) -> Episodes:
    """Uniform random excitations, seeded per episode: the same actions on both engines."""
    result = Episodes([], [], 0)
    for episode in tqdm(range(n_episodes), desc=label, leave=False, disable=None):
        rng = np.random.default_rng(EPISODE_SEED + episode)
        env.reset(seed=EPISODE_SEED + episode)
        total, info = 0.0, {}
        for step in range(1, env.task.max_episode_steps + 1):
            _, reward, terminated, truncated, info = env.step(rng.random(env.action_space.shape))
            total += reward
            if terminated or truncated:
                break
        result.returns.append(total)
        result.steps.append(step)
        result.sim_errors += "sim_error" in info
    return result


def check_random_returns(key: str, n_episodes: int, mujoco_settings: dict) -> list[Section]:
    figures, details = [], {}
    for task in [t for t in TASKS if task_model(t) == key]:
        runs = {engine: random_episodes(make_env(task, engine, mujoco_settings), n_episodes,
                                        f"{task} ({engine})")
                for engine in ("mujoco", "opensim")}
        mine, theirs = (float(np.mean(runs[e].returns)) for e in ("mujoco", "opensim"))
        steps = {e: float(np.mean(runs[e].steps)) for e in runs}
        note = "".join(f"; {runs[e].sim_errors}/{n_episodes} {e} episodes ended by a "
                       "simulation error" for e in runs if runs[e].sim_errors)
        ratio = mine / theirs if theirs else math.nan
        figures.append(Figure(
            key, "6 dynamics", f"{task}: mean random return", 100 * abs(ratio - 1.0), 20.0, "%",
            f"MuJoCo {mine:.4g}, OpenSim {theirs:.4g}, ratio {ratio:.3f}; mean steps "
            f"{steps['mujoco']:.0f} vs {steps['opensim']:.0f} ({n_episodes} episodes){note}"))
        details[task] = {e: asdict(runs[e]) for e in runs}
    return [Section(figures, details)]


# ---------------------------------------------------------------------------
# Running it all
# ---------------------------------------------------------------------------
def run_model(key: str, report: Report, n_episodes: int, mujoco_settings: dict) -> None:
    spec = MODELS[key]
    ours = make_engine("mujoco", spec, **mujoco_settings)
    reference = make_engine("opensim", spec)
    poses = random_poses(ours.opensim_model, N_POSES, POSE_SEED)
    checks: list[Callable[[], list[Section]]] = [
        lambda: check_skeleton(key, ours, reference, poses),
        lambda: check_paths(key, ours),
        lambda: check_forces(key, ours, poses),
    ]
    if key == "arm":
        checks.append(lambda: check_activation(key, mujoco_settings))
        checks.append(lambda: check_arm_pattern(key, ours, reference))
    if key in CONTACT_MODELS:
        checks.append(lambda: check_contact(key, mujoco_settings["preset"]))
    if key == "human":
        checks.append(lambda: check_fall(key, ours, reference))
    checks.append(lambda: check_random_returns(key, n_episodes, mujoco_settings))
    for check in checks:
        report.add(check())


def settings_lines(mujoco_settings: dict) -> list[str]:
    """Which preset, timestep and tendon each engine runs (a control step of 10 ms)."""
    ours = make_engine("mujoco", MODELS["arm"], **mujoco_settings)
    reference = make_engine("opensim", MODELS["arm"])
    settings = reference.integrator_settings
    return [
        f"MuJoCo engine: preset {ours.preset!r} ({ours.integrator}, timestep {ours.timestep:g} s), "
        f"tendon {ours.tendon!r}, control step {ours.step_size:g} s",
        f"OpenSim engine: preset {reference.preset!r} ({settings.integrator}, accuracy "
        f"{settings.accuracy:g}, max internal step {settings.max_step_size} s)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="3 random episodes per task")
    parser.add_argument("--episodes", type=int, help="random episodes per task (default 20)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="the MuJoCo engine's preset")
    parser.add_argument("--tendon", choices=TENDONS, default=DEFAULT_TENDON,
                        help=f"the MuJoCo engine's tendon (default {DEFAULT_TENDON})")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args(argv)
    n_episodes = args.episodes or (3 if args.quick else 20)
    mujoco_settings = {"preset": args.preset, "tendon": args.tendon}
    quiet_opensim()
    started = time.perf_counter()

    header = settings_lines(mujoco_settings)
    print("\n".join(header))
    print(f"{N_POSES} random poses; {n_episodes} random episodes per task\n")
    report = Report()
    print(Figure.header())
    for key in args.models:
        print(key)
        run_model(key, report, n_episodes, mujoco_settings)
    elapsed = time.perf_counter() - started
    print("\nSummary")
    print("\n".join(report.summary()))
    print(f"({elapsed:.0f} s)")

    if args.json:
        figures = [asdict(f) | {"passed": f.passed} for f in report.figures]
        document = {"settings": header, "episodes": n_episodes, "poses": N_POSES,
                    "elapsed_s": elapsed, "figures": figures, "details": report.details}
        with open(args.json, "w") as out:
            json.dump(document, out, indent=1, default=float, allow_nan=True)
    return 0 if all(f.passed for f in report.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
