"""AI for Prosthetics (NIPS 2018) on the real 3D gait models: the 148-value
observation of both models, the rewards against independent ``state_dict()``
readings, the seeded target-velocity process, snapshots, and the classic API."""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.env import CLASSIC_ENVS, OsimGymEnv, ProstheticsEnv
from osim.tasks import TASKS, Prosthetics
from osim.tasks.prosthetics import BODIES, JOINTS, MUSCLES

FLAT_SIZE = 148  # documented in the Prosthetics docstring, same for both models
N_MUSCLES = {True: 19, False: 22}


def _env(**options) -> OsimGymEnv:
    return OsimGymEnv("Prosthetics", accuracy=5e-5, **options)


def _fixed_actions(n_actions: int, n_steps: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n_steps, n_actions))


@pytest.fixture(autouse=True)
def _no_display_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="visualize=True but no display")
        yield


# ------------------------------------------------------------ registration
def test_registered_with_hand_written_classic_class():
    assert TASKS["Prosthetics"] is Prosthetics
    spec = gymnasium.spec("osim/Prosthetics-v0")
    assert spec.max_episode_steps == 300
    assert CLASSIC_ENVS["ProstheticsEnv"] is ProstheticsEnv
    assert ProstheticsEnv.__module__ == "osim.env.prosthetics"
    # Other classic classes are still generated.
    assert CLASSIC_ENVS["L2RunEnv"].__module__ == "osim.env"
    assert Prosthetics().max_episode_steps == 300
    assert Prosthetics(difficulty=1).max_episode_steps == 1000
    with pytest.raises(ValueError, match="difficulty"):
        Prosthetics(difficulty=2)
    with pytest.raises(ValueError, match="3D"):
        Prosthetics(model="2D")


def test_gymnasium_make_with_difficulty_1_and_its_limit():
    env = gymnasium.make("osim/Prosthetics-v0", difficulty=1, max_episode_steps=1000)
    assert env.spec.max_episode_steps == 1000
    assert env.unwrapped.task.max_episode_steps == 1000
    obs, _ = env.reset(seed=0)
    assert obs.shape == (FLAT_SIZE,)
    np.testing.assert_allclose(env.unwrapped.task.target_at(0), [1.25, 0.0, 0.0])
    env.close()


def test_env_checker_passes():
    check_env(gymnasium.make("osim/Prosthetics-v0").unwrapped, skip_render_check=True)


# ------------------------------------------------------------ observation
@pytest.mark.parametrize("prosthetic", [True, False])
def test_flat_vector_has_the_documented_148_values_for_both_models(prosthetic):
    env = _env(prosthetic=prosthetic)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape == (FLAT_SIZE,)
    assert len(env.observation_labels) == FLAT_SIZE
    assert env.action_space.shape == (N_MUSCLES[prosthetic],)
    assert str(FLAT_SIZE) in Prosthetics.__doc__
    assert env.observation_space.contains(obs)
    labels = env.observation_labels
    assert labels[0] == "pelvis/height" and labels[-1] == "target_vel/vz"
    assert labels[73] == "muscle_activation/abd_l" and labels[138] == "fiber_velocity/vasti_r"
    d = env.observation_dict()
    missing_bodies = {"toes_r", "talus_r"} if prosthetic else {"pros_foot_r"}
    for body in BODIES:
        assert np.all(d[body] == 0) == (body in missing_bodies), body
    missing = {"gastroc_r", "soleus_r", "tib_ant_r"} if prosthetic else set()
    for i, muscle in enumerate(MUSCLES):
        assert (d["fiber_length"][i] == 0) == (muscle in missing), muscle


