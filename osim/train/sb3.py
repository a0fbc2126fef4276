"""The Stable-Baselines3 backend: DDPG, TD3, SAC, PPO (stable-baselines3) and TRPO (sb3-contrib).

DDPG and TRPO default to the hyperparameters of the 2017 osim-rl rllab experiment:

* DDPG: critic 64x64x64, actor 32x32x32, Ornstein-Uhlenbeck exploration with
  theta 0.5, batch 32, discount 0.99, learning rates 1e-3 (critic) and 1e-4
  (actor), rewards scaled by 0.01 for learning (logs show the env's reward).
  SB3 has one learning rate for both networks; ``actor_learning_rate`` sets the
  actor's optimizer apart after every update of the learning rate.
  Differences: soft target updates ``tau=0.005`` and ``learning_starts=1000``
  (rllab: 1e-3 and a 10000-sample pool), so short runs learn something.
* TRPO: Gaussian MLP 128x128, 4000 samples per update, KL step size 0.01
  (``target_kl``), discount 0.99; the baseline is SB3's value network
  instead of rllab's linear feature baseline.

PPO, SAC and TD3 use SB3's usual settings for small continuous-control problems,
with smaller networks so one CPU core keeps up with the simulation.

Hyperparameters are the SB3 constructor's keyword arguments plus:
``net_arch`` (list, or dict with ``pi``/``qf``/``vf``), ``activation``
(``"tanh"``/``"relu"``), ``normalize_obs`` (running mean/std of observations,
saved in the snapshot), ``reward_scale``, ``noise`` (``"ou"``/``"normal"``/
``None``) with ``noise_sigma``/``noise_theta``, ``actor_learning_rate`` (DDPG).
For PPO and TRPO, ``n_steps`` counts the samples of one update over all workers.

Resuming restores the networks, optimizers, step counter and observation
statistics; the replay buffer of off-policy algorithms is not kept (it would
make snapshots huge), so they refill it.
"""

from __future__ import annotations

import inspect
import io
import math
from typing import Any

import numpy as np

# Optional dependencies (extra "train"); `osim.train.get_backend` names the extra if missing.
import sb3_contrib
import stable_baselines3 as sb3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import (
    NormalActionNoise,
    OrnsteinUhlenbeckActionNoise,
)
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from osim.train.base import (
    Backend,
    Learned,
    Learner,
    Policy,
    Run,
    RunLogger,
    TrainConfig,
    make_env,
    normalize_observation,
    set_torch_threads,
)

OBS_CLIP = 10.0
OBS_EPSILON = 1e-8
# Our keys (not SB3 constructor arguments).
OWN_KEYS = ("net_arch", "activation", "normalize_obs", "reward_scale", "noise", "noise_sigma",
            "noise_theta", "actor_learning_rate")
ON_POLICY = ("PPO", "TRPO")
OFF_POLICY = ("DDPG", "TD3", "SAC")


class _DDPG(sb3.DDPG):
    """SB3's DDPG with the actor's learning rate apart from the critic's (rllab had two)."""

    def __init__(self, *args, actor_learning_rate: float | None = None, **kwargs):
        self.actor_learning_rate = actor_learning_rate
        super().__init__(*args, **kwargs)

    def _update_learning_rate(self, optimizers) -> None:
        super()._update_learning_rate(optimizers)
        if self.actor_learning_rate is not None:
            for group in self.actor.optimizer.param_groups:
                group["lr"] = self.actor_learning_rate


# algorithm -> SB3 class used to train, and the class that loads it for acting
TRAIN_CLASSES = {"DDPG": _DDPG, "TD3": sb3.TD3, "SAC": sb3.SAC, "PPO": sb3.PPO,
                 "TRPO": sb3_contrib.TRPO}
LOAD_CLASSES = {"DDPG": sb3.DDPG, "TD3": sb3.TD3, "SAC": sb3.SAC, "PPO": sb3.PPO,
                "TRPO": sb3_contrib.TRPO}

