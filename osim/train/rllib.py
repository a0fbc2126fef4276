"""Ray RLlib backend (new API stack): PPO and SAC on parallel env runners, locally or on a cluster.

Each env runner is a Ray actor that builds its own OpenSim env from the task name
and ``env_kwargs`` (OpenSim objects never cross processes). Observations are
normalised inside each env by fixed statistics (``obs_norm`` of the snapshot),
estimated before training from ``obs_norm_warmup_steps`` steps of random
excitations. (RLlib's ``MeanStdFilter`` connector is not used: in Ray 2.60 its
statistics drift toward zero once runners are synchronised more than once, since
``RunningStat.update`` merges the increments of the running mean as if they were
the mean of the new samples.)

The snapshot's policy is the RLModule's inference weights as numpy arrays, so
`RLlibBackend.load_policy` rebuilds the torch module and acts without Ray
running: deterministic action (the Gaussian's mean; SAC's tanh of the mean),
mapped from [-1, 1] to the action bounds as RLlib's env runners do.

progress.csv has one row per training iteration in which episodes finished:
``step`` is the environment steps sampled so far and ``reward`` RLlib's
``episode_return_mean`` (mean return of the recent episodes).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # before Ray is imported

import gymnasium
import ray
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.utils.spaces.space_utils import unsquash_action
from ray.tune.registry import register_env

from osim.train.base import (
    Backend,
    Learned,
    Learner,
    Policy,
    Run,
    RunLogger,
    RunningMeanStd,
    SnapshotError,
    TrainConfig,
    make_env,
    normalize_observation,
    set_torch_threads,
)

CONFIG_CLASSES = {"PPO": PPOConfig, "SAC": SACConfig}

# Keys that are not arguments of `AlgorithmConfig.training`:
#   model: RLModule model config (e.g. fcnet_hiddens, fcnet_activation);
#   normalize_observations: normalise observations by fixed mean and variance,
#   obs_norm_warmup_steps: estimated from this many steps of random excitations.
SPECIAL_KEYS = ("model", "normalize_observations", "obs_norm_warmup_steps")

ALGORITHM_DEFAULTS: dict[str, dict[str, Any]] = {
    "PPO": {
        "train_batch_size_per_learner": 4000,
        "minibatch_size": 128,
        "num_epochs": 10,
        "lr": 3e-4,
        "gamma": 0.99,
        "lambda_": 0.95,
        "clip_param": 0.2,
        "vf_clip_param": 1000.0,  # episode returns reach hundreds; RLlib's 10 would clip
        "entropy_coeff": 0.0,
        "model": {"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"},
        "normalize_observations": True,
        "obs_norm_warmup_steps": 1000,
    },
    "SAC": {
        "train_batch_size_per_learner": 256,
        "actor_lr": 3e-4,
        "critic_lr": 3e-4,
        "alpha_lr": 3e-4,
        "gamma": 0.99,
        "tau": 0.005,
        "num_steps_sampled_before_learning_starts": 1000,
        "replay_buffer_config": {"type": "EpisodeReplayBuffer", "capacity": 100_000},
        "model": {"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"},
        "normalize_observations": True,
        "obs_norm_warmup_steps": 1000,
    },
}

ENV_NAME = "osim-rl"  # registered with Ray Tune; env_config carries task and kwargs


def _create_env(env_config: dict) -> gymnasium.Env:
    """Runs in each env runner's process: a fresh OpenSim env of the task, its
    observations normalised by the run's fixed statistics."""
    set_torch_threads(1)
    env = make_env(env_config["task"], dict(env_config.get("env_kwargs", {})))
    obs_norm = env_config.get("obs_norm")
    if obs_norm is None:
        return env
    size = env.observation_space.shape
    return gymnasium.wrappers.TransformObservation(
        env, lambda obs: normalize_observation(obs, obs_norm).astype(np.float32),
        gymnasium.spaces.Box(-OBS_CLIP, OBS_CLIP, size, np.float32))


