"""The four HUMAN tasks (Stand, Crouch, Jump, Gait) over the real engine: the
Gymnasium checker, seeding, random excitations, rewards and termination
computed here from the simulation's own readings, the symmetric action
mapping and the classic API."""

import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.env import OsimGymEnv
from osim.tasks import TASKS
from osim.tasks.human import LEG_MUSCLES, MUSCLE_NAMES

HUMAN_TASKS = ("Stand", "Crouch", "Jump", "Gait")
THRESHOLDS = {"Stand": 0.5, "Crouch": 0.25, "Jump": 0.4, "Gait": 0.7}
SYMMETRIC_BY_DEFAULT = {"Stand": False, "Crouch": True, "Jump": True, "Gait": False}

# Legs folded back (hips extended, knees flexed): the feet are well above the
# ground at every pelvis height used here, so the body falls freely.
FOLDED = {"pelvis_tilt": 0.0, "hip_flexion_r": -0.5, "knee_angle_r": -2.0,
          "hip_flexion_l": -0.5, "knee_angle_l": -2.0}


def pelvis(desc) -> list[float]:
    """tilt, x, y of the pelvis from the slow, engine-call-per-element state_dict."""
    return desc["joint_pos"]["ground_pelvis"]


def rollout(env, actions, seed):
    observations = [env.reset(seed=seed)[0]]
    for action in actions:
        observations.append(env.step(action)[0])
    return np.array(observations)


def start_folded(env, pelvis_height, speeds):
    """Reset the episode, then put the model in the air at ``pelvis_height``
    (pelvis_tx stays 0, as the task's episode memory has it)."""
    env.reset(seed=0)
    env.sim.reset(coordinates={**FOLDED, "pelvis_ty": pelvis_height}, speeds=speeds)


# ---------------------------------------------------------------- registry
def test_the_four_tasks_are_registered_on_the_human_model():
    for name in HUMAN_TASKS:
        task = TASKS[name]
        assert task.model == "human" and task.classic_name == f"{name}Env"
        assert task.max_episode_steps == 500 and task.step_size == 0.01
        assert gymnasium.registry[f"osim/{name}-v0"].max_episode_steps == 500
        assert "Observation" in task.__doc__ and "muscle_activation" in task.__doc__


@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_env_checker_passes(name):
    check_env(gymnasium.make(f"osim/{name}-v0").unwrapped, skip_render_check=True)


# ----------------------------------------------------- observation content
def test_observation_reads_what_the_state_dict_reports():
    env = OsimGymEnv("Gait", obs_as_dict=True, reset_noise_scale=0.02)
    env.reset(seed=3)
    rng = np.random.default_rng(3)
    for _ in range(5):
        obs, *_ = env.step(rng.uniform(0, 1, 18))
    desc = env.state_dict()
    np.testing.assert_allclose(obs["pelvis_pos"], pelvis(desc), rtol=0, atol=1e-12)
    np.testing.assert_allclose(obs["pelvis_vel"], desc["joint_vel"]["ground_pelvis"], atol=1e-12)
    joints = [f"{j}_{s}" for s in "rl" for j in ("hip", "knee", "ankle")]
    np.testing.assert_allclose(obs["joint_pos"], [desc["joint_pos"][j][0] for j in joints], atol=1e-12)
    np.testing.assert_allclose(obs["joint_vel"], [desc["joint_vel"][j][0] for j in joints], atol=1e-12)
    np.testing.assert_allclose(obs["com_pos"], desc["misc"]["mass_center_pos"][:2], atol=1e-12)
    np.testing.assert_allclose(obs["com_vel"], desc["misc"]["mass_center_vel"][:2], atol=1e-12)
    bodies = ["head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r"]
    np.testing.assert_allclose(obs["body_pos"],
                               [v for b in bodies for v in desc["body_pos"][b][:2]], atol=1e-12)
    np.testing.assert_allclose(obs["muscle_activation"],
                               [desc["muscles"][m]["activation"] for m in MUSCLE_NAMES], atol=1e-9)
    labels = env.observation_labels
    assert len(labels) == 54 and labels[0] == "pelvis_pos/tilt"
    assert "body_pos/head_x" in labels and labels[-1] == "muscle_activation/tib_ant_l"


