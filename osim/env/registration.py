"""Gymnasium ids ``osim/<Name>-v0`` for every task in `osim.tasks.TASKS`."""

import gymnasium

from osim.tasks import TASKS


def env_id(name: str) -> str:
    return f"osim/{name}-v0"


def register_envs() -> None:
    for name, task in TASKS.items():
        if env_id(name) not in gymnasium.registry:
            gymnasium.register(env_id(name), entry_point="osim.env.gym_env:OsimGymEnv",
                               kwargs={"task": name}, max_episode_steps=task.max_episode_steps)
