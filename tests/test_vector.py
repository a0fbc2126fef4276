"""Parallel rollouts on real OpenSim workers: stepping, seeding, dead workers, clean close."""

import os
import signal
import time

import numpy as np
import psutil
import pytest

from osim.env.vector import OsimVectorEnv, WorkerDiedError, make_vector_env


def rollout(envs, n_steps, seed):
    rng = np.random.default_rng(seed)
    observations, rewards = [], []
    for _ in range(n_steps):
        actions = rng.uniform(0, 1, envs.action_space.shape).astype(np.float32)
        obs, reward, *_ = envs.step(actions)
        observations.append(obs)
        rewards.append(reward)
    return np.array(observations), np.array(rewards)


@pytest.fixture(scope="module")
def arm_pair():
    envs = make_vector_env("Arm", num_envs=2, seed=7)
    yield envs
    envs.close()


def test_vector_env_steps_every_worker(arm_pair):
    obs, _ = arm_pair.reset(seed=7)
    assert obs.shape == (2, *arm_pair.single_observation_space.shape)
    observations, rewards = rollout(arm_pair, 5, seed=0)
    assert observations.shape[:2] == (5, 2)
    assert np.all(np.isfinite(observations)) and np.all(np.isfinite(rewards))
    # Workers get different seeds, so their targets (part of the observation) differ.
    assert not np.allclose(obs[0], obs[1])
    assert len(set(arm_pair.worker_pids())) == 2
    assert os.getpid() not in arm_pair.worker_pids()


def test_same_seed_same_rollout(arm_pair):
    first_obs, _ = arm_pair.reset(seed=11)
    first = rollout(arm_pair, 5, seed=1)
    again_obs, _ = arm_pair.reset(seed=11)
    again = rollout(arm_pair, 5, seed=1)
    np.testing.assert_array_equal(first_obs, again_obs)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


def test_constructor_seed_seeds_the_first_reset():
    envs = make_vector_env("osim/Arm-v0", num_envs=2, seed=3, context="fork")
    try:
        seeded, _ = envs.reset()
        explicit, _ = envs.reset(seed=3)
        np.testing.assert_array_equal(seeded, explicit)
    finally:
        envs.close()


def test_dead_worker_raises_fast_and_close_leaves_no_process():
    envs = make_vector_env("Arm", num_envs=2, seed=0)
    pids = envs.worker_pids()
    envs.reset()
    envs.step(envs.action_space.sample())
    os.kill(pids[1], signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(WorkerDiedError, match=f"worker 1 \\(pid {pids[1]}\\)"):
        envs.step(envs.action_space.sample())
    assert time.monotonic() - start < 10
    assert envs.closed
    envs.close()  # a second close is harmless
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids)


def test_worker_dying_mid_step_raises_in_step_wait():
    envs = make_vector_env("Arm", num_envs=2, seed=0, context="fork")
    envs.reset()
    envs.step_async(envs.action_space.sample())
    os.kill(envs.worker_pids()[0], signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(WorkerDiedError):
        envs.step_wait()
        envs.step(envs.action_space.sample())  # in case it answered just before dying
    assert time.monotonic() - start < 10


def test_close_stops_every_worker():
    envs = make_vector_env("Arm", num_envs=2)
    pids = envs.worker_pids()
    envs.reset(seed=0)
    envs.step(envs.action_space.sample())
    envs.close()
    assert all(not process.is_alive() for process in envs.processes)
    children = psutil.Process().children(recursive=True)
    assert not [child for child in children if child.pid in pids]


def test_env_kwargs_reach_the_workers():
    envs = make_vector_env("Arm", num_envs=1, preset="fast")
    try:
        assert isinstance(envs, OsimVectorEnv)
        assert envs.get_attr("_init_kwargs")[0]["preset"] == "fast"
    finally:
        envs.close()


@pytest.mark.parametrize("bad, message", [
    ({"env": "NoSuchTask", "num_envs": 2}, "unknown environment"),
    ({"env": "Arm", "num_envs": 0}, "num_envs"),
    ({"env": "Arm", "num_envs": 1.5}, "num_envs"),
    ({"env": "Arm", "num_envs": 1, "context": "threads"}, "start method"),
    ({"env": "Arm", "num_envs": 1, "preset": "ludicrous"}, "unknown preset"),
])
def test_bad_arguments_are_named_before_any_worker_starts(bad, message):
    with pytest.raises(ValueError, match=message):
        make_vector_env(**bad)


def test_env_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="task name"):
        make_vector_env(42, num_envs=1)


def test_env_options_are_checked_before_workers_start():
    # The first env is built in the parent for its spaces (as Gymnasium does),
    # so a bad option raises the env's own error there.
    with pytest.raises(ValueError, match="unknown muscle_model 'no-such-muscle'"):
        make_vector_env("Arm", num_envs=2, muscle_model="no-such-muscle")


def test_mujoco_workers_step_like_a_single_env():
    """Spawned workers build the MuJoCo engine too (the compiled kernels and the
    path fit come from their caches) and step exactly as an env in this process."""
    from osim.env import OsimGymEnv

    envs = make_vector_env("Gait", num_envs=2, seed=5, engine="mujoco")
    try:
        observations, _ = envs.reset(seed=5)
        actions = np.random.default_rng(0).random((3, *envs.action_space.shape))
        stepped = [envs.step(a)[0] for a in actions]
    finally:
        envs.close()
    single = OsimGymEnv("Gait", engine="mujoco")
    first, _ = single.reset(seed=5)
    np.testing.assert_array_equal(observations[0], first)
    for a, vector_obs in zip(actions, stepped):
        np.testing.assert_array_equal(vector_obs[0], single.step(a[0])[0])
