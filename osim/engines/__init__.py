"""Physics engines behind one interface (`Engine`): one folder per engine.

``ENGINES`` maps an engine's name to its class, imported on first use, so that
``import osim`` loads no engine it does not run. Add an engine with a folder
implementing `osim.engines.base.Engine` and one line here.
"""

from __future__ import annotations

import importlib
from typing import Any

from osim.engines.base import Bone, Engine, ModelSpec, Scene, SimState, SimulationError

ENGINES: dict[str, str] = {
    "opensim": "osim.engines.opensim.engine:OpenSimEngine",  # the reference physics
    "mujoco": "osim.engines.mujoco.engine:MuJoCoEngine",  # the same models, ~50x faster
}
DEFAULT_ENGINE = "opensim"


def check_engine(name: str) -> str:
    """``name`` if it is a registered engine, else a ValueError listing the choices."""
    if not isinstance(name, str) or name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {sorted(ENGINES)}")
    return name


def engine_class(name: str) -> type[Engine]:
    module, cls = ENGINES[check_engine(name)].split(":")
    return getattr(importlib.import_module(module), cls)


def make_engine(name: str, spec: ModelSpec, **settings: Any) -> Engine:
    """The engine ``name`` running the model ``spec`` (see `Engine.from_spec`)."""
    return engine_class(name).from_spec(spec, **settings)


__all__ = ["ENGINES", "DEFAULT_ENGINE", "Bone", "Engine", "ModelSpec", "Scene", "SimState",
           "SimulationError", "check_engine", "engine_class", "make_engine"]
