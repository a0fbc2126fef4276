"""An OpenSim model's skeleton as MJCF: bodies, joints, couplings, contact
geometry and markers.

`convert_skeleton` reads an ``opensim.Model`` (from its properties: it need
not be ``initSystem``-ed, and it is not changed) and returns a `Skeleton`, the
MJCF text with the name maps the MuJoCo engine needs. Muscles, path points,
wrap objects and forces are not converted here; of the forces, only the
Hunt-Crossley contacts' parameters are kept, as metadata.

Conventions, checked against OpenSim 4.6 by tests/test_mujoco_convert.py:

- OpenSim's ground frame is MuJoCo's world frame (y up), and every MuJoCo body
  frame is its OpenSim body frame: ``xpos``/``xmat`` are OpenSim's body origin
  and orientation in ground.
- A joint places its child body B on its parent P through two offset frames,
  F on the parent and M on the child: X_PB = X_PF X_FM(q) X_MB. In a
  CustomJoint's X_FM the translations are along unit axes fixed in F and the
  rotations are body-fixed (each axis turns with the rotations before it), about
  the origin of M. Offset frame orientations are body-fixed X-Y-Z angles.
- MuJoCo applies a body's joints in order, each about axes that turn with the
  joints before it; so the slides come first (their axes fixed in F), then the
  hinges, all about the origin of M.

Coordinates:

- an unlocked coordinate becomes one MuJoCo joint of its name, on the first
  transform axis that it drives linearly; qpos = scale * value (``scale`` is
  |slope|, 1 in our models; an intercept becomes a fixed offset);
- any other axis it drives (the planar knee's translations, splines of the knee
  angle) becomes a joint held to it by an ``equality/joint`` polynomial, quartic
  at most (MuJoCo's limit), fitted minimax over the coordinate's range: a
  `Coupling`, with its measured error. The engine must set such a joint's qpos
  from the polynomial (`Skeleton.set_qpos`), not from the OpenSim function;
- a locked coordinate has no joint: its axes are fixed at its default value,
  exactly as OpenSim holds it, with no soft equality constraint to drift or pay for.

Unsupported elements (other joint types, constraints, functions of several
coordinates, contact geometry other than spheres and half spaces, ...) raise one
``ValueError`` naming the element and the model.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import mujoco
import numpy as np
import opensim
from numpy.polynomial import polynomial

from osim.models.builder import HuntCrossleyParams

DEFAULT_TIMESTEP = 0.005  # s
POLYNOMIAL_DEGREE = 4  # the most MuJoCo's equality/joint polynomial takes
# Samples of a coupled axis over its coordinate's range: the fit's and the
# error's grid. The knee's splines change over tenths of a radian; this is ~1 mrad.
COUPLING_SAMPLES = 2001
LAWSON_ITERATIONS = 30  # the knee's largest errors are then within 1% of 300 iterations
# A coupling fitted worse than this (m for a translation, rad for a rotation)
# would be a different model: refused.
MAX_COUPLING_ERROR = 1e-3
# A transform function within this of a straight line over its coordinate's
# range is treated as linear (exactly a joint, no coupling).
LINEAR_TOLERANCE = 1e-12
# Couplings are hard in OpenSim; MuJoCo's equality constraints are soft. Legs
# swinging under gravity (pelvis held, at rest) differ from OpenSim's by up to
# 54 rad/s^2 of 69 with MuJoCo's default impedance (0.9-0.95), 19 at 0.99 and
# 0.4 at 0.9999, MuJoCo's maximum. Drift is corrected with a time constant of
# two steps, the least MuJoCo keeps stable.
COUPLING_SOLIMP = (0.9999, 0.9999, 0.001, 0.5, 2.0)
MARKER_SITE_SIZE = 0.005  # m, drawing only

# The joints, transform functions and contact geometry we convert, by
# OpenSim class name. Functions are sampled, so any function of one variable
# that OpenSim evaluates smoothly is exact or fitted; these are the ones known to be.
JOINTS = ("WeldJoint", "PinJoint", "SliderJoint", "PlanarJoint", "CustomJoint")
FUNCTIONS = ("Constant", "LinearFunction", "SimmSpline", "NaturalCubicSpline", "GCVSpline",
             "PiecewiseLinearFunction", "PolynomialFunction", "MultiplierFunction", "Sine")
# Contact forces whose geometry is not a ContactGeometry we convert: refused
# rather than dropped.
OTHER_CONTACT_FORCES = ("ElasticFoundationForce", "SmoothSphereHalfSpaceForce",
                        "ExponentialContactForce")

_X, _Y, _Z = np.eye(3)


# ---------------------------------------------------------------------------
# What the converter returns
# ---------------------------------------------------------------------------
@dataclass
class CoordinateJoint:
    """How one OpenSim coordinate appears in MuJoCo: qpos = ``scale`` * value
    and qvel = ``scale`` * speed at the joint's addresses; no joint when locked."""

    coordinate: str
    joint: str | None  # None: locked, fixed at default_value
    scale: float
    default_value: float  # rad or m
    range: tuple[float, float]  # OpenSim's range; not a hard limit in either engine
    qpos_address: int | None = None
    dof_address: int | None = None

    @property
    def locked(self) -> bool:
        return self.joint is None


