"""The simulation core: an OpenSim model, its state, and fixed control steps."""

from osim.sim import simulation
from osim.sim.logging import quiet_opensim
from osim.sim.simulation import *  # noqa: F403  (the public names listed in its __all__)

__all__ = [*simulation.__all__, "quiet_opensim"]
