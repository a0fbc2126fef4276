"""osim-rl: reinforcement-learning environments for OpenSim musculoskeletal models.

``import osim`` registers the Gymnasium ids (``osim/Arm-v0``, ...); the classic
API is ``from osim.env import ArmEnv``.
"""

__version__ = "3.0.0"

from osim.env import register_envs as _register_envs  # noqa: E402

_register_envs()
