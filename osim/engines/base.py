"""The engine interface: everything tasks, envs, rendering and training read or
do to a running simulation, by name and in SI units.

An engine runs one musculoskeletal model under muscle control in fixed
control steps. Readings come as numpy arrays in the engine's name orders
(`coordinate_names`, `body_names`, `muscle_names`, ...); positions and
velocities are in the ground frame (x forward, y up, z to the right), angles
in rad. A new engine is one folder under ``osim/engines`` with a subclass of
`Engine` and one line in `osim.engines.ENGINES`.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SimulationError(RuntimeError):
    """The integrator failed or produced a non-finite or diverged state."""


# Speeds past this (rad/s or m/s) are a diverged simulation, not motion: the
# fastest human joints turn at ~50 rad/s, and stepping on from such a state costs
# seconds per step for a meaningless result: engines raise `SimulationError` there.
MAX_SPEED = 1e3

_warned: set[str] = set()


def warn_once(message: str) -> None:
    """A RuntimeWarning, once per process per message (e.g. no display to draw on)."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


@dataclass(frozen=True)
class ModelSpec:
    """Which model an engine builds: a model of `osim.models.MODELS` by ``name``
    with its build ``options`` (e.g. ``{"prosthetic": True}``, ``{"obstacles":
    3}``), or a user's ``.osim`` file by ``path``."""

    name: str | None = None
    path: str | os.PathLike | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        if (self.name is None) == (self.path is None):
            raise ValueError("a ModelSpec names either a registered model or an .osim path")


@dataclass
class SimState:
    """A snapshot that `Engine.set_state` restores bit for bit."""

    time: float
    y: np.ndarray  # the engine's full continuous state vector
    excitations: np.ndarray
    step_count: int = 0
    extra: dict = field(default_factory=dict)  # room for tasks' own episode data

    def copy(self) -> SimState:
        return SimState(
            self.time, self.y.copy(), self.excitations.copy(), self.step_count, dict(self.extra)
        )


@dataclass
class Bone:
    """One body drawn as a capsule from the joint that carries it to the joints
    it carries (or to its tip), with a dot at its centre of mass."""

    start: np.ndarray
    ends: list[np.ndarray]
    mass_center: np.ndarray
    radius: float  # m
    head: bool = False  # a leaf drawn as a disc around its end


@dataclass
class Scene:
    """What a renderer draws of one state, in metres in the ground frame."""

    bones: list[Bone]
    muscles: list[np.ndarray]  # (n_points, 3) path per muscle, model order
    activations: np.ndarray
    spheres: list[tuple[np.ndarray, float]]  # contact spheres: centre, radius
    markers: list[np.ndarray]
    root: np.ndarray  # what the camera follows (floating base) or centres on (fixed base)
    time: float
    floating_base: bool  # the model moves freely (camera follows the root)
    ground_height: float  # y of the ground surface


def obstacle_rows(rows, n_slots: int) -> tuple[tuple[float, float, float], ...]:
    """``adjust_model``'s obstacles as (x, y, radius) tuples of floats, checked
    against the model's ``n_slots`` obstacle slots."""
    rows = tuple(tuple(float(v) for v in row) for row in rows)
    if any(len(row) != 3 for row in rows):
        raise ValueError("obstacles are (x, y, radius) rows")
    if len(rows) > n_slots:
        raise ValueError(f"{len(rows)} obstacles for the model's {n_slots} obstacle slots")
    return rows