# ------------------------------------------------------------------ seeding
@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_same_seed_and_actions_give_identical_observations(name):
    scale = 0.03
    env = OsimGymEnv(name, reset_noise_scale=scale)
    rng = np.random.default_rng(11)
    actions = rng.uniform(0, 1, (8, env.action_space.shape[0]))
    first = rollout(env, actions, seed=5)
    again = rollout(env, actions, seed=5)
    fresh = rollout(OsimGymEnv(name, reset_noise_scale=scale), actions, seed=5)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, fresh)
    other = env.reset(seed=6)[0]
    assert not np.array_equal(first[0], other)  # the seed draws the perturbation
    # The perturbation is at most `scale` around the default pose.
    obs = env.observation_dict()
    assert np.all(np.abs(obs["joint_pos"]) <= scale)
    assert np.all(np.abs(obs["pelvis_pos"] - [-0.05, 0.0, 0.91]) <= scale)
    assert np.any(obs["joint_pos"] != 0.0)


@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_without_noise_every_reset_is_the_default_pose(name):
    env = OsimGymEnv(name, obs_as_dict=True)
    a, _ = env.reset(seed=1)
    b, _ = env.reset(seed=2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_allclose(a["pelvis_pos"], [-0.05, 0.0, 0.91], atol=1e-12)
    np.testing.assert_allclose(a["joint_pos"], 0.0, atol=1e-12)


# ---------------------------------------------------- random excitations
@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_one_second_of_random_excitations(name):
    env = gymnasium.make(f"osim/{name}-v0").unwrapped
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(100):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if "sim_error" in info:  # allowed: the episode ends, nothing raised
            assert terminated
            break
        assert np.all(np.isfinite(obs)) and env.observation_space.contains(obs)
        assert np.isfinite(reward)
        assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
        assert terminated == (pelvis(env.state_dict())[2] < THRESHOLDS[name])


# ----------------------------------------------------- rewards by hand
def test_gait_reward_is_the_pelvis_displacement_of_the_step():
    env = OsimGymEnv("Gait")
    start_folded(env, 1.2, {"pelvis_tx": 1.0})
    x0 = pelvis(env.state_dict())[1]
    assert x0 == 0.0
    total = 0.0
    for _ in range(3):
        before = pelvis(env.state_dict())[1]
        _, reward, terminated, _, info = env.step(np.zeros(18))
        after = pelvis(env.state_dict())[1]
        assert after == pytest.approx(env.sim.coordinate_values()[1], abs=0)
        assert reward == pytest.approx(after - before, abs=1e-12)
        assert reward == pytest.approx(0.01, abs=1e-3)  # ~1 m/s for 0.01 s, in the air
        assert info["reward_terms"] == {"forward": reward}
        assert not terminated
        total += reward
    assert total == pytest.approx(pelvis(env.state_dict())[1] - x0, abs=1e-12)


def test_gait_episode_memory_travels_with_snapshots_and_pickles():
    env = OsimGymEnv("Gait")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        env.step(rng.uniform(0, 1, 18))
    action = rng.uniform(0, 1, 18)
    snapshot = env.get_state()
    copy = pickle.loads(pickle.dumps(env))
    _, reward, *_ = env.step(action)
    env.set_state(snapshot)
    assert env.step(action)[1] == reward
    assert copy.step(action)[1] == reward
    assert reward != 0.0


def test_stand_reward_is_the_com_formula_with_both_caps():
    env = OsimGymEnv("Stand")
    env.reset(seed=0)

    def expected(desc):
        a = np.array(desc["misc"]["mass_center_acc"])
        v = np.array(desc["misc"]["mass_center_vel"])
        return (50 - min(a @ a, 10) - min(v @ v, 40)) / 50, a @ a, v @ v

    seen_a = []
    for _ in range(25):  # feet pressed into the ground, then settling: a^2 above and below 10
        _, reward, _, _, info = env.step(np.full(18, 0.05))
        want, a2, v2 = expected(env.state_dict())
        assert reward == pytest.approx(want, abs=1e-9)
        assert info["reward_terms"]["acceleration"] == pytest.approx(-min(a2, 10) / 50, abs=1e-9)
        seen_a.append(a2)
    assert max(seen_a) > 10 > min(seen_a)
    # Sliding forward fast: |v|^2 above 40 is capped too.
    env.sim.reset(speeds={"pelvis_tx": 8.0})
    _, reward, *_ = env.step(np.zeros(18))
    want, a2, v2 = expected(env.state_dict())
    assert v2 > 40 and reward == pytest.approx(want, abs=1e-9)
    # Free fall: a = g (capped), v^2 = 1 (not).
    start_folded(env, 1.2, {"pelvis_ty": -1.0})
    _, reward, *_ = env.step(np.zeros(18))
    want, a2, v2 = expected(env.state_dict())
    assert a2 == pytest.approx(9.80665 ** 2, rel=1e-6) and 1.0 < v2 < 1.3  # 1 m/s + g * 0.01 s
    assert reward == pytest.approx(want, abs=1e-9) == pytest.approx((50 - 10 - v2) / 50)


@pytest.mark.parametrize("name, formula", [
    ("Jump", lambda y: y ** 3),
    ("Crouch", lambda y: 1 - (y - 0.5) ** 3),
])
def test_height_rewards(name, formula):
    env = OsimGymEnv(name)
    for height in (1.0, 0.6, 0.45):
        start_folded(env, height, {"pelvis_ty": -1.0})
        _, reward, _, _, info = env.step(np.zeros(9))
        y = pelvis(env.state_dict())[2]
        assert y == pytest.approx(height - 0.0105, abs=1e-3)  # ~1 cm lower
        assert reward == pytest.approx(formula(y), abs=1e-12)
        assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-15)


