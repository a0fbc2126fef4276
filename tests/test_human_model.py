"""The planar HUMAN model built in code (osim.models.human) against the
published reference model, with the real OpenSim engine (no mocks).

Parity tests load ``gait9dof18musc.osim`` from the shared reference folder and
skip when it is absent (fail when ``CI`` is set); the remaining tests only need our own model.
"""

from __future__ import annotations

import math

import numpy as np
import opensim
import pytest

import model_parity as mp
from osim.models import human
from osim.models.builder import MUSCLE_MODELS

mp.silence_opensim()

# Integrator accuracy for every simulation here (identical for both models):
# the stiff Hunt-Crossley foot contact makes tighter settings slow.
ACCURACY = 1e-4
N_POSES = 25
POSE_SEED = 2024


@pytest.fixture(scope="module")
def reference() -> opensim.Model:
    model = opensim.Model(str(mp.reference_model_path("gait9dof18musc.osim")))
    model.initSystem()
    return model


@pytest.fixture(scope="module")
def ours() -> opensim.Model:
    model = human.build()
    model.initSystem()
    return model


# ---------------------------------------------------------------------------
# Parity with the reference model
# ---------------------------------------------------------------------------
def test_masses_equal_reference(ours, reference):
    result = mp.compare_masses(ours, reference)
    assert result.only_in_a == [] and result.only_in_b == []
    assert len(result.body_diffs) == 13  # pelvis, 2 x 5 leg bodies, torso, head
    assert result.total_diff < 1e-12, (result.total_a, result.total_b)
    assert result.max_body_diff < 1e-12, result.body_diffs
    assert result.total_a == pytest.approx(human.total_mass(), abs=1e-12)


def test_body_inertial_properties_equal_reference(ours, reference):
    result = mp.compare_bodies(ours, reference)
    assert result.same_names
    assert result.n_fields == 13 * 4
    assert result.mismatches == {}


def test_coordinates_equal_reference(ours, reference):
    result = mp.compare_coordinates(ours, reference)
    assert result.names_a == result.names_b  # same names, same order (state layout)
    assert result.mismatches == {}
    lumbar = ours.getCoordinateSet().get("lumbar_extension")
    assert lumbar.getDefaultLocked() and lumbar.getDefaultValue() == pytest.approx(-0.139626)
    # the one left/right asymmetry of the published model is kept
    left = ours.getCoordinateSet().get("ankle_angle_l")
    right = ours.getCoordinateSet().get("ankle_angle_r")
    assert left.getRangeMax() != right.getRangeMax()


def test_joints_equal_reference(ours, reference):
    result = mp.compare_joints(ours, reference)
    assert result.names_a == result.names_b
    assert result.mismatches == {}
    assert result.n_fields > 100  # includes the knee spatial transforms


def test_muscle_set_and_parameters_equal_reference(ours, reference):
    names = mp.muscle_names(ours)
    assert names == mp.muscle_names(reference)
    assert names == list(human.MUSCLE_NAMES)
    loose = mp.compare_muscle_parameters(ours, reference)
    assert loose.class_mismatches == {}
    assert loose.property_errors == {}
    assert loose.max_force_rel_error < 1e-12
    exact = mp.compare_forces(ours, reference, class_names=("Thelen2003Muscle",))
    assert exact.same_names and len(exact.names_b) == 18
    assert exact.mismatches == {}
    # the Thelen curve parameters are among the compared properties
    for prop in ("FmaxTendonStrain", "FmaxMuscleStrain", "KshapeActive", "KshapePassive", "Af", "Flen"):
        assert ("vasti_r", prop) not in exact.mismatches
        assert prop in mp.exact_property_values(ours.getMuscles().get("vasti_r"))


def test_muscle_paths_equal_reference(ours, reference):
    result = mp.compare_muscle_paths(ours, reference)
    assert result.same_names
    assert result.mismatches == {}
    classes = {v for (_, key), v in _path_fields(ours).items() if key.endswith(".class")}
    assert classes == {"PathPoint", "ConditionalPathPoint", "MovingPathPoint"}


def _path_fields(model):
    fields = {}
    for muscle in model.getMuscles():
        points = muscle.getGeometryPath().getPathPointSet()
        for i in range(points.getSize()):
            fields[(muscle.getName(), f"P{i + 1}.class")] = points.get(i).getConcreteClassName()
    return fields


def test_mtu_lengths_and_moment_arms_match_reference(ours, reference):
    result = mp.compare_muscle_geometry(ours, reference, n_poses=N_POSES, seed=POSE_SEED)
    assert result.n_poses >= 20
    assert result.max_abs_moment_arm > 0.02  # non-trivial data
    assert result.max_length_rel_error < 0.01, result.worst_length
    assert result.max_moment_arm_error < 0.01, result.worst_moment_arm


