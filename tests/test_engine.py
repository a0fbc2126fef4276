"""The engine interface (`osim.engines.Engine`), run on every registered engine:
stepping, snapshots, readings and their physical consistency, model changes,
drawing, errors. Engine internals are tested in the engine's own test file."""

import pickle

import numpy as np
import pytest

from osim.engines import Engine, ModelSpec, SimulationError, make_engine
from osim.env import OsimGymEnv

GRAVITY = np.array([0.0, -9.80665, 0.0])
MODELS = {
    "arm": ModelSpec("arm"),
    "human": ModelSpec("human"),
    "gait3d": ModelSpec("gait3d", options={"prosthetic": True}),
}


@pytest.fixture
def arm(engine) -> Engine:
    return make_engine(engine, MODELS["arm"])


@pytest.fixture
def human(engine) -> Engine:
    return make_engine(engine, MODELS["human"])


def excitations(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (n, size))


# ------------------------------------------------------------------ stepping
def test_names_follow_the_model(arm):
    assert arm.muscle_names == ["TRIlong", "TRIlat", "TRImed", "BIClong", "BICshort", "BRA"]
    assert arm.coordinate_names == ["r_shoulder_elev", "r_elbow_flex"]
    assert "r_radius_styloid" in arm.marker_names and arm.num_muscles == 6


def test_step_advances_time_by_the_control_step(arm):
    for _ in range(3):
        arm.step(np.full(6, 0.5))
    assert arm.time == pytest.approx(0.03, abs=1e-12) and arm.step_count == 3


def test_muscles_respond_to_excitation(arm):
    start = arm.muscle_activations().copy()
    for _ in range(20):
        arm.step([1, 1, 1, 0, 0, 0])
    activation = arm.muscle_activations()
    assert np.all(activation[:3] > 0.9) and np.all(activation[3:] <= start[3:] + 1e-6)


def test_a_restored_snapshot_replays_bit_for_bit(arm):
    actions = excitations(30, 6)
    for a in actions[:10]:
        arm.step(a)
    snapshot = arm.get_state()
    first = []
    for a in actions[10:]:
        arm.step(a)
        first.append(arm.get_state().y)
    arm.set_state(snapshot)
    for a, expected in zip(actions[10:], first):
        arm.step(a)
        np.testing.assert_array_equal(arm.get_state().y, expected)


def test_two_engines_given_the_same_excitations_agree_bit_for_bit(engine):
    runs = []
    for _ in range(2):
        sim = make_engine(engine, MODELS["arm"])
        for a in excitations(20, 6, seed=3):
            sim.step(a)
        runs.append(sim.get_state().y)
    np.testing.assert_array_equal(*runs)


def test_reset_restores_the_start_or_sets_a_pose(arm):
    initial = arm.get_state().y
    for a in excitations(5, 6):
        arm.step(a)
    arm.reset()
    assert arm.time == 0.0 and arm.step_count == 0
    np.testing.assert_allclose(arm.get_state().y, initial, atol=1e-9)
    arm.reset(coordinates={"r_elbow_flex": 1.0}, speeds={"r_shoulder_elev": 0.5})
    assert arm.coordinate("r_elbow_flex") == pytest.approx(1.0)
    assert arm.coordinate_speeds()[0] == pytest.approx(0.5)


@pytest.mark.parametrize("bad, message", [
    (np.full(5, 0.5), "shape"),
    (np.full((2, 6), 0.5), "shape"),
    ([0.1, 0.2, np.nan, 0.3, 0.4, 0.5], "NaN"),
    ([0.1, 0.2, np.inf, 0.3, 0.4, 0.5], "inf"),
    (["a"] * 6, "numeric"),
])
def test_bad_excitations_raise_value_error(arm, bad, message):
    with pytest.raises(ValueError, match=message):
        arm.step(bad)


