"""The simulation core on the real engine: stepping, snapshots, readings, errors."""

import numpy as np
import opensim
import pytest

from osim.models import build_model
from osim.engines import SimulationError
from osim.engines.opensim import PRESETS
from osim.engines.opensim import OpenSimEngine as Simulation


@pytest.fixture
def sim():
    return Simulation(build_model("arm"))


def excitation_sequence(n, size=6, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, size))


def test_names_follow_the_model(sim):
    assert sim.muscle_names == ["TRIlong", "TRIlat", "TRImed", "BIClong", "BICshort", "BRA"]
    assert sim.coordinate_names == ["r_shoulder_elev", "r_elbow_flex"]
    assert "r_radius_styloid" in sim.marker_names


def test_step_advances_time_by_the_control_step(sim):
    for _ in range(3):
        sim.step(np.full(6, 0.5))
    assert sim.time == pytest.approx(0.03, abs=1e-12)
    assert sim.step_count == 3


def test_numpy_readings_agree_with_engine_calls(sim):
    for a in excitation_sequence(20):
        sim.step(a)
    s = sim.state
    expected_q = [c.getValue(s) for c in sim.coordinates]
    expected_u = [c.getSpeedValue(s) for c in sim.coordinates]
    sim.model.realizeDynamics(s)
    expected_act = [m.getActivation(s) for m in sim.muscles]
    expected_len = [m.getFiberLength(s) for m in sim.muscles]
    np.testing.assert_array_equal(sim.coordinate_values(), expected_q)
    np.testing.assert_array_equal(sim.coordinate_speeds(), expected_u)
    np.testing.assert_array_equal(sim.muscle_activations(), expected_act)
    np.testing.assert_array_equal(sim.fiber_lengths(), expected_len)
    assert sim.coordinate("r_elbow_flex") == expected_q[1]


def test_muscles_respond_to_excitation(sim):
    start = sim.muscle_activations().copy()
    for _ in range(20):
        sim.step([1, 1, 1, 0, 0, 0])
    act = sim.muscle_activations()
    assert np.all(act[:3] > 0.9) and np.all(act[3:] <= start[3:] + 1e-6)


def test_set_state_replays_bit_identically(sim):
    actions = excitation_sequence(30)
    for a in actions[:10]:
        sim.step(a)
    snapshot = sim.get_state()
    first = []
    for a in actions[10:]:
        sim.step(a)
        first.append(sim.get_state().y)
    sim.set_state(snapshot)
    for a, expected in zip(actions[10:], first):
        sim.step(a)
        np.testing.assert_array_equal(sim.get_state().y, expected)


def test_same_excitations_give_same_trajectory_in_two_simulations():
    actions = excitation_sequence(20, seed=3)
    runs = []
    for _ in range(2):
        sim = Simulation(build_model("arm"))
        for a in actions:
            sim.step(a)
        runs.append(sim.get_state().y)
    np.testing.assert_array_equal(*runs)


def test_reset_restores_the_initial_state(sim):
    initial = sim.get_state().y
    for a in excitation_sequence(5):
        sim.step(a)
    sim.reset()
    assert sim.time == 0.0 and sim.step_count == 0
    np.testing.assert_allclose(sim.get_state().y, initial, atol=1e-9)


def test_reset_to_a_given_pose(sim):
    sim.reset(coordinates={"r_elbow_flex": 1.0})
    assert sim.coordinate("r_elbow_flex") == pytest.approx(1.0)


def test_state_dict_has_the_original_layout(sim):
    sim.step(np.full(6, 0.3))
    desc = sim.state_dict()
    assert set(desc) == {"joint_pos", "joint_vel", "joint_acc", "body_pos", "body_vel",
                         "body_acc", "body_pos_rot", "body_vel_rot", "body_acc_rot", "forces",
                         "muscles", "markers", "misc"}
    assert desc["joint_pos"]["r_elbow"] == [pytest.approx(sim.coordinate("r_elbow_flex"))]
    assert set(desc["muscles"]["BRA"]) == {"activation", "fiber_length", "fiber_velocity", "fiber_force"}
    np.testing.assert_allclose(desc["markers"]["r_radius_styloid"]["pos"],
                               sim.marker_position("r_radius_styloid"))
    np.testing.assert_allclose(desc["misc"]["mass_center_pos"], sim.center_of_mass_position())
    assert len(desc["body_pos"]["r_humerus"]) == 3


