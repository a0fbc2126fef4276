"""DDPG written with Keras 3 on its torch backend, after keras-rl's ``DDPGAgent``.

keras-rl (the library of the 2017 osim-rl examples) is unmaintained and needs
Keras 2 with TensorFlow; this module keeps its design and defaults on Keras 3:

* actor: observation -> 32-32-32 ReLU -> sigmoid, so actions are muscle excitations in [0, 1];
* critic: (action, observation) -> 64-64-64 ReLU -> linear Q value;
* replay memory of the last 100000 transitions, uniform minibatches of 32;
* Ornstein-Uhlenbeck exploration noise (theta 0.15, mu 0, sigma 0.2, dt 0.01),
  restarted at every episode;
* gamma 0.99, soft target updates with tau 1e-3 after every step, updates start
  after 100 warm-up steps;
* Adam with learning rate 1e-3 and gradients clipped to norm 1 for both networks,
  as osim-rl's later keras-rl example (``optimizer="rmsprop", clipnorm=None`` gives
  the first ``train.ddpg.py``'s RMSprop 1e-3: on the ARM its sigmoid actor saturated
  at all-ones excitation within 3000 steps and did not recover in 20000).

Two deliberate differences: observations are normalised by running mean and
variance (``normalize_observations``; the ARM's joint accelerations reach
hundreds of rad/s^2, which keras-rl fed raw), and a time-limit truncation
bootstraps from the next state instead of counting as a terminal state.

The update is plain torch autograd through the Keras layers: gradients of the
loss with respect to the layers' variables, applied by a Keras optimizer.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

# Keras picks its backend at import time; this module needs torch. Respect an
# explicit setting, but refuse one we cannot run on.
_KERAS_BACKEND = os.environ.setdefault("KERAS_BACKEND", "torch")
if _KERAS_BACKEND != "torch":
    raise ImportError(f"the keras backend of osim-rl runs Keras on torch, but KERAS_BACKEND is "
                      f"{_KERAS_BACKEND!r}; unset it or set KERAS_BACKEND=torch")

import keras
import torch

if keras.backend.backend() != "torch":  # keras was imported earlier with another backend
    raise ImportError(f"Keras is already running on {keras.backend.backend()!r}; the keras "
                      f"backend of osim-rl needs torch: set KERAS_BACKEND=torch before "
                      f"importing keras")

from osim.train.base import (
    Backend,
    EpisodeLogger,
    Learned,
    Learner,
    Policy,
    Run,
    RunLogger,
    RunningMeanStd,
    SnapshotError,
    make_env,
    normalize_observation,
    set_torch_threads,
)

DDPG_DEFAULTS: dict[str, Any] = {
    "actor_layers": [32, 32, 32],
    "critic_layers": [64, 64, 64],
    "optimizer": "adam",  # or "rmsprop" (the first keras-rl example)
    "clipnorm": 1.0,  # clip each gradient to this norm (None: no clipping)
    "actor_lr": 1e-3,
    "critic_lr": 1e-3,
    "gamma": 0.99,
    "tau": 1e-3,
    "batch_size": 32,
    "memory_limit": 100_000,
    "warmup_steps_critic": 100,
    "warmup_steps_actor": 100,
    "ou_theta": 0.15,
    "ou_mu": 0.0,
    "ou_sigma": 0.2,
    "ou_dt": 1e-2,
    "normalize_observations": True,
}

OPTIMIZERS = {"rmsprop": "RMSprop", "adam": "Adam"}  # hyperparameter -> keras.optimizers class

# Snapshots are written this often (environment steps) during training, and at the end.
CHECKPOINT_EVERY = 10_000


def check_hyperparams(params: dict) -> dict:
    """`params` with known keys only and sane values; ValueError naming the problem."""
    unknown = sorted(set(params) - set(DDPG_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown DDPG hyperparameters {unknown}; known: {sorted(DDPG_DEFAULTS)}")
    if params["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, "
                         f"got {params['optimizer']!r}")
    if params["clipnorm"] is not None and not float(params["clipnorm"]) > 0:
        raise ValueError(f"clipnorm must be positive or None, got {params['clipnorm']!r}")
    for key in ("actor_layers", "critic_layers"):
        layers = params[key]
        if (not isinstance(layers, (list, tuple)) or not layers
                or not all(isinstance(n, int) and n > 0 for n in layers)):
            raise ValueError(f"{key} must be a non-empty list of positive layer sizes, "
                             f"got {layers!r}")
    for key in ("actor_lr", "critic_lr", "tau", "ou_theta", "ou_dt"):
        if not float(params[key]) > 0:
            raise ValueError(f"{key} must be positive, got {params[key]!r}")
    if not 0 <= float(params["gamma"]) <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {params['gamma']!r}")
    if not float(params["tau"]) <= 1:
        raise ValueError(f"tau must be in (0, 1], got {params['tau']!r}")
    if float(params["ou_sigma"]) < 0:
        raise ValueError(f"ou_sigma must be >= 0, got {params['ou_sigma']!r}")
    for key in ("batch_size", "memory_limit"):
        if int(params[key]) != params[key] or params[key] < 1:
            raise ValueError(f"{key} must be a positive integer, got {params[key]!r}")
    for key in ("warmup_steps_critic", "warmup_steps_actor"):
        if int(params[key]) != params[key] or params[key] < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {params[key]!r}")
    if params["memory_limit"] < params["batch_size"]:
        raise ValueError("memory_limit must be at least batch_size")
    return {**params, "actor_layers": list(params["actor_layers"]),
            "critic_layers": list(params["critic_layers"])}


# ---------------------------------------------------------------------- networks
def build_actor(obs_size: int, action_size: int, layers=(32, 32, 32)) -> keras.Model:
    """observation -> ReLU layers -> sigmoid: an action in [0, 1] per muscle."""
    observation = keras.Input((obs_size,), name="observation")
    x = observation
    for units in layers:
        x = keras.layers.Dense(units, activation="relu")(x)
    action = keras.layers.Dense(action_size, activation="sigmoid", name="action")(x)
    return keras.Model(observation, action, name="actor")


def build_critic(obs_size: int, action_size: int, layers=(64, 64, 64)) -> keras.Model:
    """(action, observation) -> ReLU layers -> linear Q value."""
    action = keras.Input((action_size,), name="action")
    observation = keras.Input((obs_size,), name="observation")
    x = keras.layers.Concatenate()([action, observation])
    for units in layers:
        x = keras.layers.Dense(units, activation="relu")(x)
    q_value = keras.layers.Dense(1, activation="linear", name="q_value")(x)
    return keras.Model([action, observation], q_value, name="critic")


class DenseStack:
    """Calls a model's Dense layers in order, through `keras.layers.Dense.call`.

    Our networks are chains of Dense layers (the critic's starts with a
    concatenation of action and observation); calling the layers directly gives the
    model's exact output about six times faster than ``model(x)``, whose
    Functional-graph bookkeeping dominates for networks this small.
    """

    def __init__(self, model: keras.Model):
        self.layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        x = inputs[0] if len(inputs) == 1 else torch.cat(inputs, dim=1)
        for layer in self.layers:
            x = layer.call(x)
        return x


def _torch_params(model: keras.Model) -> list[torch.Tensor]:
    return [v.value for v in model.trainable_variables]


def _numpy(variables) -> list[np.ndarray]:
    """Copies of Keras variables' values (`Model.get_weights` order for ``model.weights``)."""
    return [v.value.detach().cpu().numpy().copy() for v in variables]


