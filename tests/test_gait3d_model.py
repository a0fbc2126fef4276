"""The 3D gait models built in code (osim.models.gait3d), prosthetic and
healthy, against the published reference models, with the real OpenSim
engine (no mocks).

Parity tests load ``gait14dof22musc_pros_20180507.osim`` (prosthetic=True)
and ``gait14dof22musc_20170320.osim`` (prosthetic=False) from the shared
reference folder and skip when it is absent (fail when ``CI`` is set); the
remaining tests only need our own model.
"""

from __future__ import annotations

import numpy as np
import opensim
import pytest

import model_parity as mp
from osim.models import gait3d
from osim.models.builder import MUSCLE_MODELS

mp.silence_opensim()

REFERENCE_FILES = {
    True: "gait14dof22musc_pros_20180507.osim",
    False: "gait14dof22musc_20170320.osim",
}
VARIANTS = [pytest.param(True, id="prosthetic"), pytest.param(False, id="healthy")]

# Integrator accuracy for every simulation here (identical for both models).
ACCURACY = 1e-4
N_POSES = 25
POSE_SEED = 2024

N_BODIES = {True: 11, False: 13}
N_MUSCLES = {True: 19, False: 22}
SPHERES = {
    True: ["platform", "r_pros_heel", "r_pros_toe", "l_heel", "l_toe1", "l_toe2"],
    False: ["platform", "r_heel", "r_toe1", "r_toe2", "l_heel", "l_toe1", "l_toe2"],
}
FOOT_FORCES = {True: ("pros_foot_r", "foot_l"), False: ("foot_r", "foot_l")}

_cache: dict = {}


def _reference(prosthetic: bool) -> opensim.Model:
    path = mp.reference_model_path(REFERENCE_FILES[prosthetic])
    key = ("reference", prosthetic)
    if key not in _cache:
        model = opensim.Model(str(path))
        model.initSystem()
        _cache[key] = model
    return _cache[key]


def _ours(prosthetic: bool) -> opensim.Model:
    key = ("ours", prosthetic)
    if key not in _cache:
        model = gait3d.build(prosthetic=prosthetic)
        model.initSystem()
        _cache[key] = model
    return _cache[key]


@pytest.fixture(scope="module", params=VARIANTS)
def pair(request):
    prosthetic = request.param
    return prosthetic, _ours(prosthetic), _reference(prosthetic)


# ---------------------------------------------------------------------------
# Parity with the reference models
# ---------------------------------------------------------------------------
def test_masses_equal_reference(pair):
    prosthetic, ours, reference = pair
    result = mp.compare_masses(ours, reference)
    assert result.only_in_a == [] and result.only_in_b == []
    assert len(result.body_diffs) == N_BODIES[prosthetic]
    assert result.total_diff < 1e-12, (result.total_a, result.total_b)
    assert result.max_body_diff < 1e-12, result.body_diffs
    assert result.total_a == pytest.approx(gait3d.total_mass(prosthetic), abs=1e-12)


def test_body_inertial_properties_equal_reference(pair):
    prosthetic, ours, reference = pair
    result = mp.compare_bodies(ours, reference)
    assert result.names_a == result.names_b
    assert result.n_fields == N_BODIES[prosthetic] * 4
    assert result.mismatches == {}


def test_coordinates_equal_reference(pair):
    _, ours, reference = pair
    result = mp.compare_coordinates(ours, reference)
    assert result.names_a == result.names_b  # same names, same order (state layout)
    assert len(result.names_a) == 17  # 14 DOF + 2 locked hip rotations + locked lumbar
    assert result.mismatches == {}
    coords = ours.getCoordinateSet()
    assert coords.get("lumbar_extension").getDefaultLocked()
    assert coords.get("hip_rotation_r").getDefaultLocked() and coords.get("hip_rotation_l").getDefaultLocked()
    assert coords.get("pelvis_ty").getDefaultValue() == pytest.approx(0.94)
    # the published left/right asymmetry of the ankle range is kept
    assert coords.get("ankle_angle_l").getRangeMax() != coords.get("ankle_angle_r").getRangeMax()


