"""What every training backend shares: the run configuration, the snapshot file,
the training log, environment construction and policy evaluation.

A backend (`Backend`) trains one of its algorithms on an osim task and writes,
in the run's output folder:

* ``params.pkl``: a snapshot, a pickled plain ``dict`` (see `make_snapshot`);
  nothing in it is a class of ours, so it loads without the training code;
* ``progress.csv``: one row per finished episode (``step,episode,reward,length,time``);
* ``learning_curve.png``: episode reward against environment steps.

`Backend.train` is the one training procedure (resume, hyperparameters, log,
snapshot, Ctrl-C); a backend supplies only the learning, as a `Learner`.
`Backend.load_policy` turns a snapshot back into a `Policy` whose ``act``
maps a flat observation to a deterministic action in [0, 1].
"""

from __future__ import annotations

import contextlib
import csv
import os
import pickle
import random
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import gymnasium
import numpy as np

from osim.atomic import atomic_path
from osim.engines import DEFAULT_ENGINE, check_engine
from osim.env.registration import task_name
from osim.render.video import record_episode

SNAPSHOT_FORMAT = "osim-rl-snapshot/1"
SNAPSHOT_KEYS = ("format", "backend", "algorithm", "env", "env_kwargs", "seed", "steps_done",
                 "hyperparams", "policy", "obs_norm", "log")
PROGRESS_COLUMNS = ("step", "episode", "reward", "length", "time")
# An env kwarg that is not an OsimGymEnv option: the episode length (TimeLimit).
EPISODE_STEPS_KWARG = "max_episode_steps"


class SnapshotError(ValueError):
    """A snapshot file is missing, unreadable, truncated or not an osim-rl snapshot."""


# --------------------------------------------------------------------- configuration
@dataclass
class TrainConfig:
    """One training run.

    Attributes:
        env: task name (``"Arm"``) or registered id (``"osim/Arm-v0"``); stored as the task name.
        algorithm: algorithm name, case-insensitive (stored upper-case, e.g. ``"PPO"``).
        steps: environment steps to train for (on resume: steps added to the snapshot's).
        out: output folder (created).
        seed: seeds numpy, torch, ``random`` and the envs (worker ``i`` gets ``seed + i``).
        workers: parallel environments.
        env_kwargs: keyword arguments of `osim.env.OsimGymEnv` (and the task), plus
            ``max_episode_steps`` to change the episode length; ``engine`` is always
            set (default OpenSim), so the snapshot records it.
        hyperparams: overrides of the backend's default hyperparameters for the algorithm.
        resume: a ``params.pkl`` to continue from.
        progress: show a progress bar.
        backend_options: settings of the backend itself, not of the algorithm (e.g. the
            rllib backend's ``address``); each backend lists its own in `Backend.options`.
    """

    env: str
    algorithm: str
    steps: int
    out: Path
    seed: int = 0
    workers: int = 1
    env_kwargs: dict = field(default_factory=dict)
    hyperparams: dict = field(default_factory=dict)
    resume: Path | None = None
    progress: bool = True
    backend_options: dict = field(default_factory=dict)

    def __post_init__(self):
        self.env = task_name(self.env)
        if not isinstance(self.algorithm, str) or not self.algorithm:
            raise ValueError(f"algorithm must be a non-empty name, got {self.algorithm!r}")
        self.algorithm = self.algorithm.upper()
        if int(self.steps) != self.steps or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        self.steps = int(self.steps)
        if int(self.workers) != self.workers or self.workers < 1:
            raise ValueError(f"workers must be a positive integer, got {self.workers!r}")
        self.workers = int(self.workers)
        self.seed = int(self.seed)
        self.out = Path(self.out)
        self.resume = Path(self.resume) if self.resume is not None else None
        self.env_kwargs = dict(self.env_kwargs or {})
        # recorded in the snapshot, so that evaluate runs the engine trained on
        self.env_kwargs["engine"] = check_engine(self.env_kwargs.get("engine", DEFAULT_ENGINE))
        self.hyperparams = dict(self.hyperparams or {})
        self.backend_options = dict(self.backend_options or {})


# ------------------------------------------------------------------------ policies
class Policy(ABC):
    """A trained (or random) policy: flat observation -> action in [0, 1]."""

    @abstractmethod
    def act(self, observation: np.ndarray) -> np.ndarray:
        """The deterministic action for one flat observation (normalised by the policy itself)."""

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        return self.act(observation)


