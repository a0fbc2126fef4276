"""Planar-ish 2-DOF, 6-muscle right arm built in code (the ARM reaching model).

Provenance: the figures in the table below (segment masses and inertias,
joint frames and axes, coordinate ranges, muscle-tendon parameters, path
points, wrap-surface geometry and markers) are those of the OpenSim "arm26"
model, after Holzbaur, Murray & Delp 2005, "A model of the upper extremity for
simulating musculoskeletal surgery and analyzing neuromuscular control",
Ann Biomed Eng 33:829-840. The model files are licensed CC BY 3.0 by their
authors (Holzbaur; adapted by the OpenSim team: Reinbolt, Seth, Habib,
Hamner). The values were read from that model as OpenSim 4.6 loads it; the
model itself is assembled here with the OpenSim API.

Frames: y up, x forward, z to the right (lateral). ``base`` (thorax/scapula,
massless) is welded to ground 0.8 m up; the shoulder and elbow are single
rotations about oblique axes (CustomJoints), coordinates ``r_shoulder_elev``
and ``r_elbow_flex`` (rad). Muscles are Hill-type (Thelen 2003 by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import opensim

from osim.models.builder import (
    DEFAULT_MUSCLE_MODEL,
    CoordinateSpec,
    MuscleParams,
    PathPointSpec,
    PathWrapSpec,
    TransformAxisSpec,
    WrapObjectSpec,
    add_body,
    add_marker,
    add_weld_joint,
    add_wrap_object,
    check_muscle_model,
    make_custom_joint,
    make_muscle,
    new_model,
    set_muscle_path,
)

MODEL_NAME = "arm2dof6musc"
GRAVITY = (0.0, -9.8066, 0.0)  # m/s^2


# --------------------------------------------------------------------------
# Bodies: mass (kg), centre of mass (m, body frame), inertia about the COM
# (kg m^2: Ixx, Iyy, Izz, Ixy, Ixz, Iyz).
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class BodyRow:
    name: str
    mass: float
    mass_center: tuple[float, float, float]
    inertia: tuple[float, float, float, float, float, float]


BODIES: tuple[BodyRow, ...] = (
    BodyRow("base", 0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    BodyRow("r_humerus", 1.864572, (0.0, -0.180496, 0.0), (0.01481, 0.004551, 0.013193, 0.0, 0.0, 0.0)),
    BodyRow(
        "r_ulna_radius_hand", 1.534315, (0.0, -0.181479, 0.0), (0.019281, 0.001571, 0.020062, 0.0, 0.0, 0.0)
    ),
)

# base is welded to ground at this offset (m, ground frame), no rotation.
BASE_WELD = {"name": "offset", "parent": "ground", "child": "base", "location_in_parent": (0.0, 0.8, 0.0)}


# --------------------------------------------------------------------------
# Joints: one rotational DOF each, about an oblique axis given in the parent
# offset frame (which has the parent body's orientation). The two further
# rotation axes are locked at 0 and complete the SpatialTransform.
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class HingeRow:
    name: str
    parent: str
    child: str
    location_in_parent: tuple[float, float, float]
    axis: tuple[float, float, float]
    spare_axes: tuple[tuple[float, float, float], tuple[float, float, float]]
    coordinate: CoordinateSpec


JOINTS: tuple[HingeRow, ...] = (
    HingeRow(
        name="r_shoulder",
        parent="base",
        child="r_humerus",
        location_in_parent=(-0.017545, -0.007, 0.17),
        axis=(-0.05889802, 0.0023, 0.99826136),
        spare_axes=((0.0, 1.0, 0.0), (0.99826136, 0.0, 0.05889802)),
        coordinate=CoordinateSpec("r_shoulder_elev", (-1.57079633, 3.14159265), default_value=0.0),
    ),
    HingeRow(
        name="r_elbow",
        parent="r_humerus",
        child="r_ulna_radius_hand",
        location_in_parent=(0.0061, -0.2904, -0.0123),
        axis=(0.04940001, 0.03660001, 0.99810825),
        spare_axes=((0.0, 1.0, 0.0), (0.99810825, 0.0, -0.04940001)),
        coordinate=CoordinateSpec("r_elbow_flex", (0.0, 2.26892803), default_value=0.0),
    ),
)


# --------------------------------------------------------------------------
# Wrap surfaces (body frame; rotations are body-fixed XYZ Euler angles, rad).
# --------------------------------------------------------------------------
WRAP_OBJECTS: tuple[WrapObjectSpec, ...] = (
    # glenoid lip that keeps the long head of triceps off the scapula
    WrapObjectSpec(
        "TRIlongglen", "base", "cylinder",
        xyz_body_rotation=(1.37532, -0.294612, 2.43596), translation=(-0.043905, -0.0039, 0.1478),
        quadrant="x", radius=0.003, length=0.03,
    ),
    # humeral head, for the long heads of triceps and biceps
    WrapObjectSpec(
        "TRIlonghh", "r_humerus", "ellipsoid",
        xyz_body_rotation=(3.00162, -0.853466, 2.57419), translation=(-0.0078, -0.0041, -0.0014),
        quadrant="z", dimensions=(0.035, 0.02, 0.02),
    ),
    WrapObjectSpec(
        "BIClonghh", "r_humerus", "ellipsoid",
        xyz_body_rotation=(-2.00434, -1.00164, 0.975465), translation=(0.0033, 0.0073, 0.0003),
        quadrant="-y", dimensions=(0.025, 0.02, 0.02),
    ),
    # distal humerus (elbow), for the triceps and brachialis
    WrapObjectSpec(
        "TRI", "r_humerus", "cylinder",
        xyz_body_rotation=(-0.14015, -0.00628319, 0.154985), translation=(0.0028, -0.2919, -0.0069),
        quadrant="all", radius=0.016, length=0.05,
    ),
)


# --------------------------------------------------------------------------
# Muscles: Hill-type parameters (N, m, rad, s), path points (m, body frame,
# origin to insertion) and wrap assignments (applied in the order listed).
# The Thelen 2003 curve shapes are the arm26 values, which differ from the
# OpenSim 4.6 class defaults (FmaxTendonStrain 0.04, KshapeActive 0.45,
# KshapePassive 5, Af 0.25, Flen 1.4).
# --------------------------------------------------------------------------
THELEN_CURVES = {
    "fmax_tendon_strain": 0.033,
    "fmax_muscle_strain": 0.6,
    "kshape_active": 0.5,
    "kshape_passive": 4.0,
    "af": 0.3,
    "flen": 1.8,
}


def _params(f_max: float, l_opt: float, l_slack: float, pennation: float) -> MuscleParams:
    return MuscleParams(
        max_isometric_force=f_max,
        optimal_fiber_length=l_opt,
        tendon_slack_length=l_slack,
        pennation_angle=pennation,
        max_contraction_velocity=10.0,
        activation_time_constant=0.01,
        deactivation_time_constant=0.04,
        **THELEN_CURVES,
    )


@dataclass(frozen=True)
class MuscleRow:
    name: str
    params: MuscleParams
    points: tuple[tuple[str, tuple[float, float, float]], ...]  # (body, location)
    wraps: tuple[PathWrapSpec, ...] = ()


# Triceps heads share their distal course over the elbow.
_TRI_DISTAL = (
    ("r_humerus", (-0.03184, -0.22637, -0.01217)),
    ("r_humerus", (-0.01743, -0.26757, -0.01208)),
    ("r_ulna_radius_hand", (-0.0219, 0.01046, -0.00078)),
)
_BIC_DISTAL = (
    ("r_humerus", (0.0228, -0.1754, -0.0063)),
    ("r_ulna_radius_hand", (0.00751, -0.04839, 0.02179)),
)

MUSCLES: tuple[MuscleRow, ...] = (
    MuscleRow(
        "TRIlong",
        _params(798.52, 0.134, 0.143, 0.20943951),
        (
            ("base", (-0.05365, -0.01373, 0.14723)),
            ("r_humerus", (-0.02714, -0.11441, -0.00664)),
            *_TRI_DISTAL,
        ),
        (PathWrapSpec("TRI"), PathWrapSpec("TRIlonghh"), PathWrapSpec("TRIlongglen")),
    ),
    MuscleRow(
        "TRIlat",
        _params(624.3, 0.1138, 0.098, 0.15707963),
        (
            ("r_humerus", (-0.00599, -0.12646, 0.00428)),
            ("r_humerus", (-0.02344, -0.14528, 0.00928)),
            *_TRI_DISTAL,
        ),
        (PathWrapSpec("TRI"),),
    ),
    MuscleRow(
        "TRImed",
        _params(624.3, 0.1138, 0.0908, 0.15707963),
        (
            ("r_humerus", (-0.00838, -0.13695, -0.00906)),
            ("r_humerus", (-0.02601, -0.15139, -0.0108)),
            *_TRI_DISTAL,
        ),
        (PathWrapSpec("TRI"),),
    ),
    MuscleRow(
        "BIClong",
        _params(624.3, 0.1157, 0.2723, 0.0),
        (
            ("base", (-0.039235, 0.00347, 0.14795)),
            ("base", (-0.028945, 0.01391, 0.15639)),
            ("r_humerus", (0.02131, 0.01793, 0.01028)),
            ("r_humerus", (0.02378, -0.00511, 0.01201)),
            ("r_humerus", (0.01345, -0.02827, 0.00136)),
            ("r_humerus", (0.01068, -0.07736, -0.00165)),
            ("r_humerus", (0.01703, -0.12125, 0.00024)),
            *_BIC_DISTAL,
        ),
        # only the segment between path points 2 and 3 wraps the humeral head
        (PathWrapSpec("BIClonghh", range=(2, 3)),),
    ),
    MuscleRow(
        "BICshort",
        _params(435.56, 0.1321, 0.1923, 0.0),
        (
            ("base", (0.004675, -0.01231, 0.13475)),
            ("base", (-0.007075, -0.04004, 0.14507)),
            ("r_humerus", (0.01117, -0.07576, -0.01101)),
            ("r_humerus", (0.01703, -0.12125, -0.01079)),
            *_BIC_DISTAL,
        ),
    ),
    MuscleRow(
        "BRA",
        _params(987.26, 0.0858, 0.0535, 0.0),
        (
            ("r_humerus", (0.0068, -0.1739, -0.0036)),
            ("r_ulna_radius_hand", (-0.0032, -0.0239, 0.0009)),
        ),
        (PathWrapSpec("TRI"),),
    ),
)


# --------------------------------------------------------------------------
# Markers (m, body frame). r_radius_styloid is the wrist/hand point that the
# reaching task tracks.
# --------------------------------------------------------------------------
MARKERS: tuple[tuple[str, str, tuple[float, float, float]], ...] = (
    ("r_acromion", "base", (-0.01256, 0.04, 0.17)),
    ("r_humerus_epicondyle", "r_humerus", (0.005, -0.2904, 0.03)),
    ("r_radius_styloid", "r_ulna_radius_hand", (-0.0011, -0.23559, 0.0943)),
)

HAND_MARKER = "r_radius_styloid"
COORDINATE_NAMES = tuple(row.coordinate.name for row in JOINTS)
MUSCLE_NAMES = tuple(row.name for row in MUSCLES)


# Joint stops (not in the reference model, off by default): the reference arm
# has no elbow stop, so strong triceps drive the elbow past full extension into
# a region so stiff that steps fall to ~5/s. A CoordinateLimitForce at each
# coordinate's range holds it (7 degrees past full extension at full triceps).
# The 10-degree transition keeps the onset smooth enough to integrate: with 2
# degrees every preset was off by 1e-2 rad after 1 s, with 10 under 1e-3.
# Rows: name, coordinate, upper and lower limit (deg); stiffness N*m/deg,
# damping N*m*s/deg, transition deg below.
JOINT_STOPS = (
    ("ShoulderStop", "r_shoulder_elev", 180.0, -90.0),
    ("ElbowStop", "r_elbow_flex", 130.0, 0.0),
)
JOINT_STOP_STIFFNESS, JOINT_STOP_DAMPING, JOINT_STOP_TRANSITION = 10.0, 0.05, 10.0


def build(muscle_model: str = DEFAULT_MUSCLE_MODEL, joint_stops: bool = False) -> opensim.Model:
    """Build the arm; returns a finalized model on which ``initSystem`` was not called.

    ``muscle_model`` is one of ``builder.MUSCLE_MODELS`` ("thelen2003",
    "millard2012", "degroote2016"); anything else raises ``ValueError``.
    ``joint_stops=True`` adds the `JOINT_STOPS` limit forces (the reference has none).
    """
    check_muscle_model(muscle_model)
    model = new_model(MODEL_NAME, GRAVITY)

    for row in BODIES:
        add_body(model, row.name, row.mass, row.mass_center, row.inertia)

    add_weld_joint(model, **BASE_WELD)

    for row in JOINTS:
        make_custom_joint(
            model,
            row.name,
            row.parent,
            row.child,
            rotations=(
                TransformAxisSpec(row.axis, coordinate=row.coordinate.name),
                TransformAxisSpec(row.spare_axes[0]),
                TransformAxisSpec(row.spare_axes[1]),
            ),
            coordinates=(row.coordinate,),
            location_in_parent=row.location_in_parent,
        )

    for spec in WRAP_OBJECTS:
        add_wrap_object(model, spec)

    for row in MUSCLES:
        muscle = make_muscle(muscle_model, row.name, row.params)
        points = tuple(
            PathPointSpec(f"{row.name}-P{i}", body, location)
            for i, (body, location) in enumerate(row.points, start=1)
        )
        set_muscle_path(model, muscle, points, row.wraps)
        model.addForce(muscle)

    for name, body, location in MARKERS:
        add_marker(model, name, body, location)

    if joint_stops:
        for name, coordinate, upper, lower in JOINT_STOPS:
            stop = opensim.CoordinateLimitForce(
                coordinate, upper, JOINT_STOP_STIFFNESS, lower, JOINT_STOP_STIFFNESS,
                JOINT_STOP_DAMPING, JOINT_STOP_TRANSITION)
            stop.setName(name)
            model.addForce(stop)

    model.finalizeConnections()
    return model