def test_joints_equal_reference(pair):
    _, ours, reference = pair
    result = mp.compare_joints(ours, reference)
    assert result.names_a == result.names_b
    assert result.mismatches == {}
    assert result.n_fields > 150  # includes the pelvis, hip and knee spatial transforms


def test_muscle_set_and_parameters_equal_reference(pair):
    prosthetic, ours, reference = pair
    names = mp.muscle_names(ours)
    assert names == mp.muscle_names(reference)
    assert names == list(gait3d.muscle_names(prosthetic))
    assert len(names) == N_MUSCLES[prosthetic]
    assert ("gastroc_r" in names) is (not prosthetic)
    loose = mp.compare_muscle_parameters(ours, reference)
    assert loose.class_mismatches == {}
    assert loose.property_errors == {}
    assert loose.max_force_rel_error < 1e-12
    exact = mp.compare_forces(ours, reference, class_names=("Thelen2003Muscle",))
    assert exact.same_names and len(exact.names_b) == N_MUSCLES[prosthetic]
    assert exact.mismatches == {}
    for prop in ("FmaxTendonStrain", "FmaxMuscleStrain", "KshapeActive", "KshapePassive", "Af", "Flen"):
        assert prop in mp.exact_property_values(ours.getMuscles().get("hamstrings_l"))


def test_muscle_paths_equal_reference(pair):
    _, ours, reference = pair
    result = mp.compare_muscle_paths(ours, reference)
    assert result.same_names
    assert result.mismatches == {}
    classes = {
        muscle.getGeometryPath().getPathPointSet().get(i).getConcreteClassName()
        for muscle in ours.getMuscles()
        for i in range(muscle.getGeometryPath().getPathPointSet().getSize())
    }
    assert classes == {"PathPoint", "ConditionalPathPoint", "MovingPathPoint"}


def test_mtu_lengths_and_moment_arms_match_reference(pair):
    _, ours, reference = pair
    result = mp.compare_muscle_geometry(ours, reference, n_poses=N_POSES, seed=POSE_SEED)
    assert result.n_poses >= 20
    assert result.max_abs_moment_arm > 0.02  # non-trivial data
    assert result.max_length_rel_error < 0.01, result.worst_length
    assert result.max_moment_arm_error < 0.01, result.worst_moment_arm


def test_contact_ligaments_and_spring_equal_reference(pair, tmp_path):
    prosthetic, ours, reference = pair
    geometry = mp.compare_contact_geometry(ours, reference)
    assert geometry.names_a == SPHERES[prosthetic]
    assert geometry.same_names and geometry.mismatches == {}
    classes = ("HuntCrossleyForce", "CoordinateLimitForce", "SpringGeneralizedForce")
    forces = mp.compare_forces(ours, reference, class_names=classes)
    assert forces.names_a == forces.names_b
    assert len(forces.names_b) == 2 + 8 + (1 if prosthetic else 0)
    assert forces.mismatches == {}
    # every force of the reference is in our model, in the same order
    all_forces = mp.compare_forces(ours, reference)
    assert all_forces.names_a == all_forces.names_b and all_forces.mismatches == {}
    for name in FOOT_FORCES[prosthetic]:
        ours_geometry = mp.hunt_crossley_geometry(ours.getForceSet().get(name), tmp_path / f"ours_{name}.xml")
        ref_geometry = mp.hunt_crossley_geometry(reference.getForceSet().get(name), tmp_path / f"ref_{name}.xml")
        assert ours_geometry == ref_geometry
        assert len(ours_geometry) == 1 and ours_geometry[0][0] == "platform"


