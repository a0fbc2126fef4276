"""Shared pieces for building OpenSim models in code from parameter tables.

Each model module (``arm.py``, ``human.py``, ...) holds its own table of figures
and calls these helpers, so the choice of muscle model and the export to
``.osim`` work the same way for every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import opensim

# Muscle models a user can pick when building any of our models. Keys are the
# names accepted by every ``build(muscle_model=...)``.
MUSCLE_MODELS = {
    "thelen2003": "Thelen2003Muscle",
    "millard2012": "Millard2012EquilibriumMuscle",
    "degroote2016": "DeGrooteFregly2016Muscle",
}
DEFAULT_MUSCLE_MODEL = "thelen2003"


@dataclass(frozen=True)
class MuscleParams:
    """Hill-type muscle figures shared by all muscle models.

    ``None`` keeps the engine's default for that property. The Thelen 2003
    curve shapes (``fmax_muscle_strain`` ... ``flen``) only apply to that model;
    ``fmax_tendon_strain`` maps to the tendon strain at one normalized force in
    the DeGroote-Fregly model.
    """

    max_isometric_force: float
    optimal_fiber_length: float
    tendon_slack_length: float
    pennation_angle: float = 0.0
    max_contraction_velocity: float = 10.0
    activation_time_constant: float = 0.01
    deactivation_time_constant: float = 0.04
    fmax_tendon_strain: float | None = None
    fmax_muscle_strain: float | None = None
    kshape_active: float | None = None
    kshape_passive: float | None = None
    af: float | None = None
    flen: float | None = None


def check_muscle_model(muscle_model: str) -> str:
    if muscle_model not in MUSCLE_MODELS:
        raise ValueError(
            f"unknown muscle_model {muscle_model!r}; choose one of {sorted(MUSCLE_MODELS)}"
        )
    return muscle_model


def make_muscle(muscle_model: str, name: str, params: MuscleParams) -> opensim.Muscle:
    """A muscle of the chosen model with ``params`` applied (no path yet)."""
    cls = getattr(opensim, MUSCLE_MODELS[check_muscle_model(muscle_model)])
    muscle = cls()
    muscle.setName(name)
    muscle.set_max_isometric_force(params.max_isometric_force)
    muscle.set_optimal_fiber_length(params.optimal_fiber_length)
    muscle.set_tendon_slack_length(params.tendon_slack_length)
    muscle.set_pennation_angle_at_optimal(params.pennation_angle)
    muscle.set_max_contraction_velocity(params.max_contraction_velocity)
    muscle.set_activation_time_constant(params.activation_time_constant)
    muscle.set_deactivation_time_constant(params.deactivation_time_constant)
    # Thelen 2003 and Millard 2012 refuse (OpenSim 4.6 throws at finalize) a
    # min_control below their minimum_activation (0.01 by default); that is
    # also the value OpenSim gives published Thelen models when it loads them.
    has_min_activation = muscle.hasProperty("minimum_activation")
    muscle.set_min_control(muscle.get_minimum_activation() if has_min_activation else 0.0)
    muscle.set_max_control(1.0)
    if muscle_model == "thelen2003":
        for value, setter in (
            (params.fmax_tendon_strain, muscle.set_FmaxTendonStrain),
            (params.fmax_muscle_strain, muscle.set_FmaxMuscleStrain),
            (params.kshape_active, muscle.set_KshapeActive),
            (params.kshape_passive, muscle.set_KshapePassive),
            (params.af, muscle.set_Af),
            (params.flen, muscle.set_Flen),
        ):
            if value is not None:
                setter(value)
    elif muscle_model == "degroote2016" and params.fmax_tendon_strain is not None:
        muscle.set_tendon_strain_at_one_norm_force(params.fmax_tendon_strain)
    return muscle


def export_osim(model: opensim.Model, path: str | Path) -> Path:
    """Write ``model`` as an ``.osim`` file that ``opensim.Model(path)`` loads back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.finalizeConnections()
    if not model.printToXML(str(path)):
        raise OSError(f"OpenSim could not write the model to {path}")
    return path