OBS_CLIP = 10.0  # normalize_observation's default clip


def estimate_obs_norm(config: TrainConfig, steps: int, seed: int) -> dict:
    """Observation mean and variance over `steps` steps of random excitations."""
    env = make_env(config, seed=seed)
    rng = np.random.default_rng(seed)
    stats = RunningMeanStd(env.observation_space.shape[0])
    try:
        obs, _ = env.reset(seed=seed)
        batch = [obs]
        for _ in range(int(steps)):
            obs, _, terminated, truncated, _ = env.step(
                rng.uniform(0.0, 1.0, env.action_space.shape).astype(np.float32))
            batch.append(obs)
            if terminated or truncated:
                obs, _ = env.reset()
                batch.append(obs)
    finally:
        env.close()
    stats.update(np.array(batch))
    return stats.state


def _to_numpy(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, torch.Tensor):
        return tree.detach().cpu().numpy()
    return tree


@contextlib.contextmanager
def _quiet_ray():
    """Silence RLlib's own warnings and deprecation notes (quiet by default)."""
    loggers = [logging.getLogger(name) for name in ("ray", "ray.rllib", "ray.tune")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


@contextlib.contextmanager
def _trainable_logdir(path: Path):
    """An RLlib Algorithm (a Tune Trainable) makes a log folder under ~/ray_results
    when built outside Tune; point it at a folder of ours instead."""
    from ray.tune.trainable import trainable

    saved = getattr(trainable, "DEFAULT_STORAGE_PATH", None)
    if saved is None:  # another Ray version: leave it alone
        yield
        return
    trainable.DEFAULT_STORAGE_PATH = str(path)
    try:
        yield
    finally:
        trainable.DEFAULT_STORAGE_PATH = saved


def split_hyperparams(algorithm: str, params: dict) -> tuple[dict, dict, bool]:
    """(training kwargs, model config, normalize_observations), checked."""
    training = {k: v for k, v in params.items() if k not in SPECIAL_KEYS}
    warmup = params.get("obs_norm_warmup_steps", 1000)
    if int(warmup) != warmup or warmup < 1:
        raise ValueError(f"obs_norm_warmup_steps must be a positive integer, got {warmup!r}")
    model = params.get("model", {})
    if not isinstance(model, dict):
        raise ValueError(f"hyperparameter 'model' must be a dict (e.g. "  # noqa: TRY004
                         f"{{'fcnet_hiddens': [64, 64]}}), got {model!r}")
    # Validate names now, with our error, instead of deep inside a Ray actor.
    try:
        CONFIG_CLASSES[algorithm]().training(**training)
    except TypeError as err:
        raise ValueError(f"bad {algorithm} hyperparameter for RLlib: {err}") from None
    return training, dict(model), bool(params.get("normalize_observations", True))


def build_config(algorithm: str, config: TrainConfig, hyperparams: dict, seed: int,
                 num_cpus: float | None, obs_norm: dict | None):
    """The RLlib AlgorithmConfig of a run."""
    training, model, _ = split_hyperparams(algorithm, hyperparams)
    runner_cpus = 1.0 if num_cpus is None else min(1.0, num_cpus / config.workers)
    algo_config = (
        CONFIG_CLASSES[algorithm]()
        .environment(ENV_NAME, env_config={"task": config.env, "env_kwargs": config.env_kwargs,
                                           "obs_norm": obs_norm})
        .framework("torch")
        .env_runners(num_env_runners=config.workers, num_envs_per_env_runner=1,
                     num_cpus_per_env_runner=runner_cpus)
        .learners(num_learners=0)
        .training(**training)
        .rl_module(model_config=model)
        .debugging(seed=seed, log_level="ERROR")
        .reporting(metrics_num_episodes_for_smoothing=20)
    )
    return algo_config


def _result(results: dict, key: str, default=None):
    """A metric from `algo.train()`'s results (under ``env_runners`` in the new stack)."""
    runners = results.get("env_runners", {})
    return runners.get(key, results.get(key, default))


def _policy_state(algo) -> dict:
    """The snapshot's policy: the RLModule's weights as numpy arrays and how to rebuild it."""
    module = algo.get_module()
    learner_state = algo.learner_group.get_state(components="learner/rl_module")
    return {
        "rl_module": _to_numpy(module.get_state(inference_only=True)),
        "learner_rl_module": _to_numpy(learner_state),
        "model_config": dict(algo.config.model_config),
        "normalize_actions": bool(algo.config.normalize_actions),
        "clip_actions": bool(algo.config.clip_actions),
        "observation_size": int(module.observation_space.shape[0]),
        "action_low": np.asarray(module.action_space.low, dtype=np.float32),
        "action_high": np.asarray(module.action_space.high, dtype=np.float32),
    }


def _restore(algo, snapshot: dict) -> None:
    """The snapshot's weights: into the learner, then to the env runners."""
    algo.learner_group.set_state(snapshot["policy"]["learner_rl_module"])
    algo.env_runner_group.sync_weights(from_worker_or_learner_group=algo.learner_group,
                                       inference_only=True)


class _RLlibLearner(Learner):
    """An RLlib Algorithm iterating ``algo.train()`` on its env runners."""

    def __init__(self, algo, run: Run, obs_norm: dict | None):
        self.algo, self.obs_norm = algo, obs_norm
        self.steps, self.steps_before = run.config.steps, run.steps_done
        self.sampled = 0

    def learn(self, logger: RunLogger, checkpoint) -> None:
        while self.sampled < self.steps:
            results = self.algo.train()
            now = int(_result(results, "num_env_steps_sampled_lifetime", 0))
            logger.step(now - self.sampled)
            self.sampled = now
            if int(_result(results, "num_episodes", 0)) > 0:
                ret = _result(results, "episode_return_mean")
                if ret is not None and math.isfinite(ret):
                    logger.episode(float(ret), int(_result(results, "episode_len_mean", 0)),
                                   step=self.steps_before + self.sampled)

    def learned(self) -> Learned:
        return Learned(_policy_state(self.algo), self.obs_norm,
                       self.steps_before + self.sampled)


class RLlibBackend(Backend):
    """Ray RLlib (new API stack) PPO and SAC; ``workers`` env runners, each its own process.

    Option ``address``: the Ray cluster to run on (default: a local Ray instance).
    """

    name = "rllib"
    algorithms: ClassVar[dict[str, dict]] = ALGORITHM_DEFAULTS
    options: ClassVar[dict[str, Any]] = {"address": None}

    def prepare(self, run: Run) -> _RLlibLearner:
        config, hyperparams = run.config, run.hyperparams
        _, _, normalize = split_hyperparams(run.algorithm, hyperparams)
        # Also checks the env kwargs here, not inside a Ray actor.
        if run.resumed is not None:
            obs_norm = run.resumed["obs_norm"]
        elif normalize:
            obs_norm = estimate_obs_norm(config, hyperparams.get("obs_norm_warmup_steps", 1000),
                                         config.seed)
        else:
            obs_norm = None
            make_env(config).close()

        address = run.options["address"]
        num_cpus = (os.cpu_count() or 1) if address is None else None
        algo_config = build_config(run.algorithm, config, hyperparams,
                                   config.seed + run.steps_done, num_cpus, obs_norm)
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR)
            run.cleanup.callback(ray.shutdown)
        register_env(ENV_NAME, _create_env)
        run.cleanup.enter_context(_quiet_ray())
        logdir = run.cleanup.enter_context(tempfile.TemporaryDirectory(prefix="rllib-"))
        run.cleanup.enter_context(_trainable_logdir(Path(logdir)))
        algo = algo_config.build_algo()
        run.cleanup.callback(algo.stop)
        if run.resumed is not None:
            _restore(algo, run.resumed)
        return _RLlibLearner(algo, run, obs_norm)

    def load_policy(self, snapshot: dict) -> Policy:
        if snapshot.get("backend") != self.name:
            raise SnapshotError(f"this snapshot is from the {snapshot.get('backend')!r} "
                                f"backend, not {self.name!r}")
        algorithm = snapshot.get("algorithm")
        if algorithm not in CONFIG_CLASSES:
            raise SnapshotError(f"unknown RLlib algorithm {algorithm!r} in the snapshot")
        return RLlibPolicy(algorithm, snapshot["policy"], snapshot["obs_norm"])


