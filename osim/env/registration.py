"""Gymnasium ids ``osim/<Name>-v0`` for every task in `osim.tasks.TASKS`."""

import gymnasium

from osim.tasks import TASKS


def env_id(name: str) -> str:
    return f"osim/{name}-v0"


def task_name(env: str) -> str:
    """The task name for a task name (``"Arm"``) or its id (``"osim/Arm-v0"``): `env_id` undone."""
    name = env
    if isinstance(env, str) and env.startswith("osim/"):
        name = env[len("osim/"):].rsplit("-v", 1)[0]
    if name not in TASKS:
        raise ValueError(f"unknown env {env!r}; choose one of {sorted(TASKS)} "
                         f"(or their ids osim/<Name>-v0)")
    return name


def register_envs() -> None:
    for name, task in TASKS.items():
        if env_id(name) not in gymnasium.registry:
            gymnasium.register(env_id(name), entry_point="osim.env.gym_env:OsimGymEnv",
                               kwargs={"task": name}, max_episode_steps=task.max_episode_steps)
