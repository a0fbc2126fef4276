"""Planar human model (9 DOF, 18 muscles) built in code with the OpenSim API.

The figures in the tables below (masses, inertias, joint frames, knee splines,
muscle path points and Hill-type parameters, foot contact and the passive
"ligament" limits) are those of the reduced planar gait model by A. Seth,
adjusted by C. Ong (muscle strengths after Handsfield / Rajagopal; hamstrings
following semimembranosus; ankle passive mechanics after Weiss, Kearney and
Hunter 1986), itself closely based on:

* Delp S.L., Loan J.P., Hoy M.G., Zajac F.E., Topp E.L., Rosen J.M. (1990).
  An interactive graphics-based model of the lower extremity to study
  orthopaedic surgical procedures. IEEE Trans. Biomed. Eng. 37:757-767
  (lower-extremity joint definitions and muscle paths);
* Yamaguchi G.T., Zajac F.E. (1989). A planar model of the knee joint to
  characterize the knee extensor mechanism. J. Biomech. 22:1-10 (knee
  translations as functions of knee angle, quadriceps insertion paths);
* Anderson F.C., Pandy M.G. (1999, 2001): low back joint and anthropometry.

Those figures are licensed CC BY 3.0 by their authors. The tables are our own
structure: one row per body / joint / muscle / contact element, with the legs
defined once (right side, ``+z``) and mirrored about the sagittal plane for the
left side. Mirroring was checked figure by figure against the published model;
the one place where the published model is not mirrored (the ankle range) is
kept as published via ``CoordRow.left_range``.

``build()`` returns a finalized (but not ``initSystem``-ed) ``opensim.Model``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import opensim

from osim.models.builder import (
    ContactSphereRow,
    HalfSpaceRow,
    HuntCrossleyParams,
    LimitRow,
    MuscleParams,
    PointRow,
    Spline,
    add_body,
    add_contact_sphere,
    add_ground_half_space,
    add_hunt_crossley_force,
    add_leg_limits,
    add_obstacles,
    add_path_point,
    check_muscle_model,
    coordinates_by_name,
    make_muscle,
    make_spline,
    mirror,
    mirror_point,
    new_model,
    vec3,
)

Vec3 = tuple[float, float, float]

SIDES = ("r", "l")
MODEL_NAME = "gait9dof18musc"
GRAVITY = -9.80665


# ----------------------------------------------------------------------------
# Table structure
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BodyRow:
    """A rigid body; ``inertia`` holds the principal moments about the COM
    (Ixx, Iyy, Izz); all products of inertia are zero in this model."""

    name: str
    mass: float
    com: Vec3
    inertia: Vec3


@dataclass(frozen=True)
class CoordRow:
    name: str
    range: tuple[float, float]
    default: float = 0.0
    locked: bool = False
    left_range: tuple[float, float] | None = None  # only where not mirrored
    translational: bool = False  # default value is a length (scaled with height)


@dataclass(frozen=True)
class JointRow:
    """``kind``: "planar", "pin", "knee" (Yamaguchi-Zajac custom joint) or
    "weld". The child frame is the child body's origin in every joint."""

    name: str
    kind: str
    parent: str
    child: str
    location_in_parent: Vec3 = (0.0, 0.0, 0.0)
    coords: tuple[CoordRow, ...] = ()


@dataclass(frozen=True)
class MuscleRow:
    name: str
    point_prefix: str  # names of the path points: "<prefix>_<side>-P<i>"
    params: MuscleParams
    path: tuple[PointRow, ...]


@dataclass(frozen=True)
class FootContactRow:
    """Hunt-Crossley force between the platform and one foot's spheres."""

    name: str  # "foot" -> "foot_r" / "foot_l"
    spheres: tuple[str, ...]
    params: HuntCrossleyParams