# ---------------------------------------------------------------------------
# Generic construction helpers: bodies, custom joints, wrap objects, muscle
# paths and markers from plain table rows. Names of bodies/frames are looked up
# in the model (``"ground"`` is the model's Ground).
# ---------------------------------------------------------------------------

Vec3Like = tuple[float, float, float]


def vec3(values) -> opensim.Vec3:
    """An ``opensim.Vec3`` from any 3-sequence."""
    x, y, z = (float(v) for v in values)
    return opensim.Vec3(x, y, z)


def get_frame(model: opensim.Model, name: str) -> opensim.PhysicalFrame:
    """The model's Ground (``"ground"``) or the body called ``name``."""
    if name == "ground":
        return model.getGround()
    return model.getBodySet().get(name)


def add_body(
    model: opensim.Model,
    name: str,
    mass: float,
    mass_center: Vec3Like,
    inertia: tuple[float, float, float, float, float, float],
) -> opensim.Body:
    """Add a body; ``inertia`` is (Ixx, Iyy, Izz, Ixy, Ixz, Iyz) about the COM."""
    body = opensim.Body(name, float(mass), vec3(mass_center), opensim.Inertia(*(float(v) for v in inertia)))
    model.addBody(body)
    return body


@dataclass(frozen=True)
class CoordinateSpec:
    """One generalized coordinate of a joint (angles in rad, lengths in m)."""

    name: str
    range: tuple[float, float]
    default_value: float = 0.0
    default_speed_value: float = 0.0
    clamped: bool = False
    locked: bool = False


@dataclass(frozen=True)
class TransformAxisSpec:
    """One axis of a CustomJoint's SpatialTransform.

    With ``coordinate`` set, the motion along/about ``axis`` is
    ``function(q)`` (default: ``LinearFunction(1, 0)``, i.e. ``q`` itself);
    without it, the motion is the constant ``value``. ``function`` is a
    zero-argument factory returning a fresh ``opensim.Function`` (e.g. a
    ``SimmSpline``), so rows stay immutable and reusable.
    """

    axis: Vec3Like
    coordinate: str | None = None
    value: float = 0.0
    function: object | None = None  # Callable[[], opensim.Function]


def make_custom_joint(
    model: opensim.Model,
    name: str,
    parent: str,
    child: str,
    rotations: tuple[TransformAxisSpec, ...] = (),
    translations: tuple[TransformAxisSpec, ...] = (),
    coordinates: tuple[CoordinateSpec, ...] = (),
    location_in_parent: Vec3Like = (0.0, 0.0, 0.0),
    orientation_in_parent: Vec3Like = (0.0, 0.0, 0.0),
    location_in_child: Vec3Like = (0.0, 0.0, 0.0),
    orientation_in_child: Vec3Like = (0.0, 0.0, 0.0),
) -> opensim.CustomJoint:
    """Add a CustomJoint between two named frames and configure its coordinates.

    ``rotations`` / ``translations`` fill the SpatialTransform's rotation1..3 /
    translation1..3 in order (up to three each); unspecified axes keep the
    engine defaults (x, y, z with a constant 0 function). Every coordinate named
    by an axis must have a matching row in ``coordinates``.
    """
    if len(rotations) > 3 or len(translations) > 3:
        raise ValueError("a CustomJoint has at most 3 rotation and 3 translation axes")
    transform = opensim.SpatialTransform()
    for index, spec in [(i, r) for i, r in enumerate(rotations)] + [
        (3 + i, t) for i, t in enumerate(translations)
    ]:
        axis = transform.updTransformAxis(index)
        axis.setAxis(vec3(spec.axis))
        names = opensim.ArrayStr()
        if spec.coordinate is not None:
            names.append(spec.coordinate)
            function = spec.function() if spec.function is not None else opensim.LinearFunction(1.0, 0.0)
        else:
            function = opensim.Constant(float(spec.value))
        axis.setCoordinateNames(names)
        axis.set_function(function)  # copies; setFunction would adopt a Python-owned object
    joint = opensim.CustomJoint(
        name,
        get_frame(model, parent),
        vec3(location_in_parent),
        vec3(orientation_in_parent),
        get_frame(model, child),
        vec3(location_in_child),
        vec3(orientation_in_child),
        transform,
    )
    joint.finalizeFromProperties()  # creates the joint's Coordinates from the transform
    by_name = {spec.name: spec for spec in coordinates}
    if len(by_name) != joint.numCoordinates():
        raise ValueError(f"joint {name!r}: {joint.numCoordinates()} coordinates, {len(by_name)} CoordinateSpecs")
    for i in range(joint.numCoordinates()):
        coordinate = joint.updCoordinate(i)
        spec = by_name.get(coordinate.getName())
        if spec is None:
            raise ValueError(f"joint {name!r}: no CoordinateSpec for {coordinate.getName()!r}")
        configure_coordinate(coordinate, spec)
    model.addJoint(joint)
    return joint


