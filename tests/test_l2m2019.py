"""Learn to Move 2019 (L2M2019) on the real 3D gait model: the seeded target
field against the original's values, the 339-value observation and the
original's dictionary against independent ``state_dict()`` readings, footsteps
and both reward rounds, seeding, the planar mode, rendering and the field plot."""

from __future__ import annotations

import math
import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.engines import ModelSpec, make_engine
from osim.env import CLASSIC_ENVS, L2M2019Env, OsimGymEnv
from osim.render import scene
from osim.render.plots import field_trace, plot_field
from osim.tasks import TASKS, L2M2019
from osim.tasks.l2m2019 import INIT_POSE, LEG_MUSCLES, PLANAR_LOCKED
from osim.tasks.l2m2019_field import TARGET_RADIUS, TargetVelocityField

G = 9.80665
MASS = 75.1646  # kg, the original's hard-coded body mass
# A mid-stride pose of the original's 2D controller example: the left foot is
# off the ground and lands within a few steps, then the model falls forward.
STRIDE_POSE = [1.7, 0.5, 0.9023245653983966, 0.2012303881285583, 0,
               -0.6952390849304798, -0.3231075259785814, 0.1709011708233401, 0,
               -0.052823239143419, -0.8041966456860847, -0.1745329251994329]
LOW_EXCITATION = np.full(22, 0.05)


def _env(engine, **options) -> OsimGymEnv:
    return OsimGymEnv("L2M2019", engine=engine, accuracy=5e-5, **options)


# ------------------------------------------------------- the target field
@pytest.mark.parametrize("version, seed, sink, centre", [
    (3, 1, (1.08150451, 5.73292399), (0.24092503, 1.27711434)),
    (1, 1, (5.83404401, 0.0), (1.29964068, 0.0)),
    (3, 42, (-5.47561856, 1.75200599), (-1.71133646, 0.54756768)),
])
def test_field_reproduces_the_originals_seeded_values(version, seed, sink, centre):
    field = TargetVelocityField.from_seed(version, seed)
    np.testing.assert_allclose(field.sink, sink, atol=5e-9)
    np.testing.assert_allclose(field.local_field([0.0, 0.0, 0.0])[:, 5, 5], centre, atol=5e-9)
    if (version, seed) == (3, 1):  # the four draws, in the original's order
        assert field.path_heading == pytest.approx(1.3843396200075526, abs=1e-15)
        assert field.dwell_time == pytest.approx(2.6046651452636795, abs=1e-15)
        assert np.linalg.norm(field.sink) == pytest.approx(5.834044009405148, abs=1e-14)
    if (version, seed) == (3, 42):
        assert field.dwell_time == pytest.approx(3.197316968394073, abs=1e-15)


def test_field_version_0_is_constant_and_seed_0_is_a_seed():
    field = TargetVelocityField.from_seed(0, 0)
    assert field.sink is None
    np.testing.assert_allclose(field.local_field([3.0, -2.0, 0.5])[:, 5, 5],
                               (1.22861559, -0.67119575), atol=5e-9)
    a, b = (TargetVelocityField.from_seed(3, 0).sink for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, TargetVelocityField.from_seed(3, 1).sink)
    for bad in (-1, 2**32, 1.5, True, "1"):
        with pytest.raises(ValueError, match="seed"):
            TargetVelocityField.from_seed(3, bad)
    for bad in (4, -1, True, "3", None):
        with pytest.raises(ValueError, match="difficulty"):
            TargetVelocityField.from_seed(bad, 1)


