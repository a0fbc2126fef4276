"""The Keras 3 (torch) DDPG backend and scripts/keras-rl/train.ddpg.py, on the real ARM."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# (imports keras itself: it must choose Keras' torch backend before keras is imported)
keras_ddpg = pytest.importorskip("osim.train.keras_ddpg")

from osim.train import (
    TrainConfig,
    evaluate,
    get_backend,
    load_snapshot,
    set_torch_threads,
)

set_torch_threads(1)  # as the backend does; tiny networks crawl with more threads here
REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
SCRIPT = REPO / "scripts" / "keras-rl" / "train.ddpg.py"
FAST = {"warmup_steps_critic": 32, "warmup_steps_actor": 32}


def _filled_agent(seed=0, **hyperparams):
    """An agent whose memory holds transitions with a learnable reward."""
    agent = keras_ddpg.DDPGAgent(16, 6, hyperparams, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(256):
        obs, action = rng.normal(size=16), rng.uniform(size=6)
        reward = obs[:3].sum() - np.square(action - 0.5).sum()
        agent.remember(obs, action, reward, obs + rng.normal(scale=0.1, size=16), False)
    return agent


def test_dense_stack_is_the_model():
    agent = keras_ddpg.DDPGAgent(16, 6, seed=1)
    import torch

    obs, action = torch.randn(8, 16), torch.rand(8, 6)
    with torch.no_grad():
        np.testing.assert_allclose(agent._actor(obs).numpy(), agent.actor(obs).numpy(),
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(agent._critic(action, obs).numpy(),
                                   agent.critic([action, obs]).numpy(), rtol=1e-6, atol=1e-6)


def test_updates_learn_and_move_only_their_own_weights():
    agent = _filled_agent()
    before = agent.get_state()
    batch = agent.memory.sample(32, np.random.default_rng(3))
    losses = [agent.train_on_batch(*batch) for _ in range(150)]
    after = agent.get_state()
    # the critic fits a fixed batch
    assert losses[-1]["critic_loss"] < 0.2 * losses[0]["critic_loss"]
    # with the critic held still, the actor climbs its Q
    critic = agent.get_state()["critic"]
    ascent = [agent.train_on_batch(*batch, train_critic=False)["actor_loss"] for _ in range(50)]
    assert ascent[-1] < ascent[0] - 1e-3
    assert all(np.array_equal(a, b) for a, b in zip(critic, agent.get_state()["critic"]))
    for key in ("actor", "critic"):
        assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(before[key], after[key])), key
    # optimizer state moved too; targets move only in update_targets
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before["critic_optimizer"],
                                                       after["critic_optimizer"]))
    for key in ("target_actor", "target_critic"):
        assert all(np.array_equal(a, b) for a, b in zip(before[key], after[key]))
    agent.update_targets()
    tau = agent.hp["tau"]
    for old, online, new in zip(before["target_critic"], after["critic"],
                                agent.get_state()["target_critic"]):
        np.testing.assert_allclose(new, (1 - tau) * old + tau * online, rtol=1e-5, atol=1e-7)


def test_actions_in_unit_box_and_noise_explores():
    agent = _filled_agent()
    obs = np.zeros(16)
    greedy = agent.act(obs, explore=False)
    assert greedy.shape == (6,) and greedy.dtype == np.float32
    assert np.array_equal(greedy, agent.act(obs, explore=False))
    noisy = np.array([agent.act(obs, explore=True) for _ in range(300)])
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert noisy.std(axis=0).min() > 0.01  # the OU process wanders
    agent.reset_noise()
    assert np.array_equal(agent.noise.x, np.zeros(6))


@pytest.mark.parametrize("overrides, match", [
    ({"learning_rate": 1e-3}, "unknown DDPG hyperparameters"),
    ({"actor_layers": []}, "actor_layers"),
    ({"gamma": 1.5}, "gamma"),
    ({"batch_size": 0}, "batch_size"),
    ({"tau": 2.0}, "tau"),
    ({"optimizer": "sgd"}, "optimizer must be one of"),
    ({"clipnorm": -1.0}, "clipnorm"),
])
def test_bad_hyperparams(overrides, match):
    with pytest.raises(ValueError, match=match):
        keras_ddpg.DDPGAgent(16, 6, overrides)


def test_other_keras_backend_is_refused():
    code = "import osim.train.keras_ddpg"
    env = {**ENV, "KERAS_BACKEND": "jax"}
    proc = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode != 0
    assert "KERAS_BACKEND is 'jax'" in proc.stderr


def test_train_snapshot_policy_and_resume(tmp_path):
    backend = get_backend("keras")
    assert "DDPG" in backend.algorithms
    config = TrainConfig(env="Arm", algorithm="ddpg", steps=120, out=tmp_path / "run",
                         env_kwargs={"max_episode_steps": 40}, hyperparams=FAST, progress=False)
    params = backend.train(config)
    snap = load_snapshot(params)
    assert snap["backend"] == "keras" and snap["algorithm"] == "DDPG"
    assert snap["steps_done"] == 120 and len(snap["log"]) == 3
    assert [r["step"] for r in snap["log"]] == [40, 80, 120]
    assert snap["obs_norm"]["count"] > 100
    assert (tmp_path / "run" / "progress.csv").read_text().count("\n") == 4
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 0
    # the snapshot holds plain arrays only
    assert all(isinstance(w, np.ndarray) for w in snap["policy"]["actor"])

    policy = backend.load_policy(snap)
    agent = keras_ddpg.DDPGAgent(16, 6, snap["hyperparams"])
    agent.set_state(snap["policy"], snap["obs_norm"])
    obs = np.random.default_rng(0).normal(size=16)
    np.testing.assert_allclose(policy.act(obs), agent.act(obs, explore=False), atol=1e-6)
    rewards = evaluate(policy, "Arm", {"max_episode_steps": 20}, episodes=2)
    assert len(rewards) == 2 and all(np.isfinite(rewards))
    with pytest.raises(ValueError, match="takes 16 observations"):
        policy.act(np.zeros(5))

    resumed = TrainConfig(env="Arm", algorithm="DDPG", steps=40, out=tmp_path / "more",
                          env_kwargs={"max_episode_steps": 40}, resume=params, progress=False)
    more = load_snapshot(backend.train(resumed))
    assert more["steps_done"] == 160 and len(more["log"]) == 4
    assert more["log"][:3] == snap["log"]


def test_backend_refuses_bad_config(tmp_path):
    backend = get_backend("keras")
    with pytest.raises(ValueError, match="one environment"):
        backend.train(TrainConfig(env="Arm", algorithm="DDPG", steps=10, out=tmp_path,
                                  workers=2, progress=False))
    with pytest.raises(ValueError, match="no algorithm 'PPO'"):
        backend.train(TrainConfig(env="Arm", algorithm="PPO", steps=10, out=tmp_path,
                                  progress=False))
    with pytest.raises(ValueError, match="no option 'address'; its options: checkpoint_every, "
                                         "render_mode"):
        backend.train(TrainConfig(env="Arm", algorithm="DDPG", steps=10, out=tmp_path,
                                  backend_options={"address": "ray://head:10001"}))
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------ the script
def _script(*args, cwd):
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False,
                          capture_output=True, text=True, cwd=cwd, env=ENV, timeout=600)


def test_script_train_then_test(tmp_path):
    train = _script("--train", "--steps", "60", "--output", "weights", "--seed", "3",
                    cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    out = tmp_path / "weights"
    assert {"params.pkl", "progress.csv", "learning_curve.png"} <= {p.name for p in out.iterdir()}
    assert load_snapshot(out / "params.pkl")["steps_done"] == 60

    test = _script("--test", "--output", "weights", cwd=tmp_path)
    assert test.returncode == 0, test.stderr
    lines = [line for line in test.stdout.splitlines() if line.startswith("episode")]
    assert len(lines) == 5
    rewards = [float(line.split("total reward")[1].split(",")[0]) for line in lines]
    assert all(0 < r <= 200 for r in rewards)  # 200 steps of 1 - distance^2
    targets = {line.split("target")[1] for line in lines}
    assert len(targets) == 5  # a new target every episode


@pytest.mark.parametrize("args", [
    [],                                 # neither --train nor --test
    ["--train", "--test"],
    ["--train", "--env", "Soccer"],
    ["--train", "--steps", "0"],
    ["--train", "--bogus"],
])
def test_script_bad_flags_exit_2(args, tmp_path):
    proc = _script(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_script_missing_weights(tmp_path):
    proc = _script("--test", "--output", "nothing-here", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0  # one line
    assert "no trained weights at nothing-here/params.pkl" in proc.stderr
