"""Musculoskeletal models built in code from parameter tables.

Each model is one module with a ``build(muscle_model=..., **options)`` function
that returns an ``opensim.Model``; add a model by adding its module and one
line to `MODELS`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import opensim

from osim.models.builder import DEFAULT_MUSCLE_MODEL, MUSCLE_MODELS, export_osim

MODELS = {
    "arm": "osim.models.arm",  # 2 DOF, 6 muscles (Holzbaur et al. 2005)
    "human": "osim.models.human",  # planar 9 DOF, 18 muscles (Delp et al. 1990)
    "gait3d": "osim.models.gait3d",
}


def build_model(name: str, **options) -> opensim.Model:
    """Build the model registered as ``name`` (see `MODELS`)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return importlib.import_module(MODELS[name]).build(**options)


def export_model(name: str, path: str | Path, **options) -> Path:
    """Build model ``name`` and write it as an ``.osim`` file."""
    return export_osim(build_model(name, **options), path)


__all__ = ["MODELS", "MUSCLE_MODELS", "DEFAULT_MUSCLE_MODEL", "build_model", "export_model"]
