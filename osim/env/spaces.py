"""The one flattening from named observations to vectors, and the spaces.

A task declares its observation as an ordered list of `ObsEntry` (key and
entry labels). The flat vector is the entries' values concatenated in that
order; ``observation_labels(spec)[i]`` names element ``i`` as ``"key/label"``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from osim.tasks.base import ObsEntry


def flatten(observation: dict[str, np.ndarray], spec: list[ObsEntry]) -> np.ndarray:
    return np.concatenate(
        [np.asarray(observation[e.key], dtype=np.float64).reshape(e.size) for e in spec]
    )


def unflatten(vector: np.ndarray, spec: list[ObsEntry]) -> dict[str, np.ndarray]:
    vector = np.asarray(vector, dtype=np.float64)
    out, start = {}, 0
    for e in spec:
        out[e.key] = vector[start:start + e.size].copy()
        start += e.size
    if start != vector.size:
        raise ValueError(f"expected {start} values, got {vector.size}")
    return out


def observation_labels(spec: list[ObsEntry]) -> list[str]:
    return [f"{e.key}/{label}" for e in spec for label in e.labels]


def box_space(spec: list[ObsEntry]) -> spaces.Box:
    low = np.concatenate([np.full(e.size, e.low) for e in spec])
    high = np.concatenate([np.full(e.size, e.high) for e in spec])
    return spaces.Box(low=low, high=high, dtype=np.float64)


def dict_space(spec: list[ObsEntry]) -> spaces.Dict:
    return spaces.Dict({
        e.key: spaces.Box(low=e.low, high=e.high, shape=(e.size,), dtype=np.float64) for e in spec
    })


def action_space(size: int) -> spaces.Box:
    """Muscle excitations: out-of-range values are clipped to [0, 1] when applied."""
    return spaces.Box(low=0.0, high=1.0, shape=(size,), dtype=np.float32)