def configure_coordinate(coordinate: opensim.Coordinate, spec: CoordinateSpec) -> None:
    """Apply a CoordinateSpec's range, defaults and flags to ``coordinate``."""
    coordinate.setRangeMin(float(spec.range[0]))
    coordinate.setRangeMax(float(spec.range[1]))
    coordinate.setDefaultValue(float(spec.default_value))
    coordinate.setDefaultSpeedValue(float(spec.default_speed_value))
    coordinate.setDefaultClamped(bool(spec.clamped))
    coordinate.setDefaultLocked(bool(spec.locked))


def add_weld_joint(
    model: opensim.Model, name: str, parent: str, child: str, location_in_parent: Vec3Like = (0.0, 0.0, 0.0)
) -> opensim.WeldJoint:
    """Weld the origin of ``child`` to ``location_in_parent`` in ``parent`` (no rotation)."""
    zero = opensim.Vec3(0.0)
    joint = opensim.WeldJoint(name, get_frame(model, parent), vec3(location_in_parent), zero,
                              get_frame(model, child), zero, zero)
    model.addJoint(joint)
    return joint


def add_pin_joint(
    model: opensim.Model, name: str, parent: str, child: str, location_in_parent: Vec3Like,
    coordinate: CoordinateSpec,
) -> opensim.PinJoint:
    """A PinJoint (rotation about the common z axis) from ``location_in_parent``
    in ``parent`` to the origin of ``child``, with its coordinate configured."""
    zero = opensim.Vec3(0.0)
    joint = opensim.PinJoint(name, get_frame(model, parent), vec3(location_in_parent), zero,
                             get_frame(model, child), zero, zero)
    coord = joint.upd_coordinates(0)
    coord.setName(coordinate.name)
    configure_coordinate(coord, coordinate)
    model.addJoint(joint)
    return joint


@dataclass(frozen=True)
class WrapObjectSpec:
    """A wrap surface fixed to ``body``.

    ``shape`` is "cylinder" (``radius``, ``length``), "ellipsoid"
    (``dimensions`` = semi-axes), "sphere" (``radius``) or "torus"
    (``radius`` = inner, ``length`` = outer radius). ``xyz_body_rotation`` are
    body-fixed XYZ Euler angles (rad) and ``translation`` the origin, both in the
    body frame; ``quadrant`` is "all", "x", "-x", "y", "-y", "z" or "-z".
    """

    name: str
    body: str
    shape: str
    xyz_body_rotation: Vec3Like
    translation: Vec3Like
    quadrant: str = "all"
    radius: float | None = None
    length: float | None = None
    dimensions: Vec3Like | None = None
    active: bool = True


