"""The OpenSim engine's own parts: its readings against OpenSim's per-element calls,
integrator settings, model files, errors. What every engine does is in test_engine.py."""

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


def test_presets_set_the_integrator():
    accurate = Simulation(build_model("arm"), preset="accurate")
    assert accurate.integrator_settings == PRESETS["accurate"] == ("rk-merson", 5e-5, None)
    fast = Simulation(build_model("arm"), preset="fast")
    assert fast.integrator_settings == PRESETS["fast"]
    assert (fast.integrator, fast.accuracy) == ("semi-explicit-euler", 1e-2)
    custom = Simulation(build_model("arm"), integrator="semi-explicit-euler", accuracy=1e-3)
    assert (custom.integrator, custom.accuracy) == ("semi-explicit-euler", 1e-3)


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