DEFAULTS: dict[str, dict[str, Any]] = {
    "DDPG": {  # the 2017 osim-rl rllab DDPG
        "learning_rate": 1e-3, "actor_learning_rate": 1e-4, "batch_size": 32, "gamma": 0.99,
        "tau": 0.005, "buffer_size": 1_000_000, "learning_starts": 1000, "train_freq": 1,
        "gradient_steps": 1, "net_arch": {"pi": [32, 32, 32], "qf": [64, 64, 64]},
        "activation": "relu", "noise": "ou", "noise_theta": 0.5, "noise_sigma": 0.3,
        "reward_scale": 0.01, "normalize_obs": True,
    },
    "TD3": {
        "learning_rate": 1e-3, "batch_size": 256, "gamma": 0.99, "tau": 0.005,
        "buffer_size": 1_000_000, "learning_starts": 1000, "train_freq": 1, "gradient_steps": 1,
        "net_arch": [64, 64], "activation": "relu", "noise": "normal", "noise_sigma": 0.1,
        "reward_scale": 1.0, "normalize_obs": True,
    },
    "SAC": {
        "learning_rate": 1e-3, "batch_size": 256, "gamma": 0.99, "tau": 0.005,
        "buffer_size": 1_000_000, "learning_starts": 1000, "train_freq": 1, "gradient_steps": 1,
        "ent_coef": "auto", "net_arch": [64, 64], "activation": "relu", "noise": None,
        "reward_scale": 1.0, "normalize_obs": True,
    },
    "PPO": {
        "n_steps": 2048, "batch_size": 64, "n_epochs": 10, "learning_rate": 3e-4,
        "gamma": 0.99, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.0,
        "net_arch": [64, 64], "activation": "tanh", "reward_scale": 1.0, "normalize_obs": True,
    },
    "TRPO": {  # the 2017 osim-rl rllab TRPO
        "n_steps": 4000, "batch_size": 128, "target_kl": 0.01, "gamma": 0.99,
        "gae_lambda": 0.95, "learning_rate": 1e-3, "net_arch": [128, 128],
        "activation": "tanh", "reward_scale": 1.0, "normalize_obs": True,
    },
}

ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


class SB3Policy(Policy):
    """A trained SB3 model acting deterministically on normalised observations."""

    def __init__(self, model, obs_norm: dict | None):
        self.model = model
        self.obs_norm = obs_norm

    def act(self, observation: np.ndarray) -> np.ndarray:
        obs = normalize_observation(observation, self.obs_norm, clip=OBS_CLIP,
                                    epsilon=OBS_EPSILON).astype(np.float32)
        action, _ = self.model.predict(obs, deterministic=True)
        return np.clip(np.asarray(action, dtype=np.float32), 0.0, 1.0)


class _LogEpisodes(BaseCallback):
    """Feeds the `RunLogger` from the Monitor wrappers' episode records (any number of
    workers)."""

    def __init__(self, run_logger: RunLogger):
        super().__init__()
        self.run_logger = run_logger

    def _on_step(self) -> bool:
        self.run_logger.step(self.training_env.num_envs)
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is not None:
                self.run_logger.episode(float(episode["r"]), int(episode["l"]))
        return True


def _scale_reward(env, scale: float):
    import gymnasium

    return gymnasium.wrappers.TransformReward(env, lambda r: r * scale)


class _EnvFactory:
    """Builds worker ``i``'s env (picklable for SubprocVecEnv): the task env, Monitor
    (records the env's own reward) and the learning-only reward scale."""

    def __init__(self, env: str, env_kwargs: dict, seed: int, reward_scale: float):
        self.env, self.env_kwargs, self.seed, self.reward_scale = env, env_kwargs, seed, reward_scale

    def __call__(self):
        env = Monitor(make_env(self.env, self.env_kwargs, seed=self.seed))
        if self.reward_scale != 1.0:
            env = _scale_reward(env, self.reward_scale)
        return env


