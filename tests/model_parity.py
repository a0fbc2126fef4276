"""Model-agnostic parity checks between two OpenSim models.

Every helper takes a candidate model (ours, built in code) and a reference
model (e.g. loaded from a published ``.osim`` file, see `reference_model_path`) and matches bodies,
coordinates and muscles by NAME, so the helpers work for any pair of models
that share names. Nothing here writes files; OpenSim logging is silenced by
:func:`silence_opensim`.

Error conventions:

* masses: absolute differences in kg;
* muscle parameters: relative error ``|a - b| / max(|b|, 1e-12)`` per numeric
  property, exact equality for non-numeric ones;
* muscle-tendon lengths: relative error ``|a - b| / |b|``;
* moment arms: ``|a - b| / max(|b|, floor)`` with ``MOMENT_ARM_FLOOR`` =
  5 mm by default. Muscles have zero (or tiny) moment arms about coordinates
  they do not cross, and numerically computed moment arms near zero carry
  noise; dividing by them would blow up the "relative" error. Below 5 mm the
  error is therefore measured against 5 mm (a 1% bound then means 50 um
  absolute), which is small next to the 1-5 cm moment arms of limb muscles
  about the joints they cross.
* simulation: coordinate RMS error in the coordinates' units (rad for
  rotations) over all matched coordinates and sample times.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import opensim
import pytest

MOMENT_ARM_FLOOR = 0.005  # m; see module docstring
_PATH_PROPERTIES = {"GeometryPath", "path", "components"}
# The published models, next to the repository; OSIM_RL_REFERENCE_MODELS names another folder.
REFERENCE_MODELS = Path(__file__).resolve().parents[2] / "shared" / "reference-models"


def reference_model_path(name: str) -> Path:
    """The reference model file `name`. When it is missing the test is skipped, or fails
    if ``CI`` is set: a CI run must not pass without checking parity."""
    path = Path(os.environ.get("OSIM_RL_REFERENCE_MODELS") or REFERENCE_MODELS) / name
    if not path.is_file():
        reason = f"reference model not found: {path}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: parity must be checked)", pytrace=False)
        pytest.skip(reason)
    return path


def silence_opensim(level: str = "off") -> None:
    """Keep the engine quiet (no console lines) for tests."""
    opensim.Logger.setLevelString(level)


def _concrete(component):
    """Down-cast a component to its concrete Python class (for property access)."""
    cls = getattr(opensim, component.getConcreteClassName(), None)
    if cls is not None and hasattr(cls, "safeDownCast"):
        cast = cls.safeDownCast(component)
        if cast is not None:
            return cast
    return component


def _bodies(model: opensim.Model) -> dict[str, opensim.Body]:
    return {body.getName(): body for body in model.getBodySet()}


def _muscles(model: opensim.Model) -> dict[str, opensim.Muscle]:
    muscles = model.getMuscles()
    return {muscles.get(i).getName(): muscles.get(i) for i in range(muscles.getSize())}


def muscle_names(model: opensim.Model) -> list[str]:
    """Muscle names in the model's order."""
    return list(_muscles(model))


def free_coordinates(model: opensim.Model, state: opensim.State | None = None) -> list[opensim.Coordinate]:
    """Coordinates that are not locked by default (and not dependent, when ``state`` is given)."""
    out = []
    for coordinate in model.getCoordinateSet():
        if coordinate.getDefaultLocked():
            continue
        if state is not None and coordinate.isDependent(state):
            continue
        out.append(coordinate)
    return out


# ---------------------------------------------------------------------------
# Mass
# ---------------------------------------------------------------------------
@dataclass
class MassComparison:
    total_a: float
    total_b: float
    body_diffs: dict[str, float]  # name -> |m_a - m_b| (kg) for bodies in both
    only_in_a: list[str]
    only_in_b: list[str]

    @property
    def total_diff(self) -> float:
        return abs(self.total_a - self.total_b)

    @property
    def max_body_diff(self) -> float:
        return max(self.body_diffs.values(), default=0.0)


def compare_masses(a: opensim.Model, b: opensim.Model) -> MassComparison:
    """Total mass and per-body masses (matched by body name)."""
    bodies_a, bodies_b = _bodies(a), _bodies(b)
    total_a = sum(body.getMass() for body in bodies_a.values())
    total_b = sum(body.getMass() for body in bodies_b.values())
    common = [name for name in bodies_b if name in bodies_a]
    return MassComparison(
        total_a=total_a,
        total_b=total_b,
        body_diffs={name: abs(bodies_a[name].getMass() - bodies_b[name].getMass()) for name in common},
        only_in_a=sorted(set(bodies_a) - set(bodies_b)),
        only_in_b=sorted(set(bodies_b) - set(bodies_a)),
    )


