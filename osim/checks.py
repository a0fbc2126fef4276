"""Checks of user-given values: a ValueError naming the setting, never a silent default."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def positive_number(name: str, value) -> float:
    """``value`` as a float > 0 and finite, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def non_negative_number(name: str, value) -> float:
    """``value`` as a float >= 0 and finite, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return float(value)


def finite_number(name: str, value) -> float:
    """``value`` as a finite float, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def positive_integer(name: str, value) -> int:
    """``value`` as an int > 0, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_action(action, size: int, name: str = "action") -> np.ndarray:
    """``action`` as a float64 vector of ``size``, or a ValueError naming the problem."""
    try:
        array = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, got {type(action).__name__}: {err}") from None
    if array.shape != (size,):
        if array.size == size and array.ndim <= 2 and 1 in array.shape:
            array = array.reshape(size)  # (1, n) or (n, 1) from a batched policy
        else:
            raise ValueError(f"{name} must have shape ({size},), got shape {array.shape}")
    if not np.isfinite(array).all():  # the method: a third of np.all's cost per step
        bad = np.flatnonzero(~np.isfinite(array)).tolist()
        raise ValueError(f"{name} contains NaN or inf at index {bad}")
    return array