class Engine(ABC):
    """A musculoskeletal model driven by one excitation per muscle, stepped at a
    fixed rate. `step` holds the excitations over one control step; a snapshot
    from `get_state` restored by `set_state` replays the same trajectory."""

    #: the name under which `osim.engines.ENGINES` registers the engine
    name: str
    step_size: float
    step_count: int
    excitations: np.ndarray  # held since the last step (clipped to [0, 1])
    coordinate_names: list[str]
    body_names: list[str]
    marker_names: list[str]
    muscle_names: list[str]

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: ModelSpec, *, muscle_model: str = "thelen2003",
                  **settings: Any) -> Engine:
        """Build the model ``spec`` names and an engine running it; ``settings``
        are the engine's own (step size, integrator, ...)."""

    # ------------------------------------------------------------ stepping
    @property
    def num_muscles(self) -> int:
        return len(self.muscle_names)

    @property
    @abstractmethod
    def time(self) -> float: ...

    @abstractmethod
    def reset(self, coordinates: dict[str, float] | None = None,
              speeds: dict[str, float] | None = None) -> None:
        """Back to time 0 at the model's default pose, or with the given
        coordinate values and speeds; muscles in equilibrium at zero excitation."""

    @abstractmethod
    def set_excitations(self, excitations) -> np.ndarray:
        """Hold these excitations (clipped to [0, 1]) until set again; returns them."""

    @abstractmethod
    def step(self, excitations) -> None:
        """Hold ``excitations`` for one control step and integrate.

        Raises ``ValueError`` for excitations of the wrong shape or NaN/inf and
        `SimulationError` when the integration fails (the state is left as it was).
        """

    @abstractmethod
    def get_state(self) -> SimState: ...

    @abstractmethod
    def set_state(self, snapshot: SimState) -> None: ...

    # ----------------------------------------------------- model changes
    def adjust_model(self, *, obstacles: list | tuple | None = None,
                     muscle_strength: dict[str, float] | None = None) -> None:
        """Change the model in place, keeping the current state.

        ``obstacles``: (x, y, radius) rows in metres for the model's obstacle
        slots (a model built with the ``obstacles=N`` option); slots beyond the
        rows are parked out of reach. ``muscle_strength``: max isometric force
        of each named muscle as a factor of its built value. Nothing is done
        (and nothing costs) when neither changes.
        """
        changed = False
        if obstacles is not None:
            changed |= self._place_obstacles(obstacles)
        if muscle_strength is not None:
            changed |= self._set_muscle_strength(muscle_strength)
        if changed:
            self._apply_model_changes()

    @abstractmethod
    def _place_obstacles(self, rows) -> bool:
        """Move the obstacle slots (see `obstacle_rows`); True if anything moved."""

    @abstractmethod
    def _set_muscle_strength(self, strength: dict[str, float]) -> bool:
        """Set max isometric forces by factor; True if any changed."""

    @abstractmethod
    def _apply_model_changes(self) -> None:
        """Make the changes above take effect, keeping the current state."""

    @abstractmethod
    def muscle_strengths(self) -> np.ndarray:
        """Each muscle's max isometric force over its built value (1 = nominal)."""

    # ----------------------------------------------------- model structure
    @abstractmethod
    def default_coordinates(self) -> dict[str, float]:
        """The default value of every coordinate that is not locked, in model order."""

    @abstractmethod
    def coordinate_types(self) -> list[str]:
        """``"rotational"``, ``"translational"`` or ``"coupled"`` per coordinate."""

    @abstractmethod
    def joint_coordinates(self) -> dict[str, list[str]]:
        """Each joint's coordinate names, in the joint's order."""

    @abstractmethod
    def body_masses(self) -> np.ndarray:
        """Mass (kg) of each body, `body_names` order."""

    @abstractmethod
    def max_isometric_forces(self) -> np.ndarray: ...

    @abstractmethod
    def optimal_fiber_lengths(self) -> np.ndarray: ...

    # ------------------------------------------------------------ readings
    @abstractmethod
    def coordinate_values(self) -> np.ndarray:
        """Generalized coordinates (rad or m) in `coordinate_names` order."""

    @abstractmethod
    def coordinate_speeds(self) -> np.ndarray: ...

    @abstractmethod
    def coordinate_accelerations(self) -> np.ndarray: ...

    def coordinate(self, name: str) -> float:
        return float(self.coordinate_values()[self.coordinate_names.index(name)])

    @abstractmethod
    def body_positions(self) -> np.ndarray:
        """(n_bodies, 3) body-frame origins, `body_names` order."""

    @abstractmethod
    def body_velocities(self) -> np.ndarray:
        """(n_bodies, 3) linear velocities of the body-frame origins."""

    @abstractmethod
    def body_accelerations(self) -> np.ndarray: ...

    @abstractmethod
    def body_orientations(self) -> np.ndarray:
        """(n_bodies, 3) body-fixed X-Y-Z rotation angles (rad)."""

    @abstractmethod
    def body_angular_velocities(self) -> np.ndarray:
        """(n_bodies, 3) in the ground frame (rad/s)."""

    @abstractmethod
    def body_angular_accelerations(self) -> np.ndarray: ...

    def body_position(self, name: str) -> np.ndarray:
        return self.body_positions()[self.body_names.index(name)]

    @abstractmethod
    def marker_position(self, name: str) -> np.ndarray: ...

    @abstractmethod
    def marker_position_at(self, name: str, coordinates: dict[str, float]) -> np.ndarray:
        """Where marker ``name`` would be in the given pose (the state is untouched)."""

    @abstractmethod
    def center_of_mass_position(self) -> np.ndarray: ...

    @abstractmethod
    def center_of_mass_velocity(self) -> np.ndarray: ...

    @abstractmethod
    def center_of_mass_acceleration(self) -> np.ndarray: ...

    @abstractmethod
    def ground_reaction_forces(self) -> dict[str, np.ndarray]:
        """The force (N, ground frame) that the ground and ground-fixed
        obstacles apply to the model through each contact element, by the
        element's name (``foot_r``, ``foot_l``, ``pros_foot_r``, ...)."""

    @abstractmethod
    def coordinate_limit_forces(self, names) -> np.ndarray:
        """Generalized forces (N m or N) of the named coordinate-limit forces
        (ligaments, joint stops), in the order given."""

    @abstractmethod
    def muscle_activations(self) -> np.ndarray: ...

    @abstractmethod
    def fiber_lengths(self) -> np.ndarray: ...

    @abstractmethod
    def fiber_velocities(self) -> np.ndarray: ...

    @abstractmethod
    def fiber_forces(self) -> np.ndarray: ...

    @abstractmethod
    def musculotendon_lengths(self) -> np.ndarray: ...

    @abstractmethod
    def state_dict(self) -> dict:
        """Everything, in the 2017-2019 osim-rl ``get_state_desc()`` layout."""

    # ----------------------------------------------------------- drawing
    @abstractmethod
    def scene(self, default_pose: bool = False) -> Scene:
        """What to draw of the current state (or of the default pose)."""

    # ------------------------------------------------------------- pickle
    def __getstate__(self):
        raise TypeError(f"{type(self).__name__} holds engine objects and does not pickle; "
                        "pickle the env, which rebuilds its engine")