# ---------------------------------------------------------------------------
# Muscle parameters
# ---------------------------------------------------------------------------
def _property_values(component) -> dict[str, str]:
    obj = _concrete(component)
    values = {}
    for i in range(obj.getNumProperties()):
        prop = obj.getPropertyByIndex(i)
        if prop.getName() in _PATH_PROPERTIES:
            continue
        values[prop.getName()] = prop.toString()
    return values


def _as_numbers(text: str) -> list[float] | None:
    tokens = text.replace("(", " ").replace(")", " ").replace(",", " ").split()
    try:
        return [float(t) for t in tokens] if tokens else None
    except ValueError:
        return None


@dataclass
class MuscleParameterComparison:
    names_a: list[str]
    names_b: list[str]
    max_isometric_force: dict[str, tuple[float, float]]  # name -> (a, b)
    class_mismatches: dict[str, tuple[str, str]]  # name -> (class a, class b)
    # (muscle, property) -> relative error (numeric) or inf (text differs /
    # property missing in one model); only mismatches are listed.
    property_errors: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def same_names(self) -> bool:
        return sorted(self.names_a) == sorted(self.names_b)

    @property
    def max_force_rel_error(self) -> float:
        return max(
            (abs(fa - fb) / max(abs(fb), 1e-12) for fa, fb in self.max_isometric_force.values()),
            default=0.0,
        )

    @property
    def max_property_rel_error(self) -> float:
        return max(self.property_errors.values(), default=0.0)


def compare_muscle_parameters(
    a: opensim.Model, b: opensim.Model, ignore: tuple[str, ...] = ()
) -> MuscleParameterComparison:
    """Names, classes, max isometric forces and every other (non-path) property.

    Properties are read through the OpenSim property system of each muscle's
    concrete class, so this covers e.g. optimal fiber length, tendon slack
    length, pennation, time constants and the Thelen curve parameters without
    listing them. ``ignore`` names properties to skip.
    """
    muscles_a, muscles_b = _muscles(a), _muscles(b)
    common = [name for name in muscles_b if name in muscles_a]
    result = MuscleParameterComparison(
        names_a=list(muscles_a),
        names_b=list(muscles_b),
        max_isometric_force={
            n: (muscles_a[n].getMaxIsometricForce(), muscles_b[n].getMaxIsometricForce()) for n in common
        },
        class_mismatches={
            n: (muscles_a[n].getConcreteClassName(), muscles_b[n].getConcreteClassName())
            for n in common
            if muscles_a[n].getConcreteClassName() != muscles_b[n].getConcreteClassName()
        },
    )
    for name in common:
        props_a, props_b = _property_values(muscles_a[name]), _property_values(muscles_b[name])
        for prop in sorted(set(props_a) | set(props_b)):
            if prop in ignore:
                continue
            if prop not in props_a or prop not in props_b:
                result.property_errors[(name, prop)] = math.inf
                continue
            va, vb = props_a[prop], props_b[prop]
            if va == vb:
                continue
            na, nb = _as_numbers(va), _as_numbers(vb)
            if na is None or nb is None or len(na) != len(nb):
                result.property_errors[(name, prop)] = math.inf
                continue
            err = max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(na, nb))
            if err > 0.0:
                result.property_errors[(name, prop)] = err
    return result


# ---------------------------------------------------------------------------
# Muscle geometry: MTU lengths and moment arms over sampled poses
# ---------------------------------------------------------------------------
def sample_poses(model: opensim.Model, n: int = 20, seed: int = 0) -> list[dict[str, float]]:
    """``n`` poses drawn uniformly (seeded) inside the ranges of the free coordinates.

    Uses the model's default state to decide which coordinates are free
    (unlocked and not dependent on others through constraints).
    """
    state = model.initSystem()
    coordinates = free_coordinates(model, state)
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(n):
        poses.append(
            {c.getName(): float(rng.uniform(c.getRangeMin(), c.getRangeMax())) for c in coordinates}
        )
    return poses


def _set_pose(model: opensim.Model, state: opensim.State, pose: dict[str, float]) -> None:
    coordinates = model.getCoordinateSet()
    for name, value in pose.items():
        coordinates.get(name).setValue(state, value, False)
    if model.getConstraintSet().getSize() > 0:
        model.assemble(state)
    model.realizePosition(state)


