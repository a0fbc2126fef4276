"""Both APIs over the real engine: Gymnasium checks, seeding, snapshots, pickling, bad input."""

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.env import CLASSIC_ENVS, ArmEnv, OsimEnv, OsimGymEnv, env_id
from osim.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]


def rollout(env, actions, seed):
    observations = [env.reset(seed=seed)[0]]
    for a in actions:
        observations.append(env.step(a)[0])
    return np.array(observations)


def test_every_task_is_registered_with_a_classic_name():
    for name, task in TASKS.items():
        assert env_id(name) in gymnasium.registry
        assert gymnasium.registry[env_id(name)].max_episode_steps == task.max_episode_steps
        assert task.classic_name in CLASSIC_ENVS


def test_env_checker_passes_on_arm(engine):
    # The other tasks run the same check in their own test files.
    check_env(gymnasium.make("osim/Arm-v0", engine=engine).unwrapped, skip_render_check=True)


def test_dict_observations_pass_the_checker(engine):
    check_env(OsimGymEnv("Arm", obs_as_dict=True, engine=engine), skip_render_check=True)


def test_unknown_env_id_is_gymnasiums_error():
    with pytest.raises(gymnasium.error.Error, match="Nope"):
        gymnasium.make("osim/Nope-v0")


def test_unknown_task_name_is_refused():
    with pytest.raises(ValueError, match="unknown task"):
        OsimGymEnv("Nope")


def test_observations_stay_inside_the_space_and_labels_name_them(engine):
    env = gymnasium.make("osim/Arm-v0", engine=engine)
    obs, _ = env.reset(seed=1)
    labels = env.unwrapped.observation_labels
    assert len(labels) == obs.shape[0] == 16
    assert labels[0] == "target/x" and labels[-1] == "hand_pos/y"
    rng = np.random.default_rng(1)
    for _ in range(30):
        obs, reward, terminated, truncated, info = env.step(rng.uniform(0, 1, 6))
        assert env.observation_space.contains(obs)
        assert np.isfinite(reward)
        assert reward == pytest.approx(sum(info["reward_terms"].values()))


def test_arm_reward_is_one_minus_squared_distance(engine):
    env = OsimGymEnv("Arm", obs_as_dict=True, engine=engine)
    env.reset(seed=4)
    obs, reward, *_ = env.step(np.full(6, 0.4))
    desc = env.state_dict()
    hand = np.array(desc["markers"]["r_radius_styloid"]["pos"][:2])
    assert reward == pytest.approx(1 - np.sum((hand - obs["target"]) ** 2), abs=1e-12)
    np.testing.assert_allclose(obs["hand_pos"], hand)


def test_targets_follow_the_seed_and_are_reachable(engine):
    env = OsimGymEnv("Arm", obs_as_dict=True, engine=engine)
    targets = [env.reset(seed=s)[0]["target"] for s in (0, 0, 1)]
    np.testing.assert_array_equal(targets[0], targets[1])
    assert not np.array_equal(targets[0], targets[2])
    shoulder = env.sim.body_position("r_humerus")[:2]
    _, reach = env.task.workspace
    for seed in range(20):
        target = env.reset(seed=seed)[0]["target"]
        assert np.linalg.norm(target - shoulder) <= reach


def test_arm_episode_truncates_at_200_steps(engine):
    env = gymnasium.make("osim/Arm-v0", engine=engine)
    env.reset(seed=0)
    for i in range(200):
        _, _, terminated, truncated, _ = env.step(np.zeros(6))
        assert not terminated
    assert truncated


def test_same_seed_same_actions_same_trajectory(engine):
    actions = np.random.default_rng(7).uniform(0, 1, (25, 6))
    a = rollout(gymnasium.make("osim/Arm-v0", engine=engine), actions, seed=3)
    b = rollout(gymnasium.make("osim/Arm-v0", engine=engine), actions, seed=3)
    np.testing.assert_array_equal(a, b)


def test_pickle_round_trip_then_step_continues_the_same_trajectory(engine):
    env = OsimGymEnv("Arm", engine=engine)
    env.reset(seed=5)
    actions = np.random.default_rng(5).uniform(0, 1, (10, 6))
    for a in actions[:5]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in actions[5:]:
        expected = env.step(a)
        got = clone.step(a)
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[1] == expected[1]
    assert clone.unwrapped.engine == engine
    # the RNG travelled too: the next episode draws the same target
    np.testing.assert_array_equal(clone.reset()[0], env.reset()[0])