def test_out_of_range_excitations_are_clipped(arm):
    arm.step([2.0, -1.0, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(arm.excitations, [1.0, 0.0, 0.5, 0.5, 0.5, 0.5])


def test_a_diverged_state_raises_simulation_error_and_keeps_the_state(human):
    human.reset(speeds={"pelvis_tilt": 1e4})
    before = human.get_state().y
    with pytest.raises(SimulationError, match="pelvis_tilt"):
        human.step(np.full(18, 0.5))
    np.testing.assert_array_equal(human.get_state().y, before)
    human.reset()
    human.step(np.zeros(18))  # usable again


def test_engines_do_not_pickle(arm):
    with pytest.raises(TypeError, match="pickle the env"):
        pickle.dumps(arm)


def test_unknown_engine_lists_the_choices():
    with pytest.raises(ValueError, match="unknown engine 'bullet'; choose one of"):
        make_engine("bullet", MODELS["arm"])
    with pytest.raises(ValueError, match="unknown engine"):
        OsimGymEnv("Arm", engine="bullet")


# ------------------------------------------------------------------ readings
@pytest.mark.parametrize("model", sorted(MODELS))
def test_readings_have_the_shapes_and_names_of_the_model(engine, model):
    sim = make_engine(engine, MODELS[model])
    for a in excitations(5, sim.num_muscles):
        sim.step(a)
    n_q, n_b, n_m = len(sim.coordinate_names), len(sim.body_names), sim.num_muscles
    for reading in ("coordinate_values", "coordinate_speeds", "coordinate_accelerations"):
        assert getattr(sim, reading)().shape == (n_q,), reading
    for reading in ("body_positions", "body_velocities", "body_accelerations",
                    "body_orientations", "body_angular_velocities",
                    "body_angular_accelerations"):
        assert getattr(sim, reading)().shape == (n_b, 3), reading
    for reading in ("muscle_activations", "fiber_lengths", "fiber_velocities", "fiber_forces",
                    "musculotendon_lengths", "max_isometric_forces", "optimal_fiber_lengths",
                    "muscle_strengths"):
        assert getattr(sim, reading)().shape == (n_m,), reading
    assert sim.body_masses().shape == (n_b,) and np.all(sim.body_masses() >= 0)
    for reading in ("center_of_mass_position", "center_of_mass_velocity",
                    "center_of_mass_acceleration"):
        assert getattr(sim, reading)().shape == (3,), reading
    assert len(sim.coordinate_types()) == n_q
    assert set(sim.coordinate_types()) <= {"rotational", "translational", "coupled"}
    joints = sim.joint_coordinates()
    assert sorted(c for coords in joints.values() for c in coords) == sorted(sim.coordinate_names)
    assert set(sim.default_coordinates()) <= set(sim.coordinate_names)
    np.testing.assert_array_equal(sim.body_position(sim.body_names[-1]), sim.body_positions()[-1])
    assert sim.coordinate(sim.coordinate_names[-1]) == sim.coordinate_values()[-1]
    activations = sim.muscle_activations()
    assert np.all((activations >= 0) & (activations <= 1))
    assert np.all(sim.musculotendon_lengths() > sim.fiber_lengths() * 0.5)
    assert np.all(sim.max_isometric_forces() > 0) and np.all(sim.optimal_fiber_lengths() > 0)
    np.testing.assert_array_equal(sim.muscle_strengths(), 1.0)


def test_planar_pelvis_readings_agree_with_its_coordinates(human):
    for a in excitations(15, 18, seed=1):
        human.step(a)
    q, u = human.coordinate_values(), human.coordinate_speeds()
    qdd = human.coordinate_accelerations()
    index = {name: i for i, name in enumerate(human.coordinate_names)}
    pelvis = human.body_names.index("pelvis")
    # the pelvis frame is placed by pelvis_tx, pelvis_ty and turned by pelvis_tilt about z
    np.testing.assert_allclose(human.body_positions()[pelvis, :2],
                               q[[index["pelvis_tx"], index["pelvis_ty"]]], atol=1e-12)
    np.testing.assert_allclose(human.body_velocities()[pelvis, :2],
                               u[[index["pelvis_tx"], index["pelvis_ty"]]], atol=1e-12)
    np.testing.assert_allclose(human.body_accelerations()[pelvis, :2],
                               qdd[[index["pelvis_tx"], index["pelvis_ty"]]], atol=1e-9)
    assert human.body_orientations()[pelvis, 2] == pytest.approx(q[index["pelvis_tilt"]])
    assert human.body_angular_velocities()[pelvis, 2] == pytest.approx(u[index["pelvis_tilt"]])
    assert human.body_angular_accelerations()[pelvis, 2] == pytest.approx(
        qdd[index["pelvis_tilt"]], abs=1e-9)
    assert "lumbar_extension" not in human.default_coordinates()  # locked in the model
    kinds = dict(zip(human.coordinate_names, human.coordinate_types()))
    assert kinds["pelvis_tx"] == "translational" and kinds["hip_flexion_r"] == "rotational"


@pytest.mark.parametrize("model", ["human", "gait3d"])
def test_ground_reaction_forces_and_gravity_move_the_centre_of_mass(engine, model):
    """Newton for the whole body: the only external forces are gravity and contact."""
    sim = make_engine(engine, MODELS[model])
    mass = sim.body_masses().sum()
    for step in range(30):
        sim.step(np.zeros(sim.num_muscles))
        if step % 10 == 9:
            forces = sim.ground_reaction_forces()
            assert {"foot_l"} <= set(forces) and all(f.shape == (3,) for f in forces.values())
            total = sum(forces.values())
            assert total[1] > 0.5 * mass * 9.8  # standing: the ground carries the weight
            np.testing.assert_allclose(total + mass * GRAVITY,
                                       mass * sim.center_of_mass_acceleration(),
                                       atol=1e-6 * mass * 9.8)


def test_marker_position_at_a_pose_leaves_the_state_alone(arm):
    here = arm.marker_position("r_radius_styloid")
    y = arm.get_state().y
    there = arm.marker_position_at("r_radius_styloid", {"r_elbow_flex": 1.5})
    assert np.linalg.norm(there - here) > 0.05
    np.testing.assert_array_equal(arm.get_state().y, y)
    np.testing.assert_array_equal(arm.marker_position("r_radius_styloid"), here)


def test_state_dict_has_the_original_layout(arm):
    arm.step(np.full(6, 0.3))
    desc = arm.state_dict()
    assert set(desc) == {"joint_pos", "joint_vel", "joint_acc", "body_pos", "body_vel",
                         "body_acc", "body_pos_rot", "body_vel_rot", "body_acc_rot", "forces",
                         "muscles", "markers", "misc"}
    assert desc["joint_pos"]["r_elbow"] == [pytest.approx(arm.coordinate("r_elbow_flex"))]
    assert set(desc["muscles"]["BRA"]) == {"activation", "fiber_length", "fiber_velocity",
                                           "fiber_force"}
    np.testing.assert_allclose(desc["markers"]["r_radius_styloid"]["pos"],
                               arm.marker_position("r_radius_styloid"))
    np.testing.assert_allclose(desc["misc"]["mass_center_pos"], arm.center_of_mass_position())
    humerus = arm.body_names.index("r_humerus")
    np.testing.assert_allclose(desc["body_acc"]["r_humerus"], arm.body_accelerations()[humerus])
    np.testing.assert_allclose(desc["body_pos_rot"]["r_ulna_radius_hand"],
                               arm.body_orientations()[arm.body_names.index("r_ulna_radius_hand")])


def test_coordinate_limit_forces_push_back_past_a_limit(human):
    names = ["KneeLimit_r", "KneeLimit_l"]
    np.testing.assert_allclose(human.coordinate_limit_forces(names), 0.0, atol=1e-6)
    human.reset(coordinates={"knee_angle_r": 0.3})  # hyperextended: the limit is at 0
    right, left = human.coordinate_limit_forces(names)
    assert right < -1.0 and abs(left) < 1e-6
    with pytest.raises(ValueError, match="NoSuchLimit"):
        human.coordinate_limit_forces(["NoSuchLimit"])


# ------------------------------------------------------------- model changes
def test_muscle_strength_scales_force_and_keeps_the_state(engine):
    sim = make_engine(engine, MODELS["arm"])
    for _ in range(10):
        sim.step(np.ones(6))
    y, forces, built = sim.get_state().y, sim.fiber_forces(), sim.max_isometric_forces()
    sim.adjust_model(muscle_strength={"BRA": 0.5})
    np.testing.assert_array_equal(sim.get_state().y, y)
    assert sim.muscle_strengths()[5] == pytest.approx(0.5)
    assert sim.max_isometric_forces()[5] == pytest.approx(0.5 * built[5])
    np.testing.assert_allclose(sim.fiber_forces()[:5], forces[:5])
    assert sim.fiber_forces()[5] == pytest.approx(0.5 * forces[5], rel=1e-6)
    sim.adjust_model(muscle_strength={"BRA": 1.0})
    np.testing.assert_allclose(sim.fiber_forces(), forces)
    with pytest.raises(ValueError, match="no muscle 'biceps'"):
        sim.adjust_model(muscle_strength={"biceps": 2.0})


def test_obstacles_are_placed_touch_the_feet_and_are_parked_again(engine):
    sim = make_engine(engine, ModelSpec("human", options={"obstacles": 2}))
    sim.reset(coordinates={"hip_flexion_r": 0.6})  # the right foot ahead of the left
    heel = sim.body_position("calcn_r")
    sim.adjust_model(obstacles=[[heel[0], heel[1], 0.1]])  # around the right heel
    pushed = sim.ground_reaction_forces()
    # The heel sphere's centre is 5 cm above the obstacle's (at the heel's body
    # origin): pushed up.
    push = pushed["obstacles_r_heel"]
    assert push[1] > 100.0
    assert np.linalg.norm(pushed["obstacles_l_heel"]) == 0.0
    sim.step(np.zeros(18))  # the heel is pushed out of it
    sim.adjust_model(obstacles=[])
    assert all(np.linalg.norm(sim.ground_reaction_forces()[f"obstacles_{s}"]) == 0.0
               for s in ("r_heel", "r_toe", "l_heel", "l_toe"))
    with pytest.raises(ValueError, match="obstacle slots"):
        sim.adjust_model(obstacles=[[1.0, 0.0, 0.1]] * 3)


# ------------------------------------------------------------------- drawing
def test_scene_holds_every_body_and_muscle(human):
    scene = human.scene()
    assert len(scene.bones) == len(human.body_names)
    assert len(scene.muscles) == len(scene.activations) == human.num_muscles
    assert all(path.ndim == 2 and path.shape[1] == 3 and len(path) >= 2 for path in scene.muscles)
    assert len(scene.spheres) == 4 and scene.floating_base and scene.ground_height == 0.0
    np.testing.assert_allclose(scene.root, human.body_position("pelvis"))
    human.reset(coordinates={"hip_flexion_r": 1.0})
    moved, default = human.scene(), human.scene(default_pose=True)
    assert not np.allclose(moved.bones[1].ends[0], default.bones[1].ends[0])
    assert not make_engine(human.name, MODELS["arm"]).scene().floating_base