@dataclass
class GeometryComparison:
    n_poses: int
    max_length_rel_error: float
    max_moment_arm_error: float  # relative, with the absolute floor (see module doc)
    moment_arm_floor: float
    worst_length: tuple[str, int] | None = None  # (muscle, pose index)
    worst_moment_arm: tuple[str, str, int] | None = None  # (muscle, coordinate, pose index)
    max_abs_moment_arm: float = 0.0  # largest |moment arm| seen in b (sanity: non-trivial data)


def compare_muscle_geometry(
    a: opensim.Model,
    b: opensim.Model,
    n_poses: int = 20,
    seed: int = 0,
    moment_arm_floor: float = MOMENT_ARM_FLOOR,
    poses: list[dict[str, float]] | None = None,
) -> GeometryComparison:
    """MTU lengths and moment arms (every common muscle about every free coordinate of ``b``).

    Poses are drawn with :func:`sample_poses` from ``b`` (the reference)
    unless given.
    """
    if poses is None:
        poses = sample_poses(b, n_poses, seed)
    state_a, state_b = a.initSystem(), b.initSystem()
    muscles_a, muscles_b = _muscles(a), _muscles(b)
    common = [name for name in muscles_b if name in muscles_a]
    coord_names = [c.getName() for c in free_coordinates(b, state_b)]
    coords_a, coords_b = a.getCoordinateSet(), b.getCoordinateSet()

    result = GeometryComparison(len(poses), 0.0, 0.0, moment_arm_floor)
    for k, pose in enumerate(poses):
        _set_pose(a, state_a, pose)
        _set_pose(b, state_b, pose)
        for name in common:
            la, lb = muscles_a[name].getLength(state_a), muscles_b[name].getLength(state_b)
            err = abs(la - lb) / abs(lb)
            if err >= result.max_length_rel_error:
                result.max_length_rel_error, result.worst_length = err, (name, k)
            for coord in coord_names:
                ra = muscles_a[name].computeMomentArm(state_a, coords_a.get(coord))
                rb = muscles_b[name].computeMomentArm(state_b, coords_b.get(coord))
                result.max_abs_moment_arm = max(result.max_abs_moment_arm, abs(rb))
                err = abs(ra - rb) / max(abs(rb), moment_arm_floor)
                if err >= result.max_moment_arm_error:
                    result.max_moment_arm_error, result.worst_moment_arm = err, (name, coord, k)
    return result


# ---------------------------------------------------------------------------
# Coordinates and markers (kinematics)
# ---------------------------------------------------------------------------
@dataclass
class CoordinateComparison:
    names_a: list[str]
    names_b: list[str]
    # (coordinate, field) -> (value in a, value in b), for differing fields only
    mismatches: dict[tuple[str, str], tuple[object, object]]

    @property
    def same_names(self) -> bool:
        return sorted(self.names_a) == sorted(self.names_b)


def compare_coordinates(a: opensim.Model, b: opensim.Model, tol: float = 1e-12) -> CoordinateComparison:
    """Coordinate names, motion types, ranges, default values/speeds and locked/clamped flags."""
    ca = {c.getName(): c for c in a.getCoordinateSet()}
    cb = {c.getName(): c for c in b.getCoordinateSet()}
    mismatches: dict[tuple[str, str], tuple[object, object]] = {}
    for name in [n for n in cb if n in ca]:
        x, y = ca[name], cb[name]
        numeric = {
            "range_min": (x.getRangeMin(), y.getRangeMin()),
            "range_max": (x.getRangeMax(), y.getRangeMax()),
            "default_value": (x.getDefaultValue(), y.getDefaultValue()),
            "default_speed_value": (x.getDefaultSpeedValue(), y.getDefaultSpeedValue()),
        }
        for key, (va, vb) in numeric.items():
            if abs(va - vb) > tol:
                mismatches[(name, key)] = (va, vb)
        exact = {
            "motion_type": (x.getMotionType(), y.getMotionType()),
            "locked": (x.getDefaultLocked(), y.getDefaultLocked()),
            "clamped": (x.getDefaultClamped(), y.getDefaultClamped()),
            "joint": (x.getJoint().getName(), y.getJoint().getName()),
        }
        for key, (va, vb) in exact.items():
            if va != vb:
                mismatches[(name, key)] = (va, vb)
    return CoordinateComparison(list(ca), list(cb), mismatches)


@dataclass
class MarkerComparison:
    names_a: list[str]
    names_b: list[str]
    max_distance: float  # m, largest ground-frame distance between same-named markers
    worst: tuple[str, int] | None = None  # (marker, pose index)
    frame_mismatches: dict[str, tuple[str, str]] = field(default_factory=dict)


