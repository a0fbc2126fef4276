"""3D human gait models (14 DOF) built in code with the OpenSim API.

Two variants share one table:

* ``prosthetic=True``: 14 DOF, 19 muscles, transtibial prosthesis on the right
  leg (a light shank ``pros_tibia_r`` and a rigid prosthetic foot
  ``pros_foot_r`` on a pin "ankle" with a passive torsional spring). This is
  the model of the AI-for-Prosthetics (2018) challenge.
* ``prosthetic=False``: the healthy model, 14 DOF, 22 muscles.

The figures (masses, inertias, joint frames, knee splines, muscle path points
and Hill-type parameters, foot contact and the passive "ligament" limits) are
those of the reduced 3D gait models by A. Seth, adjusted by C. Ong (muscle
strengths after Handsfield / Rajagopal), themselves based on:

* Delp S.L., Loan J.P., Hoy M.G., Zajac F.E., Topp E.L., Rosen J.M. (1990).
  An interactive graphics-based model of the lower extremity to study
  orthopaedic surgical procedures. IEEE Trans. Biomed. Eng. 37:757-767
  (lower-extremity joints and muscle paths);
* Yamaguchi G.T., Zajac F.E. (1989): planar knee (tibia translations and
  quadriceps insertions as functions of knee angle);
* Anderson F.C., Pandy M.G. (1999, 2001): low back joint and anthropometry;
* prosthesis inertia after Lehmann et al. 1998, Fey et al. 2011 and Shamaei
  et al. 2013.

Those figures are licensed CC BY 3.0 by their authors. The tables are our own
structure (shared with the planar model in ``osim.models.human`` where the
figures are the same): legs are defined once (right side, ``+z``) and mirrored
about the sagittal plane for the left side. Checked figure by figure against
the published models, the places where left and right are NOT mirror images
are kept as published:

* the ankle range (right +-90 deg, left +-60 deg), in both variants;
* the two toe contact spheres lie at z = -0.026 and +0.026 on both feet (the
  left ``toe1`` is not the mirror of the right ``toe1``);
* the hip adduction and rotation axes of the left hip point along -x and -y
  (mirroring of a rotation axis), not a difference in figures.

Compared with the planar model the 3D figures differ in: pelvis height
(0.94 m), lumbar extension default (-5 deg), hamstrings FmaxMuscleStrain (0.8),
rectus femoris KshapePassive (9), knee limit (0 deg), foot contact (three
spheres per foot, stiffness 5e5, dissipation 1), head mass (0) and the added
hip abductor / adductor muscles and hip adduction limit.

``build()`` returns a finalized (but not ``initSystem``-ed) ``opensim.Model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import opensim

from osim.models.builder import (
    ContactSphereRow,
    CoordinateSpec,
    HalfSpaceRow,
    HuntCrossleyParams,
    LimitRow,
    PointRow,
    TransformAxisSpec,
    add_body,
    add_contact_sphere,
    add_ground_half_space,
    add_hunt_crossley_force,
    add_leg_limits,
    add_path_point,
    add_pin_joint,
    add_weld_joint,
    check_muscle_model,
    coordinates_by_name,
    get_frame,
    make_custom_joint,
    make_muscle,
    make_spline,
    mirror,
    new_model,
)
from osim.models.human import (
    KNEE_TX,
    KNEE_TY,
    RECT_FEM_INSERTION,
    VASTI_INSERTION,
    BodyRow,
    CoordRow,
    MuscleRow,
    leg_body,
    leg_muscle,
)
from osim.models.human import thelen_params as _thelen  # same Thelen figures

Vec3 = tuple[float, float, float]

SIDES = ("r", "l")
GRAVITY = -9.80665
MODEL_NAMES = {True: "gait14dof22musc_pros", False: "gait14dof22musc"}
HALF_PI = 1.57079633  # the published model's rounding of pi/2
HIP_RANGE = (-2.0943951, 2.0943951)


# ----------------------------------------------------------------------------
# Bodies
# ----------------------------------------------------------------------------
PELVIS = BodyRow("pelvis", 11.777, (-0.0707, 0.0, 0.0), (0.1028, 0.0871, 0.0579))
# Right leg; the left leg is the mirror image (z -> -z).
THIGH = BodyRow("femur", 9.3014, (0.0, -0.17, 0.0), (0.1339, 0.0351, 0.1412))
SHANK_AND_FOOT = (
    BodyRow("tibia", 3.7075, (0.0, -0.1867, 0.0), (0.0504, 0.0051, 0.0511)),
    BodyRow("talus", 0.1, (0.0, 0.0, 0.0), (0.001, 0.001, 0.001)),
    BodyRow("calcn", 1.25, (0.1, 0.03, 0.0), (0.0014, 0.0039, 0.0041)),
    BodyRow("toes", 0.2166, (0.0346, 0.006, -0.0175), (0.0001, 0.0002, 0.0001)),
)
# Transtibial prosthesis (right leg only): residual shank with half the tibia's
# mass and inertia, rigid prosthetic foot.
PROSTHESIS = (
    BodyRow("pros_tibia_r", 1.85375, (0.0, -0.1867, 0.0), (0.0252, 0.00255, 0.02555)),
    BodyRow("pros_foot_r", 0.426, (0.05123, -0.01195, 0.0), (0.00048, 0.00133, 0.0014)),
)
UPPER_BODIES = (
    BodyRow("torso", 34.2366, (-0.03, 0.32, 0.0), (1.4745, 0.7555, 1.4314)),
    BodyRow("head", 0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
)
LEG_BODY_NAMES = frozenset(b.name for b in (THIGH,) + SHANK_AND_FOOT)


# ----------------------------------------------------------------------------
# Joints and coordinates
# ----------------------------------------------------------------------------
def _lin(coordinate: str, axis: Vec3) -> TransformAxisSpec:
    return TransformAxisSpec(axis, coordinate)


def _const(axis: Vec3) -> TransformAxisSpec:
    return TransformAxisSpec(axis, None, 0.0)


PELVIS_COORDS = (
    CoordRow("pelvis_tilt", (-HALF_PI, HALF_PI)),
    CoordRow("pelvis_list", (-HALF_PI, HALF_PI)),
    CoordRow("pelvis_rotation", (-HALF_PI, HALF_PI)),
    CoordRow("pelvis_tx", (-5.0, 5.0)),
    CoordRow("pelvis_ty", (-1.0, 2.0), default=0.94),
    CoordRow("pelvis_tz", (-3.0, 3.0)),
)
HIP_LOCATION = (-0.0707, -0.0661, 0.0835)
HIP_COORDS = (
    CoordRow("hip_flexion", HIP_RANGE),
    CoordRow("hip_adduction", HIP_RANGE),
    CoordRow("hip_rotation", HIP_RANGE, locked=True),
)
KNEE_COORD = CoordRow("knee_angle", (-2.0943951, 0.17453293))
ANKLE_LOCATION = (0.0, -0.43, 0.0)
# Not mirrored in the published models: the left ankle range is +-60 deg.
ANKLE_RANGE = {"r": (-HALF_PI, HALF_PI), "l": (-1.04719755, 1.04719755)}
SUBTALAR_LOCATION = (-0.04877, -0.04195, 0.00792)
MTP_LOCATION = (0.1788, -0.002, 0.00108)
BACK_LOCATION = (-0.1007, 0.0815, 0.0)
LUMBAR = CoordRow("lumbar_extension", (-HALF_PI, HALF_PI), default=-0.0872665, locked=True)
HEAD_LOCATION = (0.0, 0.55, 0.0)


# ----------------------------------------------------------------------------
# Muscles (right leg; the left is mirrored)
# ----------------------------------------------------------------------------
# Muscles of the hip and knee (present on both legs in both variants).
THIGH_MUSCLES = (
    MuscleRow("abd", "glut_med2", _thelen(4460.290481, 0.0845, 0.053, 0.0), (
        PointRow("pelvis", (-0.0855, 0.0445, 0.0766)),
        PointRow("femur", (-0.0258, -0.0058, 0.0527)),
    )),
    MuscleRow("add", "add_mag1", _thelen(3931.8, 0.087, 0.06, 0.08726646), (
        PointRow("pelvis", (-0.0732, -0.1174, 0.0255)),
        PointRow("femur", (-0.0045, -0.1211, 0.0339)),
    )),
    MuscleRow("hamstrings", "semimem",
              _thelen(4105.465574, 0.069, 0.349, 0.26179939, muscle_strain=0.8), (
                  PointRow("pelvis", (-0.1192, -0.09747, 0.07151)),
                  PointRow("tibia", (-0.0348, -0.03519, -0.01891),
                           active=("knee_angle", -0.558505, 0.174533)),
                  PointRow("tibia", (-0.027, -0.04771, -0.01957)),
              )),
    MuscleRow("bifemsh", "bifemsh", _thelen(557.11475409836, 0.11, 0.117, 0.40142573), (
        PointRow("femur", (0.005, -0.2111, 0.0234)),
        PointRow("tibia", (-0.0301, -0.036, 0.02943)),
        PointRow("tibia", (-0.0234, -0.0563, 0.0343)),
    )),
    MuscleRow("glut_max", "glut_max2", _thelen(3337.583607, 0.157, 0.048, 0.0), (
        PointRow("pelvis", (-0.1349, 0.0176, 0.0563)),
        PointRow("pelvis", (-0.1376, -0.052, 0.0914)),
        PointRow("femur", (-0.0426, -0.053, 0.0293)),
        PointRow("femur", (-0.0156, -0.1016, 0.0419)),
    )),
    MuscleRow("iliopsoas", "psoas", _thelen(2697.344262, 0.117, 0.13, 0.13962634), (
        PointRow("pelvis", (-0.0647, 0.0887, 0.0289)),
        PointRow("pelvis", (-0.0238, -0.057, 0.0759)),
        PointRow("pelvis", (-0.0288, -0.0805, 0.0816),
                 active=("hip_flexion", -1.5708, 0.785398)),
        PointRow("femur", (0.0016, -0.0507, 0.0038)),
        PointRow("femur", (-0.0188, -0.0597, 0.0104)),
    )),
    MuscleRow("rect_fem", "rect_fem",
              _thelen(2191.74098360656, 0.076, 0.346, 0.08726646, muscle_strain=1.0,
                      kshape_passive=9.0), (
                  PointRow("pelvis", (-0.0295, -0.0311, 0.0968)),
                  PointRow("femur", (0.0334, -0.403, 0.0019),
                           active=("knee_angle", -2.61799, -1.45997)),
                  PointRow("tibia", None, moving=RECT_FEM_INSERTION),
              )),
    MuscleRow("vasti", "vas_int",
              _thelen(9593.95082, 0.099, 0.102, 0.05235988, muscle_strain=1.0,
                      kshape_passive=9.0), (
                  PointRow("femur", (0.029, -0.1924, 0.031)),
                  PointRow("femur", (0.0335, -0.2084, 0.0285)),
                  PointRow("femur", (0.0343, -0.403, 0.0055),
                           active=("knee_angle", -2.61799, -1.42)),
                  PointRow("tibia", None, moving=VASTI_INSERTION),
              )),
)
# Muscles crossing the ankle: absent on the prosthetic (right) leg.
ANKLE_MUSCLES = (
    MuscleRow("gastroc", "med_gas", _thelen(4690.57377, 0.051, 0.384, 0.29670597, 0.1), (
        PointRow("femur", (-0.019, -0.3929, -0.0235)),
        PointRow("femur", (-0.03, -0.4022, -0.0258),
                 active=("knee_angle", -0.785398, 0.174533)),
        PointRow("calcn", (0.0, 0.031, -0.0053)),
    )),
    MuscleRow("soleus", "soleus", _thelen(7924.996721, 0.044, 0.244, 0.43633231, 0.1), (
        PointRow("tibia", (-0.0024, -0.1533, 0.0071)),
        PointRow("calcn", (0.0, 0.031, -0.0053)),
    )),
    MuscleRow("tib_ant", "tib_ant", _thelen(2116.818162, 0.068, 0.238, 0.08726646), (
        PointRow("tibia", (0.0179, -0.1624, 0.0115)),
        PointRow("tibia", (0.0329, -0.3951, -0.0177)),
        PointRow("calcn", (0.1166, 0.0178, -0.0305)),
    )),
)


# ----------------------------------------------------------------------------
# Contact, passive limits, prosthetic ankle spring
# ----------------------------------------------------------------------------
PLATFORM = HalfSpaceRow("platform", (0.0, 0.0, 0.0), (0.0, 0.0, -1.5707963267949))
# Anatomical foot: same sphere locations on both sides (not mirrored).
FOOT_SPHERES = (
    ContactSphereRow("heel", "calcn", 0.05, (0.03, 0.02, 0.0)),
    ContactSphereRow("toe1", "toes", 0.025, (0.02, -0.005, -0.026)),
    ContactSphereRow("toe2", "toes", 0.025, (0.02, -0.005, 0.026)),
)
PROSTHETIC_FOOT_SPHERES = (
    ContactSphereRow("pros_heel", "pros_foot_r", 0.05, (-0.01877, -0.02195, 0.0)),
    ContactSphereRow("pros_toe", "pros_foot_r", 0.05, (0.15, -0.02195, 0.0)),
)


# both feet and the prosthetic foot
FOOT_CONTACT = HuntCrossleyParams(stiffness=500000.0, dissipation=1.0, static_friction=0.8,
                                  dynamic_friction=0.8, viscous_friction=0.0,
                                  transition_velocity=0.1)

LEG_LIMITS = (
    LimitRow("HipLimit", "hip_flexion", 20.0, 120.0, 20.0, -30.0, 0.25, 10.0),
    LimitRow("KneeLimit", "knee_angle", 20.0, 0.0, 20.0, -140.0, 0.25, 10.0),
    LimitRow("AnkleLimit", "ankle_angle", 20.0, 20.0, 20.0, -40.0, 0.25, 10.0),
    LimitRow("HipAddLimit", "hip_adduction", 20.0, 30.0, 20.0, -40.0, 0.25, 10.0),
)


@dataclass(frozen=True)
class SpringRow:
    """SpringGeneralizedForce on a coordinate (N*m/rad, rad, N*m*s/rad)."""

    name: str
    coordinate: str
    stiffness: float
    rest_length: float
    viscosity: float


ANKLE_SPRING = SpringRow("ankleSpring", "ankle_angle_r", 225.0, 0.0, 1.0)


# ----------------------------------------------------------------------------
# Table assembly
# ----------------------------------------------------------------------------
def _body_name(name: str, side: str, prosthetic: bool) -> str:
    if prosthetic and side == "r" and name == "tibia":
        return "pros_tibia_r"
    return f"{name}_{side}" if name in LEG_BODY_NAMES else name


def _has_foot(side: str, prosthetic: bool) -> bool:
    return not (prosthetic and side == "r")


def leg_muscles(side: str, prosthetic: bool = True) -> tuple[MuscleRow, ...]:
    rows = THIGH_MUSCLES + (ANKLE_MUSCLES if _has_foot(side, prosthetic) else ())
    return tuple(leg_muscle(row, side, lambda body, s: _body_name(body, s, prosthetic)) for row in rows)


def muscles(prosthetic: bool = True) -> tuple[MuscleRow, ...]:
    """All muscles: right leg, then left leg."""
    return leg_muscles("r", prosthetic) + leg_muscles("l", prosthetic)


def muscle_names(prosthetic: bool = True) -> tuple[str, ...]:
    return tuple(m.name for m in muscles(prosthetic))


def bodies(prosthetic: bool = True) -> tuple[BodyRow, ...]:
    """All bodies in the order they are added to the model."""
    out = [PELVIS]
    for side in SIDES:
        out.append(leg_body(THIGH, side))
        if _has_foot(side, prosthetic):
            out += [leg_body(b, side) for b in SHANK_AND_FOOT]
        else:
            out += list(PROSTHESIS)
    return tuple(out) + UPPER_BODIES


def total_mass(prosthetic: bool = True) -> float:
    return sum(b.mass for b in bodies(prosthetic))


def _spec(c: CoordRow, side: str | None = None, range_=None) -> CoordinateSpec:
    name = c.name if side is None else f"{c.name}_{side}"
    return CoordinateSpec(name, range_ or c.range, default_value=c.default, locked=c.locked)


# ----------------------------------------------------------------------------
# Model construction
# ----------------------------------------------------------------------------
def _add_leg_joints(model: opensim.Model, side: str, prosthetic: bool) -> None:
    femur = f"femur_{side}"
    # Hip: flexion about z, adduction about x, rotation about y; on the left
    # the adduction and rotation axes are mirrored (-x, -y).
    sign = 1.0 if side == "r" else -1.0
    hip = [f"{c.name}_{side}" for c in HIP_COORDS]
    make_custom_joint(
        model, f"hip_{side}", "pelvis", femur,
        rotations=(_lin(hip[0], (0.0, 0.0, 1.0)), _lin(hip[1], (sign, 0.0, 0.0)),
                   _lin(hip[2], (0.0, sign, 0.0))),
        translations=(_const((1.0, 0.0, 0.0)), _const((0.0, 1.0, 0.0)), _const((0.0, 0.0, 1.0))),
        coordinates=tuple(_spec(c, side) for c in HIP_COORDS),
        location_in_parent=mirror(HIP_LOCATION, side),
    )
    knee = f"knee_angle_{side}"
    make_custom_joint(
        model, f"knee_{side}", femur, _body_name("tibia", side, prosthetic),
        rotations=(_lin(knee, (0.0, 0.0, 1.0)), _const((0.0, 1.0, 0.0)), _const((1.0, 0.0, 0.0))),
        translations=(
            TransformAxisSpec((1.0, 0.0, 0.0), knee, function=lambda: make_spline(KNEE_TX)),
            TransformAxisSpec((0.0, 1.0, 0.0), knee, function=lambda: make_spline(KNEE_TY)),
            _const((0.0, 0.0, 1.0)),
        ),
        coordinates=(_spec(KNEE_COORD, side),),
    )
    ankle = CoordinateSpec(f"ankle_angle_{side}", ANKLE_RANGE[side])
    if _has_foot(side, prosthetic):
        add_pin_joint(model, f"ankle_{side}", f"tibia_{side}", f"talus_{side}", ANKLE_LOCATION, ankle)
        add_weld_joint(model, f"subtalar_{side}", f"talus_{side}", f"calcn_{side}",
                  mirror(SUBTALAR_LOCATION, side))
        add_weld_joint(model, f"mtp_{side}", f"calcn_{side}", f"toes_{side}", mirror(MTP_LOCATION, side))
    else:  # prosthetic foot on a pin at the anatomical ankle location
        add_pin_joint(model, "ankle_r", "pros_tibia_r", "pros_foot_r", ANKLE_LOCATION, ankle)


def build(muscle_model: str = "thelen2003", prosthetic: bool = True,
          locked: tuple[str, ...] = ()) -> opensim.Model:
    """The 3D 14-DOF gait model, finalized but not ``initSystem``-ed.

    ``prosthetic=True``: transtibial prosthesis on the right leg, 19 muscles;
    ``prosthetic=False``: healthy model, 22 muscles. ``muscle_model``:
    "thelen2003" (the published models'), "millard2012" or "degroote2016";
    any other name raises ``ValueError``.

    ``locked``: names of more coordinates to lock at their default value (0
    for all but pelvis_ty and lumbar_extension). Learn to Move 2019's planar
    model (``gait14dof22musc_planar``) is the healthy model with pelvis_list,
    pelvis_rotation, pelvis_tz, hip_adduction_r and hip_adduction_l locked
    (`osim.tasks.l2m2019.PLANAR_LOCKED`). A name the model lacks raises
    ``ValueError``.
    """
    check_muscle_model(muscle_model)
    if (not isinstance(locked, (tuple, list, set, frozenset))
            or not all(isinstance(name, str) for name in locked)):
        raise ValueError(f"locked must be a sequence of coordinate names, got {locked!r}")
    prosthetic = bool(prosthetic)
    model = new_model(MODEL_NAMES[prosthetic], (0.0, GRAVITY, 0.0))

    for b in bodies(prosthetic):
        add_body(model, b.name, b.mass, b.com, (*b.inertia, 0.0, 0.0, 0.0))

    one = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    names = [c.name for c in PELVIS_COORDS]
    make_custom_joint(
        model, "ground_pelvis", "ground", "pelvis",
        rotations=(_lin(names[0], one[2]), _lin(names[1], one[0]), _lin(names[2], one[1])),
        translations=(_lin(names[3], one[0]), _lin(names[4], one[1]), _lin(names[5], one[2])),
        coordinates=tuple(_spec(c) for c in PELVIS_COORDS),
    )
    for side in SIDES:
        _add_leg_joints(model, side, prosthetic)
    add_pin_joint(model, "back", "pelvis", "torso", BACK_LOCATION, _spec(LUMBAR))
    add_weld_joint(model, "back_0", "torso", "head", HEAD_LOCATION)

    coords = coordinates_by_name(model)
    unknown = sorted(set(locked) - set(coords))
    if unknown:
        raise ValueError(f"cannot lock {unknown}: not coordinates of the model; "
                         f"it has {list(coords)}")
    for name in locked:
        coords[name].setDefaultLocked(True)

    for row in muscles(prosthetic):
        muscle = make_muscle(muscle_model, row.name, row.params)
        for i, p in enumerate(row.path, start=1):
            add_path_point(muscle, get_frame(model, p.body), coords, f"{row.point_prefix}-P{i}", p)
        model.addForce(muscle)

    if prosthetic:
        s = ANKLE_SPRING
        spring = opensim.SpringGeneralizedForce(s.coordinate)
        spring.setName(s.name)
        spring.setStiffness(s.stiffness)
        spring.setRestLength(s.rest_length)
        spring.setViscosity(s.viscosity)
        model.addForce(spring)

    # Foot-ground contact: a half space on the ground (normal +y after the
    # -90 deg rotation about z) and spheres on each foot.
    add_ground_half_space(model, PLATFORM)
    contacts = []
    for side in SIDES:
        if _has_foot(side, prosthetic):
            spheres = [(f"{side}_{s.name}", f"{s.body}_{side}", s) for s in FOOT_SPHERES]
            contacts.append((f"foot_{side}", spheres))
        else:
            spheres = [(f"r_{s.name}", s.body, s) for s in PROSTHETIC_FOOT_SPHERES]
            contacts.append(("pros_foot_r", spheres))
        for name, body, s in spheres:
            add_contact_sphere(model, name, body, s.radius, s.location)
    for force_name, spheres in contacts:
        add_hunt_crossley_force(model, force_name,
                                (PLATFORM.name, *(name for name, _, _ in spheres)), FOOT_CONTACT)

    add_leg_limits(model, LEG_LIMITS, SIDES)

    model.finalizeConnections()
    return model