@dataclass
class Coupling:
    """A MuJoCo joint (``kind`` "slide" in m or "hinge" in rad) held to the
    joint of ``coordinate`` by an ``equality/joint`` polynomial:
    qpos[joint] - ``reference`` = sum_k ``polycoef[k]`` * x**k, with x the
    coordinate's qpos. It stands for OpenSim's transform axis ``axis`` of
    ``opensim_joint``; ``max_error`` is the polynomial's largest deviation from
    OpenSim's function over the coordinate's range."""

    joint: str
    kind: str
    opensim_joint: str
    axis: str
    body: str  # the MuJoCo body it moves
    coordinate: str
    function: str  # OpenSim class of the function it replaces
    reference: float  # the joint's ref: its qpos in MuJoCo's reference pose
    polycoef: tuple[float, ...]
    max_error: float
    qpos_address: int | None = None
    dof_address: int | None = None

    def value(self, coordinate_qpos: float) -> float:
        """The qpos that the equality holds this joint at."""
        return self.reference + float(polynomial.polyval(coordinate_qpos, self.polycoef))

    def slope(self, coordinate_qpos: float) -> float:
        """d value / d coordinate_qpos."""
        return float(polynomial.polyval(coordinate_qpos, polynomial.polyder(self.polycoef)))


@dataclass
class ContactSphere:
    """An OpenSim ContactSphere as MuJoCo sphere ``geom`` on ``body``."""

    name: str
    geom: str
    body: str  # MuJoCo body ("world" for ground-fixed spheres)
    radius: float
    center: np.ndarray  # in the body frame


@dataclass
class ContactPlane:
    """A ground ContactHalfSpace as MuJoCo plane ``geom``: the half space's
    surface through ``point`` with outward ``normal`` (its frame's -x), in ground."""

    name: str
    geom: str
    point: np.ndarray
    normal: np.ndarray


@dataclass(frozen=True)
class HuntCrossleyContact(HuntCrossleyParams):
    """One HuntCrossleyForce's parameter set, kept for the engine (the MJCF uses
    MuJoCo's default contact parameters). ``pairs``: the geometry pairs it
    acts between, each a MuJoCo contact pair: those of its geometries that can
    move relative to each other (on bodies not welded together)."""

    force: str
    geometry: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]