def compare_markers(
    a: opensim.Model,
    b: opensim.Model,
    n_poses: int = 20,
    seed: int = 0,
    poses: list[dict[str, float]] | None = None,
) -> MarkerComparison:
    """Ground-frame positions of same-named markers over sampled poses (checks frames and axes)."""
    if poses is None:
        poses = sample_poses(b, n_poses, seed)
    state_a, state_b = a.initSystem(), b.initSystem()
    ma = {m.getName(): m for m in a.getMarkerSet()}
    mb = {m.getName(): m for m in b.getMarkerSet()}
    common = [n for n in mb if n in ma]
    result = MarkerComparison(list(ma), list(mb), 0.0)
    for name in common:
        fa = ma[name].getParentFrame().getName()
        fb = mb[name].getParentFrame().getName()
        if fa != fb:
            result.frame_mismatches[name] = (fa, fb)
    for k, pose in enumerate(poses):
        _set_pose(a, state_a, pose)
        _set_pose(b, state_b, pose)
        for name in common:
            pa = ma[name].getLocationInGround(state_a)
            pb = mb[name].getLocationInGround(state_b)
            distance = math.sqrt(sum((pa.get(i) - pb.get(i)) ** 2 for i in range(3)))
            if distance >= result.max_distance:
                result.max_distance, result.worst = distance, (name, k)
    return result


# ---------------------------------------------------------------------------
# Forward simulation under a fixed excitation pattern
# ---------------------------------------------------------------------------
def excitation_pattern(names: list[str], seed: int = 0) -> dict[str, tuple[float, float, float, float]]:
    """A fixed, time-varying excitation per muscle: (amplitude, omega, phase, offset) of a sine.

    Depends only on the sorted muscle names and ``seed``, so two models with
    the same muscles get the same pattern. Excitations stay inside [0.05, 0.75].
    """
    rng = np.random.default_rng(seed)
    pattern = {}
    for name in sorted(names):
        amplitude = float(rng.uniform(0.1, 0.3))
        offset = float(rng.uniform(0.15 + amplitude, 0.75 - amplitude))
        omega = float(rng.uniform(2.0, 12.0))  # rad/s
        phase = float(rng.uniform(0.0, 2.0 * math.pi))
        pattern[name] = (amplitude, omega, phase, offset)
    return pattern


def add_prescribed_excitations(
    model: opensim.Model, pattern: dict[str, tuple[float, float, float, float]]
) -> opensim.PrescribedController:
    """Add a PrescribedController driving each named actuator with its sine."""
    controller = opensim.PrescribedController()
    controller.setName("parity_excitations")
    actuators = model.getActuators()
    for name in pattern:
        controller.addActuator(actuators.get(name))
    model.addController(controller)
    for name, (amplitude, omega, phase, offset) in pattern.items():
        controller.prescribeControlForActuator(name, opensim.Sine(amplitude, omega, phase, offset))
    return controller


@dataclass
class Trajectory:
    times: np.ndarray
    coordinates: dict[str, np.ndarray]


def simulate(
    model: opensim.Model,
    pattern: dict[str, tuple[float, float, float, float]],
    duration: float = 1.0,
    sample_interval: float = 0.01,
    accuracy: float = 1e-6,
    initial_pose: dict[str, float] | None = None,
) -> Trajectory:
    """Forward-simulate a COPY of ``model`` under ``pattern``; coordinates sampled every ``sample_interval``.

    Runge-Kutta-Merson, the given accuracy, muscles equilibrated at t = 0,
    nothing written to disk.
    """
    model = opensim.Model(model)  # leave the caller's model untouched
    add_prescribed_excitations(model, pattern)
    model.finalizeConnections()
    state = model.initSystem()
    coordinates = model.getCoordinateSet()
    for name, value in (initial_pose or {}).items():
        coordinates.get(name).setValue(state, value, False)
    if initial_pose and model.getConstraintSet().getSize() > 0:
        model.assemble(state)
    model.equilibrateMuscles(state)

    manager = opensim.Manager(model)
    if hasattr(manager, "setWriteToStorage"):
        manager.setWriteToStorage(False)
    if hasattr(manager, "setPerformAnalyses"):
        manager.setPerformAnalyses(False)
    manager.setIntegratorMethod(opensim.Manager.IntegratorMethod_RungeKuttaMerson)
    manager.setIntegratorAccuracy(accuracy)
    state.setTime(0.0)
    manager.initialize(state)

    n_steps = int(round(duration / sample_interval))
    names = [c.getName() for c in coordinates]
    times = np.zeros(n_steps + 1)
    values = {name: np.zeros(n_steps + 1) for name in names}
    current = state
    for k in range(n_steps + 1):
        if k > 0:
            current = manager.integrate(k * sample_interval)
        times[k] = current.getTime()
        for name in names:
            values[name][k] = coordinates.get(name).getValue(current)
    return Trajectory(times, values)