class _SB3Learner(Learner):
    """An SB3 model learning on its vectorised envs."""

    def __init__(self, model, venv, normalize_obs: bool, steps: int, *, resumed: bool):
        self.model, self.venv = model, venv
        self.normalize_obs, self.steps, self.resumed = normalize_obs, steps, resumed

    def learn(self, logger: RunLogger, checkpoint) -> None:
        self.model.learn(total_timesteps=self.steps, callback=_LogEpisodes(logger),
                         reset_num_timesteps=not self.resumed, progress_bar=False)

    def learned(self) -> Learned:
        buffer = io.BytesIO()
        self.model.save(buffer)
        obs_norm = None
        if self.normalize_obs:
            rms = self.venv.obs_rms
            obs_norm = {"mean": np.array(rms.mean), "var": np.array(rms.var),
                        "count": float(rms.count)}
        return Learned(buffer.getvalue(), obs_norm, int(self.model.num_timesteps))


class SB3Backend(Backend):
    """Stable-Baselines3 (and sb3-contrib for TRPO)."""

    name = "sb3"
    algorithms = DEFAULTS

    # ------------------------------------------------------------- train
    def prepare(self, run: Run) -> _SB3Learner:
        own, sb3_kwargs = self._split(run.algorithm, run.hyperparams, run.config.workers)
        venv = self._make_vec_env(run.config, own)
        run.cleanup.callback(venv.close)
        if run.resumed is None:
            model = self._new_model(run.algorithm, venv, sb3_kwargs, own, run.config.seed)
        else:
            model = self._resumed_model(run, venv, sb3_kwargs, own)
        return _SB3Learner(model, venv, own["normalize_obs"], run.config.steps,
                           resumed=run.resumed is not None)

    def _resumed_model(self, run: Run, venv, sb3_kwargs: dict, own: dict):
        snapshot, algorithm = run.resumed, run.algorithm
        model = TRAIN_CLASSES[algorithm].load(
            io.BytesIO(snapshot["policy"]), env=venv, device="cpu",
            custom_objects=self._resume_overrides(
                algorithm, sb3_kwargs, own, run.config, venv.action_space.shape[0]))
        model._setup_lr_schedule()  # from a learning_rate given for this run, if any
        model._last_obs = None  # a new env: reset it before the first step
        model.set_random_seed(run.config.seed + run.steps_done)
        if own["normalize_obs"] and snapshot["obs_norm"] is not None:
            rms = venv.obs_rms
            rms.mean = np.array(snapshot["obs_norm"]["mean"], dtype=np.float64)
            rms.var = np.array(snapshot["obs_norm"]["var"], dtype=np.float64)
            rms.count = float(snapshot["obs_norm"]["count"])
        return model

    def _split(self, algorithm: str, params: dict, workers: int) -> tuple[dict, dict]:
        """Our settings and the SB3 constructor's keyword arguments; unknown keys -> ValueError."""
        accepted = set(inspect.signature(LOAD_CLASSES[algorithm].__init__).parameters)
        accepted -= {"self", "policy", "env", "seed", "device", "verbose", "_init_setup_model",
                     "tensorboard_log", "action_noise"}
        own = {k: params.get(k) for k in OWN_KEYS}
        own["normalize_obs"] = bool(own["normalize_obs"] if own["normalize_obs"] is not None
                                    else True)
        own["reward_scale"] = float(1.0 if own["reward_scale"] is None else own["reward_scale"])
        sb3_kwargs = {k: v for k, v in params.items() if k not in OWN_KEYS}
        unknown = sorted(set(sb3_kwargs) - accepted)
        if unknown:
            raise ValueError(f"unknown {algorithm} hyperparameters {unknown}; known: "
                             f"{sorted(accepted | set(OWN_KEYS))}")
        if own["actor_learning_rate"] is not None:
            if algorithm != "DDPG":
                raise ValueError("actor_learning_rate is a DDPG hyperparameter")
            sb3_kwargs["actor_learning_rate"] = float(own["actor_learning_rate"])
        if algorithm in ON_POLICY and "n_steps" in sb3_kwargs:
            sb3_kwargs["n_steps"] = max(1, math.ceil(int(sb3_kwargs["n_steps"]) / workers))
        policy_kwargs = dict(sb3_kwargs.pop("policy_kwargs", None) or {})
        if own["net_arch"] is not None:
            policy_kwargs["net_arch"] = own["net_arch"]
        if own["activation"] is not None:
            if own["activation"] not in ACTIVATIONS:
                raise ValueError(f"unknown activation {own['activation']!r}; "
                                 f"choose one of {sorted(ACTIVATIONS)}")
            policy_kwargs["activation_fn"] = ACTIVATIONS[own["activation"]]
        sb3_kwargs["policy_kwargs"] = policy_kwargs
        return own, sb3_kwargs

    def _make_vec_env(self, config: TrainConfig, own: dict):
        factories = [_EnvFactory(config.env, config.env_kwargs, config.seed + i,
                                 own["reward_scale"]) for i in range(config.workers)]
        try:
            factories[0]().close()  # bad env kwargs fail here, with the task's message
        except TypeError as err:
            raise ValueError(f"bad env options for {config.env}: {err}") from None
        venv = (SubprocVecEnv(factories) if config.workers > 1 else DummyVecEnv(factories))
        if own["normalize_obs"]:
            venv = VecNormalize(venv, norm_obs=True, norm_reward=False, clip_obs=OBS_CLIP,
                                epsilon=OBS_EPSILON)
        return venv

    def _noise(self, own: dict, action_size: int):
        kind, sigma = own["noise"], own["noise_sigma"]
        if kind is None:
            return None
        sigma = np.full(action_size, 0.1 if sigma is None else float(sigma))
        if kind == "ou":
            theta = 0.15 if own["noise_theta"] is None else float(own["noise_theta"])
            return OrnsteinUhlenbeckActionNoise(np.zeros(action_size), sigma, theta=theta)
        if kind == "normal":
            return NormalActionNoise(np.zeros(action_size), sigma)
        raise ValueError(f"unknown noise {kind!r}; choose 'ou', 'normal' or None")

    def _new_model(self, algorithm: str, venv, sb3_kwargs: dict, own: dict, seed: int):
        kwargs = dict(sb3_kwargs)
        if algorithm in OFF_POLICY:
            kwargs["action_noise"] = self._noise(own, venv.action_space.shape[0])
        elif own["noise"] is not None:
            raise ValueError(f"{algorithm} explores with its Gaussian policy; noise must be None")
        try:
            return TRAIN_CLASSES[algorithm]("MlpPolicy", venv, seed=seed, device="cpu",
                                            verbose=0, **kwargs)
        except (TypeError, ValueError, AssertionError, KeyError) as err:
            raise ValueError(f"bad {algorithm} hyperparameters: {err}") from None

    def _resume_overrides(self, algorithm: str, sb3_kwargs: dict, own: dict,
                          config: TrainConfig, action_size: int) -> dict:
        """Settings given for the resumed run that may change between runs (the network's
        shape may not)."""
        fixed = sorted({"net_arch", "activation", "normalize_obs", "policy_kwargs"}
                       & set(config.hyperparams))
        if fixed:
            raise ValueError(f"{fixed} cannot change when resuming (they shape the network "
                             "and its inputs)")
        overrides = {k: sb3_kwargs[k] for k in config.hyperparams if k in sb3_kwargs}
        if algorithm in ON_POLICY:  # per worker: the number of workers may have changed
            overrides["n_steps"] = sb3_kwargs["n_steps"]
        if algorithm in OFF_POLICY and {"noise", "noise_sigma", "noise_theta"} & set(
                config.hyperparams):
            overrides["action_noise"] = self._noise(own, action_size)
        return overrides

    # -------------------------------------------------------------- load
    def load_policy(self, snapshot: dict) -> SB3Policy:
        algorithm = self.check_algorithm(snapshot["algorithm"])
        set_torch_threads(1)
        model = LOAD_CLASSES[algorithm].load(io.BytesIO(snapshot["policy"]), device="cpu")
        return SB3Policy(model, snapshot["obs_norm"])