@dataclass
class Skeleton:
    """The MJCF of an OpenSim model's skeleton and the maps from OpenSim's
    names to MuJoCo's. Name maps keep OpenSim's order; addresses are those of
    the skeleton's own MJCF (`locate` refreshes them for a model built on it)."""

    model_name: str
    xml: str
    coordinates: dict[str, CoordinateJoint]
    bodies: dict[str, str]  # OpenSim body -> MuJoCo body ("ground" -> "world")
    markers: dict[str, str]  # OpenSim marker -> MuJoCo site
    spheres: dict[str, ContactSphere]
    planes: dict[str, ContactPlane]
    contacts: list[HuntCrossleyContact]
    couplings: list[Coupling]
    gravity: np.ndarray
    timestep: float
    # OpenSim coordinate -> the couplings that follow it
    _followers: dict[str, list[Coupling]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        for coupling in self.couplings:
            self._followers.setdefault(coupling.coordinate, []).append(coupling)

    @property
    def locked_coordinates(self) -> list[str]:
        return [name for name, c in self.coordinates.items() if c.locked]

    @property
    def default_coordinates(self) -> dict[str, float]:
        """Every coordinate's default value, locked ones included."""
        return {name: c.default_value for name, c in self.coordinates.items()}

    def joint_values(self, coordinates: Mapping[str, float] | None = None) -> dict[str, float]:
        """qpos of every MuJoCo joint for the given coordinate values (the
        defaults for those not given), coupled joints at their polynomial."""
        values = self.default_coordinates | dict(coordinates or {})
        joints = {}
        for name, c in self.coordinates.items():
            if c.locked:
                continue
            joints[c.joint] = c.scale * values[name]
            for coupling in self._followers.get(name, ()):
                joints[coupling.joint] = coupling.value(joints[c.joint])
        return joints

    def joint_speeds(self, speeds: Mapping[str, float],
                     coordinates: Mapping[str, float] | None = None) -> dict[str, float]:
        """qvel of every MuJoCo joint for the given coordinate speeds (0 for those
        not given) in the pose ``coordinates``: a coupled joint moves at the
        polynomial's slope times its coordinate joint's speed."""
        joints = self.joint_values(coordinates)
        rates = {}
        for name, c in self.coordinates.items():
            if c.locked:
                continue
            rates[c.joint] = c.scale * speeds.get(name, 0.0)
            for coupling in self._followers.get(name, ()):
                rates[coupling.joint] = coupling.slope(joints[c.joint]) * rates[c.joint]
        return rates

    def set_qpos(self, qpos: np.ndarray, coordinates: Mapping[str, float] | None = None) -> None:
        """Write `joint_values` into ``qpos`` (MuJoCo's, at this skeleton's addresses)."""
        addresses = {item.joint: item.qpos_address for item in self._jointed()}
        for joint, value in self.joint_values(coordinates).items():
            qpos[addresses[joint]] = value

    def set_qvel(self, qvel: np.ndarray, speeds: Mapping[str, float],
                 coordinates: Mapping[str, float] | None = None) -> None:
        """Write `joint_speeds` into ``qvel`` (one dof per joint: hinges and slides only)."""
        addresses = {item.joint: item.dof_address for item in self._jointed()}
        for joint, value in self.joint_speeds(speeds, coordinates).items():
            qvel[addresses[joint]] = value

    def coordinates_from_qpos(self, qpos: np.ndarray) -> dict[str, float]:
        """Coordinate values from MuJoCo's qpos (locked ones at their default)."""
        return {name: (c.default_value if c.locked else qpos[c.qpos_address] / c.scale)
                for name, c in self.coordinates.items()}

    def coordinates_from_dofs(self, dof_vector: np.ndarray) -> dict[str, float]:
        """Coordinate speeds or accelerations from MuJoCo's qvel or qacc (0 when locked)."""
        return {name: (0.0 if c.locked else dof_vector[c.dof_address] / c.scale)
                for name, c in self.coordinates.items()}

    def locate(self, mj_model) -> None:
        """Read the joints' addresses from ``mj_model``: this skeleton's MJCF,
        or one built on it (muscles added) whose addresses may differ."""
        for item in self._jointed():
            joint = mj_model.joint(item.joint)
            item.qpos_address, item.dof_address = int(joint.qposadr[0]), int(joint.dofadr[0])

    def _jointed(self) -> list[CoordinateJoint | Coupling]:
        """What has a MuJoCo joint: unlocked coordinates and couplings."""
        return [c for c in self.coordinates.values() if not c.locked] + self.couplings


# ---------------------------------------------------------------------------
# Rigid transforms
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pose:
    """A rigid transform X_AB: frame B's orientation ``R`` and origin ``p`` in A."""

    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    p: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def __mul__(self, other: _Pose) -> _Pose:
        return _Pose(self.R @ other.R, self.R @ other.p + self.p)

    def inverse(self) -> _Pose:
        return _Pose(self.R.T, -self.R.T @ self.p)


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by ``angle`` about the unit vector ``axis`` (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def _body_fixed_xyz(angles) -> np.ndarray:
    return _rotation(_X, angles[0]) @ _rotation(_Y, angles[1]) @ _rotation(_Z, angles[2])


def _vec3(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(3)])


def _simtk_pose(transform) -> _Pose:
    rotation = transform.R()
    return _Pose(np.array([[rotation.get(i, j) for j in range(3)] for i in range(3)]),
                 _vec3(transform.p()))


def _frame_in_body(frame) -> tuple[str, _Pose]:
    """The body (or ground) that ``frame`` is fixed to, and its pose there."""
    return frame.findBaseFrame().getName(), _simtk_pose(frame.findTransformInBaseFrame())


# ---------------------------------------------------------------------------
# Joints: transform axes -> MuJoCo joints
# ---------------------------------------------------------------------------
@dataclass
class _Axis:
    """One transform axis of an OpenSim joint: motion of ``kind`` ("hinge" or
    "slide") along the unit ``direction`` (in the parent offset frame) by
    ``function(coordinate)``; the coordinate itself when ``function`` is None;
    a constant when ``coordinate`` is None."""

    label: str
    kind: str
    direction: np.ndarray
    coordinate: opensim.Coordinate | None
    function: opensim.Function | None = None


@dataclass
class _MjJoint:
    name: str
    kind: str  # "hinge" | "slide"
    axis: np.ndarray  # unit; in F (turned by the constant rotations before it), then in the body
    range: tuple[float, float]
    reference: float = 0.0


class _Refused(ValueError):
    """An element the converter does not convert; the message names it."""


def _check_function(function: opensim.Function, where: str) -> None:
    kind = function.getConcreteClassName()
    if kind not in FUNCTIONS:
        raise _Refused(f"{where}: transform function {kind} is not supported "
                       f"(supported: {', '.join(FUNCTIONS)})")
    if kind == "MultiplierFunction":
        _check_function(opensim.MultiplierFunction.safeDownCast(function).getFunction(), where)


def _joint_axes(joint: opensim.Joint) -> list[_Axis]:
    """The transform axes of ``joint`` in OpenSim's order: rotations before translations."""
    kind = joint.getConcreteClassName()
    coordinate = joint.get_coordinates
    if kind == "WeldJoint":
        return []
    if kind == "PinJoint":  # rotation about the common z of F and M
        return [_Axis("rotation", "hinge", _Z, coordinate(0))]
    if kind == "SliderJoint":  # translation along the common x
        return [_Axis("translation", "slide", _X, coordinate(0))]
    if kind == "PlanarJoint":  # coordinates: rotation about z, translations along x, y of F
        return [_Axis("rotation", "hinge", _Z, coordinate(0)),
                _Axis("translation_x", "slide", _X, coordinate(1)),
                _Axis("translation_y", "slide", _Y, coordinate(2))]
    if kind != "CustomJoint":
        raise _Refused(f"joint {joint.getName()!r} is a {kind}; supported: {', '.join(JOINTS)}")
    transform = opensim.CustomJoint.safeDownCast(joint).getSpatialTransform()
    coordinates = {joint.get_coordinates(i).getName(): joint.get_coordinates(i)
                   for i in range(joint.numCoordinates())}
    axes = []
    for i in range(6):
        axis = transform.getTransformAxis(i)
        where = f"joint {joint.getName()!r}, {axis.getName()}"
        names = axis.getCoordinateNamesInArray()
        function = axis.getFunction()
        _check_function(function, where)
        if names.getSize() > 1:
            raise _Refused(f"{where}: a function of {names.getSize()} coordinates is not supported")
        if names.getSize() == 0 and function.getConcreteClassName() != "Constant":
            raise _Refused(f"{where}: a {function.getConcreteClassName()} of no coordinate")
        if names.getSize() and names.get(0) not in coordinates:
            raise _Refused(f"{where}: {names.get(0)!r} is not a coordinate of the joint")
        direction = _vec3(axis.getAxis())
        if not np.linalg.norm(direction) > 0.0:
            raise _Refused(f"{where}: zero axis")
        axes.append(_Axis(axis.getName(), "hinge" if i < 3 else "slide",
                          direction / np.linalg.norm(direction),
                          coordinates[names.get(0)] if names.getSize() else None, function))
    return axes


def _axis_values(axis: _Axis, q: np.ndarray) -> np.ndarray:
    if axis.function is None:
        return np.array(q, dtype=float)
    argument = opensim.Vector(1, 0.0)
    values = np.empty(len(q))
    for i, x in enumerate(q):
        argument.set(0, float(x))
        values[i] = axis.function.calcValue(argument)
    return values


def _coordinate_range(coordinate: opensim.Coordinate) -> tuple[float, float]:
    return coordinate.getRangeMin(), coordinate.getRangeMax()


def _straight_line(axis: _Axis) -> tuple[float, float] | None:
    """(slope, intercept) of the axis' function where it is a straight line over
    the coordinate's range, else None. A constant axis, or one whose coordinate
    is locked, has slope 0 and its (default) value as intercept."""
    if axis.coordinate is None:
        return 0.0, float(_axis_values(axis, [0.0])[0])
    if axis.coordinate.getDefaultLocked():
        return 0.0, float(_axis_values(axis, [axis.coordinate.getDefaultValue()])[0])
    # Exact where the function says what it is (a fit leaves ~1e-16 residues).
    if axis.function is None:
        return 1.0, 0.0
    if axis.function.getConcreteClassName() == "LinearFunction":
        line = opensim.LinearFunction.safeDownCast(axis.function)
        return line.getSlope(), line.getIntercept()
    q = np.linspace(*_coordinate_range(axis.coordinate), 21)
    y = _axis_values(axis, q)
    slope, intercept = polynomial.polyfit(q, y, 1)[::-1]
    if np.max(np.abs(slope * q + intercept - y)) > LINEAR_TOLERANCE * (1.0 + np.max(np.abs(y))):
        return None
    return float(slope), float(intercept)


def _fit_minimax(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """Polynomial coefficients (ascending) minimising the largest error on the
    samples: least squares reweighted by Lawson's rule, which converges to the
    minimax fit; on the knee's splines it halves least squares' largest error."""
    basis = np.vander(x, degree + 1, increasing=True)
    weights = np.full(len(x), 1.0 / len(x))
    exact = 1e-14 * (1.0 + np.abs(y).max())  # nothing left to balance
    best, best_error = None, np.inf
    for _ in range(LAWSON_ITERATIONS):
        root = np.sqrt(weights)
        coefficients = np.linalg.lstsq(basis * root[:, None], y * root, rcond=None)[0]
        error = np.abs(basis @ coefficients - y)
        if error.max() < best_error:
            best, best_error = coefficients, error.max()
        weights = weights * error
        if best_error <= exact or not weights.sum() > 0.0:
            break
        weights /= weights.sum()
    return best


class _JointConversion:
    """One OpenSim joint as a MuJoCo body placement and joints."""

    def __init__(self, joint: opensim.Joint, child: str):
        self.name = joint.getName()
        self.child = child
        axes = _joint_axes(joint)
        self.coordinates: list[CoordinateJoint] = []
        self.couplings: list[Coupling] = []
        self.joints: list[_MjJoint] = []
        self._place(joint, axes)

    def _place(self, joint: opensim.Joint, axes: list[_Axis]) -> None:
        lines = [(axis, _straight_line(axis)) for axis in axes]
        primary = {}  # coordinate name -> (its axis, |slope|)
        for axis, line in lines:
            if line is not None and line[0] != 0.0 and axis.coordinate.getName() not in primary:
                primary[axis.coordinate.getName()] = (axis, abs(line[0]))
        for i in range(joint.numCoordinates()):
            coordinate = joint.get_coordinates(i)
            self._add_coordinate(coordinate, primary.get(coordinate.getName()), axes)

        # The joint transform: X_FM = Trans(p_fixed + slides) Rot(hinges) Rot(fixed_rotation),
        # constant rotations moved past the hinges after them (C Rot(a, q) = Rot(C a, q) C).
        fixed_rotation, p_fixed = np.eye(3), np.zeros(3)
        slides, hinges = [], []
        for axis, line in lines:
            if line is not None and line[0] == 0.0:  # a constant
                if axis.kind == "hinge":
                    fixed_rotation = fixed_rotation @ _rotation(axis.direction, line[1])
                else:
                    p_fixed += line[1] * axis.direction
                continue
            coordinate = axis.coordinate.getName()
            direction = fixed_rotation @ axis.direction if axis.kind == "hinge" else axis.direction
            if primary[coordinate][0] is axis:
                slope, intercept = line
                direction = np.sign(slope) * direction  # qpos = |slope| * value
                mj_joint = _MjJoint(coordinate, axis.kind, direction,
                                    self._scaled_range(axis.coordinate, abs(slope)))
                if axis.kind == "hinge":  # the intercept turns about the same axis
                    fixed_rotation = fixed_rotation @ _rotation(axis.direction, intercept)
                else:
                    p_fixed += intercept * axis.direction
            else:
                mj_joint = self._couple(axis, direction, scale=primary[coordinate][1])
                if axis.kind == "slide":  # MuJoCo's reference pose has the slide at its ref
                    p_fixed += mj_joint.reference * axis.direction
            (hinges if axis.kind == "hinge" else slides).append(mj_joint)
        self.joints = slides + hinges

        parent_body, in_parent = _frame_in_body(joint.getParentFrame())
        child_body, in_child = _frame_in_body(joint.getChildFrame())
        if child_body != self.child:
            raise _Refused(f"joint {self.name!r}: its child frame is on {child_body!r}, "
                           f"not on {self.child!r}")
        self.parent = parent_body
        # MuJoCo's body frame in its reference pose (all joints at their ref) is
        # X_PF Trans(p_fixed) K with K = Rot(fixed_rotation) X_MB; the joints,
        # expressed in it, move by K^-1 Trans(slides) Rot(hinges) K: slides along
        # R_K^T d, hinges about R_K^T a through the origin of M.
        k = _Pose(fixed_rotation) * in_child.inverse()
        self.pose = in_parent * _Pose(p=p_fixed) * k
        for mj_joint in self.joints:
            mj_joint.axis = k.R.T @ mj_joint.axis
        self.anchor = in_child.p

    def _add_coordinate(self, coordinate: opensim.Coordinate, primary, axes) -> None:
        name = coordinate.getName()
        where = f"coordinate {name!r} of joint {self.name!r}"
        if coordinate.get_prescribed():
            raise _Refused(f"{where} is prescribed; prescribed motion is not supported")
        locked = coordinate.getDefaultLocked()
        if not locked and primary is None:
            drives = [a.label for a in axes if a.coordinate is not None
                      and a.coordinate.getName() == name]
            raise _Refused(f"{where} drives no transform axis linearly ({drives or 'none'}); "
                           "a coupled axis needs one that is the coordinate itself")
        self.coordinates.append(CoordinateJoint(
            name, None if locked else name, 1.0 if locked else primary[1],
            coordinate.getDefaultValue(), _coordinate_range(coordinate)))

    @staticmethod
    def _scaled_range(coordinate: opensim.Coordinate, scale: float) -> tuple[float, float]:
        low, high = _coordinate_range(coordinate)
        return scale * low, scale * high

    def _couple(self, axis: _Axis, direction: np.ndarray, scale: float) -> _MjJoint:
        """A joint for ``axis`` along ``direction``, held by a polynomial of the
        value of its coordinate's joint (``scale`` times the coordinate)."""
        where = f"joint {self.name!r}, {axis.label}"
        q = np.linspace(*_coordinate_range(axis.coordinate), COUPLING_SAMPLES)
        y = _axis_values(axis, q)
        x = scale * q
        coefficients = _fit_minimax(x, y, POLYNOMIAL_DEGREE)
        error = float(np.max(np.abs(polynomial.polyval(x, coefficients) - y)))
        unit = "m" if axis.kind == "slide" else "rad"
        if not error <= MAX_COUPLING_ERROR:
            raise _Refused(f"{where}: a degree-{POLYNOMIAL_DEGREE} polynomial of "
                           f"{axis.coordinate.getName()!r} misses its "
                           f"{axis.function.getConcreteClassName()} by {error:.3g} {unit} "
                           f"(more than {MAX_COUPLING_ERROR} {unit})")
        # A slide's ref puts MuJoCo's reference pose (every other joint at 0) on the
        # coupling; a hinge keeps ref 0, since MuJoCo turns a hinge by qpos - ref in
        # place in the sequence, which only a zero ref leaves equal to OpenSim's.
        reference = float(coefficients[0]) if axis.kind == "slide" else 0.0
        coefficients[0] -= reference
        name = f"{self.name}_{axis.label}"
        self.couplings.append(Coupling(
            name, axis.kind, self.name, axis.label, self.child, axis.coordinate.getName(),
            axis.function.getConcreteClassName(), reference,
            tuple(float(c) for c in coefficients), error))
        return _MjJoint(name, axis.kind, direction, (float(y.min()), float(y.max())), reference)


# ---------------------------------------------------------------------------
# Contact
# ---------------------------------------------------------------------------
def _property(component, name: str):
    """A double property's value, or a string list property's values."""
    prop = component.getPropertyByName(name)
    if prop.getTypeName() == "string":
        return [opensim.PropertyHelper.getValueString(prop, i) for i in range(prop.size())]
    return opensim.PropertyHelper.getValueDouble(prop)


def _hunt_crossley_contacts(model: opensim.Model,
                            rigid_groups: dict[str, str]) -> list[HuntCrossleyContact]:
    """``rigid_groups``: each contact geometry's rigid group (bodies welded together)."""
    contacts = []
    for force in model.getForceSet():
        kind = force.getConcreteClassName()
        if kind in OTHER_CONTACT_FORCES:
            raise _Refused(f"force {force.getName()!r} is a {kind}; only HuntCrossleyForce "
                           "contact is supported")
        if kind != "HuntCrossleyForce" or not force.get_appliesForce():
            continue
        # Its parameter sets are not wrapped in Python: read them as properties.
        sets = force.getPropertyByName("contact_parameters").getValueAsObject(0)
        parameters = sets.getPropertyByName("objects")
        for i in range(parameters.size()):
            p = parameters.getValueAsObject(i)
            geometry = tuple(_property(p, "geometry"))
            unknown = [g for g in geometry if g not in rigid_groups]
            if unknown:
                raise _Refused(f"force {force.getName()!r} names unknown contact geometry {unknown}")
            # Simbody's contact set touches every pair of its geometries on two
            # bodies; between bodies welded together the forces cancel (or never
            # arise: the human's heel and toe spheres are 18 cm apart).
            pairs = tuple((a, b) for a, b in combinations(geometry, 2)
                          if rigid_groups[a] != rigid_groups[b])
            contacts.append(HuntCrossleyContact(
                force=force.getName(), geometry=geometry, pairs=pairs,
                stiffness=_property(p, "stiffness"), dissipation=_property(p, "dissipation"),
                static_friction=_property(p, "static_friction"),
                dynamic_friction=_property(p, "dynamic_friction"),
                viscous_friction=_property(p, "viscous_friction"),
                transition_velocity=_property(force, "transition_velocity")))
    return contacts


# ---------------------------------------------------------------------------
# MJCF
# ---------------------------------------------------------------------------
def _number(value: float) -> str:
    text = repr(float(value))  # shortest text that reads back exactly
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def _numbers(values) -> str:
    return " ".join(_number(v) for v in values)


def _quaternion(rotation: np.ndarray) -> np.ndarray:
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(rotation).ravel())
    return quat


def _placement(element: ET.Element, pose: _Pose) -> None:
    element.set("pos", _numbers(pose.p))
    if not np.allclose(pose.R, np.eye(3), rtol=0.0, atol=1e-15):
        element.set("quat", _numbers(_quaternion(pose.R)))


def _inertial(parent: ET.Element, body: opensim.Body) -> None:
    mass = body.getMass()
    if mass == 0.0:
        return  # compiled as massless, as in OpenSim
    ixx, iyy, izz, ixy, ixz, iyz = (body.get_inertia().get(i) for i in range(6))
    inertial = ET.SubElement(parent, "inertial", pos=_numbers(_vec3(body.get_mass_center())),
                             mass=_number(mass))
    if ixy == ixz == iyz == 0.0:
        inertial.set("diaginertia", _numbers((ixx, iyy, izz)))
        return
    # MuJoCo's fullinertia refuses a singular tensor (a rod): diagonalise here.
    moments, axes = np.linalg.eigh(np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]]))
    if np.linalg.det(axes) < 0.0:
        axes[:, 0] = -axes[:, 0]
    inertial.set("quat", _numbers(_quaternion(axes)))
    inertial.set("diaginertia", _numbers(np.maximum(moments, 0.0)))