@dataclass
class SimulationComparison:
    rms_error: float  # over all common coordinates and samples
    per_coordinate_rms: dict[str, float]
    max_abs_error: float
    range_of_motion: dict[str, float]  # max - min of b's trajectory (sanity: it moved)
    trajectory_a: Trajectory
    trajectory_b: Trajectory


def compare_simulations(
    a: opensim.Model,
    b: opensim.Model,
    duration: float = 1.0,
    seed: int = 0,
    sample_interval: float = 0.01,
    accuracy: float = 1e-6,
    initial_pose: dict[str, float] | None = None,
) -> SimulationComparison:
    """Simulate both models under the same excitation pattern and integrator settings."""
    names = muscle_names(b)
    missing = sorted(set(names) - set(muscle_names(a)))
    if missing:
        raise ValueError(f"muscles missing from the candidate model: {missing}")
    pattern = excitation_pattern(names, seed)
    traj_a = simulate(a, pattern, duration, sample_interval, accuracy, initial_pose)
    traj_b = simulate(b, pattern, duration, sample_interval, accuracy, initial_pose)
    common = [name for name in traj_b.coordinates if name in traj_a.coordinates]
    diffs = {name: traj_a.coordinates[name] - traj_b.coordinates[name] for name in common}
    stacked = np.concatenate([d for d in diffs.values()]) if diffs else np.zeros(1)
    return SimulationComparison(
        rms_error=float(np.sqrt(np.mean(stacked**2))),
        per_coordinate_rms={n: float(np.sqrt(np.mean(d**2))) for n, d in diffs.items()},
        max_abs_error=float(np.max(np.abs(stacked))),
        range_of_motion={n: float(np.ptp(traj_b.coordinates[n])) for n in common},
        trajectory_a=traj_a,
        trajectory_b=traj_b,
    )


# ---------------------------------------------------------------------------
# Structure at full precision: bodies, joints, muscle paths, contact, forces
# (appended for the HUMAN model; model-agnostic, components matched by name).
# These read sockets (frames, coordinates), so the models must be connected:
# call ``initSystem()`` (or ``finalizeConnections()``) on both first.
# ---------------------------------------------------------------------------
@dataclass
class StructureComparison:
    """Named components of one kind compared field by field.

    ``mismatches`` maps (component, field) -> (value in a, value in b) and
    lists only fields that differ: numbers by more than ``tol`` relative to
    ``max(|b|, 1)``, anything else when not equal. A field present in only one
    model shows up with ``None`` on the other side.
    """

    names_a: list[str]
    names_b: list[str]
    mismatches: dict[tuple[str, str], tuple[object, object]] = field(default_factory=dict)
    n_fields: int = 0  # fields compared (sanity: the comparison saw data)

    @property
    def same_names(self) -> bool:
        return sorted(self.names_a) == sorted(self.names_b)

    @property
    def max_numeric_error(self) -> float:
        """Largest absolute difference over numeric mismatches (0 if none)."""
        worst = 0.0
        for va, vb in self.mismatches.values():
            na, nb = _flat_numbers(va), _flat_numbers(vb)
            if na is None or nb is None or len(na) != len(nb):
                return math.inf
            worst = max([worst] + [abs(x - y) for x, y in zip(na, nb)])
        return worst


def _flat_numbers(value) -> list[float] | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, (tuple, list)):
        out: list[float] = []
        for item in value:
            sub = _flat_numbers(item)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return None


def _record(result: StructureComparison, name: str, fields_a: dict, fields_b: dict, tol: float) -> None:
    for key in list(fields_b) + [k for k in fields_a if k not in fields_b]:
        va, vb = fields_a.get(key), fields_b.get(key)
        result.n_fields += 1
        na, nb = _flat_numbers(va), _flat_numbers(vb)
        if na is not None and nb is not None and len(na) == len(nb):
            if any(abs(x - y) > tol * max(abs(y), 1.0) for x, y in zip(na, nb)):
                result.mismatches[(name, key)] = (va, vb)
        elif va != vb:
            result.mismatches[(name, key)] = (va, vb)


def _compare_named(items_a: dict, items_b: dict, summarize, tol: float) -> StructureComparison:
    result = StructureComparison(list(items_a), list(items_b))
    for name in [n for n in items_b if n in items_a]:
        _record(result, name, summarize(items_a[name]), summarize(items_b[name]), tol)
    return result


