"""The classic NIPS 2018 ``ProstheticsEnv``, with the original's flags and defaults."""

from __future__ import annotations

from typing import Any

import numpy as np

from osim.env.classic import ClassicEnv
from osim.tasks.prosthetics import Prosthetics


class ProstheticsEnv(ClassicEnv):
    """The AI-for-Prosthetics environment with the 2018 osim-rl API.

    Args:
        visualize: open the Simbody visualizer when a display exists (default
            True as the original; warns and runs headless without a display).
        integrator_accuracy: 5e-5 as the original (RK-Merson).
        difficulty: 0 (run at 3 m/s, 300 steps) or 1 (follow a changing target
            velocity, 1000 steps).
        seed: seed of the env's RNG (the target velocity process), applied at
            the first ``reset``.
        obs_layout: ``"default"`` (148 values for both models) or ``"2018"``:
            the 2018 challenge's own flat vector (160 values with the prosthesis,
            169 healthy), so that an agent written for that challenge runs
            unchanged.
        **options: ``prosthetic`` and more keyword arguments of `osim.env.OsimGymEnv`.

    ``reset(project=True, seed=None, obs_as_dict=None)`` and ``step(action,
    project=True, obs_as_dict=None)`` return the observation dictionary
    (``obs_as_dict=True``, the default of the 148-value layout), the flat
    vector (``obs_as_dict=False``, the default with ``obs_layout="2018"``, whose
    API had no dictionary) or the full state dictionary
    (``get_state_desc()``) with ``project=False``.
    ``change_model(model="3D", prosthetic=True, difficulty=0, seed=0)``
    rebuilds the simulation and reseeds. The task (reward, observation,
    target velocity) is described in `osim.tasks.Prosthetics`.
    """

    task_class = Prosthetics

    def __init__(self, visualize: bool = True, integrator_accuracy: float | None = 5e-5,
                 difficulty: int = 0, seed: int | None = None, obs_layout: str = "default",
                 **options: Any):
        self._build_options = dict(visualize=visualize, integrator_accuracy=integrator_accuracy,
                                   obs_layout=obs_layout, **options)
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy,
                         seed=seed, difficulty=difficulty, obs_layout=obs_layout, **options)

    # ------------------------------------------------- original attributes
    @property
    def model(self) -> str:
        return self.env.task.model_name

    @property
    def prosthetic(self) -> bool:
        return self.env.task.prosthetic

    @property
    def difficulty(self) -> int:
        return self.env.task.difficulty

    @property
    def target_vel(self) -> np.ndarray:
        """The current target velocity (vx, vy, vz), m/s."""
        return self.env.task.target_at(self.env.sim.step_count)

    # ------------------------------------------------------------- API
    @property
    def obs_layout(self) -> str:
        return self.env.task.obs_layout

    def reset(self, project: bool = True, seed: int | None = None,
              obs_as_dict: bool | None = None, **options: Any):
        observation = super().reset(seed=seed, obs_as_dict=self._as_dict(obs_as_dict), **options)
        return observation if project else self.get_state_desc()

    def step(self, action, project: bool = True, obs_as_dict: bool | None = None):
        observation, reward, done, info = super().step(action,
                                                       obs_as_dict=self._as_dict(obs_as_dict))
        if not project:
            observation = self.get_state_desc()
        return observation, reward, done, info

    def _as_dict(self, obs_as_dict: bool | None) -> bool:
        return self.obs_layout != "2018" if obs_as_dict is None else bool(obs_as_dict)

    def get_state_desc(self) -> dict:
        return self.env.task.state_dict(self.env.sim)

    def get_observation_dict(self) -> dict:
        return self.env.observation_dict()

    def change_model(self, model: str = "3D", prosthetic: bool = True, difficulty: int = 0,
                     seed: int | None = 0) -> None:
        """Rebuild the simulation with this model and difficulty; the next
        ``reset()`` reseeds with ``seed``. Call ``reset()`` before stepping."""
        Prosthetics(difficulty=difficulty, prosthetic=prosthetic, model=model)  # validate first
        old = self.env
        ClassicEnv.__init__(self, seed=seed, difficulty=difficulty, prosthetic=prosthetic,
                            model=model, **self._build_options)
        old.close()