def test_field_interpolates_between_nodes_and_clamps_off_the_map():
    field = TargetVelocityField.from_seed(2, 7)
    v = field.velocities
    i, j = 30, 52
    node = np.array([field.node_x[i], field.node_y[j]])
    np.testing.assert_allclose(field.velocity_at(node), v[:, i, j], atol=1e-15)
    middle = node + 0.25  # the centre of a cell: the mean of its corners
    np.testing.assert_allclose(field.velocity_at(middle), v[:, i:i + 2, j:j + 2].mean(axis=(1, 2)),
                               atol=1e-15)
    # far off the map: the corner's value
    np.testing.assert_allclose(field.velocity_at([100.0, -100.0]), v[:, -1, 0], atol=1e-15)
    speeds = np.linalg.norm(field.velocity_at(np.random.default_rng(0).uniform(-30, 30, (500, 2))),
                            axis=-1)
    assert speeds.max() <= 1.8 + 1e-12
    # the local field is the global one rotated into the heading frame
    pose = np.array([1.0, -2.0, 0.7])
    local = field.local_field(pose)
    ahead = pose[:2] + 2.0 * np.array([math.cos(0.7), math.sin(0.7)])  # [i, j] = [7, 5]
    vx, vy = field.velocity_at(ahead)
    np.testing.assert_allclose(local[:, 7, 5], [vx * math.cos(0.7) + vy * math.sin(0.7),
                                                -vx * math.sin(0.7) + vy * math.cos(0.7)],
                               atol=1e-12)


def test_field_flags_targets_after_the_dwell_time_twice_in_version_3():
    field = TargetVelocityField.from_seed(3, 1)  # dwell time 2.6047 s
    first = field.sink
    at_sink = [*first, 0.0]
    flags = [field.update(at_sink)[1] for _ in range(261)]
    assert flags == [False] * 260 + [True]  # on the 261st update (2.61 s > 2.6047 s)
    second = field.sink
    assert 5.0 <= np.linalg.norm(second - first) <= 7.0  # drawn from the reached sink
    assert len(field.sinks) == 2 and field.targets_reached == 1
    # the map is centred on the walker when the new sink is placed
    np.testing.assert_allclose([field.node_x[40], field.node_y[40]], first, atol=1e-12)
    field.update([0.0, 0.0, 0.0])  # leaving the target restarts the count
    assert field.time_at_target == 0.0
    flags = [field.update([*second, 0.0])[1] for _ in range(500)]
    assert sum(flags) == 1 and field.targets_reached == 2
    np.testing.assert_array_equal(field.sink, second)  # the second target stays
    assert not any(field.update([*second, 0.0])[1] for _ in range(500))
    # versions 1-2 flag every target; version 0 never
    field = TargetVelocityField.from_seed(1, 3)
    for _ in range(3):
        while not field.update([*field.sink, 0.0])[1]:
            pass
    assert field.targets_reached == 3 and len(field.sinks) == 4
    field = TargetVelocityField.from_seed(0, 3)
    assert not any(field.update([0.0, 0.0, 0.0])[1] for _ in range(500))


def test_field_near_the_sink_slows_to_zero():
    field = TargetVelocityField.from_seed(2, 5)
    sink = field.sink
    for distance in (0.05, 0.2, 0.5, 0.9):
        point = sink + distance * np.array([0.6, 0.8])
        v = field.velocity_at(point)
        assert np.linalg.norm(v) < 1.8 * distance + 0.45  # bilinear over 0.5 m cells
        assert np.dot(v, sink - point) > 0  # towards the sink


# ------------------------------------------------------------ registration
def test_registered_with_a_hand_written_classic_class_and_refuses_bad_settings():
    assert TASKS["L2M2019"] is L2M2019
    assert gymnasium.spec("osim/L2M2019-v0").max_episode_steps == 1000
    assert CLASSIC_ENVS["L2M2019Env"] is L2M2019Env
    assert L2M2019Env.__module__ == "osim.env.l2m2019"
    assert [L2M2019(difficulty=d).max_episode_steps for d in range(4)] == [1000] * 3 + [2500]
    for bad in (4, -1, 1.5, True, "2", None):
        with pytest.raises(ValueError, match="difficulty"):
            L2M2019(difficulty=bad)
    for bad in ("3d", "planar", None):
        with pytest.raises(ValueError, match="model"):
            L2M2019(model=bad)
    with pytest.raises(TypeError, match="unknown options"):
        L2M2019(prosthetic=True)


def test_bad_reset_options_are_value_errors(engine):
    env = _env(engine)
    for options, named in (({"difficulty": 5}, "difficulty"), ({"difficulty": False}, "difficulty"),
                           ({"init_pose": [0.0] * 11}, "init_pose"),
                           ({"init_pose": [math.nan] * 12}, "init_pose"),
                           ({"field_seed": -3}, "seed"), ({"speed": 1}, "unknown")):
        with pytest.raises(ValueError, match=named):
            env.reset(seed=0, options=options)