def deterministic_action(dist_cls, dist_inputs: torch.Tensor) -> torch.Tensor:
    """The action distribution's deterministic action, in RLlib's normalised [-1, 1] space.

    A Gaussian gives its mean. SAC's squashed Gaussian gives tanh of its mean: the
    policy's actions are squashed samples, and RLlib's own ``to_deterministic`` (the
    mean before the tanh, later clipped to [-1, 1]) is not an action SAC trained on.
    """
    from ray.rllib.core.distribution.torch.torch_distribution import (
        TorchDiagGaussian,
        TorchSquashedGaussian,
    )

    if issubclass(dist_cls, TorchSquashedGaussian):
        return torch.tanh(torch.chunk(dist_inputs, 2, dim=-1)[0])
    if issubclass(dist_cls, TorchDiagGaussian):
        return torch.chunk(dist_inputs, 2, dim=-1)[0]
    return dist_cls.from_logits(dist_inputs).to_deterministic().sample()


class RLlibPolicy(Policy):
    """An RLlib RLModule rebuilt from snapshot weights; acts without Ray running."""

    def __init__(self, algorithm: str, policy: dict, obs_norm: dict | None):
        try:
            self.obs_size = int(policy["observation_size"])
            self.action_space = gymnasium.spaces.Box(policy["action_low"], policy["action_high"],
                                                     dtype=np.float32)
            spec = CONFIG_CLASSES[algorithm]().get_default_rl_module_spec()
            spec = RLModuleSpec(
                module_class=spec.module_class, catalog_class=spec.catalog_class,
                observation_space=gymnasium.spaces.Box(-OBS_CLIP, OBS_CLIP, (self.obs_size,),
                                                       np.float32),
                action_space=self.action_space, inference_only=True,
                model_config=policy["model_config"])
            with _quiet_ray():
                self.module = spec.build()
            self.module.set_state({k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                                   for k, v in policy["rl_module"].items()})
        except (KeyError, TypeError, RuntimeError, ValueError) as err:
            raise SnapshotError(f"the snapshot's RLlib policy cannot be rebuilt: "
                                f"{type(err).__name__}: {err}") from None
        self.module.eval()
        self.normalize_actions = bool(policy["normalize_actions"])
        self.obs_norm = obs_norm

    def act(self, observation: np.ndarray) -> np.ndarray:
        observation = np.asarray(observation, dtype=np.float64).reshape(-1)
        if observation.shape[0] != self.obs_size:
            raise ValueError(f"the policy takes {self.obs_size} observations, "
                             f"got {observation.shape[0]}")
        obs = normalize_observation(observation, self.obs_norm, clip=OBS_CLIP)
        obs = torch.as_tensor(obs, dtype=torch.float32)[None]
        with torch.no_grad():
            out = self.module.forward_inference({"obs": obs})
            if "actions" in out:
                action = out["actions"]
            else:
                action = deterministic_action(self.module.get_inference_action_dist_cls(),
                                              out["action_dist_inputs"])
        action = action[0].cpu().numpy().astype(np.float64)
        if self.normalize_actions:
            action = unsquash_action(action, self.action_space)
        return np.clip(action, self.action_space.low, self.action_space.high).astype(np.float32)
