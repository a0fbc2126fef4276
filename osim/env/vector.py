"""Parallel rollouts: one OpenSim environment per worker process.

    envs = make_vector_env("osim/Gait-v0", num_envs=2, seed=0)
    obs, info = envs.reset()
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    envs.close()

Each worker builds its own model and simulation: OpenSim objects never cross a
process boundary. (As with any `AsyncVectorEnv`, the parent also builds one env
for a moment to read its spaces, so bad options fail there, before any worker
starts.) Workers start with ``spawn`` by default: a fresh interpreter that
imports OpenSim itself, whatever the parent has loaded; ``fork`` and
``forkserver`` work too. A worker that dies (crash, out of memory, killed)
raises `WorkerDiedError` in the parent at the next wait instead of blocking it.
"""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.connection
import time
from typing import Any

import gymnasium
from gymnasium.vector import AsyncVectorEnv
from gymnasium.vector.async_vector_env import AsyncState

from osim.engines import check_engine
from osim.env.registration import env_id
from osim.tasks import TASKS, Task


class WorkerDiedError(RuntimeError):
    """A worker process of a vector env exited while the parent expected an answer."""


def _resolve_env_id(env: str) -> str:
    """``"Gait"`` or ``"osim/Gait-v0"`` -> ``"osim/Gait-v0"``; a ValueError for anything unknown."""
    import osim  # noqa: F401  (registers the osim ids)

    candidate = env_id(env) if env in TASKS else env
    if candidate not in gymnasium.registry:
        osim_ids = sorted(env_id(name) for name in TASKS)
        raise ValueError(f"unknown environment {env!r}; choose a task name {sorted(TASKS)} "
                         f"or a Gymnasium id such as {osim_ids[0]!r}")
    return candidate


def _make_env(env: str | Task | type[Task], env_kwargs: dict[str, Any]) -> gymnasium.Env:
    """Builds one env: in each worker, and once in the parent for the spaces."""
    import osim  # noqa: F401  (a spawned worker starts from a fresh interpreter)
    from osim.env.gym_env import OsimGymEnv

    if isinstance(env, str):
        return gymnasium.make(env, **env_kwargs)
    made = OsimGymEnv(env, **env_kwargs)
    return gymnasium.wrappers.TimeLimit(made, made.task.max_episode_steps)


