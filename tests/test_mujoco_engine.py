"""The MuJoCo engine's own parts and its agreement with the OpenSim engine
(the interface's behaviour on both engines is tests/test_engine.py's).

Every comparison runs the real OpenSim model next to its MuJoCo form; the
full agreement report is ``python benchmarks/agreement.py``.
"""

import sys
from pathlib import Path

import osim  # noqa: F401  (before opensim: loads the engine's libraries)
import numpy as np
import opensim
import pytest

from osim.engines import ModelSpec, SimulationError, make_engine
from osim.engines.mujoco.build import build, model_digest
from osim.engines.mujoco.engine import MuJoCoEngine
from osim.engines.mujoco.forces import CoordinateForces
from osim.engines.mujoco.muscles import ThelenMuscles
from osim.models import build_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from patterns import excitation_pattern  # noqa: E402


@pytest.fixture(scope="module")
def arm_pair():
    spec = ModelSpec("arm", options={"joint_stops": True})
    return make_engine("mujoco", spec), make_engine("opensim", spec)


# ----------------------------------------------------------------- forces
@pytest.mark.parametrize("model_name", ["human", "gait3d"])
def test_coordinate_forces_match_opensim(model_name):
    """Limits and springs at random states, inside and far past the limits."""
    sim = make_engine("opensim", ModelSpec(model_name))
    forces = CoordinateForces.from_model(sim.model, sim.coordinate_names)
    assert {"limit", "spring"} >= set(forces.kinds) and len(forces) >= 6
    rng = np.random.default_rng(0)
    for _ in range(50):
        for c in sim.coordinates:
            if not c.getLocked(sim.state):
                span = c.getRangeMax() - c.getRangeMin()
                c.setValue(sim.state, rng.uniform(c.getRangeMin() - 0.5 * span,
                                                  c.getRangeMax() + 0.5 * span), False)
                c.setSpeedValue(sim.state, 3.0 * rng.normal())
        sim.model.realizeVelocity(sim.state)
        q, qdot = sim.coordinate_values(), sim.coordinate_speeds()
        ours, energy = forces.forces(q, qdot), forces.potential_energy(q)
        for k, name in enumerate(forces.names):
            record = sim.model.getForceSet().get(name).getRecordValues(sim.state)
            assert ours[k] == pytest.approx(record.get(0), rel=1e-10, abs=1e-9)
            if forces.kinds[k] == "limit":
                assert energy[k] == pytest.approx(record.get(1), rel=1e-10, abs=1e-9)


def test_rigid_tendon_damping_is_the_force_velocity_slope():
    muscles = ThelenMuscles.from_model(build_model("gait3d"))
    rng = np.random.default_rng(1)
    for scale in (0.01, 0.3, 1.5):  # slow, fast, and past the curve's ends
        a = rng.random(muscles.count)
        length = muscles.tendon_slack_length + muscles.optimal_fiber_length * rng.uniform(0.3, 1.8, muscles.count)
        speed = rng.normal(size=muscles.count) * muscles.max_fiber_speed * scale
        h = 1e-6 * muscles.max_fiber_speed
        numeric = (muscles.rigid_tendon(a, length, speed + h).tendon_force
                   - muscles.rigid_tendon(a, length, speed - h).tendon_force) / (2 * h)
        analytic = muscles.rigid_tendon(a, length, speed, with_damping=True).damping
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5,
                                   atol=1e-6 * muscles.max_isometric_force.max())


# ------------------------------------------------------------------ build
def test_fitted_paths_are_cached_by_model_content(tmp_path, monkeypatch):
    monkeypatch.setenv("OSIM_RL_CACHE", str(tmp_path))
    model = build_model("arm")
    first = build(model, 0.005)
    second = build(model, 0.005)
    assert not first.paths_from_cache and second.paths_from_cache
    np.testing.assert_array_equal(first.paths.coefficients, second.paths.coefficients)
    assert len(list((tmp_path / "mujoco-paths").glob("*.npz"))) == 1
    other = build_model("arm", joint_stops=True)  # another model: another key
    assert model_digest(other) != model_digest(model)
    monkeypatch.setenv("OSIM_RL_CACHE", "")  # empty: no cache at all
    assert not build(model, 0.005).paths_from_cache


def test_unsupported_elements_are_refused_by_name():
    model = build_model("arm")
    actuator = opensim.CoordinateActuator("r_elbow_flex")
    actuator.setName("elbow_motor")
    model.addForce(actuator)
    with pytest.raises(ValueError, match="elbow_motor.*CoordinateActuator"):
        MuJoCoEngine(model)
    with pytest.raises(ValueError, match="Thelen 2003 muscles only"):
        make_engine("mujoco", ModelSpec("arm"), muscle_model="millard2012")