def test_env_snapshot_replays_identically(engine):
    env = OsimGymEnv("Arm", engine=engine)
    env.reset(seed=2)
    actions = np.random.default_rng(2).uniform(0, 1, (20, 6))
    for a in actions[:5]:
        env.step(a)
    snapshot = env.get_state()
    first = [env.step(a)[0] for a in actions[5:]]
    env.reset(seed=99)  # a different target: the snapshot must restore it
    env.set_state(snapshot)
    second = [env.step(a)[0] for a in actions[5:]]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("bad, message", [
    (np.full(5, 0.5), "shape"),
    (np.full(7, 0.5), "shape"),
    ([0.5, np.nan, 0.5, 0.5, 0.5, 0.5], "NaN"),
    ([0.5, 0.5, 0.5, -np.inf, 0.5, 0.5], "inf"),
    ("not an action", "numeric"),
])
def test_bad_actions_raise_value_error(engine, bad, message):
    env = gymnasium.make("osim/Arm-v0", disable_env_checker=True, engine=engine)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(bad)


def test_out_of_range_actions_are_clipped(engine):
    env = OsimGymEnv("Arm", engine=engine)
    env.reset(seed=0)
    env.step(np.array([5.0, -3.0, 0.5, 0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(env.sim.excitations, [1.0, 0.0, 0.5, 0.5, 0.5, 0.5])


def test_integrator_failure_ends_the_episode_and_reset_recovers(engine):
    env = OsimGymEnv("Arm", engine=engine)
    env.reset(seed=0)
    env.sim.reset(speeds={"r_elbow_flex": 2e3})  # far past any joint's speed: diverged
    obs, reward, terminated, truncated, info = env.step(np.full(6, 0.5))
    assert terminated and reward == 0.0
    assert "diverged" in info["sim_error"] and "r_elbow_flex" in info["sim_error"]
    obs, _ = env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(np.full(6, 0.5))
    assert not terminated and "sim_error" not in info and np.all(np.isfinite(obs))


def test_unsupported_render_mode_is_refused():
    with pytest.raises(ValueError, match="render_mode"):
        OsimGymEnv("Arm", render_mode="ascii")


def test_classic_api_returns_four_tuples_and_ends_at_the_time_limit():
    env = ArmEnv(seed=0)
    observation = env.reset()
    assert observation.shape == (16,)
    done, steps = False, 0
    while not done:
        observation, reward, done, info = env.step(env.action_space.sample())
        steps += 1
    assert steps == env.time_limit == 200
    assert set(env.reset(obs_as_dict=True)) == {"target", "joint_pos", "joint_vel", "joint_acc",
                                                "muscle_activation", "hand_pos"}
    assert "muscles" in env.get_state_desc()


def test_classic_seed_makes_episodes_repeatable():
    first = [ArmEnv(seed=11).reset() for _ in range(2)]
    np.testing.assert_array_equal(*first)


def test_user_osim_model_becomes_an_env_with_its_names(arm_osim):
    env = OsimEnv(model_path=str(arm_osim), reward_fn=lambda sim: -sim.coordinate("r_elbow_flex"))
    obs = env.reset(obs_as_dict=True)
    assert {"BIClong", "TRIlong", "r_elbow_flex", "r_shoulder_elev"} <= set(obs)
    assert env.action_space.shape == (6,)
    observation, reward, done, info = env.step(np.full(6, 0.3))
    assert reward == pytest.approx(-env.osim_model.coordinate("r_elbow_flex"))
    assert observation.shape == env.observation_space.shape and not done


def test_user_model_without_reward_gives_zero(arm_osim):
    env = OsimEnv(model_path=arm_osim)
    env.reset()
    assert env.step(np.full(6, 0.3))[1] == 0.0


def test_missing_user_model_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.osim"):
        OsimEnv(model_path=tmp_path / "missing.osim")


def test_cli_demo_runs_and_refuses_bad_flags():
    run = lambda *argv: subprocess.run([sys.executable, "-m", "osim", *argv], capture_output=True,
                                       text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    ok = run("demo", "--episodes", "1")
    assert ok.returncode == 0, ok.stderr
    assert "episode 1: total reward" in ok.stdout
    bad = run("demo", "--env", "Nope")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    assert run("demo", "--episodes", "x").returncode == 2


def test_unknown_reset_options_are_refused():
    env = OsimGymEnv("Arm")
    with pytest.raises(ValueError, match="unknown options.*difficulty"):
        env.reset(seed=0, options={"difficulty": 2})
    with pytest.raises(ValueError, match="difficulty"):
        ArmEnv().reset(difficulty=2)


@pytest.mark.slow
def test_visualizer_opens_under_xvfb(tmp_path):
    import shutil

    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run not installed (Debian package xvfb)")
    script = textwrap.dedent("""
        from osim.env import ArmEnv
        env = ArmEnv(visualize=True)
        assert env.osim_model.visualize, "visualizer did not open"
        env.reset()
        for _ in range(20):
            env.step(env.action_space.sample())
        print("survived")
    """)
    result = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", script], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "survived" in result.stdout


def test_explicit_reset_seed_replaces_the_constructor_seed():
    env = ArmEnv(seed=11)
    first = env.reset(seed=3)
    following = env.reset()
    # the constructor's seed is not used later: the stream just continues
    assert not np.array_equal(following, ArmEnv().reset(seed=11))
    np.testing.assert_array_equal(first, ArmEnv().reset(seed=3))