def test_simulation_matches_reference(pair):
    # Fresh copies inside compare_simulations; both from the default pose.
    # Under this excitation pattern the 3D model does not keep its balance
    # (the pelvis drops and it falls), identically in both models.
    prosthetic, _, _ = pair
    reference = opensim.Model(str(mp.reference_model_path(REFERENCE_FILES[prosthetic])))
    result = mp.compare_simulations(gait3d.build(prosthetic=prosthetic), reference, duration=1.0, accuracy=ACCURACY)
    assert len(result.trajectory_a.times) == 101
    assert result.trajectory_a.times[-1] == pytest.approx(1.0)
    assert max(result.range_of_motion.values()) > 0.1  # the excitations moved the model
    worst = max(result.per_coordinate_rms, key=result.per_coordinate_rms.get)
    assert result.per_coordinate_rms[worst] < 1e-3, (worst, result.per_coordinate_rms)
    assert result.rms_error < 1e-3


def test_parity_checks_detect_a_wrong_model():
    """The comparisons used above are not vacuous: the other variant fails them."""
    reference = _reference(True)
    healthy = _ours(False)
    assert mp.compare_masses(healthy, reference).only_in_a  # tibia_r, talus_r, ...
    assert not mp.compare_muscle_parameters(healthy, reference).same_names
    assert mp.compare_joints(healthy, reference).mismatches  # knee_r child, ankle_r frames
    assert mp.compare_contact_geometry(healthy, reference).names_a != SPHERES[True]


# ---------------------------------------------------------------------------
# Our model on its own
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("muscle_model", sorted(MUSCLE_MODELS))
@pytest.mark.parametrize("prosthetic", [True, False], ids=["prosthetic", "healthy"])
def test_each_muscle_model_builds_and_simulates(muscle_model, prosthetic):
    model = gait3d.build(muscle_model, prosthetic=prosthetic)
    assert model.getMuscles().getSize() == N_MUSCLES[prosthetic]
    assert mp.muscle_classes(model) == {MUSCLE_MODELS[muscle_model]}
    trajectory = mp.simulate_own_excitations(model, duration=0.1, accuracy=ACCURACY)  # all finite
    assert trajectory.times[-1] == pytest.approx(0.1)
    assert np.ptp(trajectory.coordinates["pelvis_ty"]) > 1e-4


def test_unknown_muscle_model_raises():
    with pytest.raises(ValueError, match="muscle_model"):
        gait3d.build("hill1938")


@pytest.mark.parametrize("prosthetic", [True, False], ids=["prosthetic", "healthy"])
def test_model_is_finalized_not_initialized(prosthetic):
    model = gait3d.build(prosthetic=prosthetic)
    assert model.getNumCoordinates() == 17
    assert model.getMuscles().getSize() == N_MUSCLES[prosthetic]
    assert not model.hasSystem()


def test_registered_in_models():
    from osim.models import MODELS, build_model

    assert MODELS["gait3d"] == "osim.models.gait3d"
    model = build_model("gait3d", prosthetic=False)
    assert model.getMuscles().getSize() == 22


@pytest.mark.parametrize("prosthetic", [True, False], ids=["prosthetic", "healthy"])
def test_export_loads_back(tmp_path, prosthetic):
    build = lambda: gait3d.build(prosthetic=prosthetic)  # noqa: E731
    assert mp.export_round_trip_failures(build, tmp_path / "gait3d.osim") == []


def test_left_leg_is_the_mirrored_right_leg():
    """The table defines one leg; the left is its mirror image (z -> -z)."""
    model = _ours(False)
    assert mp.unmirrored_path_points(model) == []
    # hip axes: adduction and rotation are mirrored on the left
    hip_l = opensim.CustomJoint.safeDownCast(model.getJointSet().get("hip_l"))
    axis = hip_l.getSpatialTransform().getTransformAxis(1).get_axis()
    assert (axis.get(0), axis.get(1), axis.get(2)) == (-1.0, 0.0, 0.0)