def test_settings_are_checked():
    spec = ModelSpec("arm")
    with pytest.raises(ValueError, match="is OpenSim's"):
        make_engine("mujoco", spec, integrator="rk-merson")
    with pytest.raises(ValueError, match="unknown preset"):
        make_engine("mujoco", spec, preset="fastest")
    with pytest.raises(ValueError, match="tendon"):
        make_engine("mujoco", spec, tendon="elastic")
    with pytest.raises(ValueError, match="timestep"):
        make_engine("mujoco", spec, timestep=0.0)
    sim = make_engine("mujoco", spec, step_size=0.01, timestep=0.003)
    assert sim.substeps == 4 and sim.timestep == pytest.approx(0.0025)


# ------------------------------------------------------------- stepping
@pytest.mark.parametrize("tendon", ["equilibrium", "rigid", "compliant"])
def test_snapshots_replay_bit_for_bit(tendon):
    sim = make_engine("mujoco", ModelSpec("human"), tendon=tendon)
    rng = np.random.default_rng(0)
    for _ in range(5):
        sim.step(rng.random(sim.num_muscles))
    snapshot = sim.get_state()
    actions = rng.random((20, sim.num_muscles))
    first = []
    for action in actions:
        sim.step(action)
        first.append(np.concatenate([sim.coordinate_values(), sim.fiber_forces()]))
    sim.set_state(snapshot)
    for action, expected in zip(actions, first):
        sim.step(action)
        np.testing.assert_array_equal(np.concatenate([sim.coordinate_values(), sim.fiber_forces()]),
                                      expected)


def test_compliant_fibers_start_in_equilibrium():
    sim = make_engine("mujoco", ModelSpec("arm"), tendon="compliant")
    muscles = sim.built.muscles
    expected = muscles.equilibrium(sim.muscle_activations(), sim.musculotendon_lengths())
    np.testing.assert_allclose(sim.fiber_lengths(), expected)
    np.testing.assert_allclose(sim.fiber_velocities(), 0.0, atol=1e-6)


def test_a_diverging_step_raises_and_keeps_the_state():
    sim = make_engine("mujoco", ModelSpec("arm"))
    sim.reset(speeds={"r_elbow_flex": 2e3})  # beyond any joint's speed
    before = sim.get_state()
    with pytest.raises(SimulationError, match="r_elbow_flex"):
        sim.step(np.zeros(sim.num_muscles))
    np.testing.assert_array_equal(sim.get_state().y, before.y)


def test_accelerations_are_the_rate_of_the_velocities():
    """Body and centre-of-mass accelerations against the velocities' change over
    one short step (a model in the air: no contact switching; muscles off,
    since even a little active rigid tendon damps faster than a 0.1 ms step
    and MuJoCo integrates that damping implicitly)."""
    sim = make_engine("mujoco", ModelSpec("human"), timestep=0.0001, step_size=0.0001)
    sim.adjust_model(muscle_strength=dict.fromkeys(sim.muscle_names, 0.0))
    sim.reset(coordinates={"pelvis_ty": 1.5, "hip_flexion_r": 0.5},
              speeds={"pelvis_tilt": 1.0, "knee_angle_l": -2.0})
    u = np.zeros(sim.num_muscles)
    sim.step(u)
    velocity, com_velocity = sim.body_velocities(), sim.center_of_mass_velocity()
    spin = sim.body_angular_velocities()
    acceleration, com_acceleration = sim.body_accelerations(), sim.center_of_mass_acceleration()
    angular = sim.body_angular_accelerations()
    sim.step(u)
    h = sim.step_size
    np.testing.assert_allclose((sim.body_velocities() - velocity) / h, acceleration, atol=0.05 * np.abs(acceleration).max())
    np.testing.assert_allclose((sim.center_of_mass_velocity() - com_velocity) / h, com_acceleration, atol=0.05)
    np.testing.assert_allclose((sim.body_angular_velocities() - spin) / h, angular, atol=0.05 * np.abs(angular).max())
    # free fall: the centre of mass accelerates at g
    np.testing.assert_allclose(com_acceleration, [0.0, -9.80665, 0.0], atol=1e-6)


# ----------------------------------------------------- agreement (short)
def test_same_initial_state_as_opensim():
    for name, options in (("arm", {}), ("human", {}), ("gait3d", {})):
        ours, reference = (make_engine(e, ModelSpec(name, options=options)) for e in ("mujoco", "opensim"))
        assert ours.coordinate_names == reference.coordinate_names
        assert ours.body_names == reference.body_names and ours.muscle_names == reference.muscle_names
        np.testing.assert_allclose(ours.coordinate_values(), reference.coordinate_values(), atol=1e-12)
        np.testing.assert_allclose(ours.body_positions(), reference.body_positions(), atol=3e-4)
        np.testing.assert_allclose(ours.muscle_activations(), reference.muscle_activations())
        np.testing.assert_allclose(ours.musculotendon_lengths(), reference.musculotendon_lengths(),
                                   rtol=5e-3)  # the fit's worst error: see test_mujoco_paths
        np.testing.assert_allclose(ours.body_masses(), reference.body_masses())
        assert ours.coordinate_types() == reference.coordinate_types()
        assert ours.joint_coordinates() == reference.joint_coordinates()
        assert ours.default_coordinates() == reference.default_coordinates()