def _weights(model: keras.Model) -> list[np.ndarray]:
    return _numpy(model.weights)


def _assign(variables, values) -> None:
    """Set Keras variables from arrays, checking count and shapes (ValueError otherwise)."""
    variables, values = list(variables), [np.asarray(v) for v in values]
    if len(variables) != len(values):
        raise ValueError(f"expected {len(variables)} arrays, got {len(values)}")
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"shape {value.shape} does not fit variable {variable.path} "
                             f"of shape {tuple(variable.shape)}")
    with torch.no_grad():
        for variable, value in zip(variables, values):
            variable.value.copy_(torch.as_tensor(value, dtype=variable.value.dtype))


# ------------------------------------------------------------- memory and noise
class ReplayMemory:
    """The last `limit` transitions in numpy ring buffers; uniform sampling."""

    def __init__(self, limit: int, obs_size: int, action_size: int):
        self.limit = int(limit)
        self.obs = np.zeros((self.limit, obs_size), dtype=np.float32)
        self.actions = np.zeros((self.limit, action_size), dtype=np.float32)
        self.rewards = np.zeros(self.limit, dtype=np.float32)
        self.next_obs = np.zeros((self.limit, obs_size), dtype=np.float32)
        self.terminals = np.zeros(self.limit, dtype=np.float32)
        self._next = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, obs, action, reward, next_obs, terminated) -> None:
        i = self._next
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminals[i] = next_obs, float(terminated)
        self._next = (i + 1) % self.limit
        self.size = min(self.size + 1, self.limit)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        idx = rng.integers(0, self.size, size=batch_size)
        return (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                self.terminals[idx])