def add_wrap_object(model: opensim.Model, spec: WrapObjectSpec) -> opensim.WrapObject:
    """Create the wrap object of ``spec`` and attach it to its body."""
    if spec.shape == "cylinder":
        wrap = opensim.WrapCylinder()
        wrap.set_radius(float(spec.radius))
        wrap.set_length(float(spec.length))
    elif spec.shape == "ellipsoid":
        wrap = opensim.WrapEllipsoid()
        wrap.set_dimensions(vec3(spec.dimensions))
    elif spec.shape == "sphere":
        wrap = opensim.WrapSphere()
        wrap.set_radius(float(spec.radius))
    elif spec.shape == "torus":
        wrap = opensim.WrapTorus()
        wrap.set_inner_radius(float(spec.radius))
        wrap.set_outer_radius(float(spec.length))
    else:
        raise ValueError(f"unknown wrap shape {spec.shape!r}")
    wrap.setName(spec.name)
    wrap.set_xyz_body_rotation(vec3(spec.xyz_body_rotation))
    wrap.set_translation(vec3(spec.translation))
    wrap.set_quadrant(spec.quadrant)
    wrap.set_active(bool(spec.active))
    model.getBodySet().get(spec.body).addWrapObject(wrap)
    return wrap


@dataclass(frozen=True)
class PathPointSpec:
    """A fixed path point: ``location`` (m) in the frame of ``body``."""

    name: str
    body: str
    location: Vec3Like


@dataclass(frozen=True)
class PathWrapSpec:
    """Assignment of a muscle path to a wrap object.

    ``method`` is "hybrid", "midpoint" or "axial"; ``range`` limits wrapping to
    the path points ``range[0]..range[1]`` (1-based), ``(-1, -1)`` = whole path.
    Wraps are applied in the order given.
    """

    wrap_object: str
    method: str = "hybrid"
    range: tuple[int, int] = (-1, -1)


def set_muscle_path(
    model: opensim.Model,
    muscle: opensim.PathActuator,
    points: tuple[PathPointSpec, ...],
    wraps: tuple[PathWrapSpec, ...] = (),
) -> None:
    """Give ``muscle`` (not yet in the model) its path points and wraps.

    The bodies and their wrap objects must already be in ``model``.
    """
    for point in points:
        muscle.addNewPathPoint(point.name, get_frame(model, point.body), vec3(point.location))
    if not wraps:
        return
    wrap_objects = {}
    for body in model.getBodySet():
        wrap_set = body.getWrapObjectSet()
        for i in range(wrap_set.getSize()):
            wrap_objects[wrap_set.get(i).getName()] = wrap_set.get(i)
    path = muscle.updGeometryPath()
    for spec in wraps:
        if spec.wrap_object not in wrap_objects:
            raise ValueError(f"{muscle.getName()}: no wrap object {spec.wrap_object!r} in the model")
        path.addPathWrap(wrap_objects[spec.wrap_object])
        path_wrap = path.updWrapSet().get(path.getWrapSet().getSize() - 1)
        path_wrap.setName(f"{muscle.getName()}-wrap-{spec.wrap_object}")
        path_wrap.set_method(spec.method)
        path_wrap.set_range(0, int(spec.range[0]))
        path_wrap.set_range(1, int(spec.range[1]))


def add_marker(model: opensim.Model, name: str, body: str, location: Vec3Like) -> opensim.Marker:
    """Add a marker fixed at ``location`` (m) in the frame of ``body``."""
    marker = opensim.Marker(name, get_frame(model, body), vec3(location))
    model.addMarker(marker)
    return marker


# ---------------------------------------------------------------------------
# Leg tables: splines, muscle path points with conditional / moving points,
# sagittal mirroring, foot-ground contact and coordinate-limit "ligaments".
# Shared by the planar (``human``) and 3D (``gait3d``) gait models.
# ---------------------------------------------------------------------------
def new_model(name: str, gravity: Vec3Like) -> opensim.Model:
    """An empty model called ``name`` with ``gravity`` (m/s^2, ground frame)."""
    model = opensim.Model()
    model.setName(name)
    model.setGravity(vec3(gravity))
    return model


def mirror(v: Vec3Like, side: str) -> Vec3Like:
    """``v`` on the right side (``"r"``); its sagittal mirror (z -> -z) otherwise."""
    return v if side == "r" else (v[0], v[1], 0.0 - v[2])  # 0.0 - 0.0 is +0.0