def test_presets_set_the_integrator():
    accurate = Simulation(build_model("arm"), preset="accurate")
    assert accurate.integrator_settings == PRESETS["accurate"] == ("rk-merson", 5e-5, None)
    fast = Simulation(build_model("arm"), preset="fast")
    assert fast.integrator_settings == PRESETS["fast"]
    assert (fast.integrator, fast.accuracy) == ("semi-explicit-euler", 1e-2)
    custom = Simulation(build_model("arm"), integrator="semi-explicit-euler", accuracy=1e-3)
    assert (custom.integrator, custom.accuracy) == ("semi-explicit-euler", 1e-3)


@pytest.mark.parametrize("bad, message", [
    (np.full(5, 0.5), "shape"),
    (np.full((2, 6), 0.5), "shape"),
    ([0.1, 0.2, np.nan, 0.3, 0.4, 0.5], "NaN"),
    ([0.1, 0.2, np.inf, 0.3, 0.4, 0.5], "inf"),
    (["a"] * 6, "numeric"),
])
def test_bad_excitations_raise_value_error(sim, bad, message):
    with pytest.raises(ValueError, match=message):
        sim.step(bad)


def test_out_of_range_excitations_are_clipped(sim):
    sim.step([2.0, -1.0, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(sim.excitations, [1.0, 0.0, 0.5, 0.5, 0.5, 0.5])


def test_integrator_failure_raises_simulation_error_and_keeps_the_state(sim):
    snapshot = sim.get_state()
    snapshot.y[sim._u_idx] = 1e200  # speeds no integrator can follow
    sim.set_state(snapshot)
    before = sim.get_state().y
    with pytest.raises(SimulationError):
        sim.step(np.full(6, 0.5))
    np.testing.assert_array_equal(sim.get_state().y, before)


def test_missing_model_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere.osim"
    with pytest.raises(FileNotFoundError, match="nowhere.osim"):
        Simulation(path)


def test_corrupt_model_file_names_the_path(tmp_path):
    path = tmp_path / "broken.osim"
    path.write_text("<OpenSimDocument><Model name='x'><BodySet>")
    with pytest.raises(ValueError, match="broken.osim"):
        Simulation(path)


def test_model_without_muscles_is_refused():
    with pytest.raises(ValueError, match="no muscles"):
        Simulation(opensim.Model())


def test_unknown_integrator_and_preset_are_refused():
    with pytest.raises(ValueError, match="integrator"):
        Simulation(build_model("arm"), integrator="leapfrog")
    with pytest.raises(ValueError, match="preset"):
        Simulation(build_model("arm"), preset="ludicrous")


def test_user_model_file_loads_and_steps(arm_osim):
    sim = Simulation(arm_osim)
    sim.step(np.full(6, 0.2))
    assert np.all(np.isfinite(sim.coordinate_values()))


@pytest.mark.parametrize("muscle", range(6))
def test_each_excitation_drives_its_own_muscle(muscle):
    sim = Simulation(build_model("arm"))
    excitation = np.zeros(6)
    excitation[muscle] = 1.0
    for _ in range(10):
        sim.step(excitation)
    sim.model.realizeDynamics(sim.state)
    engine = np.array([m.getExcitation(sim.state) for m in sim.muscles])
    np.testing.assert_array_equal(engine, excitation)
    assert np.argmax(sim.muscle_activations()) == muscle


def test_readings_on_a_model_with_a_locked_coordinate():
    sim = Simulation(build_model("human"))
    assert "lumbar_extension" in sim.coordinate_names
    s = sim.state
    np.testing.assert_array_equal(sim.coordinate_values(), [c.getValue(s) for c in sim.coordinates])
    sim.step(np.full(18, 0.2))
    s = sim.state
    np.testing.assert_array_equal(sim.coordinate_speeds(),
                                  [c.getSpeedValue(s) for c in sim.coordinates])
    assert sim.coordinate("lumbar_extension") == pytest.approx(-0.139626)


def test_default_preset_tracks_a_tight_reference_on_the_arm():
    t = np.arange(50)[:, None] * 0.01
    pattern = 0.3 + 0.2 * np.sin(2 * np.pi * (1.5 * t + np.arange(6) / 6))
    finals = {}
    for label, settings in {"default": {}, "tight": dict(integrator="rk-merson", accuracy=1e-8)}.items():
        sim = Simulation(build_model("arm"), **settings)
        for a in pattern:
            sim.step(a)
        finals[label] = sim.coordinate_values()
    # the documented bound of the default preset: 1e-4 rad over 1 s
    assert np.abs(finals["default"] - finals["tight"]).max() < 1e-4