def test_contact_and_ligaments_equal_reference(ours, reference, tmp_path):
    geometry = mp.compare_contact_geometry(ours, reference)
    assert geometry.names_a == ["platform", "r_heel", "r_toe", "l_heel", "l_toe"]
    assert geometry.same_names and geometry.mismatches == {}
    forces = mp.compare_forces(ours, reference, class_names=("HuntCrossleyForce", "CoordinateLimitForce"))
    assert forces.names_a == forces.names_b
    assert len(forces.names_b) == 8
    assert forces.mismatches == {}
    for side in ("r", "l"):
        name = f"foot_{side}"
        ours_geometry = mp.hunt_crossley_geometry(ours.getForceSet().get(name), tmp_path / f"ours_{name}.xml")
        reference_geometry = mp.hunt_crossley_geometry(reference.getForceSet().get(name), tmp_path / f"ref_{name}.xml")
        assert ours_geometry == reference_geometry == [["platform", f"{side}_heel", f"{side}_toe"]]


def test_simulation_matches_reference(reference):
    # fresh copies inside compare_simulations; both from the default standing pose
    result = mp.compare_simulations(human.build(), reference, duration=1.0, accuracy=ACCURACY)
    assert len(result.trajectory_a.times) == 101
    assert result.trajectory_a.times[-1] == pytest.approx(1.0)
    assert max(result.range_of_motion.values()) > 0.1  # the excitations moved the model
    worst = max(result.per_coordinate_rms, key=result.per_coordinate_rms.get)
    assert result.per_coordinate_rms[worst] < 1e-3, (worst, result.per_coordinate_rms)
    assert result.rms_error < 1e-3


# ---------------------------------------------------------------------------
# Our model on its own
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("muscle_model", sorted(MUSCLE_MODELS))
def test_each_muscle_model_builds_and_simulates(muscle_model):
    model = human.build(muscle_model)
    assert model.getMuscles().getSize() == 18
    assert mp.muscle_classes(model) == {MUSCLE_MODELS[muscle_model]}
    trajectory = mp.simulate_own_excitations(model, duration=0.2, accuracy=ACCURACY)  # all finite
    assert trajectory.times[-1] == pytest.approx(0.2)
    assert np.ptp(trajectory.coordinates["pelvis_tilt"]) > 1e-3


def test_unknown_muscle_model_raises():
    with pytest.raises(ValueError, match="muscle_model"):
        human.build("hill1938")


def test_model_is_finalized_not_initialized():
    model = human.build()
    assert model.getNumCoordinates() == 10
    assert model.getMuscles().getSize() == 18
    assert not model.hasSystem()


def test_export_loads_back(tmp_path):
    assert mp.export_round_trip_failures(human.build, tmp_path / "human.osim") == []


def test_scaling_by_height_and_mass():
    base = human.build()
    base.initSystem()
    factor = 0.9
    scaled = human.build(height=factor * human.NOMINAL_HEIGHT, mass=70.0)
    state = scaled.initSystem()
    assert scaled.getTotalMass(state) == pytest.approx(70.0, rel=1e-12)
    ratio = 70.0 / human.total_mass()
    femur, femur0 = scaled.getBodySet().get("femur_r"), base.getBodySet().get("femur_r")
    assert femur.getMass() == pytest.approx(ratio * femur0.getMass())
    assert femur.getMassCenter().get(1) == pytest.approx(factor * femur0.getMassCenter().get(1))
    assert femur.getInertia().getMoments().get(2) == pytest.approx(
        ratio * factor**2 * femur0.getInertia().getMoments().get(2))
    assert scaled.getCoordinateSet().get("pelvis_ty").getDefaultValue() == pytest.approx(factor * 0.91)
    # every MTU length and moment arm scales by the same factor
    poses = mp.sample_poses(base, 5, seed=3)
    state0 = base.initSystem()
    for pose in poses:
        for model, st in ((scaled, state), (base, state0)):
            for name, value in pose.items():
                model.getCoordinateSet().get(name).setValue(st, value, False)
            model.realizePosition(st)
        for name in human.MUSCLE_NAMES:
            length = scaled.getMuscles().get(name).getLength(state)
            length0 = base.getMuscles().get(name).getLength(state0)
            assert length == pytest.approx(factor * length0, rel=1e-9)
    # the published figures are kept exactly when height and mass are nominal
    same = human.build(height=human.NOMINAL_HEIGHT, mass=human.total_mass())
    same.initSystem()
    assert mp.compare_bodies(same, base).mismatches == {}
    assert mp.compare_muscle_paths(same, base).mismatches == {}
    assert mp.compare_forces(same, base).mismatches == {}
    with pytest.raises(ValueError):
        human.build(height=0.0)
    with pytest.raises(ValueError):
        human.build(mass=-1.0)


def test_left_leg_is_the_mirrored_right_leg():
    """The table defines one leg; the left is its mirror image (z -> -z)."""
    model = human.build()
    model.initSystem()
    assert mp.unmirrored_path_points(model) == []
    assert math.isclose(
        model.getBodySet().get("toes_r").getMassCenter().get(2),
        -model.getBodySet().get("toes_l").getMassCenter().get(2),
    )