def _vec3(v) -> tuple[float, float, float]:
    return (float(v.get(0)), float(v.get(1)), float(v.get(2)))


def _frame_fields(prefix: str, frame) -> dict:
    """Base (body) frame name and the frame's pose in it."""
    transform = frame.findTransformInBaseFrame()
    return {
        f"{prefix}_body": frame.findBaseFrame().getName(),
        f"{prefix}_translation": _vec3(transform.p()),
        f"{prefix}_orientation": _vec3(transform.R().convertRotationToBodyFixedXYZ()),
    }


def _function_samples(function, lo: float, hi: float, n: int) -> tuple[float, ...]:
    """Values of a one-argument OpenSim Function at ``n`` points spanning [lo, hi]."""
    return tuple(float(function.calcValue(opensim.Vector(1, float(x)))) for x in np.linspace(lo, hi, n))


def _coordinate_span(model: opensim.Model, name: str) -> tuple[float, float]:
    coordinate = model.getCoordinateSet().get(name)
    return coordinate.getRangeMin(), coordinate.getRangeMax()


def compare_bodies(a: opensim.Model, b: opensim.Model, tol: float = 1e-12) -> StructureComparison:
    """Mass, mass center and inertia (moments and products) of same-named bodies."""

    def summarize(body):
        inertia = body.getInertia()
        return {
            "mass": body.getMass(),
            "mass_center": _vec3(body.getMassCenter()),
            "inertia_moments": _vec3(inertia.getMoments()),
            "inertia_products": _vec3(inertia.getProducts()),
        }

    return _compare_named(_bodies(a), _bodies(b), summarize, tol)


def compare_joints(a: opensim.Model, b: opensim.Model, tol: float = 1e-12, n_samples: int = 25) -> StructureComparison:
    """Joint class, parent/child bodies and offset frames, coordinate names and,
    for CustomJoints, every TransformAxis (axis, coordinates, and its function
    sampled at ``n_samples`` points over the coordinate's range)."""

    def summarizer(model):
        def summarize(joint):
            fields = {
                "class": joint.getConcreteClassName(),
                "coordinates": tuple(joint.get_coordinates(i).getName() for i in range(joint.numCoordinates())),
            }
            fields.update(_frame_fields("parent", joint.getParentFrame()))
            fields.update(_frame_fields("child", joint.getChildFrame()))
            custom = opensim.CustomJoint.safeDownCast(joint)
            if custom is not None:
                transform = custom.getSpatialTransform()
                for i in range(6):
                    axis = transform.getTransformAxis(i)
                    names = axis.getCoordinateNamesInArray()
                    coords = tuple(names.get(k) for k in range(names.getSize()))
                    key = axis.getName()
                    fields[f"{key}.axis"] = _vec3(axis.get_axis())
                    fields[f"{key}.coordinates"] = coords
                    if len(coords) == 1:
                        lo, hi = _coordinate_span(model, coords[0])
                        fields[f"{key}.function"] = _function_samples(axis.getFunction(), lo, hi, n_samples)
                    elif not coords:
                        fields[f"{key}.function"] = float(axis.getFunction().calcValue(opensim.Vector(1, 0.0)))
            return fields

        return summarize

    joints_a = {j.getName(): j for j in a.getJointSet()}
    joints_b = {j.getName(): j for j in b.getJointSet()}
    result = StructureComparison(list(joints_a), list(joints_b))
    sa, sb = summarizer(a), summarizer(b)
    for name in [n for n in joints_b if n in joints_a]:
        _record(result, name, sa(joints_a[name]), sb(joints_b[name]), tol)
    return result