class RandomPolicy(Policy):
    """Uniform random excitations in [0, 1], the baseline a trained policy must beat."""

    def __init__(self, action_size: int, seed: int | None = None):
        self.action_size = int(action_size)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: np.ndarray) -> np.ndarray:
        return self.rng.uniform(0.0, 1.0, self.action_size).astype(np.float32)


def normalize_observation(observation: np.ndarray, obs_norm: dict | None, *,
                          clip: float = 10.0, epsilon: float = 1e-8) -> np.ndarray:
    """``(obs - mean) / sqrt(var + eps)`` clipped to ``+-clip``; identity when `obs_norm` is None."""
    observation = np.asarray(observation, dtype=np.float64)
    if obs_norm is None:
        return observation
    mean, var = np.asarray(obs_norm["mean"]), np.asarray(obs_norm["var"])
    return np.clip((observation - mean) / np.sqrt(var + epsilon), -clip, clip)


class RunningMeanStd:
    """Running mean and variance of observations (parallel-update formula), for backends
    that normalise observations themselves; `state` is the snapshot's ``obs_norm``."""

    def __init__(self, size: int, state: dict | None = None):
        self.mean = np.zeros(size)
        self.var = np.ones(size)
        self.count = 1e-4
        if state is not None:
            self.mean = np.array(state["mean"], dtype=np.float64)
            self.var = np.array(state["var"], dtype=np.float64)
            self.count = float(state["count"])

    def update(self, batch: np.ndarray) -> None:
        batch = np.atleast_2d(np.asarray(batch, dtype=np.float64))
        b_mean, b_var, b_count = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta, total = b_mean - self.mean, self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var, self.count = m2 / total, total

    @property
    def state(self) -> dict:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": float(self.count)}


# ------------------------------------------------------------------------ backends
class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped `Backend.train`; the snapshot of what was learnt is at `params_path`."""

    def __init__(self, params_path: Path, steps_done: int):
        super().__init__(f"interrupted: snapshot of {steps_done} steps saved to {params_path}")
        self.params_path = Path(params_path)
        self.steps_done = int(steps_done)


@dataclass
class Run:
    """A training run as `Backend.prepare` gets it: settings checked and merged.

    Attributes:
        config: the run's configuration.
        algorithm: canonical algorithm name.
        hyperparams: the backend's defaults, updated with the resumed snapshot's, then
            with ``config.hyperparams``; stored in the snapshot.
        options: the backend's options, defaults updated with ``config.backend_options``.
        resumed: the snapshot resumed from, or None.
        cleanup: closed when the run ends, however it ends: register envs, Ray, etc. here.
    """

    config: TrainConfig
    algorithm: str
    hyperparams: dict
    options: dict
    resumed: dict | None
    cleanup: contextlib.ExitStack

    @property
    def steps_done(self) -> int:
        """Environment steps of the resumed run (0 for a new one)."""
        return int(self.resumed["steps_done"]) if self.resumed is not None else 0


@dataclass
class Learned:
    """What the snapshot keeps of a learner: its policy, observation statistics and
    total environment steps."""

    policy: Any
    obs_norm: dict | None
    steps_done: int


class Learner(ABC):
    """One run's algorithm at work, made by `Backend.prepare`."""

    @abstractmethod
    def learn(self, logger: RunLogger, checkpoint: Callable[[], dict]) -> None:
        """Train for ``config.steps`` more environment steps, feeding `logger`.
        `checkpoint` writes ``params.pkl`` now (for backends that save as they go)."""

    @abstractmethod
    def learned(self) -> Learned:
        """What has been learnt so far; also called after `learn` was interrupted."""