def test_env_checker_passes(engine):
    check_env(gymnasium.make("osim/L2M2019-v0", engine=engine).unwrapped, skip_render_check=True)
    check_env(_env(engine, obs_as_dict=True, model="2D", difficulty=3), skip_render_check=True)


def test_body_weight_is_the_originals(engine):
    env = _env(engine)
    assert env.sim.body_masses().sum() == pytest.approx(MASS, abs=1e-9)
    assert env.task.body_weight == pytest.approx(MASS * G, abs=1e-6)  # 737.1129 N


# ------------------------------------------------------------ observation
def original_observation(desc: dict, local_field: np.ndarray, body_weight: float,
                         max_force: dict, optimal_length: dict) -> dict:
    """The original's observation dictionary from a state description (§3.1)."""
    def rotate(a, b, angle):
        return a * math.cos(angle) - b * math.sin(angle), a * math.sin(angle) + b * math.cos(angle)

    q, u = desc["joint_pos"]["ground_pelvis"], desc["joint_vel"]["ground_pelvis"]
    yaw = q[2]
    vx, vy, vz = desc["body_vel"]["pelvis"]
    forward, rightward = rotate(vx, vz, yaw)
    obs = {"v_tgt_field": local_field,
           "pelvis": {"height": desc["body_pos"]["pelvis"][1], "pitch": -q[0], "roll": q[1],
                      "vel": [forward, -rightward, vy, -u[0], u[1], u[2]]}}
    for leg, side in (("r_leg", "r"), ("l_leg", "l")):
        force = [f / body_weight for f in desc["forces"][f"foot_{side}"][:3]]
        grf_forward, grf_lateral = rotate(-force[0], -force[2], yaw)
        hip_q, hip_u = desc["joint_pos"][f"hip_{side}"], desc["joint_vel"][f"hip_{side}"]
        entry = {"ground_reaction_forces": [grf_forward,
                                            grf_lateral if side == "r" else -grf_lateral,
                                            -force[1]],
                 "joint": {"hip_abd": -hip_q[1], "hip": -hip_q[0],
                           "knee": desc["joint_pos"][f"knee_{side}"][0],
                           "ankle": -desc["joint_pos"][f"ankle_{side}"][0]},
                 "d_joint": {"hip_abd": -hip_u[1], "hip": -hip_u[0],
                             "knee": desc["joint_vel"][f"knee_{side}"][0],
                             "ankle": -desc["joint_vel"][f"ankle_{side}"][0]}}
        for abbr, muscle in LEG_MUSCLES.items():
            name = f"{muscle}_{side}"
            m = desc["muscles"][name]
            entry[abbr] = {"f": m["fiber_force"] / max_force[name],
                           "l": m["fiber_length"] / optimal_length[name],
                           "v": m["fiber_velocity"] / optimal_length[name]}
        obs[leg] = entry
    return obs


