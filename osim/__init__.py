"""osim-rl: reinforcement-learning environments for OpenSim musculoskeletal models.

``import osim`` registers the Gymnasium ids (``osim/Arm-v0``, ...); the classic
API is ``from osim.env import ArmEnv``.
"""

__version__ = "3.0.0"

# Before anything imports opensim: see osim/engines/opensim/libs.py.
from osim.engines.opensim.libs import preload_engine_libraries as _preload

_preload()

from osim.env import register_envs as _register_envs

_register_envs()