@dataclass(frozen=True)
class Spline:
    """Knots of a natural cubic (SIMM) spline ``y(x)``."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def negated(self) -> "Spline":
        return Spline(self.x, tuple(0.0 - v for v in self.y))

    def scaled(self, factor: float) -> "Spline":
        return Spline(self.x, tuple(factor * v for v in self.y))


def make_spline(s: Spline) -> opensim.SimmSpline:
    """A fresh ``opensim.SimmSpline`` through the knots of ``s``."""
    f = opensim.SimmSpline()
    for x, y in zip(s.x, s.y):
        f.addPoint(float(x), float(y))
    return f


@dataclass(frozen=True)
class PointRow:
    """One muscle path point, in the frame of ``body``.

    ``active``: (coordinate, lo, hi) makes it a ConditionalPathPoint that is
    part of the path only while the coordinate is within [lo, hi].
    ``moving``: (coordinate, x, y, z splines) makes it a MovingPathPoint whose
    location follows the coordinate (``location`` then is unused).
    """

    body: str
    location: Vec3Like | None
    active: tuple[str, float, float] | None = None
    moving: tuple[str, Spline, Spline, Spline] | None = None


def mirror_point(p: PointRow, side: str, body: str) -> PointRow:
    """``p`` on leg ``side`` (coordinate names get the side suffix), on ``body``."""
    active = moving = None
    if p.active:
        active = (f"{p.active[0]}_{side}", p.active[1], p.active[2])
    if p.moving:
        coord, sx, sy, sz = p.moving
        moving = (f"{coord}_{side}", sx, sy, sz if side == "r" else sz.negated())
    location = None if p.location is None else mirror(p.location, side)
    return PointRow(body, location, active, moving)


def coordinates_by_name(model: opensim.Model) -> dict[str, opensim.Coordinate]:
    """Every joint coordinate of ``model`` by name."""
    coords = {}
    for joint in model.getJointSet():
        for i in range(joint.numCoordinates()):
            coords[joint.get_coordinates(i).getName()] = joint.get_coordinates(i)
    return coords


def add_path_point(muscle: opensim.PathActuator, body: opensim.PhysicalFrame, coords: dict,
                   name: str, p: PointRow) -> None:
    """Append the path point ``p`` (fixed, conditional or moving) to ``muscle``'s path.

    ``coords`` maps coordinate names to the model's Coordinates.
    """
    path_points = muscle.updGeometryPath().updPathPointSet()
    if p.moving:
        coord, sx, sy, sz = p.moving
        point = opensim.MovingPathPoint()
        point.setName(name)
        point.setParentFrame(body)
        point.set_x_location(make_spline(sx))
        point.set_y_location(make_spline(sy))
        point.set_z_location(make_spline(sz))
        point.setXCoordinate(coords[coord])
        point.setYCoordinate(coords[coord])
        point.setZCoordinate(coords[coord])
        path_points.adoptAndAppend(point)
    elif p.active:
        coord, lo, hi = p.active
        point = opensim.ConditionalPathPoint()
        point.setName(name)
        point.setParentFrame(body)
        point.set_location(vec3(p.location))
        point.setCoordinate(coords[coord])
        point.setRangeMin(lo)
        point.setRangeMax(hi)
        path_points.adoptAndAppend(point)
    else:
        muscle.addNewPathPoint(name, body, vec3(p.location))


@dataclass(frozen=True)
class HalfSpaceRow:
    name: str
    location: Vec3Like
    orientation: Vec3Like  # body-fixed XYZ Euler angles, rad


def add_ground_half_space(model: opensim.Model, row: HalfSpaceRow) -> None:
    """A ContactHalfSpace fixed to the ground."""
    model.addContactGeometry(opensim.ContactHalfSpace(
        vec3(row.location), vec3(row.orientation), model.getGround(), row.name))


@dataclass(frozen=True)
class ContactSphereRow:
    name: str  # "heel" -> "r_heel" / "l_heel"
    body: str
    radius: float
    location: Vec3Like


def add_contact_sphere(model: opensim.Model, name: str, body: str, radius: float,
                       location: Vec3Like) -> None:
    """A ContactSphere of ``radius`` at ``location`` in the frame of ``body``."""
    model.addContactGeometry(opensim.ContactSphere(
        radius, vec3(location), get_frame(model, body), name))


@dataclass(frozen=True)
class HuntCrossleyParams:
    """A Hunt-Crossley contact's figures: stiffness (Pa), dissipation (s/m),
    friction coefficients and the slip velocity (m/s) below which friction fades."""

    stiffness: float
    dissipation: float
    static_friction: float
    dynamic_friction: float
    viscous_friction: float
    transition_velocity: float


def add_hunt_crossley_force(model: opensim.Model, name: str, geometry: tuple[str, ...] | list[str],
                            params) -> opensim.HuntCrossleyForce:
    """A HuntCrossleyForce between the named contact ``geometry`` (``params``: a
    `HuntCrossleyParams`)."""
    force = opensim.HuntCrossleyForce()
    force.setName(name)
    for g in geometry:
        force.addGeometry(g)
    force.setStiffness(params.stiffness)
    force.setDissipation(params.dissipation)
    force.setStaticFriction(params.static_friction)
    force.setDynamicFriction(params.dynamic_friction)
    force.setViscousFriction(params.viscous_friction)
    force.setTransitionVelocity(params.transition_velocity)
    model.addForce(force)
    return force


# Obstacle slots (the ``obstacles=N`` build option): one ground-fixed sphere per
# slot and foot sphere, parked out of reach until an engine places it
# (`osim.engines.Engine.adjust_model`).
OBSTACLE_PARKED = (-100.0, 0.0, 0.05)  # x, y, radius (m)
_OBSTACLE_PREFIX = "obstacle_"


def obstacle_name(index: int, sphere: str) -> str:
    """The copy of obstacle ``index`` that foot sphere ``sphere`` touches."""
    return f"{_OBSTACLE_PREFIX}{index}_{sphere}"


def parse_obstacle_name(name: str) -> tuple[int, str] | None:
    """(slot, foot sphere) of an obstacle geometry's name, else None."""
    if not name.startswith(_OBSTACLE_PREFIX):
        return None
    index, _, sphere = name[len(_OBSTACLE_PREFIX):].partition("_")
    return (int(index), sphere) if index.isdigit() and sphere else None