class Backend(ABC):
    """A training library behind one interface.

    Subclasses set `name`, `algorithms` (algorithm name -> default hyperparameters)
    and `options` (backend option -> default), and implement `prepare` and
    `load_policy`; `train` does the rest, the same for every backend.
    """

    name: ClassVar[str]
    algorithms: ClassVar[dict[str, dict]]
    options: ClassVar[dict[str, Any]] = {}

    def check_algorithm(self, algorithm: str) -> str:
        """The canonical (upper-case) name of `algorithm`, or ValueError listing the choices."""
        key = str(algorithm).upper()
        if key not in self.algorithms:
            raise ValueError(f"the {self.name} backend has no algorithm {algorithm!r}; "
                             f"choose one of {sorted(self.algorithms)}")
        return key

    def check_options(self, options: dict | None) -> dict:
        """`options` over the backend's defaults, or ValueError naming the unknown ones."""
        unknown = sorted(set(options or {}) - set(self.options))
        if unknown:
            accepted = ", ".join(sorted(self.options)) or "none"
            raise ValueError(f"the {self.name} backend has no option "
                             f"{', '.join(map(repr, unknown))}; its options: {accepted}")
        return {**self.options, **(options or {})}

    def hyperparams(self, algorithm: str, overrides: dict | None = None) -> dict:
        """The algorithm's defaults updated with `overrides`."""
        params = dict(self.algorithms[self.check_algorithm(algorithm)])
        params.update(overrides or {})
        return params

    def train(self, config: TrainConfig) -> Path:
        """Train; write ``params.pkl``, ``progress.csv``, ``learning_curve.png`` in
        ``config.out`` and return the path of ``params.pkl``.

        Settings are checked and the envs built before anything is written, so bad
        settings leave no files. On Ctrl-C (KeyboardInterrupt) while learning, training
        stops, the three files are written for what was learnt so far (resume from that
        ``params.pkl`` to go on), one line on stderr says so, and `TrainingInterrupted`
        (a KeyboardInterrupt) is raised; ``osim-rl train`` then exits with code 130.
        An interrupt before learning begins writes nothing and propagates as it is.
        """
        algorithm = self.check_algorithm(config.algorithm)
        options = self.check_options(config.backend_options)
        resumed = None
        if config.resume is not None:
            resumed = load_snapshot(config.resume)
            self._check_resumable(resumed, config, algorithm)
        hyperparams = self.hyperparams(
            algorithm, {**(resumed["hyperparams"] if resumed else {}), **config.hyperparams})
        set_torch_threads(1)
        params_path = config.out / "params.pkl"
        with contextlib.ExitStack() as cleanup:
            run = Run(config, algorithm, hyperparams, options, resumed, cleanup)
            learner = self.prepare(run)
            with RunLogger(config.out, config.steps, config.progress,
                           log=resumed["log"] if resumed else None, steps_done=run.steps_done,
                           title=f"{config.env} {algorithm} ({self.name})") as logger:

                def save() -> dict:
                    learned = learner.learned()
                    snapshot = make_snapshot(
                        backend=self.name, algorithm=algorithm, env=config.env,
                        env_kwargs=config.env_kwargs, seed=config.seed,
                        steps_done=learned.steps_done, hyperparams=hyperparams,
                        policy=learned.policy, obs_norm=learned.obs_norm, log=logger.rows)
                    save_snapshot(params_path, snapshot)
                    return snapshot

                try:
                    learner.learn(logger, save)
                except KeyboardInterrupt as interrupt:
                    stopped = TrainingInterrupted(params_path, save()["steps_done"])
                    logger.close()
                    print(stopped, file=sys.stderr)
                    raise stopped from interrupt
                save()
        return params_path

    def _check_resumable(self, snapshot: dict, config: TrainConfig, algorithm: str) -> None:
        if snapshot["backend"] != self.name:
            raise ValueError(f"{config.resume} was trained by the {snapshot['backend']} backend, "
                             f"not {self.name}")
        if snapshot["algorithm"] != algorithm:
            raise ValueError(f"{config.resume} holds a {snapshot['algorithm']} policy; cannot "
                             f"resume it with {algorithm}")
        if snapshot["env"] != config.env:
            raise ValueError(f"{config.resume} was trained on {snapshot['env']}, not {config.env}")

    @abstractmethod
    def prepare(self, run: Run) -> Learner:
        """Build what `run` learns with (envs, model), checking its settings; write no file.
        Register what must be closed afterwards in ``run.cleanup``."""

    @abstractmethod
    def load_policy(self, snapshot: dict) -> Policy:
        """The policy stored in a snapshot dict (from `load_snapshot`)."""


# ----------------------------------------------------------------------- snapshots
def make_snapshot(*, backend: str, algorithm: str, env: str, env_kwargs: dict, seed: int,
                  steps_done: int, hyperparams: dict, policy: Any, obs_norm: dict | None,
                  log: list[dict]) -> dict:
    """The snapshot dict, in the one format `load_snapshot` accepts."""
    return {"format": SNAPSHOT_FORMAT, "backend": backend, "algorithm": algorithm, "env": env,
            "env_kwargs": dict(env_kwargs), "seed": int(seed), "steps_done": int(steps_done),
            "hyperparams": dict(hyperparams), "policy": policy, "obs_norm": obs_norm,
            "log": list(log)}