def test_arm_follows_opensim_under_the_benchmark_pattern(arm_pair):
    """Issue target: joint angles within 0.1 rad RMS over 1 s of the pattern."""
    ours, reference = arm_pair
    ours.reset()
    reference.reset()
    pattern = excitation_pattern(100, ours.num_muscles, 0.01)
    errors = []
    for excitation in pattern:
        ours.step(excitation)
        reference.step(excitation)
        errors.append(ours.coordinate_values() - reference.coordinate_values())
    rms = np.sqrt(np.mean(np.square(errors), axis=0))
    assert np.all(rms <= 0.1), rms


def test_activation_dynamics_follow_opensim(arm_pair):
    """Rise (excitation 1) and fall (excitation 0): activations within 2% of
    OpenSim's at every step, so the time constants agree well within 5%."""
    ours, reference = arm_pair
    for start, excitation in ((None, 1.0), ("high", 0.0)):
        if start is None:
            ours.reset()
            reference.reset()
        for _ in range(15):
            u = np.full(ours.num_muscles, excitation)
            ours.step(u)
            reference.step(u)
            np.testing.assert_allclose(ours.muscle_activations(), reference.muscle_activations(),
                                       rtol=0.02)


# --------------------------------------------------------------- kernels
def test_compiled_kernels_compute_what_numpy_computes():
    """kernels.py against muscles.py and forces.py (the numpy versions, each
    held to OpenSim by its own tests), at random states incl. extremes."""
    from osim.engines.mujoco import kernels

    model = build_model("gait3d")
    muscles = ThelenMuscles.from_model(model)
    coordinates = [c.getName() for c in model.getCoordinateSet()]
    forces = CoordinateForces.from_model(model, coordinates)
    table = kernels.muscle_table(muscles)
    limits, springs = kernels.force_tables(forces)
    rng = np.random.default_rng(3)
    n, k = muscles.count, len(coordinates)
    for scale in (0.01, 0.3, 1.5):
        a = rng.random(n)
        lengths = muscles.tendon_slack_length + muscles.optimal_fiber_length * rng.uniform(0.2, 1.9, n)
        moment_arms = rng.normal(scale=0.03, size=(n, k))
        q, qdot = rng.normal(scale=1.5, size=k), rng.normal(scale=scale * 20, size=k)
        outputs = [np.zeros(n) for _ in range(5)] + [np.zeros(k), np.zeros(k), np.zeros(k)]
        kernels.substep_forces(table, a, lengths, moment_arms, q, qdot, limits, springs, *outputs,
                               False)  # the rigid tendon
        expected = muscles.rigid_tendon(a, lengths, -(moment_arms @ qdot), with_damping=True)
        for got, want in zip(outputs[:5], expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            outputs[5], expected.tendon_force @ moment_arms + forces.generalized(q, qdot, k),
            rtol=1e-12, atol=1e-9)
        # the coordinate forces' damping and stiffness: their slopes, by central differences
        step = 1e-6
        by_speed = np.array([(forces.generalized(q, qdot - step * e, k) - forces.generalized(q, qdot + step * e, k))
                             / (2 * step) for e in np.eye(k)]).diagonal()
        # (the spring part: the limits' damping also changes with q, left explicit)
        rest = np.zeros(k)
        by_value = np.array([(forces.generalized(q - step * e, rest, k) - forces.generalized(q + step * e, rest, k))
                             / (2 * step) for e in np.eye(k)]).diagonal()
        np.testing.assert_allclose(outputs[6], expected.damping @ moment_arms ** 2 + by_speed,
                                   rtol=1e-6, atol=1e-3)
        np.testing.assert_allclose(outputs[7], by_value, rtol=1e-5, atol=1e-3)
        u, h = rng.random(n), 0.005
        stepped = np.empty(n)
        kernels.rk4_activations(table, a, u, h, stepped)
        rate = muscles.activation_rate
        k1 = rate(a, u)
        k2 = rate(a + h / 2 * k1, u)
        k3 = rate(a + h / 2 * k2, u)
        k4 = rate(a + h * k3, u)
        np.testing.assert_allclose(stepped, a + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), rtol=1e-13)