def add_obstacles(model: opensim.Model, count: int, foot_spheres: tuple[str, ...] | list[str],
                  params) -> None:
    """``count`` obstacle slots. The model is planar but its feet are apart in
    z, so each obstacle is one sphere per foot sphere (placed in that sphere's
    plane when moved), touching only it through its own Hunt-Crossley force
    ``obstacles_<sphere>`` with the foot-ground ``params``: every foot meets
    the obstacle as it would a cylinder across the path."""
    x, y, r = OBSTACLE_PARKED
    for sphere in foot_spheres:
        names = [obstacle_name(i, sphere) for i in range(count)]
        for name in names:
            model.addContactGeometry(opensim.ContactSphere(
                r, opensim.Vec3(x, y, 0.0), model.getGround(), name))
        add_hunt_crossley_force(model, f"obstacles_{sphere}", [sphere, *names], params)


@dataclass(frozen=True)
class LimitRow:
    """CoordinateLimitForce; limits in degrees, stiffness in N*m/deg (the
    engine's user units for a rotational coordinate), damping N*m*s/deg."""

    name: str  # "HipLimit" -> "HipLimit_r" / "HipLimit_l"
    coordinate: str
    upper_stiffness: float
    upper_limit: float
    lower_stiffness: float
    lower_limit: float
    damping: float
    transition: float


def add_leg_limits(model: opensim.Model, limits: tuple[LimitRow, ...], sides: tuple[str, ...]) -> None:
    """One CoordinateLimitForce per row and side (``<name>_<side>`` on
    ``<coordinate>_<side>``), row by row, right before left."""
    for lim in limits:
        for side in sides:
            force = opensim.CoordinateLimitForce(
                f"{lim.coordinate}_{side}", lim.upper_limit, lim.upper_stiffness,
                lim.lower_limit, lim.lower_stiffness, lim.damping, lim.transition)
            force.setName(f"{lim.name}_{side}")
            model.addForce(force)
