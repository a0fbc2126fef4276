"""The Ray RLlib backend: hyperparameter checks and policy rebuilding without Ray,
and (slow) real training runs with env runners on a local Ray instance."""

import numpy as np
import pytest

rllib = pytest.importorskip("osim.train.rllib")

import gymnasium
import torch

from osim.train import TrainConfig, evaluate, get_backend, load_snapshot


def _fresh_policy_state(algorithm, obs_size=16, action_size=6, model=None):
    """The snapshot "policy" entry of a freshly initialised RLModule (no Ray needed)."""
    config = rllib.CONFIG_CLASSES[algorithm]().rl_module(
        model_config=model or rllib.ALGORITHM_DEFAULTS[algorithm]["model"])
    model = dict(config.model_config)  # with the algorithm's own entries, as training stores
    spec = config.get_default_rl_module_spec()
    spec.observation_space = gymnasium.spaces.Box(-10, 10, (obs_size,), np.float32)
    spec.action_space = gymnasium.spaces.Box(0.0, 1.0, (action_size,), np.float32)
    spec.inference_only = True
    spec.model_config = model
    module = spec.build()
    state = {k: v.detach().numpy() if isinstance(v, torch.Tensor) else v
             for k, v in module.get_state(inference_only=True).items()}
    return {"rl_module": state, "model_config": model, "normalize_actions": True,
            "clip_actions": False, "observation_size": obs_size,
            "action_low": np.zeros(action_size, np.float32),
            "action_high": np.ones(action_size, np.float32)}


def _mlp(state, prefix, x, activation):
    """The encoder's hidden layers then the pi head, from the state's numpy arrays."""
    hidden = {k.rsplit(".", 1)[0] for k in state if k.startswith(prefix)}
    for layer in sorted(hidden, key=lambda name: int(name.rsplit(".", 1)[1])):
        x = activation(state[f"{layer}.weight"] @ x + state[f"{layer}.bias"])
    return state["pi.net.mlp.0.weight"] @ x + state["pi.net.mlp.0.bias"]


def test_algorithms_and_defaults():
    backend = get_backend("rllib")
    assert {"PPO", "SAC"} <= set(backend.algorithms)
    for algorithm, defaults in backend.algorithms.items():
        training, model, normalize = rllib.split_hyperparams(algorithm, defaults)
        assert model["fcnet_hiddens"] and normalize is True
        assert "model" not in training


@pytest.mark.parametrize("algorithm, overrides, match", [
    ("PPO", {"learning_rate_typo": 1e-3}, "bad PPO hyperparameter"),
    ("SAC", {"minibatch_size": 64, "bogus": 1}, "bad SAC hyperparameter"),
    ("PPO", {"model": [64, 64]}, "must be a dict"),
    ("PPO", {"obs_norm_warmup_steps": 0}, "obs_norm_warmup_steps"),
])
def test_bad_hyperparams(algorithm, overrides, match):
    with pytest.raises(ValueError, match=match):
        rllib.split_hyperparams(algorithm, {**rllib.ALGORITHM_DEFAULTS[algorithm], **overrides})


def test_ppo_policy_acts_with_the_gaussian_mean():
    state = _fresh_policy_state("PPO")
    obs_norm = {"mean": np.full(16, 0.5), "var": np.full(16, 4.0), "count": 10.0}
    policy = rllib.RLlibPolicy("PPO", state, obs_norm)
    obs = np.random.default_rng(0).normal(size=16) * 3
    x = np.clip((obs - 0.5) / np.sqrt(4.0 + 1e-8), -10, 10)
    out = _mlp(state["rl_module"], "encoder.actor_encoder.net.mlp", x, np.tanh)
    expected = np.clip((out[:6] + 1) / 2, 0, 1)  # mean in [-1, 1] mapped to [0, 1]
    action = policy.act(obs)
    assert action.shape == (6,) and action.dtype == np.float32
    np.testing.assert_allclose(action, expected, atol=1e-5)
    np.testing.assert_array_equal(action, policy.act(obs))
    with pytest.raises(ValueError, match="takes 16 observations"):
        policy.act(np.zeros(3))