def test_observation_matches_the_full_state_dict():
    env = _env(prosthetic=True, difficulty=1)
    env.reset(seed=3)
    for action in _fixed_actions(19, 3):
        env.step(action)
    d = env.observation_dict()
    s = env.state_dict()
    pelvis = np.array(s["body_pos"]["pelvis"])
    pelvis_v = np.array(s["body_vel"]["pelvis"])
    ground_pelvis_q = s["joint_pos"]["ground_pelvis"]  # tilt, list, rotation, tx, ty, tz
    ground_pelvis_u = s["joint_vel"]["ground_pelvis"]
    np.testing.assert_allclose(d["pelvis"], [pelvis[1], ground_pelvis_q[0], ground_pelvis_q[1],
                                             *pelvis_v, *ground_pelvis_u[:3]], atol=1e-12)
    for body in ("head", "torso", "toes_l", "talus_l", "pros_foot_r"):
        np.testing.assert_allclose(d[body][:3], np.array(s["body_pos"][body]) - pelvis, atol=1e-12)
        np.testing.assert_allclose(d[body][3:], np.array(s["body_vel"][body]) - pelvis_v, atol=1e-12)
    joints = {"hip_flexion_r": ("hip_r", 0), "hip_adduction_r": ("hip_r", 1),
              "hip_rotation_r": ("hip_r", 2), "knee_angle_r": ("knee_r", 0),
              "ankle_angle_r": ("ankle_r", 0), "hip_flexion_l": ("hip_l", 0),
              "hip_adduction_l": ("hip_l", 1), "hip_rotation_l": ("hip_l", 2),
              "knee_angle_l": ("knee_l", 0), "ankle_angle_l": ("ankle_l", 0),
              "lumbar_extension": ("back", 0)}
    for i, name in enumerate(JOINTS):
        joint, k = joints[name]
        assert d["joint_pos"][i] == pytest.approx(s["joint_pos"][joint][k], abs=1e-12)
        assert d["joint_vel"][i] == pytest.approx(s["joint_vel"][joint][k], abs=1e-12)
    for i, muscle in enumerate(MUSCLES):
        m = s["muscles"].get(muscle)
        if m is None:
            continue
        assert d["muscle_activation"][i] == pytest.approx(m["activation"], abs=1e-9)
        assert d["fiber_length"][i] == pytest.approx(m["fiber_length"], abs=1e-12)
        assert d["fiber_velocity"][i] == pytest.approx(m["fiber_velocity"], abs=1e-9)
    np.testing.assert_allclose(d["com_pos"], np.array(s["misc"]["mass_center_pos"]) - pelvis,
                               atol=1e-12)
    np.testing.assert_allclose(d["com_vel"], s["misc"]["mass_center_vel"], atol=1e-12)
    np.testing.assert_allclose(d["target_vel"], [1.25, 0.0, 0.0])


# ------------------------------------------------------------------ reward
def test_reward_difficulty_0_is_9_minus_squared_speed_error():
    env = _env(difficulty=0)
    env.reset(seed=0)
    for action in _fixed_actions(19, 3):
        _, reward, terminated, _, info = env.step(action)
        vx = env.state_dict()["body_vel"]["pelvis"][0]
        assert reward == pytest.approx(9.0 - (vx - 3.0) ** 2, abs=1e-9)
        assert set(info["reward_terms"]) == {"alive", "velocity"}
        assert not terminated
        assert info["reward_terms"]["alive"] == 9.0
        assert reward == pytest.approx(sum(info["reward_terms"].values()))


def test_reward_difficulty_1_follows_the_target_and_penalizes_activation():
    env = _env(difficulty=1, prosthetic=False)
    env.reset(seed=0)
    # A target that changes at step 2 to speed 2 m/s, heading pi/6.
    env.task.episode["target_changes"] = [[0, 1.25, 0.0], [2, 2.0, math.pi / 6]]
    expected_targets = [(1.25, 0.0), (2.0 * math.cos(math.pi / 6), -2.0 * math.sin(math.pi / 6))]
    for step, action in enumerate(_fixed_actions(22, 2), start=1):
        _, reward, _, _, info = env.step(action)
        s = env.state_dict()
        tvx, tvz = expected_targets[step - 1]
        vx, _, vz = s["body_vel"]["pelvis"]
        effort = sum(m["activation"] ** 2 for m in s["muscles"].values())
        assert len(s["muscles"]) == 22
        expected = 10.0 - (vx - tvx) ** 2 - (vz - tvz) ** 2 - 0.001 * effort
        assert reward == pytest.approx(expected, abs=1e-9)
        assert set(info["reward_terms"]) == {"alive", "velocity_x", "velocity_z", "activation"}
        assert info["reward_terms"]["activation"] < 0
        np.testing.assert_allclose(info["target_vel"], [tvx, 0.0, tvz], atol=1e-12)
        np.testing.assert_allclose(env.observation_dict()["target_vel"], [tvx, 0.0, tvz],
                                   atol=1e-12)


def test_target_velocity_process_is_seeded_and_reproducible():
    env = _env(difficulty=1)

    def changes(seed):
        env.reset(seed=seed)
        return env.task.get_episode()["target_changes"]

    a, b, c = changes(1), changes(1), changes(2)
    assert a == b
    assert a != c
    for process in (a, c):
        assert process[0] == [0, 1.25, 0.0]
        assert len(process) == 11
        steps = [row[0] for row in process]
        assert steps == sorted(steps) and steps[1] > 0
        gaps = np.diff(steps)
        assert 200 < gaps.mean() < 400  # Poisson(300) gaps
        for prev, cur in zip(process, process[1:]):
            assert abs(cur[1] - prev[1]) <= 0.5
            assert abs(cur[2] - prev[2]) <= math.pi / 8
    # The target holds until the change's step, then takes the new values.
    env.reset(seed=1)
    step, speed, heading = a[1]
    np.testing.assert_allclose(env.task.target_at(step - 1), [1.25, 0.0, 0.0])
    np.testing.assert_allclose(env.task.target_at(step),
                               [speed * math.cos(heading), 0.0, -speed * math.sin(heading)])
    # Classic env: the constructor's seed gives the same process.
    classic = [ProstheticsEnv(visualize=False, difficulty=1, seed=1) for _ in range(2)]
    for e in classic:
        obs = e.reset()
        np.testing.assert_allclose(obs["target_vel"], [1.25, 0.0, 0.0])
        np.testing.assert_allclose(e.target_vel, [1.25, 0.0, 0.0])
    assert (classic[0].env.task.episode["target_changes"]
            == classic[1].env.task.episode["target_changes"] == a)