def compare_muscle_paths(
    a: opensim.Model, b: opensim.Model, tol: float = 1e-12, n_samples: int = 25
) -> StructureComparison:
    """Path points of same-named muscles, in order: class, body, location;
    ConditionalPathPoint coordinate and active range; MovingPathPoint
    coordinates and x/y/z functions sampled over each coordinate's range.

    Needs connected models (call ``initSystem()`` or ``finalizeConnections()``
    first). Point names are not compared.
    """

    def summarizer(model):
        def summarize(muscle):
            points = muscle.getGeometryPath().getPathPointSet()
            fields: dict = {"n_points": points.getSize()}
            for i in range(points.getSize()):
                point = points.get(i)
                key = f"P{i + 1}"
                fields[f"{key}.class"] = point.getConcreteClassName()
                fields[f"{key}.body"] = point.getParentFrame().getName()
                moving = opensim.MovingPathPoint.safeDownCast(point)
                if moving is not None:
                    for axis, function, coordinate in (
                        ("x", moving.get_x_location(), moving.getXCoordinate()),
                        ("y", moving.get_y_location(), moving.getYCoordinate()),
                        ("z", moving.get_z_location(), moving.getZCoordinate()),
                    ):
                        name = coordinate.getName()
                        lo, hi = _coordinate_span(model, name)
                        fields[f"{key}.{axis}_coordinate"] = name
                        fields[f"{key}.{axis}_function"] = _function_samples(function, lo, hi, n_samples)
                    continue
                fields[f"{key}.location"] = _vec3(opensim.PathPoint.safeDownCast(point).get_location())
                conditional = opensim.ConditionalPathPoint.safeDownCast(point)
                if conditional is not None:
                    fields[f"{key}.coordinate"] = conditional.getCoordinate().getName()
                    fields[f"{key}.range"] = (conditional.get_range(0), conditional.get_range(1))
            return fields

        return summarize

    muscles_a, muscles_b = _muscles(a), _muscles(b)
    result = StructureComparison(list(muscles_a), list(muscles_b))
    sa, sb = summarizer(a), summarizer(b)
    for name in [n for n in muscles_b if n in muscles_a]:
        _record(result, name, sa(muscles_a[name]), sb(muscles_b[name]), tol)
    return result


def compare_contact_geometry(a: opensim.Model, b: opensim.Model, tol: float = 1e-12) -> StructureComparison:
    """Contact geometry by name: class, frame, location, orientation, sphere radius."""

    def summarize(geometry):
        fields = {
            "class": geometry.getConcreteClassName(),
            "frame": geometry.getFrame().getName(),
            "location": _vec3(geometry.get_location()),
            "orientation": _vec3(geometry.get_orientation()),
        }
        sphere = opensim.ContactSphere.safeDownCast(geometry)
        if sphere is not None:
            fields["radius"] = sphere.getRadius()
        return fields

    items_a = {g.getName(): g for g in a.getContactGeometrySet()}
    items_b = {g.getName(): g for g in b.getContactGeometrySet()}
    return _compare_named(items_a, items_b, summarize, tol)


_SKIPPED_PROPERTIES = {"components", "path", "GeometryPath", "contact_parameters", "Appearance"}


def exact_property_values(component, skip: set[str] | frozenset[str] = frozenset()) -> dict[str, object]:
    """Full-precision values of a component's simple properties.

    Read through the typed ``get_<property>()`` accessors of its concrete
    class: numbers, flags, strings and Vec3s (as tuples). Object, list and
    socket properties are left out (compare them with the specific helpers).
    """
    obj = _concrete(component)
    values: dict[str, object] = {}
    for i in range(obj.getNumProperties()):
        name = obj.getPropertyByIndex(i).getName()
        if name in _SKIPPED_PROPERTIES or name in skip:
            continue
        getter = getattr(obj, f"get_{name}", None)
        if getter is None:
            continue
        try:
            value = getter()
        except TypeError:  # list property: needs an index
            continue
        if isinstance(value, (bool, int, float, str)):
            values[name] = value
        elif isinstance(value, opensim.Vec3):
            values[name] = _vec3(value)
    return values


def compare_forces(
    a: opensim.Model,
    b: opensim.Model,
    class_names: tuple[str, ...] | None = None,
    tol: float = 1e-12,
    skip: tuple[str, ...] = (),
) -> StructureComparison:
    """Forces (muscles included) by name: concrete class and every simple
    property at full precision (see :func:`exact_property_values`).

    ``class_names`` restricts to forces of those concrete classes (in ``b``).
    Hunt-Crossley forces also compare their first contact-parameter set
    (stiffness, dissipation, frictions) and their record labels, which name the
    body of every contact geometry in the force, in order.
    """

    def summarize(force):
        fields: dict[str, object] = {"class": force.getConcreteClassName()}
        fields.update(exact_property_values(force, set(skip)))
        hunt_crossley = opensim.HuntCrossleyForce.safeDownCast(force)
        if hunt_crossley is not None:
            fields["stiffness"] = hunt_crossley.getStiffness()
            fields["dissipation"] = hunt_crossley.getDissipation()
            fields["static_friction"] = hunt_crossley.getStaticFriction()
            fields["dynamic_friction"] = hunt_crossley.getDynamicFriction()
            fields["viscous_friction"] = hunt_crossley.getViscousFriction()
            labels = hunt_crossley.getRecordLabels()
            fields["record_labels"] = tuple(labels.get(i) for i in range(labels.getSize()))
        return fields

    def select(model):
        forces = model.getForceSet()
        return {
            forces.get(i).getName(): forces.get(i)
            for i in range(forces.getSize())
            if class_names is None or forces.get(i).getConcreteClassName() in class_names
        }

    return _compare_named(select(a), select(b), summarize, tol)