def assert_nested_close(actual, expected, path="obs"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), path
        for key in expected:
            assert_nested_close(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        np.testing.assert_allclose(actual, expected, atol=1e-9, err_msg=path)
    elif isinstance(expected, np.ndarray):
        assert actual.shape == expected.shape, path
        np.testing.assert_allclose(actual, expected, atol=1e-12, err_msg=path)
    else:
        assert isinstance(actual, float), path
        assert actual == pytest.approx(expected, abs=1e-9), path


def test_observation_is_the_originals_dictionary_and_its_339_value_layout(engine):
    env = L2M2019Env(visualize=False, difficulty=2, seed=4, engine=engine)
    obs = env.reset(init_pose=STRIDE_POSE)
    assert list(obs) == ["v_tgt_field", "pelvis", "r_leg", "l_leg"]
    assert obs["v_tgt_field"].shape == (2, 11, 11)
    assert list(obs["pelvis"]) == ["height", "pitch", "roll", "vel"]
    assert len(obs["pelvis"]["vel"]) == 6
    muscles = list(LEG_MUSCLES)
    assert muscles == ["HAB", "HAD", "HFL", "GLU", "HAM", "RF", "VAS", "BFSH", "GAS", "SOL", "TA"]
    for leg in ("r_leg", "l_leg"):
        assert list(obs[leg]) == ["ground_reaction_forces", "joint", "d_joint", *muscles]
        assert list(obs[leg]["joint"]) == list(obs[leg]["d_joint"]) == ["hip_abd", "hip", "knee",
                                                                        "ankle"]
        assert all(list(obs[leg][m]) == ["f", "l", "v"] for m in muscles)
    sim = env.osim_model
    max_force = dict(zip(sim.muscle_names, sim.max_isometric_forces()))
    optimal_length = dict(zip(sim.muscle_names, sim.optimal_fiber_lengths()))
    # the model's figures, as the original read them from its file
    assert max_force["abd_r"] == 4460.290481 and optimal_length["vasti_l"] == 0.099
    for step in range(8):
        obs, *_ = env.step(LOW_EXCITATION)
    desc = env.get_state_desc()
    assert desc["v_tgt_field"].shape == (2, 11, 11)
    expected = original_observation(desc, env.v_tgt_field, MASS * G, max_force, optimal_length)
    assert_nested_close(obs, expected)
    assert obs["l_leg"]["ground_reaction_forces"][2] > 0.05  # the left foot has landed

    # the flat vector: §3.2's indices
    flat = env.get_observation()
    assert flat.shape == (339,) and env.get_observation_space_size() == 339
    np.testing.assert_array_equal(flat[:242], obs["v_tgt_field"].ravel())
    assert flat[242] == obs["pelvis"]["height"] and list(flat[245:251]) == obs["pelvis"]["vel"]
    for start, leg in ((251, "r_leg"), (295, "l_leg")):
        assert list(flat[start:start + 3]) == obs[leg]["ground_reaction_forces"]
        assert list(flat[start + 3:start + 7]) == list(obs[leg]["joint"].values())
        assert list(flat[start + 7:start + 11]) == list(obs[leg]["d_joint"].values())
        assert list(flat[start + 11:start + 14]) == list(obs[leg]["HAB"].values())
        assert list(flat[start + 41:start + 44]) == list(obs[leg]["TA"].values())
    labels = env.env.observation_labels
    assert len(labels) == len(set(labels)) == 339
    assert labels[0] == "v_tgt_field/forward[-5,-5]"
    assert labels[121 + 60] == "v_tgt_field/leftward[+0,+0]"  # the centre, [1, 5, 5]
    assert labels[242] == "pelvis/height" and labels[251] == "r_leg/grf_forward"
    assert labels[295] == "l_leg/grf_forward" and labels[-1] == "l_leg/TA_v"
    # the Gymnasium dict observation holds the same entries, flat
    gym_dict = env.env.observation_dict()
    assert {k: v.shape for k, v in gym_dict.items()} == {
        "v_tgt_field": (242,), "pelvis": (9,), "r_leg": (44,), "l_leg": (44,)}
    clipped = env.get_observation_clipped()
    assert clipped.shape == (339,) and clipped[242] == flat[242]


def test_observations_stay_in_the_space_and_the_action_order_is_the_originals(engine):
    env = gymnasium.make("osim/L2M2019-v0", engine=engine, obs_as_dict=True)
    obs, _ = env.reset(seed=0)
    base = env.unwrapped
    assert base.action_labels == [f"{m}_{s}" for s in "rl" for m in LEG_MUSCLES]
    assert env.observation_space.contains(obs)
    rng = np.random.default_rng(0)
    for _ in range(10):
        obs, *_ = env.step(rng.uniform(0, 1, 22))
        assert env.observation_space.contains(obs)
    # action k drives the muscle the original's order names (HFL_r = iliopsoas_r, ...)
    action = np.zeros(22)
    action[[2, 7, 11 + 8]] = [0.3, 0.6, 0.9]  # HFL_r, BFSH_r, GAS_l
    env.step(action)
    held = dict(zip(base.sim.muscle_names, base.sim.excitations))
    assert (held["iliopsoas_r"], held["bifemsh_r"], held["gastroc_l"]) == (0.3, 0.6, 0.9)
    assert sum(held.values()) == pytest.approx(1.8)


def test_init_pose_is_written_by_coordinate_name(engine):
    env = _env(engine)
    env.reset(seed=0, options={"init_pose": STRIDE_POSE})
    q = dict(zip(env.sim.coordinate_names, env.sim.coordinate_values()))
    u = dict(zip(env.sim.coordinate_names, env.sim.coordinate_speeds()))
    assert (u["pelvis_tx"], u["pelvis_tz"]) == (1.7, 0.5)
    assert q["pelvis_ty"] == STRIDE_POSE[2] and q["pelvis_tilt"] == -STRIDE_POSE[3]
    assert q["hip_flexion_r"] == -STRIDE_POSE[5] and q["knee_angle_r"] == STRIDE_POSE[6]
    assert q["ankle_angle_l"] == -STRIDE_POSE[11] and q["knee_angle_l"] == STRIDE_POSE[10]
    obs = env.observation_dict()
    assert obs["pelvis"][3] == pytest.approx(1.7) and obs["pelvis"][4] == pytest.approx(-0.5)
    assert obs["r_leg"][4] == pytest.approx(STRIDE_POSE[5])  # hip, + extension
    env.reset(seed=0)
    q = dict(zip(env.sim.coordinate_names, env.sim.coordinate_values()))
    assert q["pelvis_ty"] == INIT_POSE[2] and q["hip_flexion_r"] == 0.0


# ---------------------------------------------------------------- reward
def test_footsteps_and_round_1_reward_against_own_accounting(engine):
    env = _env(engine, difficulty=1)
    env.reset(seed=2, options={"init_pose": STRIDE_POSE})
    task = env.task
    body_weight = MASS * G
    previous = {"r": True, "l": True}  # the initial stance is not a footstep
    footsteps, detected_before = 0, False
    time = effort = 0.0
    velocity_error = np.zeros(2)
    payouts = 0
    for step in range(60):
        _, reward, terminated, _, info = env.step(LOW_EXCITATION)
        terms = info["reward_terms"]
        assert reward == pytest.approx(sum(terms.values()), abs=1e-12)
        assert set(terms) == {"alive", "footstep", "velocity_deviation", "effort",
                              "target_bonus", "success_bonus"}
        desc = env.state_dict()
        time += 0.01
        effort += sum(m["activation"] ** 2 for m in desc["muscles"].values()) * 0.01
        x, _, z = desc["body_pos"]["pelvis"]
        vx, _, vz = desc["body_vel"]["pelvis"]
        velocity_error += (np.array([vx, -vz]) - task.field.velocity_at([x, -z])) * 0.01
        if detected_before:  # paid one step after the footstep was detected
            payouts += 1
            assert terms["footstep"] == pytest.approx(10 * time, abs=1e-9)
            assert terms["velocity_deviation"] == pytest.approx(-np.linalg.norm(velocity_error),
                                                                abs=1e-9)
            assert terms["effort"] == pytest.approx(-effort, abs=1e-9)
            time = effort = 0.0
            velocity_error[:] = 0.0
        else:
            assert terms["footstep"] == terms["velocity_deviation"] == terms["effort"] == 0.0
        assert terms["alive"] == 0.1 and terms["target_bonus"] == terms["success_bonus"] == 0.0
        # rising edges of the vertical ground force on either foot over 5% BW
        contact = {s: -desc["forces"][f"foot_{s}"][1] > 0.05 * body_weight for s in "rl"}
        detected_before = any(contact[s] and not previous[s] for s in "rl")
        footsteps += detected_before
        previous = contact
        assert info["footsteps"] == footsteps
        if terminated:
            break
    assert footsteps >= 2 and payouts >= 1


def test_round_2_pays_the_target_bonus_a_step_late_and_success_on_steps(engine):
    env = _env(engine, difficulty=3)
    env.reset(seed=0)
    assert env.task.max_episode_steps == 2500
    env.task.episode["target_reached"] = True  # as if the last update had reached it
    _, reward, _, _, info = env.step(np.zeros(22))
    assert info["reward_terms"]["target_bonus"] == 500.0 and reward == pytest.approx(500.1)
    _, _, _, _, info = env.step(np.zeros(22))
    assert info["reward_terms"]["target_bonus"] == 0.0
    # success at the episode's end pays the footstep terms (Round 2: > 5 footsteps)
    env.task.max_episode_steps = 3
    env.task.episode["footsteps"]["count"] = 6
    _, reward, _, _, info = env.step(np.zeros(22))
    terms = info["reward_terms"]
    assert terms["footstep"] == pytest.approx(0.3) and terms["success_bonus"] == 0.0
    assert terms["effort"] < 0 and terms["velocity_deviation"] < 0
    # Round 1: +10 at the end, no target bonus
    env.reset(seed=0, options={"difficulty": 2})
    assert env.task.max_episode_steps == 1000
    env.task.max_episode_steps = 1
    env.task.episode["target_reached"] = True
    _, reward, _, _, info = env.step(np.zeros(22))
    assert info["reward_terms"]["success_bonus"] == 10.0
    assert info["reward_terms"]["target_bonus"] == 0.0 and reward == pytest.approx(10.1)


def test_terminates_below_the_pelvis_height(engine):
    env = _env(engine)
    env.reset(seed=0)
    terminated = False
    for step in range(150):
        _, _, terminated, _, _ = env.step(np.zeros(22))
        if terminated:
            break
    assert terminated and env.task.pelvis_height(env.sim) < 0.6
    assert env.task.pelvis_height(env.sim) > 0.55  # the first step below, not later


# --------------------------------------------------------------- seeding
def test_seeding_gymnasium_and_the_original_classic(engine):
    env = _env(engine, difficulty=3)

    def sink(seed=None, **options):
        env.reset(seed=seed, options=options)
        return env.task.field.sink

    a, b, c = sink(0), sink(0), sink(1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(sink(), sink())  # unseeded resets draw new fields
    # the original's field for a seed, given as field_seed
    np.testing.assert_allclose(sink(field_seed=1), (1.08150451, 5.73292399), atol=5e-9)

    # classic: seeded at construction, again at the first reset, then continued
    classic = L2M2019Env(visualize=False, seed=1, engine=engine)
    assert classic.difficulty == 3 and classic.time_limit == 2500
    np.testing.assert_allclose(classic.v_tgt_field[:, 5, 5], (0.24092503, 1.27711434), atol=5e-9)
    obs = classic.reset()
    np.testing.assert_allclose(obs["v_tgt_field"][:, 5, 5], (0.24092503, 1.27711434), atol=5e-9)
    stream = np.random.RandomState(1)
    expected = [TargetVelocityField(3, stream).sink for _ in range(3)]
    seen = [classic.env.task.field.sink]
    for _ in range(2):
        classic.reset()
        seen.append(classic.env.task.field.sink)
    np.testing.assert_allclose(seen, expected, atol=1e-12)
    classic.reset(seed=1)
    np.testing.assert_allclose(classic.env.task.field.sink, expected[0], atol=1e-12)
    classic.reset(seed=0)  # seed 0 is a seed
    np.testing.assert_allclose(classic.env.task.field.sink,
                               TargetVelocityField.from_seed(3, 0).sink, atol=1e-12)


def test_pickled_env_carries_the_field_and_footsteps(engine):
    env = _env(engine, difficulty=2)
    env.reset(seed=5, options={"init_pose": STRIDE_POSE})
    for _ in range(4):
        env.step(LOW_EXCITATION)
    env.task.field.random.uniform()  # the generator's state must travel too
    twin = pickle.loads(pickle.dumps(env))
    assert twin.task.field.random.uniform() == env.task.field.random.uniform()
    for _ in range(4):
        a, b = env.step(LOW_EXCITATION), twin.step(LOW_EXCITATION)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4] and a[4]["reward_terms"] == b[4]["reward_terms"]
    assert twin.task.episode["footsteps"] == env.task.episode["footsteps"]


# ------------------------------------------------------------ planar mode
def test_2d_mode_locks_the_five_out_of_plane_coordinates(engine):
    env = _env(engine, model="2D")
    free = set(env.sim.default_coordinates())
    assert not free & set(PLANAR_LOCKED)
    assert {"pelvis_tilt", "pelvis_tx", "pelvis_ty", "hip_flexion_r", "knee_angle_l"} <= free
    env.reset(seed=0, options={"init_pose": [1.0, 0.5, 0.94, 0, 0.2, 0, 0, 0, -0.2, 0, 0, 0]})
    rng = np.random.default_rng(1)
    locked = [env.sim.coordinate_names.index(n) for n in PLANAR_LOCKED]
    for _ in range(10):
        observation, *_ = env.step(rng.uniform(0, 1, 22))
        assert np.abs(env.sim.coordinate_values()[locked]).max() < 1e-9
        assert np.abs(env.sim.coordinate_speeds()[locked]).max() < 1e-9
    assert observation.shape == (339,) and env.action_space.shape == (22,)
    # the 3D model keeps them free
    assert set(PLANAR_LOCKED) <= set(_env(engine).sim.default_coordinates())


def test_gait3d_locked_option_refuses_unknown_names(engine):
    with pytest.raises(ValueError, match="hip_abduction_r"):
        make_engine(engine, ModelSpec("gait3d", options={"prosthetic": False,
                                                         "locked": ("hip_abduction_r",)}))
    with pytest.raises(ValueError, match="locked"):
        make_engine(engine, ModelSpec("gait3d", options={"prosthetic": False,
                                                         "locked": "pelvis_list"}))


def test_classic_change_model_and_difficulty(engine):
    env = L2M2019Env(visualize=False, seed=3, engine=engine)
    env.change_model(model="2D", difficulty=0, seed=2)
    assert env.model == "2D" and env.difficulty == 0 and env.time_limit == 1000
    assert "pelvis_tz" not in env.osim_model.default_coordinates()
    observation, reward, done, info = env.step(np.zeros(22), obs_as_dict=False)
    assert observation.shape == (339,) and not done
    np.testing.assert_allclose(env.v_tgt_field[:, 5, 5], (1.4, 0.0), atol=1e-12)
    env.reset(difficulty=3)
    assert env.difficulty == 3 and env.time_limit == 2500
    with pytest.raises(ValueError, match="model"):
        env.change_model(model="1D")
    with pytest.raises(ValueError, match="difficulty"):
        env.change_model(difficulty=7)
    assert env.model == "2D"  # a refused change keeps the env
    full = env.reset(project=False)
    assert full["v_tgt_field"].shape == (2, 11, 11) and "muscles" in full


# --------------------------------------------------------- render and plot
def test_frames_show_the_target_and_the_field_arrows(engine):
    env = _env(engine, difficulty=2, render_mode="rgb_array", width=240, height=240,
               camera="top")
    env.reset(seed=0)
    overlays = env.task.overlays()
    assert overlays["target"] == (env.task.field.sink[0], 0.0, -env.task.field.sink[1])
    assert overlays["velocity_field"]["points"].shape == (121, 3)
    frame = env.render()
    arrows = int(np.all(np.abs(frame.astype(int) - scene.FIELD) <= 12, axis=-1).sum())
    pointer = int(np.all(np.abs(frame.astype(int) - scene.TARGET) <= 12, axis=-1).sum())
    assert arrows > 20 and pointer > 10  # the sink, 5-7 m away, is off the frame


def test_field_plot_draws_the_map_and_the_path(engine, tmp_path):
    env = gymnasium.make("osim/L2M2019-v0", engine=engine, difficulty=3)
    trace = field_trace(env, lambda observation: LOW_EXCITATION, seed=1, max_steps=5)
    assert trace["path"].shape == (6, 2)
    assert trace["field"]["velocity"].shape == (2, 81, 81)
    assert trace["field"]["target_radius"] == TARGET_RADIUS
    png = plot_field(trace, tmp_path / "field.png", title="L2M2019")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="path"):
        plot_field({**trace, "path": []}, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="field"):
        field_trace(gymnasium.make("osim/Arm-v0", engine=engine), lambda o: np.zeros(6))


def test_cli_plots_the_field(tmp_path, capsys):
    from osim.cli import main

    out = tmp_path / "field.png"
    assert main(["plot", "field", "--difficulty", "1", "--steps", "3", "--policy", "zero",
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and f"wrote {out}" in capsys.readouterr().out
    for bad in (["--difficulty", "4"], ["--env", "Arm"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["plot", "field", *bad, "--out", str(out)])
        assert exit_info.value.code == 2
