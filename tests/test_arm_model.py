"""Parity of the code-built ARM model with the published arm26 reference model.

Runs the real OpenSim 4.6 engine. The reference model is read from
``../shared/reference-models/arm2dof6musc.osim`` (next to the repository); the
parity tests are skipped when it is absent, and fail when ``CI`` is set.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import opensim
import pytest

from osim.models import arm
from osim.models.builder import MUSCLE_MODELS, export_osim

try:  # tests/ run as a package or as a plain folder on sys.path
    from tests import model_parity as mp
except ImportError:  # pragma: no cover - depends on how pytest is invoked
    import model_parity as mp

mp.silence_opensim()

N_POSES = 24
GEOMETRY_TOL = 0.01  # relative (moment arms with the 5 mm floor of model_parity)
SIM_RMS_TOL = 1e-3  # rad
MASS_TOL = 1e-9  # kg


@pytest.fixture(scope="module")
def reference() -> opensim.Model:
    return opensim.Model(str(mp.reference_model_path("arm2dof6musc.osim")))


@pytest.fixture(scope="module")
def ours() -> opensim.Model:
    return arm.build()


# --------------------------------------------------------------------------
# Parity with the reference
# --------------------------------------------------------------------------
def test_masses_match(ours, reference):
    result = mp.compare_masses(ours, reference)
    assert result.only_in_a == [] and result.only_in_b == []
    assert result.total_b == pytest.approx(3.398887, abs=1e-6)  # the reference is what we think it is
    assert result.total_diff < MASS_TOL
    assert result.max_body_diff < MASS_TOL, result.body_diffs


def test_gravity_matches(ours, reference):
    ga, gb = ours.getGravity(), reference.getGravity()
    assert [ga.get(i) for i in range(3)] == pytest.approx([gb.get(i) for i in range(3)], abs=1e-12)


def test_muscle_names_and_forces_match(ours, reference):
    result = mp.compare_muscle_parameters(ours, reference)
    assert result.names_a == result.names_b  # same names, same order
    assert len(result.names_b) == 6
    assert result.class_mismatches == {}
    assert result.max_force_rel_error < 1e-12, result.max_isometric_force


def test_all_muscle_parameters_match(ours, reference):
    """Every non-path property, incl. the Thelen curve shapes as OpenSim 4.6 loads them."""
    result = mp.compare_muscle_parameters(ours, reference)
    assert result.property_errors == {}


def test_coordinates_match(ours, reference):
    result = mp.compare_coordinates(ours, reference)
    assert result.names_a == result.names_b == ["r_shoulder_elev", "r_elbow_flex"]
    assert result.mismatches == {}


def test_markers_match_over_poses(ours, reference):
    result = mp.compare_markers(ours, reference, n_poses=N_POSES, seed=1)
    assert sorted(result.names_a) == sorted(result.names_b)
    assert arm.HAND_MARKER in result.names_a
    assert result.frame_mismatches == {}
    assert result.max_distance < 1e-9, result.worst


def test_mtu_lengths_and_moment_arms_match(ours, reference):
    result = mp.compare_muscle_geometry(ours, reference, n_poses=N_POSES, seed=2)
    assert result.n_poses >= 20
    assert result.max_abs_moment_arm > 0.01  # the poses exercised real moment arms
    assert result.max_length_rel_error < GEOMETRY_TOL, result.worst_length
    assert result.max_moment_arm_error < GEOMETRY_TOL, result.worst_moment_arm


def test_one_second_simulation_matches(ours, reference):
    result = mp.compare_simulations(ours, reference, duration=1.0, seed=3)
    assert len(result.trajectory_b.times) == 101
    assert result.trajectory_b.times[-1] == pytest.approx(1.0)
    assert min(result.range_of_motion.values()) > 0.1  # the excitation really moved both joints
    assert result.rms_error < SIM_RMS_TOL, result.per_coordinate_rms


def test_parity_checks_detect_a_changed_wrap_surface(reference, monkeypatch):
    """Guard against vacuous parity: a 4 mm larger elbow wrap cylinder must fail the 1% bound."""
    changed = tuple(
        dataclasses.replace(w, radius=w.radius + 0.004) if w.name == "TRI" else w for w in arm.WRAP_OBJECTS
    )
    monkeypatch.setattr(arm, "WRAP_OBJECTS", changed)
    result = mp.compare_muscle_geometry(arm.build(), reference, n_poses=N_POSES, seed=2)
    assert result.max_moment_arm_error > GEOMETRY_TOL


def test_parity_checks_detect_changed_parameters_and_mass(reference):
    model = arm.build()
    model.getMuscles().get("BRA").set_optimal_fiber_length(0.0900)
    model.getBodySet().get("r_ulna_radius_hand").setMass(1.6)
    assert ("BRA", "optimal_fiber_length") in mp.compare_muscle_parameters(model, reference).property_errors
    assert mp.compare_masses(model, reference).max_body_diff > 0.05


# --------------------------------------------------------------------------
# Muscle models, export, errors (no reference needed)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("muscle_model", sorted(MUSCLE_MODELS))
def test_each_muscle_model_builds_and_simulates(muscle_model):
    model = arm.build(muscle_model)
    assert not model.hasSystem()  # build() leaves initSystem to the caller
    muscles = model.getMuscles()
    assert muscles.getSize() == 6
    assert {muscles.get(i).getConcreteClassName() for i in range(6)} == {MUSCLE_MODELS[muscle_model]}
    pattern = mp.excitation_pattern(list(arm.MUSCLE_NAMES), seed=4)
    trajectory = mp.simulate(model, pattern, duration=0.2, sample_interval=0.02)
    assert trajectory.times[-1] == pytest.approx(0.2)
    for name in arm.COORDINATE_NAMES:
        values = trajectory.coordinates[name]
        assert np.all(np.isfinite(values)), name
    moved = max(np.ptp(v) for v in trajectory.coordinates.values())
    assert moved > 1e-3


def test_export_loads_back(tmp_path):
    model = arm.build()
    path = export_osim(model, tmp_path / "arm.osim")
    loaded = opensim.Model(str(path))
    loaded.initSystem()
    assert mp.muscle_names(loaded) == list(arm.MUSCLE_NAMES)
    masses = mp.compare_masses(loaded, arm.build())
    assert masses.total_diff < MASS_TOL and masses.max_body_diff < MASS_TOL
    assert mp.compare_muscle_parameters(loaded, arm.build()).property_errors == {}
    geometry = mp.compare_muscle_geometry(loaded, arm.build(), n_poses=N_POSES, seed=5)
    assert geometry.max_length_rel_error < 1e-9 and geometry.max_moment_arm_error < 1e-6


def test_unknown_muscle_model_raises():
    with pytest.raises(ValueError, match="unknown muscle_model"):
        arm.build("hill1938")


def test_table_rows_are_consistent():
    assert arm.COORDINATE_NAMES == ("r_shoulder_elev", "r_elbow_flex")
    assert len(arm.MUSCLES) == 6 and len(set(arm.MUSCLE_NAMES)) == 6
    wrap_names = {w.name for w in arm.WRAP_OBJECTS}
    for row in arm.MUSCLES:
        assert {w.wrap_object for w in row.wraps} <= wrap_names
    assert math.isclose(sum(b.mass for b in arm.BODIES), 3.398887)


def test_joint_stops_keep_the_elbow_in_range_and_are_off_by_default():
    import numpy as np

    from osim.models import build_model
    from osim.engines.opensim import OpenSimEngine as Simulation

    assert not any(f.getConcreteClassName() == "CoordinateLimitForce"
                   for f in build_model("arm").getForceSet())
    triceps_only = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    lowest = {}
    for stops in (False, True):
        sim = Simulation(build_model("arm", joint_stops=stops), preset="fast")
        sim.reset(coordinates={"r_elbow_flex": 0.5})
        elbow = []
        for _ in range(60):
            sim.step(triceps_only)
            elbow.append(sim.coordinate("r_elbow_flex"))
        lowest[stops] = min(elbow)
    assert lowest[False] < -0.3  # the reference arm hyperextends far (-0.48 rad measured)
    assert lowest[True] > -0.15  # -0.12 rad (7 degrees) measured at full triceps
