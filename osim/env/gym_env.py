"""The Gymnasium adapter: any `Task` on its model as a ``gymnasium.Env``."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from osim.env import spaces as osim_spaces
from osim.render import check_view
from osim.checks import check_action, positive_number
from osim.engines import DEFAULT_ENGINE, SimState, SimulationError, check_engine, make_engine
from osim.tasks import TASKS, Task


def make_task(task: str | Task | type[Task], **task_options: Any) -> Task:
    if isinstance(task, Task):
        if task_options:
            raise TypeError("task options go to the task's constructor, not with a task instance")
        return task
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {sorted(TASKS)}")
        task = TASKS[task]
    return task(**task_options)


class OsimGymEnv(gymnasium.Env):
    """A musculoskeletal task as a Gymnasium environment.

    Args:
        task: a name in `osim.tasks.TASKS` (e.g. ``"Arm"``), a `Task` class or instance.
        engine: the physics engine, a name in `osim.engines.ENGINES` (default
            `osim.engines.DEFAULT_ENGINE`, OpenSim).
        render_mode: ``None``, ``"human"`` (the Simbody visualizer, when a display
            exists) or ``"rgb_array"`` (`render` returns a frame: see `osim.render`).
        obs_as_dict: observations as a ``Dict`` of named vectors instead of one flat vector.
        muscle_model: muscle model of the built model (see `osim.models.MUSCLE_MODELS`).
        step_size: control step (s); default the task's.
        preset, integrator, accuracy, max_step_size, restart_each_step: integrator
            settings of the engine (see its class, e.g. ``OpenSimEngine``).
        visualize: same as ``render_mode="human"``.
        width, height, camera: size (pixels) and view (``"side"``, ``"front"``,
            ``"top"``) of ``"rgb_array"`` frames.
        verbose: let OpenSim print its log.
        engine_options: settings of that engine alone, e.g. ``{"tendon": "rigid"}``
            for ``engine="mujoco"`` (see `MuJoCoEngine`).
        **task_options: passed to the task's constructor.

    Actions are muscle excitations in [0, 1]; values outside are clipped, NaN,
    inf or a wrong shape raise ``ValueError``. If the integrator fails, the step
    returns the last good observation, reward 0, ``terminated=True`` and
    ``info["sim_error"]``; `reset` makes the env usable again.
    ``info["reward_terms"]`` names the terms that sum to the reward.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 100}

    def __init__(self, task: str | Task | type[Task] = "Arm", *, engine: str = DEFAULT_ENGINE,
                 render_mode: str | None = None,
                 obs_as_dict: bool = False, muscle_model: str = "thelen2003",
                 preset: str = "default", integrator: str | None = None,
                 accuracy: float | None = None, step_size: float | None = None,
                 max_step_size: float | None = None, restart_each_step: bool = True,
                 visualize: bool = False, verbose: bool = False, width: int = 480,
                 height: int = 480, camera: str = "side", engine_options: dict | None = None,
                 **task_options: Any):
        check_engine(engine)
        check_view(width, height, camera)
        # Before the model is built, so that a bad setting fails at once.
        for name, value in (("step_size", step_size), ("accuracy", accuracy),
                            ("max_step_size", max_step_size)):
            if value is not None:
                positive_number(name, value)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}; "
                             f"choose one of {self.metadata['render_modes']} or None")
        self._init_kwargs = dict(
            task=task, engine=engine, render_mode=render_mode, obs_as_dict=obs_as_dict,
            muscle_model=muscle_model, preset=preset, integrator=integrator, accuracy=accuracy,
            step_size=step_size, max_step_size=max_step_size, restart_each_step=restart_each_step,
            visualize=visualize, verbose=verbose, width=width, height=height,
            camera=camera, engine_options=engine_options, **task_options)
        self.render_mode = render_mode
        self.task = make_task(task, **task_options)
        self.engine = engine
        self.sim = make_engine(
            engine, self.task.model_spec(), muscle_model=muscle_model,
            step_size=self.task.step_size if step_size is None else step_size, preset=preset,
            integrator=integrator, accuracy=accuracy, max_step_size=max_step_size,
            restart_each_step=restart_each_step, visualize=visualize or render_mode == "human",
            verbose=verbose, **dict(engine_options or {}))
        self.task.bind(self.sim)
        self.obs_as_dict = obs_as_dict
        self.observation_spec = self.task.observation_spec(self.sim)
        self.observation_labels = osim_spaces.observation_labels(self.observation_spec)
        self.action_labels = self.task.action_labels(self.sim)
        self.action_space = osim_spaces.action_space(self.task.action_size(self.sim))
        self.observation_space = (osim_spaces.dict_space(self.observation_spec) if obs_as_dict
                                  else osim_spaces.box_space(self.observation_spec))
        self._last_observation: dict[str, np.ndarray] | None = None
        # one frame per control step; an instance copy, as step_size varies per env
        self.metadata = {**self.metadata, "render_fps": 1.0 / self.sim.step_size}
        self._view = {"width": width, "height": height, "camera": camera}
        self._renderer = None

    # ------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.task.reset(self.sim, self.np_random, **self.task.check_reset_options(options))
        return self._observation(), self.task.info(self.sim)

    def step(self, action):
        action = check_action(action, self.action_space.shape[0])
        excitations = self.task.excitations(np.minimum(np.maximum(action, 0.0), 1.0))  # np.clip costs 3x
        try:
            self.sim.step(excitations)
        except SimulationError as err:
            obs = self._last_observation if self._last_observation is not None else {}
            info = {"sim_error": str(err), "reward_terms": {}}
            return self.format_observation(obs), 0.0, True, False, info
        terms = self.task.reward_terms(self.sim)
        reward = float(sum(terms.values()))
        info = {"reward_terms": terms, **self.task.info(self.sim)}
        return self._observation(), reward, bool(self.task.terminated(self.sim)), False, info

    def observation_dict(self) -> dict[str, np.ndarray]:
        """The current observation as named vectors."""
        return self.task.observe(self.sim)

    def state_dict(self) -> dict:
        """Everything the simulation knows, in the original osim-rl layout."""
        return self.sim.state_dict()

    def get_state(self) -> SimState:
        snapshot = self.sim.get_state()
        snapshot.extra["episode"] = self.task.get_episode()
        return snapshot

    def set_state(self, snapshot: SimState) -> None:
        self.sim.set_state(snapshot)
        self.task.set_episode(snapshot.extra.get("episode", {}), self.sim)
        self._last_observation = self.task.observe(self.sim)

    def render(self):
        """The current frame as an (height, width, 3) uint8 array with
        ``render_mode="rgb_array"``; ``None`` otherwise ("human" draws in the
        visualizer at every step)."""
        if self.render_mode == "rgb_array":
            return self.render_frame()
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() called without a render_mode: make the env with "
                "render_mode='rgb_array' for frames (or 'human' for the visualizer)")
        return None

    def render_frame(self) -> np.ndarray:
        """A frame whatever the render_mode (videos of envs made without one)."""
        from osim.render.scene import SceneRenderer  # Pillow: imported on demand

        if self._renderer is None or self._renderer.sim is not self.sim:
            self._renderer = SceneRenderer(self.sim, **self._view)
        return self._renderer.render(self.task.overlays())

    def close(self):
        pass

    # ---------------------------------------------------------- helpers
    def _observation(self):
        self._last_observation = self.task.observe(self.sim)
        return self.format_observation(self._last_observation)

    def format_observation(self, obs: dict[str, np.ndarray]):
        """Named vectors as this env returns observations: a dict with
        ``obs_as_dict=True``, else the flat vector (`osim.env.spaces.flatten`)."""
        if self.obs_as_dict:
            return {k: np.asarray(v, dtype=np.float64).copy() for k, v in obs.items()}
        return osim_spaces.flatten(obs, self.observation_spec)

    # ----------------------------------------------------------- pickle
    def __getstate__(self):
        """Pickle as constructor arguments plus a snapshot; the copy rebuilds OpenSim objects."""
        return {"init_kwargs": self._init_kwargs, "snapshot": self.get_state(),
                "np_random": self._np_random}

    def __setstate__(self, state):
        self.__init__(**state["init_kwargs"])
        self._np_random = state["np_random"]
        self.set_state(state["snapshot"])
