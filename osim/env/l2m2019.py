"""The classic NeurIPS 2019 ``L2M2019Env``, with the original's flags and defaults."""

from __future__ import annotations

from typing import Any

import numpy as np

from osim.env.classic import ClassicEnv
from osim.tasks.l2m2019 import FIELD_BOUND, L2M2019

DEG = np.pi / 180
# The original's observation bounds, used only by `L2M2019Env.get_observation_clipped`
# (the observation space's bounds are those that every reachable state meets).
PELVIS_BOUNDS = ([0.0, -np.pi, -np.pi] + [-20.0] * 3 + [-10 * np.pi] * 3,
                 [3.0, np.pi, np.pi] + [20.0] * 3 + [10 * np.pi] * 3)
LEG_BOUNDS = ([-5.0, -5.0, -10.0, -45 * DEG, -180 * DEG, -180 * DEG, -45 * DEG]
              + [-5 * np.pi] * 4 + [0.0, 0.0, -50.0] * 11,
              [5.0, 5.0, 10.0, 90 * DEG, 45 * DEG, 15 * DEG, 90 * DEG]
              + [5 * np.pi] * 4 + [3.0, 3.0, 50.0] * 11)


def original_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the original's 339-value observation space."""
    field = [FIELD_BOUND] * 242
    low = np.array([-v for v in field] + PELVIS_BOUNDS[0] + LEG_BOUNDS[0] * 2)
    high = np.array(field + PELVIS_BOUNDS[1] + LEG_BOUNDS[1] * 2)
    return low, high


class L2M2019Env(ClassicEnv):
    """The Learn-to-Move 2019 environment with the original's API.

    Args:
        visualize: open the Simbody visualizer when a display exists (default
            True as the original; warns and runs headless without a display).
        integrator_accuracy: 5e-5 as the original (RK-Merson).
        difficulty: 0-3 (default 3, Round 2): the target-velocity field's
            version and the reward round (0-2: Round 1); 1000 steps at 0-2,
            2500 at 3.
        seed: seed of the target field (and of the env's other draws), applied
            at construction and again at the first ``reset()``; later resets
            continue the field's generator, as the original's (whose fields
            this reproduces for the same seed; seed 0 is a seed here).
        model: ``"3D"`` or ``"2D"`` (five out-of-plane coordinates locked).
        **options: more keyword arguments of `osim.env.OsimGymEnv` and of the
            task (its reward parameters).

    ``reset(project=True, seed=None, init_pose=None, obs_as_dict=True)`` and
    ``step(action, project=True, obs_as_dict=True)`` return the original's
    nested observation dictionary (``obs_as_dict=True``), the 339-value flat
    vector (``obs_as_dict=False``) or, with ``project=False``, the full state
    dictionary with ``"v_tgt_field"``. ``reset(seed=s)`` reseeds the field;
    ``reset(difficulty=d)`` plays one episode at another difficulty.
    ``change_model(model, difficulty, seed)`` rebuilds the env. The task
    (reward, observation, field) is described in `osim.tasks.L2M2019`.
    """

    task_class = L2M2019

    def __init__(self, visualize: bool = True, integrator_accuracy: float | None = 5e-5,
                 difficulty: int = 3, seed: int | None = None, model: str = "3D",
                 **options: Any):
        self._build_options = dict(visualize=visualize, integrator_accuracy=integrator_accuracy,
                                   **options)
        # the time limit follows the episode's difficulty unless given
        self._max_episode_steps = options.get("max_episode_steps")
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy,
                         seed=seed, difficulty=difficulty, model=model,
                         continue_field_stream=True, **options)

    # ------------------------------------------------- original attributes
    @property
    def model(self) -> str:
        return self.env.task.model_name

    @property
    def difficulty(self) -> int:
        """The difficulty of the current episode."""
        return self.env.task.episode["difficulty"]

    @property
    def footstep(self) -> dict:
        """``n`` footsteps so far, ``new`` (one was detected at the last step)."""
        steps = self.env.task.episode["footsteps"]
        return {"n": steps["count"], "new": steps["new"],
                "r_contact": steps["contact_r"], "l_contact": steps["contact_l"]}

    @property
    def v_tgt_field(self) -> np.ndarray:
        """The local target-velocity field, (2, 11, 11) m/s."""
        return self.env.task.episode["local_field"].copy()

    # ------------------------------------------------------------- API
    def reset(self, project: bool = True, seed: int | None = None, init_pose=None,
              obs_as_dict: bool = True, **options: Any):
        if seed is None:
            seed = self._seed  # the constructor's seed, for the first reset only
        if seed is not None:
            options["field_seed"] = seed
        if init_pose is not None:
            options["init_pose"] = init_pose
        super().reset(seed=seed, **options)
        self.time_limit = self._max_episode_steps or self.env.task.max_episode_steps
        return self._observation(project, obs_as_dict)

    def step(self, action, project: bool = True, obs_as_dict: bool = True):
        _, reward, done, info = super().step(action)
        return self._observation(project, obs_as_dict), reward, done, info

    def _observation(self, project: bool, obs_as_dict: bool):
        if not project:
            return self.get_state_desc()
        return self.get_observation_dict() if obs_as_dict else self.get_observation()

    def get_state_desc(self) -> dict:
        return self.env.task.state_dict(self.env.sim)

    def get_observation_dict(self) -> dict:
        """The original's nested observation dictionary."""
        return self.env.task.nested_observation(self.env.observation_dict())

    def get_observation_clipped(self) -> np.ndarray:
        """The flat vector clipped to the original's observation bounds."""
        return np.clip(self.get_observation(), *original_bounds())

    def change_model(self, model: str = "3D", difficulty: int = 3,
                     seed: int | None = None) -> None:
        """Rebuild the env with this model (``"3D"`` or ``"2D"``) and difficulty and
        start an episode; ``seed`` seeds its field (None: a fresh one; the
        original ignored this argument)."""
        L2M2019(difficulty=difficulty, model=model)  # refuse bad values before the rebuild
        old = self.env
        ClassicEnv.__init__(self, seed=seed, difficulty=difficulty, model=model,
                            continue_field_stream=True, **self._build_options)
        old.close()