class OsimVectorEnv(AsyncVectorEnv):
    """`gymnasium.vector.AsyncVectorEnv` that notices dead workers.

    A worker that exits while the parent waits for it makes the wait raise
    `WorkerDiedError` (naming the worker, its pid and exit code) as soon as
    the process is gone; the remaining workers are then stopped and the vector
    env is closed. ``seed`` (if given) seeds the first `reset` that has no seed of its
    own: worker ``i`` gets ``seed + i``.
    """

    def __init__(self, env_fns, *, seed: int | None = None, **kwargs: Any):
        try:
            super().__init__(env_fns, **kwargs)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            # A worker that cannot build its env exits before answering; its
            # traceback is on stderr. Do not leave the others running.
            for process in getattr(self, "processes", []):
                if process.is_alive():
                    process.terminate()
                process.join()
            codes = [process.exitcode for process in getattr(self, "processes", [])]
            raise WorkerDiedError(f"a worker exited while building its environment (exit "
                                  f"codes {codes}); its error is printed above") from None
        self._pending_seed = seed
        if seed is not None:
            self.action_space.seed(seed)
            self.single_action_space.seed(seed)

    # ------------------------------------------------------------- seeding
    def reset(self, *, seed=None, options=None):
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
        self._pending_seed = None
        return super().reset(seed=seed, options=options)

    # ------------------------------------------------------- dead workers
    def worker_pids(self) -> list[int | None]:
        return [process.pid for process in self.processes]

    def step_async(self, actions):
        self._raise_if_worker_died()
        try:
            super().step_async(actions)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._raise_if_worker_died(wait=1.0)
            raise

    def reset_async(self, seed=None, options=None):
        self._raise_if_worker_died()
        try:
            super().reset_async(seed=seed, options=options)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._raise_if_worker_died(wait=1.0)
            raise

    def call_async(self, name: str, *args, **kwargs):
        self._raise_if_worker_died()
        try:
            super().call_async(name, *args, **kwargs)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._raise_if_worker_died(wait=1.0)
            raise

    def step_wait(self, timeout: float | None = None):
        return self._surface_dead_worker(super().step_wait, timeout)

    def reset_wait(self, timeout: float | None = None):
        return self._surface_dead_worker(super().reset_wait, timeout)

    def call_wait(self, timeout: float | None = None):
        return self._surface_dead_worker(super().call_wait, timeout)

    def _surface_dead_worker(self, wait, timeout):
        try:
            return wait(timeout)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            # The pipe of a worker that died reads as end-of-file.
            self._raise_if_worker_died(wait=1.0)
            raise

    def _poll_pipe_envs(self, timeout: float | None = None) -> bool:
        """Wait until every worker has answered; True, or False after ``timeout``.

        Unlike the base class, a wait without a timeout also wakes when a worker
        process ends, so a dead worker raises instead of blocking forever.
        """
        self._assert_is_running()
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting = dict(enumerate(self.parent_pipes))
        while waiting:
            if any(pipe is None or pipe.closed for pipe in waiting.values()):
                return False
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            # A worker's sentinel wakes us when it exits; its pipe when it answers.
            sentinels = {self.processes[i].sentinel: i for i in waiting}
            ready = multiprocessing.connection.wait([*waiting.values(), *sentinels], remaining)
            if not ready:
                return False
            for i, pipe in list(waiting.items()):
                if pipe in ready or pipe.poll(0):  # an answer, or end-of-file from a dead worker
                    del waiting[i]
                elif not self.processes[i].is_alive():
                    self._raise_if_worker_died()
        return True

    def _raise_if_worker_died(self, wait: float = 0.0) -> None:
        if self.closed:
            return
        deadline = time.monotonic() + wait
        while True:
            dead = [(i, p) for i, p in enumerate(self.processes) if not p.is_alive()]
            if dead or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if not dead:
            return
        index, process = dead[0]
        # Nothing more will come from this vector env: stop the other workers now.
        self.parent_pipes[index] = None
        self._state = AsyncState.DEFAULT
        self.close(terminate=True)
        raise WorkerDiedError(
            f"worker {index} (pid {process.pid}) exited with code {process.exitcode}; "
            f"the vector env is closed, make a new one")

    def close_extras(self, timeout: float | None = None, terminate: bool = False):
        # A dead worker cannot answer "close": terminate instead of waiting on it.
        if any(not process.is_alive() for process in self.processes):
            terminate = True
            self._state = AsyncState.DEFAULT
        super().close_extras(timeout=timeout, terminate=terminate)


def make_vector_env(env: str | Task | type[Task], num_envs: int, seed: int | None = None, *,
                    context: str = "spawn", **env_kwargs: Any) -> OsimVectorEnv:
    """``num_envs`` copies of an environment, each stepping in its own process.

    Args:
        env: a task name (``"Gait"``), a Gymnasium id (``"osim/Gait-v0"``), or a
            `Task` class or instance (wrapped in `OsimGymEnv` and a time limit).
        num_envs: number of worker processes (one environment each).
        seed: seeds the first reset, ``seed + i`` for worker ``i``, and the action space.
        context: ``multiprocessing`` start method; ``"spawn"`` (default) or ``"forkserver"``
            start clean interpreters, ``"fork"`` is faster to start.
        **env_kwargs: passed to each environment (``preset="fast"``, ``muscle_model=...``).
    """
    if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    if context not in multiprocessing.get_all_start_methods():
        raise ValueError(f"unknown start method {context!r}; choose one of "
                         f"{multiprocessing.get_all_start_methods()}")
    if isinstance(env, str):
        env = _resolve_env_id(env)
    elif not (isinstance(env, Task) or (isinstance(env, type) and issubclass(env, Task))):
        raise TypeError(f"env must be a task name, a Gymnasium id or a Task, got {env!r}")
    if "engine" in env_kwargs:
        check_engine(env_kwargs["engine"])
    if seed is not None and not isinstance(seed, int):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    env_fns = [functools.partial(_make_env, env, dict(env_kwargs)) for _ in range(num_envs)]
    return OsimVectorEnv(env_fns, seed=seed, context=context)


__all__ = ["OsimVectorEnv", "WorkerDiedError", "make_vector_env"]