# ----------------------------------------------------------------------------
# Bodies
# ----------------------------------------------------------------------------
TRUNK_BODIES = (
    BodyRow("pelvis", 11.777, (-0.0707, 0.0, 0.0), (0.1028, 0.0871, 0.0579)),
)
# Right leg; the left leg is the mirror image (z -> -z).
LEG_BODIES = (
    BodyRow("femur", 9.3014, (0.0, -0.17, 0.0), (0.1339, 0.0351, 0.1412)),
    BodyRow("tibia", 3.7075, (0.0, -0.1867, 0.0), (0.0504, 0.0051, 0.0511)),
    BodyRow("talus", 0.1, (0.0, 0.0, 0.0), (0.001, 0.001, 0.001)),
    BodyRow("calcn", 1.25, (0.1, 0.03, 0.0), (0.0014, 0.0039, 0.0041)),
    BodyRow("toes", 0.2166, (0.0346, 0.006, -0.0175), (0.0001, 0.0002, 0.0001)),
)
UPPER_BODIES = (
    BodyRow("torso", 34.2366, (-0.03, 0.32, 0.0), (1.4745, 0.7555, 1.4314)),
    BodyRow("head", 4.5, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
)
LEG_BODY_NAMES = frozenset(b.name for b in LEG_BODIES)


# ----------------------------------------------------------------------------
# Joints
# ----------------------------------------------------------------------------
HALF_PI = 1.57079633  # the published model's rounding of pi/2
PELVIS_JOINT = JointRow(
    "ground_pelvis", "planar", "ground", "pelvis",
    coords=(  # order of a PlanarJoint: rotation about z, translation x, y
        CoordRow("pelvis_tilt", (-HALF_PI, HALF_PI), default=-0.05),
        CoordRow("pelvis_tx", (-5.0, 5.0), translational=True),
        CoordRow("pelvis_ty", (-1.0, 2.0), default=0.91, translational=True),
    ),
)
# Right leg (coordinate names get the side suffix too).
LEG_JOINTS = (
    JointRow("hip", "pin", "pelvis", "femur", (-0.0707, -0.0661, 0.0835),
             (CoordRow("hip_flexion", (-2.0943951, 2.0943951)),)),
    JointRow("knee", "knee", "femur", "tibia", (0.0, 0.0, 0.0),
             (CoordRow("knee_angle", (-2.0943951, 0.17453293)),)),
    JointRow("ankle", "pin", "tibia", "talus", (0.0, -0.43, 0.0),
             (CoordRow("ankle_angle", (-HALF_PI, HALF_PI),
                       left_range=(-1.04719755, 1.04719755)),)),
    JointRow("subtalar", "weld", "talus", "calcn", (-0.04877, -0.04195, 0.00792)),
    JointRow("mtp", "weld", "calcn", "toes", (0.1788, -0.002, 0.00108)),
)
UPPER_JOINTS = (
    JointRow("back", "pin", "pelvis", "torso", (-0.1007, 0.0815, 0.0),
             (CoordRow("lumbar_extension", (-HALF_PI, HALF_PI),
                       default=-0.139626, locked=True),)),
    JointRow("back1", "weld", "torso", "head", (0.0, 0.55, 0.0)),
)

# Yamaguchi-Zajac planar knee: tibia origin in the femur frame as a function
# of knee angle (rad); rotation about z equals the knee angle.
KNEE_TX = Spline(
    (-2.0944, -1.74533, -1.39626, -1.0472, -0.698132, -0.349066, -0.174533,
     0.197344, 0.337395, 0.490178, 1.52146, 2.0944),
    (-0.0032, 0.00179, 0.00411, 0.0041, 0.00212, -0.001, -0.0031,
     -0.005227, -0.005435, -0.005574, -0.005435, -0.00525),
)
KNEE_TY = Spline(
    (-2.0944, -1.22173, -0.523599, -0.349066, -0.174533, 0.159149, 2.0944),
    (-0.4226, -0.4082, -0.399, -0.3976, -0.3966, -0.395264, -0.396),
)


# ----------------------------------------------------------------------------
# Muscles (right leg; the left is mirrored). Quadriceps insertions on the
# tibia move with knee angle (Delp 1990, after the patella was removed).
# ----------------------------------------------------------------------------
QUAD_KNOTS = (-2.0944, -1.99997, -1.5708, -1.45752, -1.39626, -1.0472,
              -0.698132, -0.526391, -0.349066, -0.174533, 0.0, 0.00017453,
              0.00034907, 0.0279253, 0.0872665, 0.174533, 2.0944)
RECT_FEM_INSERTION = (
    "knee_angle",
    Spline(QUAD_KNOTS, (0.0155805, 0.0179938, 0.0275081, 0.0296564, 0.0307615,
                        0.0365695, 0.0422074, 0.0450902, 0.048391, 0.0534299,
                        0.0617576, 0.0617669, 0.0617762, 0.0633083, 0.066994,
                        0.0733035, 0.0573481)),
    Spline(QUAD_KNOTS, (0.0234116, 0.0237613, 0.0251141, 0.0252795, 0.0253146,
                        0.0249184, 0.0242373, 0.0238447, 0.0234197, 0.0227644,
                        0.020984, 0.0209814, 0.0209788, 0.0205225, 0.0191754,
                        0.0159554, -0.0673774)),
    Spline((-2.0944, 0.1745), (0.0014, 0.0014)),
)
VASTI_INSERTION = (
    "knee_angle",
    Spline(QUAD_KNOTS, (0.0082733, 0.0106866, 0.0202042, 0.022353, 0.0234583,
                        0.0292715, 0.0349465, 0.037871, 0.0412569, 0.0465287,
                        0.0554632, 0.0554735, 0.0554837, 0.0571717, 0.061272,
                        0.0684368, 0.0648818)),
    Spline(QUAD_KNOTS, (0.025599, 0.0259487, 0.0273124, 0.0274796, 0.0275151,
                        0.0271363, 0.0265737, 0.0263073, 0.0261187, 0.0260129,
                        0.0252923, 0.0252911, 0.0252898, 0.0250526, 0.0242191,
                        0.0218288, -0.0685706)),
    Spline((-2.0944, 2.0944), (0.0018, 0.0018)),
)


def thelen_params(fmax, lopt, lts, penn, tendon_strain=0.049, muscle_strain=0.6,
                  kshape_passive=5.0) -> MuscleParams:
    """Thelen 2003 figures of this model (and of the 3D ``gait3d`` models).
    Curve shapes not given by the published models are the values OpenSim
    loads them with (KshapeActive 0.45, Af 0.25, Flen 1.4, FmaxMuscleStrain
    0.6, KshapePassive 5); they are written out so that our models do not
    depend on engine defaults."""
    return MuscleParams(
        max_isometric_force=fmax,
        optimal_fiber_length=lopt,
        tendon_slack_length=lts,
        pennation_angle=penn,
        max_contraction_velocity=15.0,
        activation_time_constant=0.01,
        deactivation_time_constant=0.04,
        fmax_tendon_strain=tendon_strain,
        fmax_muscle_strain=muscle_strain,
        kshape_active=0.45,
        kshape_passive=kshape_passive,
        af=0.25,
        flen=1.4,
    )


LEG_MUSCLES = (
    MuscleRow("hamstrings", "semimem",
              thelen_params(4105.465574, 0.069, 0.349, 0.26179939, 0.049), (
                  PointRow("pelvis", (-0.1192, -0.09747, 0.07151)),
                  PointRow("tibia", (-0.0348, -0.03519, -0.01891),
                           active=("knee_angle", -0.558505, 0.174533)),
                  PointRow("tibia", (-0.027, -0.04771, -0.01957)),
              )),
    MuscleRow("bifemsh", "bifemsh",
              thelen_params(557.11475409836, 0.11, 0.117, 0.40142573, 0.049), (
                  PointRow("femur", (0.005, -0.2111, 0.0234)),
                  PointRow("tibia", (-0.0301, -0.036, 0.02943)),
                  PointRow("tibia", (-0.0234, -0.0563, 0.0343)),
              )),
    MuscleRow("glut_max", "glut_max2",
              thelen_params(3337.583607, 0.157, 0.048, 0.0, 0.049), (
                  PointRow("pelvis", (-0.1349, 0.0176, 0.0563)),
                  PointRow("pelvis", (-0.1376, -0.052, 0.0914)),
                  PointRow("femur", (-0.0426, -0.053, 0.0293)),
                  PointRow("femur", (-0.0156, -0.1016, 0.0419)),
              )),
    MuscleRow("iliopsoas", "psoas",
              thelen_params(2697.344262, 0.117, 0.130, 0.13962634, 0.049), (
                  PointRow("pelvis", (-0.0647, 0.0887, 0.0289)),
                  PointRow("pelvis", (-0.0238, -0.057, 0.0759)),
                  PointRow("pelvis", (-0.0288, -0.0805, 0.0816),
                           active=("hip_flexion", -1.5708, 0.785398)),
                  PointRow("femur", (0.0016, -0.0507, 0.0038)),
                  PointRow("femur", (-0.0188, -0.0597, 0.0104)),
              )),
    MuscleRow("rect_fem", "rect_fem",
              thelen_params(2191.74098360656, 0.076, 0.346, 0.08726646, 0.049,
                      muscle_strain=1.0), (
                  PointRow("pelvis", (-0.0295, -0.0311, 0.0968)),
                  PointRow("femur", (0.0334, -0.403, 0.0019),
                           active=("knee_angle", -2.61799, -1.45997)),
                  PointRow("tibia", None, moving=RECT_FEM_INSERTION),
              )),
    MuscleRow("vasti", "vas_int",
              thelen_params(9593.95082, 0.099, 0.102, 0.05235988, 0.049,
                      muscle_strain=1.0, kshape_passive=9.0), (
                  PointRow("femur", (0.029, -0.1924, 0.031)),
                  PointRow("femur", (0.0335, -0.2084, 0.0285)),
                  PointRow("femur", (0.0343, -0.403, 0.0055),
                           active=("knee_angle", -2.61799, -1.42)),
                  PointRow("tibia", None, moving=VASTI_INSERTION),
              )),
    MuscleRow("gastroc", "med_gas",
              thelen_params(4690.57377, 0.051, 0.384, 0.29670597, 0.1), (
                  PointRow("femur", (-0.019, -0.3929, -0.0235)),
                  PointRow("femur", (-0.03, -0.4022, -0.0258),
                           active=("knee_angle", -0.785398, 0.174533)),
                  PointRow("calcn", (0.0, 0.031, -0.0053)),
              )),
    MuscleRow("soleus", "soleus",
              thelen_params(7924.996721, 0.044, 0.244, 0.43633231, 0.1), (
                  PointRow("tibia", (-0.0024, -0.1533, 0.0071)),
                  PointRow("calcn", (0.0, 0.031, -0.0053)),
              )),
    MuscleRow("tib_ant", "tib_ant",
              thelen_params(2116.818162, 0.068, 0.238, 0.08726646, 0.049), (
                  PointRow("tibia", (0.0179, -0.1624, 0.0115)),
                  PointRow("tibia", (0.0329, -0.3951, -0.0177)),
                  PointRow("calcn", (0.1166, 0.0178, -0.0305)),
              )),
)


# ----------------------------------------------------------------------------
# Foot-ground contact and passive joint limits
# ----------------------------------------------------------------------------
PLATFORM = HalfSpaceRow("platform", (0.0, 0.0, 0.0), (0.0, 0.0, -1.5707963267949))
# Sphere names are "<side>_<name>" as in the published model.
FOOT_SPHERES = (
    ContactSphereRow("heel", "calcn", 0.05, (0.03, 0.04, 0.0)),
    ContactSphereRow("toe", "toes", 0.05, (0.03, 0.04, 0.0)),
)
FOOT_CONTACT = FootContactRow("foot", ("heel", "toe"), HuntCrossleyParams(
    stiffness=600000.0, dissipation=1.5, static_friction=0.8, dynamic_friction=0.8,
    viscous_friction=0.0, transition_velocity=0.1))
LEG_LIMITS = (
    LimitRow("HipLimit", "hip_flexion", 20.0, 120.0, 20.0, -30.0, 0.25, 10.0),
    LimitRow("KneeLimit", "knee_angle", 20.0, 10.0, 20.0, -140.0, 0.25, 10.0),
    LimitRow("AnkleLimit", "ankle_angle", 20.0, 20.0, 20.0, -40.0, 0.25, 10.0),
)

MUSCLE_NAMES = tuple(f"{m.name}_{s}" for s in SIDES for m in LEG_MUSCLES)

# Stature this project assigns to the unscaled model, used only to turn
# build(height=...) into a length scale factor. The published model file does
# not state a height; 1.8 m is the nominal adult stature of the generic
# Delp / gait2392 family it is reduced from.
NOMINAL_HEIGHT = 1.8


# ----------------------------------------------------------------------------
# Table helpers
# ----------------------------------------------------------------------------
def _sided(name: str, side: str) -> str:
    """Leg body names get the side suffix; trunk bodies keep their name."""
    return f"{name}_{side}" if name in LEG_BODY_NAMES else name


def leg_body(row: BodyRow, side: str) -> BodyRow:
    return BodyRow(f"{row.name}_{side}", row.mass, mirror(row.com, side), row.inertia)


def leg_joint(row: JointRow, side: str) -> JointRow:
    coords = tuple(
        CoordRow(f"{c.name}_{side}",
                 c.left_range if side == "l" and c.left_range else c.range,
                 c.default, c.locked, translational=c.translational)
        for c in row.coords
    )
    return JointRow(f"{row.name}_{side}", row.kind, _sided(row.parent, side),
                    _sided(row.child, side), mirror(row.location_in_parent, side),
                    coords)


def leg_muscle(row: MuscleRow, side: str, body_name=None) -> MuscleRow:
    """``row`` on leg ``side``; ``body_name(body, side)`` names the bodies of
    its path points (default: leg bodies get the side suffix)."""
    body_name = body_name or _sided
    path = tuple(mirror_point(p, side, body_name(p.body, side)) for p in row.path)
    return MuscleRow(f"{row.name}_{side}", f"{row.point_prefix}_{side}", row.params, path)


def bodies(length_scale: float = 1.0, mass_scale: float = 1.0) -> tuple[BodyRow, ...]:
    """All bodies in the order they are added to the model.

    Scaling is geometric: lengths by ``length_scale``, masses by
    ``mass_scale``, inertias by ``mass_scale * length_scale**2``.
    """
    legs = tuple(leg_body(b, s) for s in SIDES for b in LEG_BODIES)
    return tuple(
        BodyRow(b.name, mass_scale * b.mass, _scale3(b.com, length_scale),
                _scale3(b.inertia, mass_scale * length_scale**2))
        for b in TRUNK_BODIES + legs + UPPER_BODIES
    )


def joints(length_scale: float = 1.0) -> tuple[JointRow, ...]:
    """All joints in the order they are added (parents before children)."""
    legs = tuple(leg_joint(j, s) for s in SIDES for j in LEG_JOINTS)
    out = []
    for j in (PELVIS_JOINT,) + legs + UPPER_JOINTS:
        coords = tuple(
            CoordRow(c.name, c.range,
                     c.default * length_scale if c.translational else c.default,
                     c.locked, c.left_range, c.translational)
            for c in j.coords
        )
        out.append(JointRow(j.name, j.kind, j.parent, j.child,
                            _scale3(j.location_in_parent, length_scale), coords))
    return tuple(out)


def muscles(length_scale: float = 1.0) -> tuple[MuscleRow, ...]:
    """All muscles (right leg, then left). With ``length_scale`` the path
    points, optimal fiber and tendon slack lengths scale; forces do not."""
    out = []
    for m in (leg_muscle(m, s) for s in SIDES for m in LEG_MUSCLES):
        path = []
        for p in m.path:
            moving = None
            if p.moving:
                coord, sx, sy, sz = p.moving
                moving = (coord, sx.scaled(length_scale), sy.scaled(length_scale),
                          sz.scaled(length_scale))
            location = None if p.location is None else _scale3(p.location, length_scale)
            path.append(PointRow(p.body, location, p.active, moving))
        params = replace(
            m.params,
            optimal_fiber_length=m.params.optimal_fiber_length * length_scale,
            tendon_slack_length=m.params.tendon_slack_length * length_scale,
        )
        out.append(MuscleRow(m.name, m.point_prefix, params, tuple(path)))
    return tuple(out)


def total_mass() -> float:
    """Mass of the unscaled model (kg)."""
    return sum(b.mass for b in bodies())


def _scale3(v: Vec3, factor: float) -> Vec3:
    return (factor * v[0], factor * v[1], factor * v[2])


# ----------------------------------------------------------------------------
# Model construction
# ----------------------------------------------------------------------------
def _knee_transform(coord: str, length_scale: float = 1.0) -> opensim.SpatialTransform:
    st = opensim.SpatialTransform()
    names = opensim.ArrayStr()
    names.append(coord)
    axes = (
        (st.upd_rotation1(), (0, 0, 1), opensim.LinearFunction(1.0, 0.0), True),
        (st.upd_rotation2(), (0, 1, 0), opensim.Constant(0.0), False),
        (st.upd_rotation3(), (1, 0, 0), opensim.Constant(0.0), False),
        (st.upd_translation1(), (1, 0, 0), make_spline(KNEE_TX.scaled(length_scale)), True),
        (st.upd_translation2(), (0, 1, 0), make_spline(KNEE_TY.scaled(length_scale)), True),
        (st.upd_translation3(), (0, 0, 1), opensim.Constant(0.0), False),
    )
    for axis, direction, function, uses_coord in axes:
        if uses_coord:
            axis.setCoordinateNames(names)
        axis.set_axis(vec3(direction))
        axis.set_function(function)
    return st


def _add_joint(model: opensim.Model, row: JointRow, frames: dict,
               length_scale: float = 1.0) -> None:
    parent, child = frames[row.parent], frames[row.child]
    loc, zero = vec3(row.location_in_parent), opensim.Vec3(0.0)
    if row.kind == "planar":
        joint = opensim.PlanarJoint(row.name, parent, loc, zero, child, zero, zero)
    elif row.kind == "pin":
        joint = opensim.PinJoint(row.name, parent, loc, zero, child, zero, zero)
    elif row.kind == "weld":
        joint = opensim.WeldJoint(row.name, parent, loc, zero, child, zero, zero)
    elif row.kind == "knee":
        joint = opensim.CustomJoint(row.name, parent, loc, zero, child, zero, zero,
                                    _knee_transform(row.coords[0].name, length_scale))
        joint.finalizeFromProperties()  # creates the coordinate from the transform
    else:
        raise ValueError(f"unknown joint kind {row.kind!r}")
    if joint.numCoordinates() != len(row.coords):
        raise RuntimeError(f"joint {row.name} has {joint.numCoordinates()} coordinates")
    for i, c in enumerate(row.coords):
        coord = joint.upd_coordinates(i)
        coord.setName(c.name)
        coord.setRangeMin(c.range[0])
        coord.setRangeMax(c.range[1])
        coord.setDefaultValue(c.default)
        coord.setDefaultLocked(c.locked)
    model.addJoint(joint)


def _add_muscle(model: opensim.Model, muscle_model: str, row: MuscleRow,
                frames: dict, coords: dict) -> None:
    muscle = make_muscle(muscle_model, row.name, row.params)
    for i, p in enumerate(row.path, start=1):
        add_path_point(muscle, frames[p.body], coords, f"{row.point_prefix}-P{i}", p)
    model.addForce(muscle)


def build(muscle_model: str = "thelen2003", height: float | None = None,
          mass: float | None = None, obstacles: int = 0) -> opensim.Model:
    """The planar 9-DOF, 18-muscle human, finalized but not ``initSystem``-ed.

    ``muscle_model``: "thelen2003" (the published model's), "millard2012" or
    "degroote2016"; any other name raises ``ValueError``.

    ``height`` (m) scales every length uniformly by ``height / NOMINAL_HEIGHT``
    (segment frames and mass centers, knee translations, muscle paths, optimal
    fiber and tendon slack lengths, contact spheres, the standing pelvis
    height); ``mass`` (kg) scales every body mass to that total, inertias with
    mass times length squared. Muscle strengths, contact stiffness and joint
    limits are not changed. ``None`` keeps the published figures exactly.

    ``obstacles``: number of obstacle slots, ground-fixed spheres that the foot
    spheres touch (`osim.models.builder.add_obstacles`), parked out of reach
    until an engine places them (Learning to Run).
    """
    check_muscle_model(muscle_model)
    for label, value in (("height", height), ("mass", mass)):
        if value is not None and not value > 0.0:
            raise ValueError(f"{label} must be positive, got {value!r}")
    if isinstance(obstacles, bool) or not isinstance(obstacles, int) or obstacles < 0:
        raise ValueError(f"obstacles must be an int >= 0, got {obstacles!r}")
    ls = 1.0 if height is None else height / NOMINAL_HEIGHT
    ms = 1.0 if mass is None else mass / total_mass()
    model = new_model(MODEL_NAME, (0.0, GRAVITY, 0.0))

    frames: dict = {"ground": model.getGround()}
    for b in bodies(ls, ms):
        frames[b.name] = add_body(model, b.name, b.mass, b.com, (*b.inertia, 0.0, 0.0, 0.0))

    for j in joints(ls):
        _add_joint(model, j, frames, ls)
    coords = coordinates_by_name(model)

    for m in muscles(ls):
        _add_muscle(model, muscle_model, m, frames, coords)

    # Foot-ground contact: a half space on the ground (its normal is +y after
    # the -90 deg rotation about z) and two spheres per foot.
    add_ground_half_space(model, PLATFORM)
    for side in SIDES:
        for s in FOOT_SPHERES:
            add_contact_sphere(model, f"{side}_{s.name}", _sided(s.body, side), s.radius * ls,
                               _scale3(mirror(s.location, side), ls))
    for side in SIDES:
        c = FOOT_CONTACT
        add_hunt_crossley_force(model, f"{c.name}_{side}",
                                (PLATFORM.name, *(f"{side}_{s}" for s in c.spheres)), c.params)

    add_leg_limits(model, LEG_LIMITS, SIDES)

    model.finalizeConnections()
    if obstacles:
        add_obstacles(model, obstacles, [f"{side}_{s.name}" for side in SIDES
                                         for s in FOOT_SPHERES], FOOT_CONTACT.params)
        model.finalizeConnections()
    return model
