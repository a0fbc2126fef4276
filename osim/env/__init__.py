"""Environments over the tasks: Gymnasium (`OsimGymEnv`, ids ``osim/<Name>-v0``)
and the classic osim-rl API (``ArmEnv``, ..., and `OsimEnv` for any ``.osim``)."""

from osim.env.classic import ClassicEnv, OsimEnv, classic_env_class
from osim.env.gym_env import OsimGymEnv
from osim.env.registration import env_id, register_envs
from osim.env.vector import WorkerDiedError, make_vector_env
from osim.tasks import TASKS

register_envs()

# One classic class per registered task, named by the task (ArmEnv, GaitEnv, ...).
CLASSIC_ENVS = {task.classic_name: classic_env_class(name, task)
                for name, task in TASKS.items() if task.classic_name}
globals().update(CLASSIC_ENVS)
RunEnv = CLASSIC_ENVS["L2RunEnv"]  # the NIPS 2017 name of L2RunEnv

__all__ = ["ClassicEnv", "OsimEnv", "OsimGymEnv", "CLASSIC_ENVS", "env_id", "register_envs",
           "RunEnv", "make_vector_env", "WorkerDiedError", *CLASSIC_ENVS]
