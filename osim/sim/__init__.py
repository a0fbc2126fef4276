"""The simulation core: an OpenSim model, its state, and fixed control steps."""

from osim.sim.logging import quiet_opensim
from osim.sim.simulation import (
    INTEGRATORS,
    PRESET_ERROR_BOUNDS,
    PRESETS,
    Preset,
    SimState,
    Simulation,
    SimulationError,
    check_action,
    full_state_dict,
    load_model,
)

__all__ = [
    "INTEGRATORS",
    "PRESETS",
    "PRESET_ERROR_BOUNDS",
    "Preset",
    "SimState",
    "Simulation",
    "SimulationError",
    "check_action",
    "full_state_dict",
    "load_model",
    "quiet_opensim",
]