def save_snapshot(path: str | Path, snapshot: dict) -> Path:
    """Pickle `snapshot` to `path` atomically: a crash leaves the old file or none, never a part."""
    path = Path(path)
    missing = [k for k in SNAPSHOT_KEYS if k not in snapshot]
    if missing:
        raise ValueError(f"snapshot lacks {missing}; build it with make_snapshot")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    return path


def load_snapshot(path: str | Path) -> dict:
    """The snapshot dict in `path`; `SnapshotError` naming the problem otherwise."""
    path = Path(path)
    if not path.exists():
        raise SnapshotError(f"no snapshot at {path}")
    if not path.is_file():
        raise SnapshotError(f"{path} is not a file (expected a params.pkl)")
    try:
        with path.open("rb") as f:
            snapshot = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError, MemoryError, OSError) as err:
        raise SnapshotError(f"{path} is not a readable snapshot (truncated or not a pickle): "
                            f"{type(err).__name__}: {err}") from None
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
        found = snapshot.get("format") if isinstance(snapshot, dict) else type(snapshot).__name__
        raise SnapshotError(f"{path} is not an osim-rl snapshot (format {found!r}, "
                            f"expected {SNAPSHOT_FORMAT!r})")
    missing = [k for k in SNAPSHOT_KEYS if k not in snapshot]
    if missing:
        raise SnapshotError(f"{path} is an incomplete snapshot: it lacks {missing}")
    return snapshot


# ---------------------------------------------------------------------- run logging
class RunLogger:
    """Progress bar and ``progress.csv`` of a run; `close` draws ``learning_curve.png``.

    Backends call `step` as environment steps happen and `episode` when one ends.
    On resume, pass the snapshot's ``log`` and ``steps_done``: the old rows are
    rewritten first so the CSV and the curve cover the whole run.
    """

    def __init__(self, out: str | Path, total_steps: int, progress: bool = True, *,
                 log: list[dict] | None = None, steps_done: int = 0, title: str | None = None,
                 recent: int = 20):
        from tqdm.auto import tqdm

        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.out / "progress.csv"
        self.png_path = self.out / "learning_curve.png"
        self.title = title
        self.recent = recent
        self.rows: list[dict] = [dict(r) for r in (log or [])]
        self.steps = int(steps_done)
        self._time_offset = float(self.rows[-1]["time"]) if self.rows else 0.0
        self._start = time.perf_counter()
        self._file = self.csv_path.open("w", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=PROGRESS_COLUMNS,
                                      extrasaction="ignore")
        self._writer.writeheader()
        self._writer.writerows(self.rows)
        self._file.flush()
        self._bar = tqdm(total=int(steps_done) + int(total_steps), initial=int(steps_done),
                         unit="step", disable=not progress, dynamic_ncols=True, leave=False)
        self._closed = False

    @property
    def episodes(self) -> int:
        return len(self.rows)

    def step(self, n: int = 1) -> None:
        """`n` more environment steps happened (over all workers)."""
        self.steps += int(n)
        self._bar.update(int(n))

    def episode(self, reward: float, length: int, step: int | None = None) -> None:
        """An episode with total `reward` over `length` steps ended at total step `step`."""
        row = {"step": int(self.steps if step is None else step), "episode": len(self.rows) + 1,
               "reward": float(reward), "length": int(length),
               "time": round(self._time_offset + time.perf_counter() - self._start, 3)}
        self.rows.append(row)
        self._writer.writerow(row)
        self._file.flush()
        recent = [r["reward"] for r in self.rows[-self.recent:]]
        self._bar.set_postfix(episodes=len(self.rows), reward=f"{np.mean(recent):.3g}",
                              refresh=False)

    def close(self) -> Path:
        """Close the CSV and the bar; draw ``learning_curve.png``; return its path."""
        if not self._closed:
            self._closed = True
            self._bar.close()
            self._file.close()
            from osim.render.plots import plot_learning_curve

            plot_learning_curve(self.csv_path, self.png_path, title=self.title)
        return self.png_path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EpisodeLogger(gymnasium.Wrapper):
    """Feeds a `RunLogger` from an env in this process: one `step` per step, one
    `episode` per finished episode (the env's own reward, before any scaling)."""

    def __init__(self, env: gymnasium.Env, logger: RunLogger):
        super().__init__(env)
        self.logger = logger
        self._return, self._length = 0.0, 0

    def reset(self, **kwargs):
        self._return, self._length = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        self.logger.step(1)
        if terminated or truncated:
            self.logger.episode(self._return, self._length)
        return obs, reward, terminated, truncated, info


