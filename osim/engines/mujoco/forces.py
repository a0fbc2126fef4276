"""A model's forces on single coordinates, in numpy: OpenSim's
``CoordinateLimitForce`` (ligaments and joint stops) and
``SpringGeneralizedForce`` (the prosthetic ankle's spring).

The MuJoCo engine applies them as generalized forces on the coordinates'
joints, computed the way OpenSim 4.6 computes them (OpenSim is the oracle:
tests/test_mujoco_engine.py):

- CoordinateLimitForce: beyond each limit a spring whose stiffness rises from
  0 to its full value over the ``transition`` width along Simbody's S-shaped
  step (10 x^3 - 15 x^4 + 6 x^5), and a damper scaled by the same rise; for a
  rotational coordinate limits and widths are in degrees, stiffness and
  damping per degree.
- SpringGeneralizedForce: -stiffness (q - rest_length) - viscosity q'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _rise(u):
    """Simbody's smooth step from 0 to 1 as ``u`` goes from 0 to 1 (0 below 0;
    ``u`` must not exceed 1)."""
    u = np.maximum(u, 0.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


@dataclass
class CoordinateForces:
    """Every limit force and spring of a model, as arrays over its forces.

    ``coordinate`` indexes the model's coordinates (the engine's
    ``coordinate_names`` order); limits and widths are in rad or m, stiffness
    per rad or m.
    """

    names: list[str]
    kinds: list[str]  # "limit" or "spring"
    coordinate: np.ndarray  # int
    upper_limit: np.ndarray
    upper_stiffness: np.ndarray
    lower_limit: np.ndarray
    lower_stiffness: np.ndarray
    transition: np.ndarray
    damping: np.ndarray  # limits: full damping; springs: viscosity
    rest: np.ndarray  # springs: rest length
    stiffness: np.ndarray  # springs

    SUPPORTED = ("CoordinateLimitForce", "SpringGeneralizedForce")

    @classmethod
    def from_model(cls, model, coordinate_names: list[str]) -> CoordinateForces:
        """The supported forces of an ``opensim.Model`` that apply force."""
        import opensim

        rows = []
        kinds = []
        names = []
        for force in model.getForceSet():
            kind = force.getConcreteClassName()
            if kind not in cls.SUPPORTED or not force.get_appliesForce():
                continue
            if kind == "CoordinateLimitForce":
                limit = opensim.CoordinateLimitForce.safeDownCast(force)
                name = limit.getPropertyByName("coordinate").toString()
                coordinate = model.getCoordinateSet().get(name)
                w = np.pi / 180.0 if coordinate.getMotionType() == opensim.Coordinate.Rotational else 1.0
                rows.append((coordinate_names.index(name), w * limit.getUpperLimit(),
                             limit.getUpperStiffness() / w, w * limit.getLowerLimit(),
                             limit.getLowerStiffness() / w, w * limit.getTransition(),
                             limit.getDamping() / w, 0.0, 0.0))
                kinds.append("limit")
            else:
                spring = opensim.SpringGeneralizedForce.safeDownCast(force)
                name = spring.get_coordinate()
                rows.append((coordinate_names.index(name), 0.0, 0.0, 0.0, 0.0, 1.0,
                             spring.getViscosity(), spring.getRestLength(), spring.getStiffness()))
                kinds.append("spring")
            names.append(force.getName())
        columns = np.array(rows, dtype=float).reshape(len(rows), 9).T
        return cls(names, kinds, columns[0].astype(np.intp), *columns[1:])

    def __post_init__(self):
        limit = np.array([k == "limit" for k in self.kinds], dtype=bool)
        self._limits, self._springs = np.flatnonzero(limit), np.flatnonzero(~limit)
        self._is_limit = limit
        # The limits' arrays alone, for the per-step path.
        pick = self._limits
        self._lc = self.coordinate[pick]
        self._up, self._low = self.upper_limit[pick], self.lower_limit[pick]
        self._kup, self._klow = self.upper_stiffness[pick], self.lower_stiffness[pick]
        self._inverse_width = 1.0 / self.transition[pick]
        self._damp = self.damping[pick]
        self._sc = self.coordinate[self._springs]
        # forces -> their coordinates' sums
        self._to_coordinates = None

    def __len__(self) -> int:
        return len(self.names)

    def forces(self, q: np.ndarray, qdot: np.ndarray) -> np.ndarray:
        """Each force's generalized force (N m or N) at the coordinate values
        and speeds ``q``, ``qdot`` (model order)."""
        out = np.zeros(len(self.names))
        if len(self._limits):
            x = q[self._lc]
            if (x > self._up).any() or (x < self._low).any():  # else every limit is slack
                v = qdot[self._lc]
                up = _rise(np.minimum((x - self._up) * self._inverse_width, 1.0))
                low = _rise(np.minimum((self._low - x) * self._inverse_width, 1.0))
                # OpenSim: the damping rises with the stiffness (K / K_full).
                out[self._limits] = (-self._kup * up * (x - self._up) + self._klow * low * (self._low - x)
                                     - self._damp * (up + low) * v)
        if len(self._springs):
            s = self._springs
            out[s] = (-self.stiffness[s] * (q[self._sc] - self.rest[s])
                      - self.damping[s] * qdot[self._sc])
        return out

    def generalized(self, q: np.ndarray, qdot: np.ndarray, n_coordinates: int) -> np.ndarray:
        """Their sum per coordinate (model order)."""
        if self._to_coordinates is None or self._to_coordinates.shape[0] != n_coordinates:
            matrix = np.zeros((n_coordinates, len(self.names)))
            matrix[self.coordinate, np.arange(len(self.names))] = 1.0
            self._to_coordinates = matrix
        return self._to_coordinates @ self.forces(q, qdot)

    def potential_energy(self, q: np.ndarray) -> np.ndarray:
        """Each limit's stored energy as OpenSim reports it (0 for springs' slot:
        OpenSim records none for them)."""
        x = q[self.coordinate]
        over = np.where(x > self.upper_limit, x - self.upper_limit,
                        np.where(x < self.lower_limit, self.lower_limit - x, 0.0))
        k = np.where(x > self.upper_limit, self.upper_stiffness, self.lower_stiffness)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(self.transition > 0, over / self.transition, np.inf)
        full = k * (-2.0 / 14.0 * self.transition ** 2 + 0.5 * over ** 2)
        rising = k * u ** 3 * (2.0 - 2.5 * u + 6.0 / 7.0 * u * u) * over ** 2
        energy = np.where(over >= self.transition, full, rising)
        return np.where(self._is_limit & (over > 0), energy, 0.0)