class _Converter:
    """Builds the MJCF of one model: bodies depth first from ground, then the
    contact pairs and coupling equalities."""

    def __init__(self, model: opensim.Model, timestep: float):
        self.model = model
        self.name = model.getName()
        self.where = f"model {self.name!r}"
        self.timestep = timestep
        self.bodies = {b.getName(): b for b in model.getBodySet()}
        self.ground = model.getGround().getName()
        self.body_elements: dict[str, ET.Element] = {}
        # body -> the first body of the bodies welded to it (ground for its own)
        self.rigid_group = {self.ground: self.ground}
        self.coordinates: dict[str, CoordinateJoint] = {}
        self.couplings: list[Coupling] = []

    def run(self) -> Skeleton:
        try:
            return self._convert()
        except _Refused as err:
            raise ValueError(f"{self.where}: {err}") from None

    def _convert(self) -> Skeleton:
        for constraint in self.model.getConstraintSet():
            if constraint.get_isEnforced():
                raise _Refused(f"constraint {constraint.getName()!r} "
                               f"({constraint.getConcreteClassName()}): constraints are not supported")
        joints = self._joints_by_parent()
        geometry = self._contact_geometry()
        markers = self._markers()

        root = ET.Element("mujoco", model=self.name)
        # Mass comes only from the bodies' inertials, never from contact geoms.
        ET.SubElement(root, "compiler", angle="radian", inertiafromgeom="false", autolimits="false")
        gravity = _vec3(self.model.getGravity())
        ET.SubElement(root, "option", timestep=_number(self.timestep), integrator="implicitfast",
                      gravity=_numbers(gravity))
        self.body_elements[self.ground] = ET.SubElement(root, "worldbody")
        self._add_bodies(self.ground, joints)
        missing = sorted(set(self.bodies) - set(self.body_elements))
        if missing:
            raise _Refused(f"bodies {missing}: not connected to ground by a tree of joints")
        spheres, planes = self._add_geometry(geometry)
        for name, (body, location) in markers.items():
            ET.SubElement(self.body_elements[body], "site", name=name, pos=_numbers(location),
                          size=_number(MARKER_SITE_SIZE))
        contacts = _hunt_crossley_contacts(
            self.model, {name: self.rigid_group[g["body"]] for name, g in geometry.items()})
        self._add_pairs(root, contacts)
        self._add_equalities(root)
        ET.indent(root)

        skeleton = Skeleton(
            self.name, ET.tostring(root, encoding="unicode"),
            {c.getName(): self.coordinates[c.getName()] for c in self.model.getCoordinateSet()},
            {self.ground: "world"} | {name: name for name in self.bodies},
            {name: name for name in markers}, spheres, planes, contacts, self.couplings,
            gravity, self.timestep)
        skeleton.locate(self._compile(skeleton.xml))
        return skeleton

    def _joints_by_parent(self) -> dict[str, list[_JointConversion]]:
        """Every joint, converted, under its parent body; one joint per body."""
        by_parent, seen = {}, set()
        for joint in self.model.getJointSet():
            child = joint.getChildFrame().findBaseFrame().getName()
            if child == self.ground or child in seen:
                raise _Refused(f"joint {joint.getName()!r}: body {child!r} would have a second "
                               "parent (closed loops are not supported)")
            seen.add(child)
            converted = _JointConversion(joint, child)
            by_parent.setdefault(converted.parent, []).append(converted)
        return by_parent

    def _add_bodies(self, parent: str, joints: dict[str, list[_JointConversion]]) -> None:
        for joint in joints.get(parent, ()):
            element = ET.SubElement(self.body_elements[parent], "body", name=joint.child)
            self.body_elements[joint.child] = element
            self.rigid_group[joint.child] = joint.child if joint.joints else self.rigid_group[parent]
            _placement(element, joint.pose)
            _inertial(element, self.bodies[joint.child])
            for mj_joint in joint.joints:
                joint_element = ET.SubElement(
                    element, "joint", name=mj_joint.name, type=mj_joint.kind,
                    pos=_numbers(joint.anchor), axis=_numbers(mj_joint.axis),
                    range=_numbers(mj_joint.range), limited="false")
                if mj_joint.reference:
                    joint_element.set("ref", _number(mj_joint.reference))
            self.coordinates.update((c.coordinate, c) for c in joint.coordinates)
            self.couplings.extend(joint.couplings)
            self._add_bodies(joint.child, joints)

    def _contact_geometry(self) -> dict[str, dict]:
        geometry = {}
        for g in self.model.getContactGeometrySet():
            kind = g.getConcreteClassName()
            body, frame = _frame_in_body(g.getFrame())
            pose = frame * _Pose(_body_fixed_xyz(_vec3(g.get_orientation())),
                                 _vec3(g.get_location()))
            if kind == "ContactSphere":
                geometry[g.getName()] = dict(type="sphere", body=body, pose=pose,
                                             radius=opensim.ContactSphere.safeDownCast(g).getRadius())
            elif kind == "ContactHalfSpace":
                if body != self.ground:  # MuJoCo planes are static
                    raise _Refused(f"contact half space {g.getName()!r}: on body {body!r}, "
                                   "not on ground")
                # Its outward normal is -x of its frame; a MuJoCo plane's is +z.
                pose = pose * _Pose(_rotation(_Y, -np.pi / 2))
                geometry[g.getName()] = dict(type="plane", body=body, pose=pose)
            else:
                raise _Refused(f"contact geometry {g.getName()!r} ({kind}): only ContactSphere "
                               "and ContactHalfSpace are supported")
        return geometry

    def _add_geometry(self, geometry: dict[str, dict]):
        spheres, planes = {}, {}
        for name, g in geometry.items():
            element = ET.SubElement(self.body_elements[g["body"]], "geom", name=name,
                                    type=g["type"], contype="0", conaffinity="0")  # pairs only
            _placement(element, g["pose"])
            if g["type"] == "sphere":
                element.set("size", _number(g["radius"]))
                body = "world" if g["body"] == self.ground else g["body"]
                spheres[name] = ContactSphere(name, name, body, g["radius"], g["pose"].p)
            else:
                element.set("size", "0 0 1")  # infinite
                planes[name] = ContactPlane(name, name, g["pose"].p, g["pose"].R[:, 2])
        return spheres, planes

    def _markers(self) -> dict[str, tuple[str, np.ndarray]]:
        markers = {}
        for marker in self.model.getMarkerSet():
            body, frame = _frame_in_body(marker.getParentFrame())
            markers[marker.getName()] = (body, frame.p + frame.R @ _vec3(marker.get_location()))
        return markers

    @staticmethod
    def _add_pairs(root: ET.Element, contacts: list[HuntCrossleyContact]) -> None:
        pairs = dict.fromkeys(pair for contact in contacts for pair in contact.pairs)  # in order
        if pairs:
            element = ET.SubElement(root, "contact")
            for a, b in pairs:
                ET.SubElement(element, "pair", geom1=a, geom2=b)

    def _add_equalities(self, root: ET.Element) -> None:
        if not self.couplings:
            return
        element = ET.SubElement(root, "equality")
        for coupling in self.couplings:
            ET.SubElement(element, "joint", name=coupling.joint, joint1=coupling.joint,
                          joint2=self.coordinates[coupling.coordinate].joint,
                          polycoef=_numbers(coupling.polycoef),
                          solref=_numbers((2.0 * self.timestep, 1.0)),
                          solimp=_numbers(COUPLING_SOLIMP))

    def _compile(self, xml: str):
        try:
            return mujoco.MjModel.from_xml_string(xml)
        except ValueError as err:
            raise ValueError(f"MuJoCo cannot compile the skeleton of {self.where}: {err}") from None


def convert_skeleton(model: opensim.Model, timestep: float = DEFAULT_TIMESTEP) -> Skeleton:
    """The skeleton of ``model`` (bodies, joints, couplings, contact geometry,
    markers) as MJCF with its name maps; see the module's docstring.

    ``model`` is read, not changed, and need not be ``initSystem``-ed: its joints'
    frames only have to be connected (``finalizeConnections``, which our model
    builders and ``initSystem`` do). ``timestep``: MuJoCo's, in seconds.
    The MJCF is compiled once here, to check it and to read the addresses.
    Raises ``ValueError`` naming the element and the model for anything it does
    not convert.
    """
    if not timestep > 0.0:
        raise ValueError(f"timestep must be positive, got {timestep!r}")
    return _Converter(model, float(timestep)).run()