@pytest.mark.parametrize("model_name", ["arm", "gait3d"])  # pieces; pieces and square roots
def test_compiled_paths_evaluate_as_fitted(model_name):
    from osim.engines.mujoco.kernels import CompiledPaths

    paths = make_engine("mujoco", ModelSpec(model_name)).built.paths
    compiled = CompiledPaths(paths)
    rng = np.random.default_rng(4)
    span = paths.upper - paths.lower
    for _ in range(200):  # within and up to 30% past the fitted ranges
        q = paths.lower + span * rng.uniform(-0.3, 1.3, span.size)
        lengths, moment_arms = paths.evaluate(q)
        got_lengths, got_arms = compiled.evaluate(q)
        np.testing.assert_allclose(got_lengths, lengths, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_arms, moment_arms, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("task", sorted(__import__("osim.tasks", fromlist=["TASKS"]).TASKS))
def test_every_env_starts_where_opensim_starts(task):
    """Same observation labels and, after reset(seed), the same initial pose."""
    from osim.env import OsimGymEnv

    envs = {engine: OsimGymEnv(task, engine=engine) for engine in ("opensim", "mujoco")}
    assert envs["mujoco"].observation_labels == envs["opensim"].observation_labels
    assert envs["mujoco"].action_space == envs["opensim"].action_space
    for seed in (0, 7):
        starts = {engine: env.reset(seed=seed)[0] for engine, env in envs.items()}
        sims = {engine: env.sim for engine, env in envs.items()}
        np.testing.assert_allclose(sims["mujoco"].coordinate_values(),
                                   sims["opensim"].coordinate_values(), atol=1e-12)
        np.testing.assert_allclose(sims["mujoco"].coordinate_speeds(),
                                   sims["opensim"].coordinate_speeds(), atol=1e-12)
        np.testing.assert_allclose(sims["mujoco"].body_positions(), sims["opensim"].body_positions(),
                                   atol=3e-4)  # the knee's coupling: see test_mujoco_convert
        assert starts["mujoco"].shape == starts["opensim"].shape


def test_equilibrium_tendon_balances_fiber_and_tendon():
    """The equilibrium tendon's fibers: at rest, OpenSim's equilibrium (the
    numpy solver, held to OpenSim's equilibrateMuscles); moving, tendon force
    equal to fiber force along the tendon with the fiber at the path's speed."""
    from osim.engines.mujoco import kernels

    muscles = ThelenMuscles.from_model(build_model("gait3d"))
    table = kernels.muscle_table(muscles)
    rng = np.random.default_rng(5)
    n = muscles.count
    for scale in (0.0, 0.05, 0.5):
        a = rng.random(n)
        lengths = muscles.tendon_slack_length + muscles.optimal_fiber_length * rng.uniform(0.5, 1.4, n)
        speeds = rng.normal(size=n) * muscles.max_fiber_speed * scale
        out = [np.zeros(n) for _ in range(5)]
        kernels.equilibrium_tendon(table, a, lengths, speeds, *out)
        fiber_length, fiber_velocity, fiber_force, tension, _ = out
        cos = muscles.cos_pennation(fiber_length)
        tendon = muscles.tendon_force_length((lengths - fiber_length * cos) / muscles.tendon_slack_length)
        np.testing.assert_allclose(tension, tendon * muscles.max_isometric_force,
                                   atol=1e-8 * muscles.max_isometric_force.max())
        active, passive = muscles.fiber_force_length(fiber_length / muscles.optimal_fiber_length)
        fv = muscles.force_velocity(muscles.clamp_activation(a), fiber_velocity / muscles.max_fiber_speed)
        np.testing.assert_allclose(fiber_force, (muscles.clamp_activation(a) * active * fv + passive)
                                   * muscles.max_isometric_force, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(fiber_velocity, speeds * cos, rtol=1e-12)
        if scale == 0.0:
            np.testing.assert_allclose(fiber_length, muscles.equilibrium(a, lengths), rtol=1e-7)


def test_a_muscle_spanning_only_locked_joints_keeps_a_constant_length():
    """A user's model with the elbow locked: BRA then spans nothing free."""
    model = build_model("arm")
    model.getCoordinateSet().get("r_elbow_flex").setDefaultLocked(True)
    model.finalizeConnections()
    ours = MuJoCoEngine(model, use_cache=False)
    bra = ours.muscle_names.index("BRA")
    assert ours.built.paths.spanned("BRA") == []
    lengths = []
    for _ in range(20):
        ours.step(np.full(ours.num_muscles, 0.5))
        lengths.append(ours.musculotendon_lengths()[bra])
    np.testing.assert_allclose(lengths, lengths[0], rtol=1e-12)
    assert ours.coordinate("r_elbow_flex") == 0.0 and ours.coordinate("r_shoulder_elev") != 0.0