@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_terminated_when_the_pelvis_falls_below_the_threshold(name):
    env = OsimGymEnv(name)
    threshold = THRESHOLDS[name]
    zeros = np.zeros(env.action_space.shape[0])
    # Falling at 1 m/s: 10.5 mm lower after one step.
    for start, below in ((threshold + 0.005, True), (threshold + 0.02, False)):
        start_folded(env, start, {"pelvis_ty": -1.0})
        _, _, terminated, _, info = env.step(zeros)
        assert "sim_error" not in info
        assert (pelvis(env.state_dict())[2] < threshold) is below
        assert terminated is below


# ------------------------------------------------------------- symmetric
@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_symmetric_actions_drive_both_legs(name):
    env = OsimGymEnv(name)
    assert env.task.symmetric is SYMMETRIC_BY_DEFAULT[name]
    if not env.task.symmetric:
        assert env.action_space.shape == (18,) and env.action_labels == list(MUSCLE_NAMES)
        env = OsimGymEnv(name, symmetric=True)
    assert env.action_space.shape == (9,) and env.action_labels == list(LEG_MUSCLES)
    env.reset(seed=0)
    action = np.linspace(0.1, 0.9, 9)
    env.step(action)
    excitations = dict(zip(env.sim.muscle_names, env.sim.excitations))
    for i, muscle in enumerate(LEG_MUSCLES):
        assert excitations[f"{muscle}_r"] == excitations[f"{muscle}_l"] == action[i]
    asymmetric = OsimGymEnv(name, symmetric=False)
    assert asymmetric.action_space.shape == (18,)
    with pytest.raises(ValueError, match="shape"):
        asymmetric.step(action)


def test_symmetric_and_noise_go_through_the_classic_constructor():
    from osim.env import CrouchEnv, GaitEnv

    assert GaitEnv(symmetric=True).action_space.shape == (9,)
    assert CrouchEnv(symmetric=False).action_space.shape == (18,)
    env = GaitEnv(reset_noise_scale=0.02, seed=4)
    assert env.env.task.reset_noise_scale == 0.02


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="reset_noise_scale"):
        OsimGymEnv("Stand", reset_noise_scale=-0.1)
    with pytest.raises(TypeError, match="symmetric"):
        OsimGymEnv("Stand", symmetric="yes")
    with pytest.raises(TypeError):
        OsimGymEnv("Stand", nonsense=1)


# ---------------------------------------------------------------- classic
@pytest.mark.parametrize("name", HUMAN_TASKS)
def test_classic_tutorial_loop(name):
    import osim.env

    env = getattr(osim.env, f"{name}Env")(visualize=False)
    observation = env.reset()
    assert observation.shape == (54,)
    for _ in range(5):
        observation, reward, done, info = env.step(env.action_space.sample())
        assert observation.shape == (54,) and np.all(np.isfinite(observation))
        assert isinstance(reward, float) and isinstance(done, bool) and "reward_terms" in info
    assert env.istep == 5


def test_walking_start_is_mid_stride_and_moving(engine):
    from osim.tasks.human import WALKING_START

    env = OsimGymEnv("Gait", engine=engine, init_pose="walking")
    env.reset(seed=0)
    for name, value in WALKING_START["coordinates"].items():
        assert env.sim.coordinate(name) == pytest.approx(value)
    speeds = dict(zip(env.sim.coordinate_names, env.sim.coordinate_speeds()))
    assert speeds["pelvis_tx"] == pytest.approx(1.7)
    standing = OsimGymEnv("Gait", engine=engine)
    standing.reset(seed=0)
    assert standing.sim.coordinate("hip_flexion_r") == 0.0
    with pytest.raises(ValueError, match="init_pose must be one of"):
        OsimGymEnv("Gait", init_pose="running")