# ---------------------------------------------------------------------------
# Checks shared by the model tests: export round trip, left/right mirroring,
# Hunt-Crossley geometry names.
# ---------------------------------------------------------------------------
def export_round_trip_failures(build, path, tol: float = 1e-9) -> list[str]:
    """Export ``build()`` to ``path``, load it back and compare it with a fresh
    ``build()``; returns the checks that failed (empty when the file is faithful).

    Compared: masses, coordinates, joints, muscle paths, forces (names and
    properties), contact geometry, and MTU lengths / moment arms in 5 poses.
    """
    from osim.models.builder import export_osim

    path = export_osim(build(), path)
    loaded = opensim.Model(str(path))
    loaded.initSystem()
    fresh = build()
    fresh.initSystem()
    failures = []
    masses = compare_masses(loaded, fresh)
    if not masses.total_diff < tol:
        failures.append(f"total mass differs by {masses.total_diff}")
    for label, result in (
        ("coordinates", compare_coordinates(loaded, fresh)),
        ("joints", compare_joints(loaded, fresh, tol=tol)),
        ("muscle paths", compare_muscle_paths(loaded, fresh, tol=tol)),
        ("forces", compare_forces(loaded, fresh, tol=tol)),
        ("contact geometry", compare_contact_geometry(loaded, fresh, tol=tol)),
    ):
        if result.names_a != result.names_b:
            failures.append(f"{label}: names differ: {result.names_a} != {result.names_b}")
        if result.mismatches:
            failures.append(f"{label}: {result.mismatches}")
    geometry = compare_muscle_geometry(loaded, fresh, n_poses=5, seed=1)
    if not geometry.max_length_rel_error < tol:
        failures.append(f"MTU length error {geometry.max_length_rel_error} ({geometry.worst_length})")
    if not geometry.max_moment_arm_error < 1e-6:
        failures.append(f"moment arm error {geometry.max_moment_arm_error} ({geometry.worst_moment_arm})")
    return failures


def unmirrored_path_points(model: opensim.Model) -> list[tuple[str, int, tuple, tuple]]:
    """Fixed path points of each ``*_l`` muscle that are not the exact mirror
    image (z -> -z) of the ``*_r`` muscle's: (muscle, point index, right, left).
    Moving path points are skipped; a differing point count is reported with
    index -1. The model must be connected (``initSystem``)."""
    out = []
    muscles = model.getMuscles()
    for right in muscles:
        name = right.getName()
        if not name.endswith("_r"):
            continue
        left = muscles.get(name[:-2] + "_l")
        pr, pl = right.getGeometryPath().getPathPointSet(), left.getGeometryPath().getPathPointSet()
        if pr.getSize() != pl.getSize():
            out.append((name, -1, (pr.getSize(),), (pl.getSize(),)))
            continue
        for i in range(pr.getSize()):
            a, b = opensim.PathPoint.safeDownCast(pr.get(i)), opensim.PathPoint.safeDownCast(pl.get(i))
            if a is None:  # moving point
                continue
            va, vb = a.get_location(), b.get_location()
            mirrored, actual = (va.get(0), va.get(1), -va.get(2)), (vb.get(0), vb.get(1), vb.get(2))
            if mirrored != actual:
                out.append((name, i, mirrored, actual))
    return out


def hunt_crossley_geometry(force, path) -> list[list[str]]:
    """Geometry names of each contact-parameter set of a HuntCrossleyForce
    (not exposed to Python), read from the force written to ``path``."""
    import re
    from pathlib import Path

    force.printToXML(str(path))
    # tags like <HuntCrossleyForce::ContactParameters> are not well-formed XML
    # for ElementTree, so read the <geometry> elements with a pattern
    return [m.split() for m in re.findall(r"<geometry>([^<]*)</geometry>", Path(path).read_text())]


def muscle_classes(model: opensim.Model) -> set[str]:
    """Concrete classes of the model's muscles."""
    return {muscle.getConcreteClassName() for muscle in _muscles(model).values()}


def simulate_own_excitations(model: opensim.Model, duration: float, accuracy: float) -> Trajectory:
    """Simulate ``model`` from its default pose under :func:`excitation_pattern`
    of its own muscles; fails (``ValueError``) on a non-finite coordinate value."""
    trajectory = simulate(model, excitation_pattern(muscle_names(model)), duration=duration, accuracy=accuracy)
    if not np.all(np.isfinite(np.array(list(trajectory.coordinates.values())))):
        raise ValueError("simulation produced non-finite coordinate values")
    return trajectory