def test_sac_policy_acts_with_the_squashed_mean():
    state = _fresh_policy_state("SAC")
    policy = rllib.RLlibPolicy("SAC", state, None)
    obs = np.random.default_rng(1).normal(size=16)
    out = _mlp(state["rl_module"], "pi_encoder.net.mlp", obs,
               lambda v: np.maximum(v, 0.0))
    np.testing.assert_allclose(policy.act(obs), (np.tanh(out[:6]) + 1) / 2, atol=1e-5)


def test_load_policy_refuses_other_snapshots():
    backend = get_backend("rllib")
    with pytest.raises(ValueError, match="from the 'keras' backend"):
        backend.load_policy({"backend": "keras", "algorithm": "DDPG", "policy": {},
                             "obs_norm": None})
    broken = _fresh_policy_state("PPO")
    broken["rl_module"] = {"pi.net.mlp.0.weight": np.zeros((3, 3))}
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        backend.load_policy({"backend": "rllib", "algorithm": "PPO", "policy": broken,
                             "obs_norm": None})


def test_backend_options_are_checked_before_anything_runs(tmp_path):
    backend = get_backend("rllib")
    assert backend.check_options({}) == {"address": None}
    assert backend.check_options({"address": "ray://head:10001"}) == {
        "address": "ray://head:10001"}
    with pytest.raises(ValueError, match="no option 'adress'; its options: address"):
        backend.train(TrainConfig(env="Arm", algorithm="PPO", steps=10, out=tmp_path / "run",
                                  backend_options={"adress": "ray://head:10001"}))
    assert not (tmp_path / "run").exists()


def test_obs_norm_warmup_uses_the_real_env():
    config = TrainConfig(env="Arm", algorithm="PPO", steps=1, out="unused",
                         env_kwargs={"max_episode_steps": 30})
    norm = rllib.estimate_obs_norm(config, 60, seed=0)
    assert norm["count"] > 60 and norm["mean"].shape == (16,)
    assert np.all(norm["var"] >= 0) and norm["var"][:2].max() > 0  # two targets drawn


# ---------- real Ray runs: ~20 s each on 2 idle cores, 150 s under load (SAC: slow only)
@pytest.mark.parametrize("algorithm, hyperparams", [
    ("PPO", {"train_batch_size_per_learner": 200, "minibatch_size": 50, "num_epochs": 1}),
    pytest.param("SAC", {"num_steps_sampled_before_learning_starts": 100,
                         "train_batch_size_per_learner": 32}, marks=pytest.mark.slow),
])
def test_train_with_two_env_runners(tmp_path, algorithm, hyperparams):
    backend = get_backend("rllib")
    config = TrainConfig(env="Arm", algorithm=algorithm, steps=200, out=tmp_path / "run",
                         workers=2, env_kwargs={"max_episode_steps": 50}, progress=False,
                         hyperparams={**hyperparams, "obs_norm_warmup_steps": 100})
    params = backend.train(config)
    snap = load_snapshot(params)
    assert snap["backend"] == "rllib" and snap["algorithm"] == algorithm
    assert snap["steps_done"] >= 200
    assert snap["log"] and all(np.isfinite(r["reward"]) for r in snap["log"])
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 0
    assert snap["obs_norm"]["count"] > 100
    # the snapshot is plain data: the policy acts with Ray shut down
    import ray

    assert not ray.is_initialized()
    policy = backend.load_policy(snap)
    rewards = evaluate(policy, "Arm", {"max_episode_steps": 20}, episodes=2)
    assert len(rewards) == 2 and all(np.isfinite(rewards))
    action = policy.act(np.zeros(16))
    assert action.shape == (6,) and action.min() >= 0 and action.max() <= 1