class OrnsteinUhlenbeckNoise:
    """``x += theta (mu - x) dt + sigma sqrt(dt) N(0, 1)``, per action; `reset` to zero."""

    def __init__(self, size: int, theta: float, mu: float, sigma: float, dt: float,
                 rng: np.random.Generator):
        self.size, self.theta, self.mu, self.sigma, self.dt = size, theta, mu, sigma, dt
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        self.x = np.zeros(self.size)

    def sample(self) -> np.ndarray:
        self.x = (self.x + self.theta * (self.mu - self.x) * self.dt
                  + self.sigma * np.sqrt(self.dt) * self.rng.standard_normal(self.size))
        return self.x


# -------------------------------------------------------------------------- agent
class DDPGAgent:
    """Actor, critic, their target copies, replay memory and exploration noise.

    Call `act` for an action, `remember` with the transition, then `learn`
    (one minibatch update of critic and actor once warmed up, then soft target updates).
    """

    def __init__(self, obs_size: int, action_size: int, hyperparams: dict | None = None,
                 seed: int = 0):
        self.hp = check_hyperparams({**DDPG_DEFAULTS, **(hyperparams or {})})
        self.obs_size, self.action_size = int(obs_size), int(action_size)
        keras.utils.set_random_seed(int(seed))
        self.rng = np.random.default_rng(seed)
        hp = self.hp
        self.actor = build_actor(obs_size, action_size, hp["actor_layers"])
        self.critic = build_critic(obs_size, action_size, hp["critic_layers"])
        self.target_actor = build_actor(obs_size, action_size, hp["actor_layers"])
        self.target_critic = build_critic(obs_size, action_size, hp["critic_layers"])
        _assign(self.target_actor.weights, _weights(self.actor))
        _assign(self.target_critic.weights, _weights(self.critic))
        self._actor, self._critic = DenseStack(self.actor), DenseStack(self.critic)
        self._target_actor = DenseStack(self.target_actor)
        self._target_critic = DenseStack(self.target_critic)
        optimizer = getattr(keras.optimizers, OPTIMIZERS[hp["optimizer"]])
        clip = {"clipnorm": float(hp["clipnorm"])} if hp["clipnorm"] is not None else {}
        self.actor_optimizer = optimizer(hp["actor_lr"], **clip)
        self.critic_optimizer = optimizer(hp["critic_lr"], **clip)
        self.actor_optimizer.build(self.actor.trainable_variables)
        self.critic_optimizer.build(self.critic.trainable_variables)
        self.memory = ReplayMemory(hp["memory_limit"], obs_size, action_size)
        self.noise = OrnsteinUhlenbeckNoise(action_size, hp["ou_theta"], hp["ou_mu"],
                                            hp["ou_sigma"], hp["ou_dt"], self.rng)
        self.obs_rms = RunningMeanStd(obs_size) if hp["normalize_observations"] else None
        self.updates = 0

    # ------------------------------------------------------------------ acting
    @property
    def obs_norm(self) -> dict | None:
        return None if self.obs_rms is None else self.obs_rms.state

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        return normalize_observation(obs, self.obs_norm).astype(np.float32)

    def act(self, observation: np.ndarray, explore: bool = True) -> np.ndarray:
        """The actor's action, plus exploration noise if `explore`, clipped to [0, 1]."""
        obs = torch.as_tensor(self.normalize(observation)[None])
        with torch.no_grad():
            action = self._actor(obs)[0].numpy().astype(np.float64)
        if explore:
            action = action + self.noise.sample()
        return np.clip(action, 0.0, 1.0).astype(np.float32)

    def reset_noise(self) -> None:
        self.noise.reset()

    # ---------------------------------------------------------------- learning
    def remember(self, obs, action, reward, next_obs, terminated) -> None:
        """Store a transition (raw observations) and update the observation statistics."""
        self.memory.append(obs, action, reward, next_obs, terminated)
        if self.obs_rms is not None:
            self.obs_rms.update(np.asarray(next_obs)[None])

    def learn(self) -> dict[str, float]:
        """One update if the memory holds enough transitions; the losses (empty if none)."""
        hp = self.hp
        size = len(self.memory)
        train_critic = size >= max(hp["batch_size"], hp["warmup_steps_critic"])
        train_actor = size >= max(hp["batch_size"], hp["warmup_steps_actor"])
        if not (train_critic or train_actor):
            return {}
        batch = self.memory.sample(hp["batch_size"], self.rng)
        losses = self.train_on_batch(*batch, train_critic=train_critic, train_actor=train_actor)
        self.update_targets()
        return losses

    def train_on_batch(self, obs, actions, rewards, next_obs, terminals, *,
                       train_critic: bool = True, train_actor: bool = True) -> dict[str, float]:
        """Critic: regress Q(s, a) on r + gamma Q'(s', mu'(s')); actor: ascend Q(s, mu(s))."""
        obs_t = torch.as_tensor(self.normalize(obs))
        next_obs_t = torch.as_tensor(self.normalize(next_obs))
        actions_t = torch.as_tensor(np.asarray(actions, dtype=np.float32))
        rewards_t = torch.as_tensor(np.asarray(rewards, dtype=np.float32)).reshape(-1, 1)
        not_done = 1.0 - torch.as_tensor(np.asarray(terminals, dtype=np.float32)).reshape(-1, 1)
        losses = {}
        if train_critic:
            with torch.no_grad():
                next_q = self._target_critic(self._target_actor(next_obs_t), next_obs_t)
                target = rewards_t + self.hp["gamma"] * not_done * next_q
            critic_loss = torch.mean((self._critic(actions_t, obs_t) - target) ** 2)
            self._apply(critic_loss, self.critic, self.critic_optimizer)
            losses["critic_loss"] = float(critic_loss.detach())
        if train_actor:
            actor_loss = -torch.mean(self._critic(self._actor(obs_t), obs_t))
            self._apply(actor_loss, self.actor, self.actor_optimizer)
            losses["actor_loss"] = float(actor_loss.detach())
        self.updates += 1
        return losses

    @staticmethod
    def _apply(loss: torch.Tensor, model: keras.Model, optimizer) -> None:
        # Gradients with respect to this model's variables only (the actor's loss
        # runs through the critic, whose weights must not move with it).
        grads = torch.autograd.grad(loss, _torch_params(model))
        with torch.no_grad():
            optimizer.apply(list(grads), model.trainable_variables)

    def update_targets(self) -> None:
        """Soft update: target <- (1 - tau) target + tau online."""
        tau = float(self.hp["tau"])
        with torch.no_grad():
            for online, target in ((self.actor, self.target_actor),
                                   (self.critic, self.target_critic)):
                torch._foreach_lerp_([v.value for v in target.weights],
                                     [v.value for v in online.weights], tau)

    # ----------------------------------------------------------------- weights
    def get_state(self) -> dict:
        """Network weights and optimizer state as lists of numpy arrays."""
        return {
            "actor": _weights(self.actor),
            "critic": _weights(self.critic),
            "target_actor": _weights(self.target_actor),
            "target_critic": _weights(self.target_critic),
            "actor_optimizer": _numpy(self.actor_optimizer.variables),
            "critic_optimizer": _numpy(self.critic_optimizer.variables),
        }

    def set_state(self, state: dict, obs_norm: dict | None = None) -> None:
        try:
            for key in ("actor", "critic", "target_actor", "target_critic"):
                _assign(getattr(self, key).weights, state[key])
            for key in ("actor_optimizer", "critic_optimizer"):
                if state.get(key):
                    _assign(getattr(self, key).variables, state[key])
        except (KeyError, ValueError) as err:
            raise SnapshotError(f"the snapshot's DDPG weights do not fit this network "
                                f"({type(err).__name__}: {err})") from None
        if obs_norm is not None and self.obs_rms is not None:
            self.obs_rms = RunningMeanStd(self.obs_size, obs_norm)


