"""What a task is: initial state, named observation, named reward terms, termination.

A task reads an `Engine` and never imports Gymnasium; the adapters in
`osim.env` turn a task into the Gymnasium API and the classic osim-rl API.
Data flows one way: model -> simulation -> task -> env -> agent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from osim.checks import finite_number, positive_integer
from osim.engines import Engine, ModelSpec


@dataclass(frozen=True)
class ObsEntry:
    """One named part of an observation: a float vector with labelled entries.

    ``low``/``high`` must hold for every reachable state (use +-inf where the
    physics sets no bound); they become the Box bounds of the spaces.
    """

    key: str
    labels: tuple[str, ...]
    low: float = -np.inf
    high: float = np.inf

    @property
    def size(self) -> int:
        return len(self.labels)


class Task:
    """Base class of every task. Subclasses set the class attributes and override
    `observation_spec`, `observe`, `reward_terms` and, where needed, the hooks.

    Attributes:
        model: name of a model in `osim.models.MODELS`, built for each env.
        max_episode_steps: episode length at which an episode is truncated.
        classic_name: the class name under `osim.env` (e.g. ``"ArmEnv"``).
        parameters: reward weights and thresholds, by name, with the original
            values; each is a constructor option (``gymnasium.make(...,
            min_pelvis_height=0.6)``) and an attribute of the task.
    """

    model: ClassVar[str]
    max_episode_steps: ClassVar[int] = 1000
    step_size: ClassVar[float] = 0.01
    classic_name: ClassVar[str | None] = None
    parameters: ClassVar[dict[str, float]] = {}

    def __init__(self, **parameters: Any):
        unknown = sorted(set(parameters) - set(self.parameters))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown options: {unknown}"
                            + (f"; its reward and termination parameters are "
                               f"{sorted(self.parameters)}" if self.parameters else ""))
        for name, default in self.parameters.items():
            setattr(self, name, finite_number(name, parameters.get(name, default)))
        self.episode: dict[str, Any] = {}

    # ------------------------------------------------------------- model
    # Options for the model's build() that this task needs (e.g. the ARM's joint stops).
    model_options: ClassVar[dict[str, Any]] = {}

    def model_spec(self) -> ModelSpec:
        """The model an engine builds for this task."""
        return ModelSpec(name=self.model, options=dict(self.model_options))

    def bind(self, sim: Engine) -> None:
        """Find by name, once, what the task reads from ``sim``. The env calls it
        whenever it builds a simulation, before anything else; a task keeps no
        reference to the simulation (tasks pickle with their env)."""

    # ----------------------------------------------------------- actions
    def action_size(self, sim: Engine) -> int:
        return sim.num_muscles

    def action_labels(self, sim: Engine) -> list[str]:
        return list(sim.muscle_names)

    def excitations(self, action: np.ndarray) -> np.ndarray:
        """Muscle excitations for an action already checked and clipped to [0, 1]."""
        return action

    # ----------------------------------------------------------- episode
    # Keyword options ``reset`` accepts (Gymnasium ``reset(options=...)``, classic
    # ``reset(**options)``); anything else is refused by `check_reset_options`.
    reset_options: ClassVar[tuple[str, ...]] = ()

    def check_reset_options(self, options: dict[str, Any] | None) -> dict[str, Any]:
        options = dict(options or {})
        unknown = sorted(set(options) - set(self.reset_options))
        if unknown:
            raise ValueError(f"{type(self).__name__}.reset got unknown options {unknown}; "
                             f"it accepts {list(self.reset_options) or 'none'}")
        return options

    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        """Start an episode: draw what the task draws and put the model in its
        initial state. The default is the model's default pose, muscles in
        equilibrium. ``options`` are those named in `reset_options`."""
        self.episode = {}
        sim.reset()

    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        raise NotImplementedError

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        """Named terms whose sum is the step's reward."""
        raise NotImplementedError

    def terminated(self, sim: Engine) -> bool:
        return False

    def info(self, sim: Engine) -> dict[str, Any]:
        """Extra entries for the ``info`` dict of every step and of reset."""
        return {}

    def overlays(self) -> dict[str, Any]:
        """What the task places in the world, for renderers: ``target`` (x, y, z)
        and ``obstacles`` rows (x, y, radius), in metres; empty by default."""
        return {}

    # ----------------------------------------- episode data in snapshots
    def get_episode(self) -> dict[str, Any]:
        return copy.deepcopy(self.episode)

    def set_episode(self, episode: dict[str, Any], sim: Engine) -> None:
        """Restore episode data from a snapshot (``sim`` is already restored)."""
        self.episode = copy.deepcopy(episode)


class ModelTask(Task):
    """Any user model as an environment: every muscle is an action, the
    observation holds each coordinate's value and speed and each muscle's
    activation, fiber length and fiber velocity, keyed by the model's own names.

    The reward is 0 unless ``reward_fn(sim) -> float`` is given; the episode
    never terminates by itself.
    """

    classic_name = None
    max_episode_steps = 1000

    def __init__(self, model_path: str, reward_fn: Callable[[Engine], float] | None = None,
                 max_episode_steps: int | None = None):
        super().__init__()
        self.model_path = model_path
        self.reward_fn = reward_fn
        if max_episode_steps is not None:
            self.max_episode_steps = positive_integer("max_episode_steps", max_episode_steps)

    def model_spec(self) -> ModelSpec:
        return ModelSpec(path=self.model_path)  # the engine names a bad path in its error

    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        spec = [ObsEntry(name, ("value", "speed")) for name in sim.coordinate_names]
        spec += [ObsEntry(name, ("activation", "fiber_length", "fiber_velocity"))
                 for name in sim.muscle_names]
        keys = [e.key for e in spec]
        if len(set(keys)) != len(keys):
            raise ValueError("a coordinate and a muscle share a name; observation keys must be unique")
        return spec

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        q, u = sim.coordinate_values(), sim.coordinate_speeds()
        obs = {name: np.array([q[i], u[i]]) for i, name in enumerate(sim.coordinate_names)}
        act, length, vel = sim.muscle_activations(), sim.fiber_lengths(), sim.fiber_velocities()
        for i, name in enumerate(sim.muscle_names):
            obs[name] = np.array([act[i], length[i], vel[i]])
        return obs

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        return {"reward_fn": float(self.reward_fn(sim))} if self.reward_fn else {}
