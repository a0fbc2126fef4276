"""The OpenSim 4.6 engine (PyPI ``opensim``): the reference physics.

What only OpenSim has lives here: the binding of its engine libraries
(`libs`, run by ``import osim`` before anything imports ``opensim``), log
silencing (`logging`), integrator presets and the engine itself (`engine`),
and the reading of drawable geometry (`scene`). The names below are imported
on first use, so that importing this package does not import ``opensim``.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "OpenSimEngine": "engine", "INTEGRATORS": "engine", "PRESETS": "engine",
    "PRESET_ERROR_BOUNDS": "engine", "Preset": "engine", "load_model": "engine",
    "model_from_spec": "engine",
    "full_state_dict": "engine", "quiet_opensim": "logging",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f"osim.engines.opensim.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