# ------------------------------------------------------------ snapshots
def test_snapshot_replays_identically():
    env = ProstheticsEnv(visualize=False, difficulty=1, seed=4)
    env.reset()
    actions = _fixed_actions(19, 6, seed=1)
    for action in actions[:2]:
        env.step(action)
    snapshot = env.get_state()
    first = [env.step(a, obs_as_dict=False) for a in actions[2:]]
    env.reset(seed=99)  # a different episode in between
    env.env.task.episode["target_changes"] = [[0, 0.0, 0.0]]
    env.set_state(snapshot)
    assert env.istep == 2
    second = [env.step(a, obs_as_dict=False) for a in actions[2:]]
    for (o1, r1, d1, _), (o2, r2, d2, _) in zip(first, second):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2 and d1 == d2


# ----------------------------------------------------------- classic API
def test_classic_defaults_project_false_and_flat_vector():
    env = ProstheticsEnv(visualize=False, difficulty=1)
    assert env.env.sim.accuracy == 5e-5
    assert ProstheticsEnv.__init__.__defaults__[:2] == (True, 5e-5)
    assert env.time_limit == 1000
    obs = env.reset()
    assert isinstance(obs, dict) and obs["pelvis"].shape == (9,)
    full = env.reset(project=False)
    for key in ("joint_pos", "joint_vel", "body_pos", "body_vel", "muscles", "forces", "misc"):
        assert key in full
    assert "pros_foot_r" in full["body_pos"] and len(full["muscles"]) == 19
    assert full["target_vel"] == [1.25, 0.0, 0.0]
    observation, reward, done, info = env.step(np.zeros(19), project=False)
    assert "body_pos_rot" in observation and np.isfinite(reward) and not done
    flat, _, _, _ = env.step(np.zeros(19), obs_as_dict=False)
    assert flat.shape == (FLAT_SIZE,)
    assert env.reset(obs_as_dict=False).shape == (FLAT_SIZE,)


def test_change_model_switches_to_healthy_and_back():
    env = ProstheticsEnv(visualize=False)
    assert env.action_space.shape == (19,) and env.prosthetic and env.model == "3D"
    env.change_model(model="3D", prosthetic=False, difficulty=1, seed=5)
    assert env.action_space.shape == (22,) and not env.prosthetic and env.difficulty == 1
    assert env.time_limit == 1000
    obs = env.reset(obs_as_dict=False)
    assert obs.shape == (FLAT_SIZE,)
    assert "toes_r" in env.get_state_desc()["body_pos"]
    changes = env.env.task.episode["target_changes"]
    env.change_model(model="3D", prosthetic=False, difficulty=1, seed=5)
    env.reset()
    assert env.env.task.episode["target_changes"] == changes  # reseeded
    env.step(env.action_space.sample())
    env.change_model(prosthetic=True, difficulty=0)
    assert env.action_space.shape == (19,) and env.time_limit == 300
    env.reset()
    assert "pros_foot_r" in env.get_state_desc()["body_pos"]
    with pytest.raises(ValueError, match="3D"):
        env.change_model(model="2D")
    assert env.action_space.shape == (19,)  # a refused change keeps the env


def test_stepping_past_termination_does_not_crash():
    env = ProstheticsEnv(visualize=False)
    env.reset()
    env.env.sim.reset(coordinates={"pelvis_ty": 0.55})  # below the 0.6 m limit
    for _ in range(3):
        observation, reward, done, info = env.step(env.action_space.sample())
        assert done
        assert np.isfinite(reward)


def _tutorial(n_steps: int):
    env = ProstheticsEnv(visualize=True)
    observation = env.reset()
    rewards = []
    for i in range(n_steps):
        observation, reward, done, info = env.step(env.action_space.sample())
        rewards.append(reward)
    assert isinstance(observation, dict)
    assert np.all(np.isfinite(rewards))
    return env


def test_tutorial_loop_10_steps():
    env = _tutorial(10)
    assert env.istep == 10


@pytest.mark.slow
def test_tutorial_loop_200_steps_as_written():
    env = _tutorial(200)
    assert env.istep == 200