def reward_summary(rows: list[dict], fraction: float = 0.1) -> tuple[float, float] | None:
    """Mean episode reward of the first and of the last `fraction` of the episodes in a log."""
    if not rows:
        return None
    k = max(1, round(len(rows) * fraction))
    rewards = np.array([float(r["reward"]) for r in rows])
    return float(rewards[:k].mean()), float(rewards[-k:].mean())


# ------------------------------------------------------------- envs, seeds, threads
def set_torch_threads(n: int = 1) -> None:
    """Limit torch to `n` threads: for small MLPs more threads are much slower here."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(int(n))


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy's global RNG and torch (when installed)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def make_env(config_or_env_name: TrainConfig | str, env_kwargs: dict | None = None,
             seed: int | None = None, **extra_kwargs: Any) -> gymnasium.Env:
    """An `OsimGymEnv` for a task, truncated at the task's episode length.

    ``env_kwargs`` go to `OsimGymEnv` except ``max_episode_steps`` (the episode
    length; default the task's). With `seed`, the env's RNG and action space
    are seeded, so ``reset()`` without a seed is repeatable. With a `TrainConfig`,
    its env, env_kwargs and seed are the defaults. `extra_kwargs` (e.g.
    ``render_mode``) are added to env_kwargs.
    """
    from osim.env.gym_env import OsimGymEnv

    if isinstance(config_or_env_name, TrainConfig):
        name = config_or_env_name.env
        env_kwargs = config_or_env_name.env_kwargs if env_kwargs is None else env_kwargs
        seed = config_or_env_name.seed if seed is None else seed
    else:
        name = task_name(config_or_env_name)
    kwargs = {**(env_kwargs or {}), **extra_kwargs}
    episode_steps = kwargs.pop(EPISODE_STEPS_KWARG, None)
    env = OsimGymEnv(name, **kwargs)
    if episode_steps is None:
        episode_steps = env.task.max_episode_steps
    if int(episode_steps) < 1:
        raise ValueError(f"{EPISODE_STEPS_KWARG} must be positive, got {episode_steps!r}")
    env = gymnasium.wrappers.TimeLimit(env, max_episode_steps=int(episode_steps))
    if seed is not None:
        env.unwrapped.np_random, _ = gymnasium.utils.seeding.np_random(int(seed))
        env.action_space.seed(int(seed))
    return env


# ---------------------------------------------------------------------- evaluation
def evaluate(policy: Policy | Callable[[gymnasium.Env], Callable], env_name: str,
             env_kwargs: dict | None = None, episodes: int = 5, seed: int = 0,
             video: str | Path | None = None, progress: bool = False) -> list[float]:
    """Total reward of each of `episodes` episodes of `policy` (episode ``i`` reset with
    ``seed + i``). With `video`, the episodes are rendered and saved there (.mp4/.gif).

    `policy` is a `Policy`, or a factory ``env -> (observation -> action)`` called
    once with the evaluation env (a controller that reads the engine, such as
    ``osim.control.reflex``)."""
    if int(episodes) < 1:
        raise ValueError(f"episodes must be positive, got {episodes!r}")
    stride = 0  # no frames
    extra: dict[str, Any] = {}
    if video is not None:
        save_video, stride = _video_writer(Path(video))
        extra["render_mode"] = "rgb_array"
    env = make_env(env_name, env_kwargs, seed=seed, **extra)
    frames: list[np.ndarray] = []
    totals: list[float] = []
    try:
        act = policy.act if isinstance(policy, Policy) else policy(env)
        from tqdm.auto import tqdm

        for i in tqdm(range(int(episodes)), disable=not progress, leave=False, unit="episode"):
            episode_frames, total = record_episode(env, act, seed=int(seed) + i,
                                                   frame_every=stride)
            frames.extend(episode_frames)
            totals.append(total)
        if video is not None:
            save_video(frames, Path(video), fps=env.metadata["render_fps"] / stride)
    finally:
        env.close()
    return totals


def _video_writer(path: Path):
    """`osim.render.video.save_video` and the frame stride for `path`'s format, or a clear
    error (before any episode runs) when that video cannot be written."""
    from osim.env.gym_env import OsimGymEnv
    from osim.render.video import check_video_path, frame_stride, save_video

    check_video_path(path)

    fps = OsimGymEnv.metadata["render_fps"]
    return save_video, (frame_stride(fps) if path.suffix.lower() == ".gif" else 1)
