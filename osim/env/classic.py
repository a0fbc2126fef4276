"""The 2017-2019 osim-rl API over the same implementation as the Gymnasium envs.

``reset()`` returns the observation and ``step()`` returns
``(observation, reward, done, info)``, so the original tutorials run as written.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable

import numpy as np

from osim.checks import positive_integer
from osim.env.gym_env import OsimGymEnv
from osim.engines import Engine
from osim.tasks import ModelTask, Task


class ClassicEnv:
    """Base of the classic environments (``ArmEnv``, ...).

    Args:
        visualize: open the Simbody visualizer when a display exists (warns and
            runs headless otherwise).
        integrator_accuracy: integrator accuracy; default from the "default" preset.
        seed: seed of the env's RNG (targets, perturbations); ``reset(seed=)`` reseeds.
        max_episode_steps: episode length (``done`` after that many steps); default the task's.
        **options: more keyword arguments of `osim.env.OsimGymEnv` and the task
            (e.g. ``render_mode="rgb_array"``, ``camera="front"``).

    The env is ready to `step` as soon as it is made (as the original's were):
    construction starts an episode, seeded by ``seed``; the first `reset`
    without a seed starts that same episode again. An episode ends (``done``)
    when the task terminates, the simulation fails (``info["sim_error"]``) or
    ``time_limit`` steps have passed. Classic envs pickle: the copy rebuilds
    its simulation and carries on identically.
    """

    task_class: type[Task]

    def __init__(self, visualize: bool = False, integrator_accuracy: float | None = None,
                 seed: int | None = None, max_episode_steps: int | None = None,
                 **options: Any):
        if max_episode_steps is not None:
            max_episode_steps = positive_integer("max_episode_steps", max_episode_steps)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        self.env = OsimGymEnv(self._make_task(options), visualize=visualize,
                              accuracy=integrator_accuracy, **options)
        self.action_space = self.env.action_space
        self.observation_space = self.env.observation_space
        self.time_limit = max_episode_steps or self.env.task.max_episode_steps
        self._seed = seed
        self.reset()
        self._seed = seed  # the first reset() without a seed repeats this episode

    def _make_task(self, options: dict) -> Task:
        task_option_names = {*inspect.signature(self.task_class).parameters,
                             *self.task_class.parameters}
        task_options = {k: options.pop(k) for k in list(options) if k in task_option_names}
        return self.task_class(**task_options)

    @property
    def osim_model(self) -> Engine:
        """The simulation (the original's attribute name)."""
        return self.env.sim

    def reset(self, seed: int | None = None, obs_as_dict: bool = False, **options: Any):
        """Start an episode; ``options`` are the task's reset options (e.g. ``difficulty``)."""
        if seed is None:
            seed = self._seed  # the constructor's seed seeds the first episode only
        self._seed = None
        observation, _ = self.env.reset(seed=seed, options=options)
        self.istep = 0
        return self.env.observation_dict() if obs_as_dict else observation

    def step(self, action, obs_as_dict: bool = False):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.istep += 1
        done = terminated or truncated or self.istep >= self.time_limit
        if obs_as_dict:
            observation = self.env.observation_dict()
        return observation, reward, done, info

    def get_state_desc(self) -> dict:
        return self.env.state_dict()

    def get_observation(self) -> np.ndarray:
        return self.env.format_observation(self.env.observation_dict())

    def get_observation_space_size(self) -> int:
        return int(self.observation_space.shape[0])

    def get_action_space_size(self) -> int:
        return int(self.action_space.shape[0])

    def get_state(self):
        snapshot = self.env.get_state()
        snapshot.extra["istep"] = self.istep
        return snapshot

    def set_state(self, snapshot) -> None:
        self.env.set_state(snapshot)
        self.istep = snapshot.extra.get("istep", 0)

    def render(self, mode: str | None = None):
        """``render(mode="rgb_array")`` (or an env made with ``render_mode="rgb_array"``)
        returns the current frame as an (height, width, 3) uint8 array; with
        ``visualize=True`` the Simbody window follows every step by itself."""
        if mode is None:
            return self.env.render()
        if mode == "rgb_array":
            return self.env.render_frame()
        if mode == "human":
            return None
        raise ValueError(f"unsupported render mode {mode!r}; choose 'rgb_array' or 'human'")

    def close(self) -> None:
        self.env.close()


class OsimEnv(ClassicEnv):
    """Any ``.osim`` model as an environment: ``OsimEnv(model_path="my.osim")``.

    Actions are the model's muscles in model order; the observation dictionary
    (``obs_as_dict=True``) has one entry per coordinate (value, speed) and per
    muscle (activation, fiber length, fiber velocity) under the model's own
    names. The reward is ``reward_fn(simulation)`` if given, else 0.
    """

    task_class = ModelTask

    def __init__(self, model_path: str, reward_fn: Callable[[Engine], float] | None = None,
                 visualize: bool = False, integrator_accuracy: float | None = None,
                 max_episode_steps: int | None = None, seed: int | None = None, **options: Any):
        task = ModelTask(str(model_path), reward_fn=reward_fn, max_episode_steps=max_episode_steps)
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy,
                         seed=seed, task=task, **options)

    def _make_task(self, options: dict) -> Task:
        return options.pop("task")


# Hand-written classic classes (other defaults, the original's extra methods),
# by task name; every other registered task gets a generated one.
HAND_WRITTEN = {"Prosthetics": "osim.env.prosthetics:ProstheticsEnv",
                "L2M2019": "osim.env.l2m2019:L2M2019Env"}


def classic_env_class(task_name: str, task_class: type[Task]) -> type[ClassicEnv]:
    """The classic env class for a registered task (``ArmEnv`` for ``"Arm"``, ...)."""
    if task_name in HAND_WRITTEN:
        module, name = HAND_WRITTEN[task_name].split(":")
        return getattr(importlib.import_module(module), name)
    return type(task_class.classic_name, (ClassicEnv,), {
        "task_class": task_class, "__doc__": task_class.__doc__, "__module__": "osim.env"})