# ------------------------------------------------------------------------ policy
class KerasDDPGPolicy(Policy):
    """The actor of a snapshot: normalised observation -> action in [0, 1]."""

    def __init__(self, actor_weights: list[np.ndarray], obs_norm: dict | None):
        kernels = [w for w in actor_weights if np.ndim(w) == 2]
        if not kernels:
            raise SnapshotError("the snapshot holds no DDPG actor weights")
        obs_size, action_size = kernels[0].shape[0], kernels[-1].shape[1]
        self.obs_size = int(obs_size)
        self.actor = build_actor(obs_size, action_size, [k.shape[1] for k in kernels[:-1]])
        try:
            _assign(self.actor.weights, actor_weights)
        except ValueError as err:
            raise SnapshotError(f"the snapshot's actor weights are inconsistent: {err}") from None
        self._actor = DenseStack(self.actor)
        self.obs_norm = obs_norm

    def act(self, observation: np.ndarray) -> np.ndarray:
        observation = np.asarray(observation, dtype=np.float64).reshape(-1)
        if observation.shape[0] != self.obs_size:
            raise ValueError(f"the policy takes {self.obs_size} observations, "
                             f"got {observation.shape[0]}")
        obs = normalize_observation(observation, self.obs_norm).astype(np.float32)[None]
        with torch.no_grad():
            action = self._actor(torch.as_tensor(obs))[0].numpy()
        return np.clip(action, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------- backend
class _KerasLearner(Learner):
    """A `DDPGAgent` stepping through its env, one update per step."""

    def __init__(self, agent: DDPGAgent, env, run: Run, seed: int):
        self.agent, self.env, self.steps, self.seed = agent, env, run.config.steps, seed
        self.checkpoint_every = int(run.options["checkpoint_every"])
        self.steps_done = run.steps_done

    def learn(self, logger: RunLogger, checkpoint) -> None:
        agent, env = self.agent, EpisodeLogger(self.env, logger)
        obs, _ = env.reset(seed=self.seed)
        agent.reset_noise()
        for step in range(1, self.steps + 1):
            action = agent.act(obs, explore=True)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            agent.remember(obs, action, reward, next_obs, terminated)
            self.steps_done += 1
            agent.learn()
            obs = next_obs
            if terminated or truncated:
                obs, _ = env.reset()
                agent.reset_noise()
            if self.checkpoint_every and step % self.checkpoint_every == 0 and step < self.steps:
                checkpoint()

    def learned(self) -> Learned:
        return Learned(self.agent.get_state(), self.agent.obs_norm, self.steps_done)


class KerasDDPGBackend(Backend):
    """DDPG in Keras 3 (torch), keras-rl's design. Single environment (``workers`` must be 1).

    Options: ``checkpoint_every`` (write ``params.pkl`` every this many steps, 0: only
    at the end) and ``render_mode`` (``"human"`` shows training; not kept in the snapshot).
    """

    name = "keras"
    algorithms: ClassVar[dict[str, dict]] = {"DDPG": dict(DDPG_DEFAULTS)}
    options: ClassVar[dict[str, Any]] = {"checkpoint_every": CHECKPOINT_EVERY,
                                         "render_mode": None}

    def hyperparams(self, algorithm: str, overrides: dict | None = None) -> dict:
        """The defaults updated with `overrides`, checked (`check_hyperparams`)."""
        return check_hyperparams(super().hyperparams(algorithm, overrides))

    def prepare(self, run: Run) -> _KerasLearner:
        config = run.config
        if config.workers != 1:
            raise ValueError(f"the keras DDPG backend trains on one environment; "
                             f"got workers={config.workers}")
        seed = config.seed + run.steps_done  # a resumed run must not replay the same noise
        render_mode = run.options["render_mode"]
        env = make_env(config, seed=seed, **({"render_mode": render_mode} if render_mode else {}))
        run.cleanup.callback(env.close)
        agent = DDPGAgent(env.observation_space.shape[0], env.action_space.shape[0],
                          run.hyperparams, seed=seed)
        if run.resumed is not None:
            agent.set_state(run.resumed["policy"], run.resumed["obs_norm"])
        return _KerasLearner(agent, env, run, seed)

    def load_policy(self, snapshot: dict) -> Policy:
        if snapshot.get("backend") != self.name:
            raise SnapshotError(f"this snapshot is from the {snapshot.get('backend')!r} "
                                f"backend, not {self.name!r}")
        policy = snapshot["policy"]
        if not isinstance(policy, dict) or "actor" not in policy:
            raise SnapshotError("the snapshot holds no DDPG actor weights")
        set_torch_threads(1)
        return KerasDDPGPolicy([np.asarray(w) for w in policy["actor"]], snapshot["obs_norm"])
