"""Muscle path geometry outside MuJoCo's tendons: each muscle's musculotendon
length as a smooth function L(q) of the coordinates it spans, fitted to
OpenSim's own path, with moment arms r = -dL/dq as its exact derivatives.

OpenSim paths (fixed, conditional and moving path points, wrap surfaces) have
no faithful MuJoCo equivalent (see ``shared/notes/mujoco-engine.md``), so the
MuJoCo engine applies each muscle's force as generalized forces ``F * r(q)``
computed here by `MusclePaths.evaluate`, for all muscles at once in about 25
numpy calls. `fit_paths` fits a model; `agreement` measures a fit against
OpenSim at random poses.

What the fit does, each choice measured on the four models (arm, human,
gait3d with and without prosthesis):

* Spans: a coordinate is spanned when sweeping it over its range changes the
  length; locked coordinates stay at their defaults, as the engine holds them.
* Ranges: the coordinates' full ranges (hip -120..120 degrees, knee -120..10,
  shoulder -90..180, hip adduction -120..120 on the 3D models), sampled
  uniformly and, for half the poses, denser towards the limits.
* Pieces: where OpenSim's length jumps or kinks at one value of a coordinate
  the muscle gets one function per interval, each scaled to its interval.
  The values come from the model's ConditionalPathPoints (iliopsoas jumps by
  2 cm at -90 degrees of hip flexion, and at +45 once the hip is adducted) and
  from fine sweeps (the ARM's TRIlong and BIClong wrap surfaces engage or let
  go at six and three shoulder angles, jumps of up to 8 mm).
* Families: per muscle, ``polynomial`` (L a polynomial of the range-scaled
  coordinates) or ``root`` (L = c + sqrt(P), P a polynomial: exact in form when
  one straight segment crosses the joints, where L turns sharply as the
  segment passes close to a joint centre: glut_max, iliopsoas and the hip
  abductors and adductors of the 3D models need degree 7-10 instead of 20-24).
  Least squares on lengths and moment arms together, in Chebyshev form;
  stored as monomials, cheaper to evaluate. Each muscle takes the lowest
  degree of `DEGREES` within the tolerances on held-out poses; a model uses
  square roots only where they save more than they cost.

Outside the fitted ranges each univariate factor continues along its tangent
at the range limit, so a polynomial's length grows linearly and its moment
arms stay those at the limit (plus cross terms of coordinates still in
range); a root's segment likewise continues along its tangent
(`_extend_root`). Everything stays finite and continuously differentiable,
and moment arms remain the exact derivatives of the lengths. This is better
than clamping, which would leave a joint driven past its range (the knee's
limit force starts 20 degrees past it) with no muscle moment arm about it, and
than evaluating the polynomials there, which diverge (a degree-16 term grows
~50x at 30% past its range).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opensim

# Candidate total degrees, lowest first: the first that meets the tolerances wins.
DEGREES = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24)
# A coordinate is spanned when sweeping it over its range changes the length
# by more than this (m); unrelated coordinates change it by ~1e-16.
SPAN_TOLERANCE = 1e-8
# Degree along a piece's switching coordinate never drops below this (see `_pieces`).
MIN_PIECE_DEGREE = 2
# Least squares needs more equations than unknowns by a margin, or the
# polynomial oscillates between samples.
MIN_ROWS_PER_TERM = 6
# A fit uses this many of the training poses per term (at least MIN_FIT_POSES).
FIT_POSES_PER_TERM = 4
MIN_FIT_POSES = 400
# Points of the sweeps that look for jumps (a third of a degree apart on a hip).
SWEEP_POINTS = 721
# A sweep flags a length jump above this (m) or a slope change above this
# (m/rad): smaller ones cost the polynomial less than a piece boundary would.
JUMP_TOLERANCE = 5e-5
KINK_TOLERANCE = 3e-3
# The root family's sqrt(P) continues along its tangent below this fraction of
# the shortest segment fitted: past the fitted range P (extended linearly)
# can reach 0, where the square root's slope, and so the moment arm, would
# grow without bound.
ROOT_FLOOR_FRACTION = 0.5
# Evaluating square roots (the root family) costs as much as this many more
# polynomial terms (measured on gait3d: ~7 us, against ~0.015 us a term): a
# model uses them only where they save more.
ROOT_OVERHEAD_TERMS = 400
# Central-difference step (rad or m) where OpenSim's moment arm fails.
FINITE_DIFFERENCE_STEP = 1e-6
FORMAT_VERSION = 1
# Fitted ranges reach this fraction of each coordinate's range beyond either end.
RANGE_MARGIN = 0.1


# ----------------------------------------------------------------- OpenSim
class _PathProbe:
    """An initialised private copy of an OpenSim model, to read musculotendon
    lengths and moment arms at poses given as full coordinate vectors."""

    def __init__(self, model: opensim.Model):
        self.model = opensim.Model(model)
        self.state = self.model.initSystem()
        if self.model.getConstraintSet().getSize():
            constraint = self.model.getConstraintSet().get(0).getName()
            raise ValueError(f"model {self.model.getName()!r}: constraint {constraint!r} couples "
                             "coordinates; muscle path fitting samples them independently")
        self.coordinates = list(self.model.getCoordinateSet())
        self.muscles = list(self.model.getMuscles())
        self.coordinate_names = [c.getName() for c in self.coordinates]
        self.muscle_names = [m.getName() for m in self.muscles]
        # Joints go past their ranges (limit forces only start there, and stop
        # them softly): fit a margin beyond, where OpenSim's paths can change
        # abruptly (the ARM's BRA moment arm jumps by 36 mm at full elbow extension).
        low = np.array([c.getRangeMin() for c in self.coordinates])
        high = np.array([c.getRangeMax() for c in self.coordinates])
        self.lower = low - RANGE_MARGIN * (high - low)
        self.upper = high + RANGE_MARGIN * (high - low)
        self.default = np.array([c.getDefaultValue() for c in self.coordinates])
        self.free = np.array([not c.getDefaultLocked() for c in self.coordinates])

    def set_pose(self, q: np.ndarray) -> None:
        for coordinate, value in zip(self.coordinates, q):
            coordinate.setValue(self.state, float(value), False)
        self.model.realizePosition(self.state)

    def set_value(self, c: int, value: float) -> None:
        self.coordinates[c].setValue(self.state, float(value), False)
        self.model.realizePosition(self.state)

    def lengths(self) -> np.ndarray:
        return np.array([m.getLength(self.state) for m in self.muscles])

    def sweep(self, pose: np.ndarray, c: int, values: np.ndarray) -> np.ndarray:
        """Lengths (n_values, n_muscles) with coordinate ``c`` of ``pose`` at each value."""
        self.set_pose(pose)
        lengths = np.empty((len(values), len(self.muscles)))
        for k, value in enumerate(values):
            self.set_value(c, value)
            lengths[k] = self.lengths()
        return lengths

    def moment_arms(self, pose: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
        """OpenSim's moment arms of (muscle, coordinate) ``pairs`` at ``pose``.

        OpenSim's solver can return NaN for the ARM's BIClong (at 656 of 1500
        poses in one run, depending on the poses before): there the central
        difference of OpenSim's lengths stands in. The two agree to ~1e-10 m
        except where a wrap surface makes OpenSim's moment arm differ from the
        slope of its own length: the ARM's TRIlong and BIClong about the
        shoulder, RMS 2.8 and 6 mm over random poses."""
        self.set_pose(pose)
        arms = np.array([self.muscles[m].computeMomentArm(self.state, self.coordinates[c])
                         for m, c in pairs])
        for k in np.flatnonzero(~np.isfinite(arms)):
            m, c = pairs[k]
            step = FINITE_DIFFERENCE_STEP
            ahead, behind = self.sweep(pose, c, pose[c] + np.array([step, -step]))[:, m]
            arms[k] = -(ahead - behind) / (2 * step)
        return arms

    def random_poses(self, n: int, rng: np.random.Generator, edges: bool = False) -> np.ndarray:
        """``n`` poses uniform over the free coordinates' ranges (locked ones at
        their defaults); with ``edges``, every other one denser towards the
        range limits (arcsine law), where a polynomial fit is least constrained."""
        poses = np.tile(self.default, (n, 1))
        u = rng.random((n, int(self.free.sum())))
        if edges:  # every other pose, so that any first k poses mix both laws
            u[::2] = 0.5 - 0.5 * np.cos(np.pi * u[::2])
        lo, hi = self.lower[self.free], self.upper[self.free]
        poses[:, self.free] = lo + u * (hi - lo)
        return poses

    def spans(self, bases: np.ndarray, n_steps: int = 9) -> np.ndarray:
        """(n_muscles, n_coordinates) bool: sweeping the coordinate over its
        range from any of the ``bases`` poses changes the muscle's length."""
        spans = np.zeros((len(self.muscles), len(self.coordinates)), bool)
        for c in np.flatnonzero(self.free):
            values = np.linspace(self.lower[c], self.upper[c], n_steps)
            for base in bases:
                spans[:, c] |= np.ptp(self.sweep(base, c, values), axis=0) > SPAN_TOLERANCE
        return spans

    def declared_switches(self, muscle: int, spans: np.ndarray) -> dict[int, list[float]]:
        """Coordinate values inside the range where a ConditionalPathPoint of
        the muscle switches on or off, by coordinate index."""
        try:
            points = self.muscles[muscle].getGeometryPath().getPathPointSet()
        except Exception:  # noqa: BLE001  (a FunctionBasedPath has no points: smooth)
            return {}
        switches: dict[int, list[float]] = {}
        for i in range(points.getSize()):
            point = opensim.ConditionalPathPoint.safeDownCast(points.get(i))
            if point is None:
                continue
            c = self.coordinate_names.index(point.getCoordinate().getName())
            if not spans[muscle, c]:
                continue
            margin = 1e-6 * (self.upper[c] - self.lower[c])
            for value in (point.get_range(0), point.get_range(1)):
                if self.lower[c] + margin < value < self.upper[c] - margin:
                    switches.setdefault(c, []).append(float(value))
        return switches

    def detected_switches(self, spans: np.ndarray,
                          bases: np.ndarray) -> dict[int, dict[int, list[float]]]:
        """Where a muscle's length jumps, or its slope does (a kink), along one
        coordinate at the same value from at least two of the ``bases`` poses:
        wrap surfaces engaging or letting go (the ARM's triceps and biceps long
        heads about the shoulder), conditional path points. By muscle, then
        coordinate. A jump whose place depends on other coordinates is not
        found, and the fit smooths over it."""
        found: dict[int, dict[int, list[float]]] = {}
        for c in np.flatnonzero(spans.any(axis=0)):
            grid = np.linspace(self.lower[c], self.upper[c], SWEEP_POINTS)
            step = grid[1] - grid[0]
            events: dict[int, list[tuple[int, float]]] = {}
            for b, base in enumerate(bases):
                lengths = self.sweep(base, c, grid)
                for m in np.flatnonzero(spans[:, c]):
                    for interval, jump in _irregular_intervals(lengths[:, m], step):
                        where = (grid[interval] + grid[interval + 1]) / 2
                        if jump:
                            where = self._locate_jump(base, c, m, grid, lengths[:, m], interval)
                        events.setdefault(m, []).append((b, where))
            for m, seen in events.items():
                for where in _agreeing(seen, 2 * step):
                    found.setdefault(m, {}).setdefault(c, []).append(where)
        return found

    def _locate_jump(self, base, c, m, grid, lengths, interval, n_halvings: int = 20) -> float:
        """Bisect interval ``interval`` of a sweep for the value where the length jumps."""
        slope = (lengths[interval] - lengths[interval - 1]) / (grid[1] - grid[0])
        size = lengths[interval + 1] - lengths[interval] - slope * (grid[1] - grid[0])
        a, b, length_a = grid[interval], grid[interval + 1], lengths[interval]
        for _ in range(n_halvings):
            middle = (a + b) / 2
            length = self.sweep(base, c, np.array([middle]))[0, m]
            if abs(length - length_a - slope * (middle - a)) > abs(size) / 2:
                b = middle
            else:
                a, length_a = middle, length
        return (a + b) / 2

    def sample(self, poses: np.ndarray, pairs: list[tuple[int, int]]):
        """Lengths (n, n_muscles) and the moment arms of ``pairs`` (n, n_pairs)."""
        lengths = np.empty((len(poses), len(self.muscles)))
        moment_arms = np.empty((len(poses), len(pairs)))
        for k, pose in enumerate(poses):
            moment_arms[k] = self.moment_arms(pose, pairs)
            self.set_pose(pose)
            lengths[k] = self.lengths()
        return lengths, moment_arms


def _irregular_intervals(lengths: np.ndarray, step: float) -> list[tuple[int, bool]]:
    """Intervals of a fine sweep (index, is a jump) where the length jumps or
    its slope does. Each difference is predicted from its two neighbours on
    either side by linear extrapolation (exact to O(step^3) where the length is
    smooth): a jump leaves the difference outside both predictions, a kink
    makes the two predictions differ."""
    differences = np.diff(lengths)
    i = np.arange(2, len(differences) - 2)
    left = 2 * differences[i - 1] - differences[i - 2]
    right = 2 * differences[i + 1] - differences[i + 2]
    outside = np.maximum(np.minimum(left, right) - differences[i],
                         differences[i] - np.maximum(left, right))
    slope_change = np.abs(right - left) / step
    flagged = np.flatnonzero((outside > JUMP_TOLERANCE) | (slope_change > KINK_TOLERANCE))
    events = []
    # A jump also disturbs its neighbours' predictions: one event per cluster,
    # at the biggest jump if the cluster has one, else at the sharpest kink.
    for cluster in np.split(flagged, np.flatnonzero(np.diff(flagged) > 3) + 1):
        if not len(cluster):
            continue
        jumps = cluster[outside[cluster] > JUMP_TOLERANCE]
        if len(jumps):
            events.append((int(i[jumps[np.argmax(outside[jumps])]]), True))
        else:
            events.append((int(i[cluster[np.argmax(slope_change[cluster])]]), False))
    return events


def _agreeing(seen: list[tuple[int, float]], tolerance: float) -> list[float]:
    """Values seen from at least two different sweeps (ids) within ``tolerance``."""
    if not seen:
        return []
    seen = sorted(seen, key=lambda item: item[1])
    values = []
    group = [seen[0]]
    for item in seen[1:] + [(None, np.inf)]:
        if item[1] - group[-1][1] <= tolerance:
            group.append(item)
            continue
        if len({sweep for sweep, _ in group}) >= 2:
            values.append(float(np.median([value for _, value in group])))
        group = [item]
    return values


# ------------------------------------------------------- one muscle's fit
@dataclass(frozen=True)
class _Axis:
    """A coordinate scaled to [-1, 1] over [lower, upper]; its factors count
    only while the coordinate is in [active_from, active_to) (a piece of a
    piecewise fit; +-inf for the outer ends)."""

    coordinate: int
    lower: float
    upper: float
    active_from: float = -np.inf
    active_to: float = np.inf

    def scaled(self, q: np.ndarray) -> np.ndarray:
        return (q - 0.5 * (self.lower + self.upper)) / (0.5 * (self.upper - self.lower))

    def active(self, q: np.ndarray) -> np.ndarray:
        return (q >= self.active_from) & (q < self.active_to)


@dataclass
class _Piece:
    """The terms of a polynomial over the muscle's spanned coordinates (one
    axis each): exponents (n_terms, n_axes) of the scaled coordinates."""

    axes: tuple[_Axis, ...]
    exponents: np.ndarray


def _exponents(degrees: list[int]) -> np.ndarray:
    """Multi-indices a with sum(a_i / degree_i) <= 1: total degree, with a lower
    degree along a narrow piece's coordinate."""
    if not degrees:  # a muscle spanning no free coordinate: a constant length
        return np.zeros((1, 0), dtype=np.int64)
    ranges = [range(d + 1) for d in degrees]
    rows = [a for a in itertools.product(*ranges)
            if sum(ai / di for ai, di in zip(a, degrees) if di) <= 1 + 1e-9]
    return np.array(rows, dtype=np.int64).reshape(-1, len(degrees))


def _pieces(span: list[int], switches: dict[int, list[float]], lower, upper,
            degree: int) -> list[_Piece]:
    """One piece per combination of intervals between switching values, each
    axis scaled to its interval. Along a switching coordinate a piece's degree
    scales with the square root of its share of the range: measured on the
    four models, a linear scaling starved the narrow pieces that hold sharp
    turns (iliopsoas above 45 degrees of hip flexion)."""
    choices = []
    for c in span:
        edges = [lower[c], *switches.get(c, []), upper[c]]
        intervals = []
        for k in range(len(edges) - 1):
            active_from = -np.inf if k == 0 else edges[k]
            active_to = np.inf if k == len(edges) - 2 else edges[k + 1]
            intervals.append(_Axis(c, edges[k], edges[k + 1], active_from, active_to))
        choices.append(intervals)
    pieces = []
    for axes in itertools.product(*choices):
        degrees = []
        for a in axes:
            share = (a.upper - a.lower) / (upper[a.coordinate] - lower[a.coordinate])
            degrees.append(max(MIN_PIECE_DEGREE, round(degree * np.sqrt(share)))
                           if a.coordinate in switches else degree)
        pieces.append(_Piece(tuple(axes), _exponents(degrees)))
    return pieces


def _affordable(pieces: list[_Piece], poses: np.ndarray, rows_per_pose: int) -> list[_Piece]:
    """The pieces with their degrees lowered where a piece holds too few of the
    ``poses`` for its terms (a narrow interval between two wrap transitions):
    with fewer than `MIN_ROWS_PER_TERM` equations per term it would oscillate."""
    counts = np.bincount(_piece_index(pieces, poses), minlength=len(pieces))
    affordable = []
    for piece, count in zip(pieces, counts):
        limit = max(1, count * rows_per_pose // MIN_ROWS_PER_TERM)
        degrees = piece.exponents.max(axis=0, initial=0)
        shrink = 1.0
        while len(piece.exponents) > limit:
            shrink *= 0.8
            piece = _Piece(piece.axes, _exponents([int(d * shrink) for d in degrees]))
        affordable.append(piece)
    return affordable


def _chebyshev(x: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """T_k(x) and dT_k/dx, k = 0..degree, for x (n,) in [-1, 1]: (n, degree+1) each."""
    values = np.empty((len(x), degree + 1))
    slopes = np.empty((len(x), degree + 1))
    values[:, 0], slopes[:, 0] = 1.0, 0.0
    if degree >= 1:
        values[:, 1], slopes[:, 1] = x, 1.0
    for k in range(2, degree + 1):
        values[:, k] = 2 * x * values[:, k - 1] - values[:, k - 2]
        slopes[:, k] = 2 * values[:, k - 1] + 2 * x * slopes[:, k - 1] - slopes[:, k - 2]
    return values, slopes


def _design(pieces: list[_Piece], poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev-product basis at ``poses``: values (n, n_terms) and their
    derivatives by each spanned coordinate (n, n_terms, n_span), all pieces
    side by side, each zero outside its interval."""
    values, slopes = [], []
    for piece in pieces:
        factors, factor_slopes = [], []
        active = np.ones(len(poses))
        for j, axis in enumerate(piece.axes):
            q = poses[:, axis.coordinate]
            t, dt = _chebyshev(np.clip(axis.scaled(q), -1, 1), int(piece.exponents[:, j].max()))
            factors.append(t[:, piece.exponents[:, j]])
            factor_slopes.append(dt[:, piece.exponents[:, j]] * 2 / (axis.upper - axis.lower))
            active = active * axis.active(q)
        n_terms = len(piece.exponents)
        value = np.prod(factors, axis=0) if factors else np.ones((len(poses), n_terms))
        value = value * active[:, None]
        slope = np.stack([factor_slopes[j] * np.prod(factors[:j] + factors[j + 1:], axis=0)
                          for j in range(len(factors))], -1) if factors \
            else np.zeros((len(poses), n_terms, 0))
        slope = slope * active[:, None, None]
        values.append(value)
        slopes.append(slope)
    return np.concatenate(values, 1), np.concatenate(slopes, 1)


def _chebyshev_powers(size: int) -> np.ndarray:
    """(size, size): row k holds the monomial coefficients of T_k."""
    powers = np.zeros((size, size))
    for k in range(size):
        row = np.polynomial.chebyshev.cheb2poly(np.eye(size)[k])
        powers[k, :len(row)] = row
    return powers


def _chebyshev_to_monomial(pieces: list[_Piece], coefficients: np.ndarray) -> list[np.ndarray]:
    """Each piece's Chebyshev coefficients as monomial ones. T_k is a
    polynomial of degree k, so the exponent set maps into itself: the
    conversion is one triangular matrix per axis applied to the coefficient
    tensor."""
    monomial = []
    start = 0
    for piece in pieces:
        n_terms, n_axes = piece.exponents.shape
        chebyshev = coefficients[start:start + n_terms]
        start += n_terms
        if n_axes == 0:
            monomial.append(chebyshev.copy())
            continue
        sizes = piece.exponents.max(axis=0) + 1
        tensor = np.zeros(sizes)
        tensor[tuple(piece.exponents.T)] = chebyshev
        for j, size in enumerate(sizes):
            converted = np.tensordot(tensor, _chebyshev_powers(size), axes=([j], [0]))
            tensor = np.moveaxis(converted, -1, j)
        monomial.append(tensor[tuple(piece.exponents.T)])
    return monomial


@dataclass
class _Samples:
    """OpenSim's lengths (n,) and moment arms (n, n_span) of one muscle at
    poses (n, n_coordinates)."""

    poses: np.ndarray
    lengths: np.ndarray
    moment_arms: np.ndarray


def _piece_index(pieces: list[_Piece], poses: np.ndarray) -> np.ndarray:
    """Which piece each pose falls in (the pieces tile the coordinate space)."""
    index = np.zeros(len(poses), dtype=np.intp)
    for k, piece in enumerate(pieces):
        active = np.ones(len(poses), bool)
        for axis in piece.axes:
            active &= axis.active(poses[:, axis.coordinate])
        index[active] = k
    return index


def _least_squares(system: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Normal equations on unit-norm columns: Chebyshev columns keep them well
    conditioned, and they are ~10x faster than an SVD on these tall systems."""
    norms = np.linalg.norm(system, axis=0)
    norms[norms == 0] = 1.0  # a piece no sample reached: its coefficients stay 0
    system = system / norms
    gram = system.T @ system
    gram[np.diag_indices_from(gram)] += 1e-12  # keeps an empty piece's rows solvable
    return np.linalg.solve(gram, system.T @ target) / norms


@dataclass
class _Root:
    """The root family's L = c + soft_root(P) per piece: ``offsets`` c per
    piece, and the ``floor`` (m) of `_soft_root`."""

    offsets: np.ndarray
    floor: float


def _soft_root(inner: np.ndarray, floor) -> tuple[np.ndarray, np.ndarray]:
    """sqrt(P) for P >= floor^2, continued along its tangent below (0 stays
    floor / 2, bounded slope); returns the value and its derivative by P."""
    segment = np.sqrt(np.maximum(inner, floor * floor))
    return 0.5 * (segment + inner / segment), 0.5 / segment


def _extend_root(extended: np.ndarray, at_range: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """P past the fitted range, from its sums with each factor extended along
    its tangent (``extended``: P_e and -dP_e/dq) and at q clamped to the range
    (``at_range``: P_c, -dP_c/dq, zero slope along clamped coordinates).

    P_e alone is linear in how far q is past the range and can reach 0, where
    the square root's slope (the moment arm) grows without bound. With
    D = P_e - P_c, P = P_e + D^2 / (4 P_c) = (sqrt(P_c) + D / (2 sqrt(P_c)))^2:
    the segment sqrt(P) then continues along its own tangent, and the moment
    arms stay those at the range's edge, to first order."""
    value, slopes = extended[0], extended[1:]
    clamped, clamped_slopes = at_range[0], at_range[1:]
    ratio = (value - clamped) / (2 * np.maximum(clamped, floor * floor))  # 0 where not active
    result = np.empty_like(extended)
    result[0] = value + 0.5 * ratio * (value - clamped)
    result[1:] = slopes + ratio * (slopes - clamped_slopes) - ratio * ratio * clamped_slopes
    return result


def _per_piece(pieces: list[_Piece], data: _Samples):
    """Each piece with the samples it holds: pieces have disjoint supports, so
    their least-squares problems are independent (and far smaller together)."""
    index = _piece_index(pieces, data.poses)
    for k, piece in enumerate(pieces):
        held = index == k
        yield piece, _Samples(data.poses[held], data.lengths[held], data.moment_arms[held])


def _solve_polynomial(pieces: list[_Piece], data: _Samples):
    """L = P(q): least squares on lengths and moment arms (both in m)
    together; fitting the slopes, not only the values, is what keeps moment
    arms within a mm. Returns (P's Chebyshev coefficients, None)."""
    coefficients = []
    for piece, held in _per_piece(pieces, data):
        values, slopes = _design([piece], held.poses)
        system = np.concatenate([values] + [-slopes[:, :, j] for j in range(slopes.shape[2])])
        target = np.concatenate([held.lengths] + list(held.moment_arms.T))
        coefficients.append(_least_squares(system, target))
    return np.concatenate(coefficients), None


def _solve_root(pieces: list[_Piece], data: _Samples):
    """L = c + sqrt(P(q)) with one offset c per piece: exact in form for a path
    whose only varying segment is one straight line across the joints (P is
    then its squared length, a smooth trigonometric function), where L itself
    turns sharply as the segment passes close to the joint centre (glut_max,
    iliopsoas, the hip abductors and adductors of the 3D models).

    L^2 = Q(q) + 2 c L (with Q = P - c^2) is linear in Q's coefficients and
    c, and so is its slope 2 L L' = Q' + 2 c L'; a second pass weighs each row
    by 1 / (2 (L - c)) so that the residuals are errors in L. Returns (P's
    Chebyshev coefficients, `_Root`), or None where the form does not fit (a
    sample's segment L - c would not be positive).
    """
    coefficients, offsets, shortest = [], [], np.inf
    for piece, held in _per_piece(pieces, data):
        values, slopes = _design([piece], held.poses)
        lengths, length_slopes = held.lengths, -held.moment_arms
        weights = np.ones(len(lengths))
        for _ in range(2):
            system = np.concatenate(
                [np.hstack([values, 2 * lengths[:, None]])]
                + [np.hstack([slopes[:, :, j], 2 * length_slopes[:, j, None]])
                   for j in range(slopes.shape[2])])
            target = np.concatenate([lengths ** 2] + [2 * lengths * length_slopes[:, j]
                                                      for j in range(slopes.shape[2])])
            row_weights = np.tile(weights, 1 + slopes.shape[2])
            solution = _least_squares(system * row_weights[:, None], target * row_weights)
            segment = lengths - solution[-1]
            if len(segment) and segment.min() <= 0:
                return None
            weights = 0.5 / segment
        solution[0] += solution[-1] ** 2  # P = Q + c^2: the first term is the constant
        coefficients.append(solution[:-1])
        offsets.append(solution[-1])
        shortest = min(shortest, segment.min(initial=np.inf))
    return np.concatenate(coefficients), _Root(np.array(offsets), ROOT_FLOOR_FRACTION * shortest)


def _predict(pieces: list[_Piece], coefficients: np.ndarray, root: _Root | None,
             poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (n,) and moment arms (n, n_span) of a fit in Chebyshev form."""
    values, slopes = _design(pieces, poses)
    inner = values @ coefficients
    inner_slopes = np.einsum("ntj,t->nj", slopes, coefficients)
    if root is None:
        return inner, -inner_slopes
    value, slope = _soft_root(inner, root.floor)
    return root.offsets[_piece_index(pieces, poses)] + value, -inner_slopes * slope[:, None]


@dataclass
class _MuscleFit:
    span: list[int]
    pieces: list[_Piece]
    degree: int
    family: str  # "polynomial": L = P(q); "root": L = c + sqrt(P(q))
    coefficients: list[np.ndarray]  # P's monomial coefficients, per piece
    root: _Root | None
    length_error: float  # validation RMS, fraction of mean length
    moment_arm_errors: np.ndarray  # validation RMS per spanned coordinate, m

    @property
    def num_terms(self) -> int:
        return sum(len(p.exponents) for p in self.pieces) + (0 if self.root is None
                                                              else len(self.pieces) + 1)


FAMILIES = {"polynomial": _solve_polynomial, "root": _solve_root}


def _within(fit: _MuscleFit | None, length_tolerance: float, moment_arm_tolerance: float) -> bool:
    return fit is not None and fit.length_error <= length_tolerance and \
        fit.moment_arm_errors.max(initial=0) <= moment_arm_tolerance


def _fit_muscle(span, pieces_at, train: _Samples, validation: _Samples,
                length_tolerance: float, moment_arm_tolerance: float, families=tuple(FAMILIES),
                degrees=DEGREES, max_terms: float = np.inf) -> _MuscleFit | None:
    """The lowest of ``degrees`` at which one of ``families`` is within both
    tolerances on ``validation`` (the closer family if both are), else the
    fit closest to them; none above ``max_terms`` terms. ``pieces_at(degree)``
    gives the pieces' terms."""
    best, best_score, previous_terms = None, np.inf, 0
    for degree in degrees:
        pieces = pieces_at(degree)
        # A random subset of the poses, several per term, is as good and faster.
        wanted = FIT_POSES_PER_TERM * sum(len(p.exponents) for p in pieces)
        used = slice(min(len(train.poses), max(MIN_FIT_POSES, wanted)))
        subset = _Samples(train.poses[used], train.lengths[used], train.moment_arms[used])
        pieces = _affordable(pieces, subset.poses, 1 + len(span))
        n_terms = sum(len(p.exponents) for p in pieces)
        if n_terms > max_terms:
            break
        if n_terms <= previous_terms:  # no more terms than the degree before (or no more samples)
            continue
        previous_terms = n_terms
        for family in families:
            solved = FAMILIES[family](pieces, subset)
            if solved is None:
                continue
            lengths, moment_arms = _predict(pieces, *solved, validation.poses)
            length_error = np.sqrt(np.mean((lengths - validation.lengths) ** 2)) / np.mean(
                validation.lengths)
            moment_arm_errors = np.sqrt(np.mean((moment_arms - validation.moment_arms) ** 2,
                                                axis=0))
            score = max(length_error / length_tolerance,
                        moment_arm_errors.max(initial=0) / moment_arm_tolerance)
            if score < best_score:
                best_score = score
                best = _MuscleFit(span, pieces, degree, family,
                                  _chebyshev_to_monomial(pieces, solved[0]), solved[1],
                                  length_error, moment_arm_errors)
        if best_score <= 1:
            break
    return best


# ----------------------------------------------------- all muscles at once
class MusclePaths:
    """Fitted musculotendon lengths and moment arms of a model's muscles.

    `evaluate` takes the full coordinate vector (model order) and returns all
    lengths and the (n_muscles, n_coordinates) moment arms. It reuses internal
    buffers: one instance serves one thread. `to_dict` / `from_dict` and
    `save` / `load` (``.npz``, no pickles) let an engine cache a fit.

    Per muscle: ``spans`` (bool, n_muscles x n_coordinates), ``families`` and
    ``degrees`` chosen, and the errors on the fit's held-out poses
    (``validation_length_error``, fraction of mean length;
    ``validation_moment_arm_error``, m, NaN where not spanned). ``lower`` and
    ``upper`` are the fitted ranges.
    """

    # Arrays that define a fit (everything else is derived from them). A term
    # names one axis (a coordinate over an interval) and exponent per slot.
    _FIELDS = ("coordinate_names", "muscle_names", "lower", "upper", "spans", "degrees",
               "families", "axis_coordinate", "axis_lower", "axis_upper", "axis_active_from",
               "axis_active_to", "term_muscle", "term_root", "root_floor", "term_axes",
               "term_exponents", "coefficients", "validation_length_error",
               "validation_moment_arm_error")

    def __init__(self, **arrays):
        missing = set(self._FIELDS) - set(arrays)
        if missing:
            raise ValueError(f"muscle paths lack {sorted(missing)}")
        for name in self._FIELDS:
            setattr(self, name, np.asarray(arrays[name]))
        self.coordinate_names = [str(n) for n in self.coordinate_names]
        self.muscle_names = [str(n) for n in self.muscle_names]
        self._prepare()

    # ------------------------------------------------------------ set-up
    def _prepare(self) -> None:
        """Derive the evaluation arrays. `evaluate` builds a table of the
        powers of every axis's scaled coordinate and of their slopes, gathers
        each term's factors from it, multiplies them (and, leaving one out at
        a time, their slopes) and sums them per segment with one ``reduceat``:
        about 25 numpy calls whatever the number of muscles.

        Segments: first one per muscle with the terms added to its length,
        then one per square root (root family) with the terms of its P."""
        n_muscles, n_coordinates = len(self.muscle_names), len(self.coordinate_names)
        under_root = self.term_root >= 0
        order = np.lexsort((self.term_root, self.term_muscle, under_root))
        muscle, root = self.term_muscle[order], self.term_root[order]
        axes, exponents = self.term_axes[order], self.term_exponents[order]
        self._coefficients = self.coefficients[order].astype(float)
        direct_muscles = muscle[root < 0]
        if not np.array_equal(np.unique(direct_muscles), np.arange(n_muscles)):
            raise ValueError("every muscle needs a term outside square roots")
        segment = np.where(root < 0, muscle, n_muscles + root)
        self._segment_starts = np.flatnonzero(np.diff(segment, prepend=-1))
        # Each root's sums are added to its muscle's: (roots, muscles) of 0/1.
        root_muscle = muscle[self._segment_starts[n_muscles:]]
        self._root_to_muscle = np.eye(n_muscles)[root_muscle]
        self._root_floor = self.root_floor[root[self._segment_starts[n_muscles:]]]
        self._has_roots = len(root_muscle) > 0
        self._q_shape = (n_coordinates,)
        # Axis 0 (added here) is the unit factor that pads the terms of muscles
        # spanning fewer coordinates than the widest one: x = 0, always active.
        n_axes = len(self.axis_coordinate) + 1
        self._axis_coordinate = np.concatenate([[0], self.axis_coordinate]).astype(np.intp)
        self._axis_lower = np.concatenate([[-np.inf], self.axis_lower])
        self._axis_upper = np.concatenate([[np.inf], self.axis_upper])
        finite = np.isfinite(self._axis_lower)
        lower = np.where(finite, self._axis_lower, 0.0)
        upper = np.where(finite, self._axis_upper, 0.0)
        self._axis_middle = 0.5 * (lower + upper)
        self._axis_scale = np.where(finite, 2.0 / np.where(finite, upper - lower, 1.0), 0.0)
        self._active_from = np.concatenate([[-np.inf], self.axis_active_from])
        self._active_to = np.concatenate([[np.inf], self.axis_active_to])
        self._pieces = bool(np.isfinite(self._active_from).any()
                            or np.isfinite(self._active_to).any())
        # Axes of the root family's terms: past their range, P needs `_extend_root`.
        self._root_axes = np.zeros(n_axes)
        self._root_axes[axes[root >= 0][axes[root >= 0] >= 0] + 1] = 1.0
        width = int(self.term_exponents.max(initial=0)) + 1
        # Row k of the power table holds x^k of every axis; row 0 holds 1, or
        # 0 for an axis (a piece) that is not active at this pose.
        self._power_base = np.ones((width, n_axes))
        # Slope of x^k by q, negated (a moment arm is -dL/dq): -k x^(k-1) * scale.
        self._slope_factor = -(np.arange(1, width)[:, None] * self._axis_scale)
        self._tables = np.zeros((2, width, n_axes))  # powers, slopes (row 0 stays 0)
        # Slot-major layouts (slot, term): every elementwise loop runs over
        # contiguous terms (term-major ones ran 5-10x slower on strided slots).
        n_slots = axes.shape[1]
        value_index = (exponents * n_axes + (axes + 1)).T  # axis ids shift by the unit axis
        self._factor_index = np.ascontiguousarray(
            np.vstack([value_index, value_index + width * n_axes]))
        self._n_slots = n_slots
        self._sums = np.empty((n_slots + 1, len(muscle)))
        self._prefix = np.empty((n_slots, len(muscle)))
        # Where each muscle's per-slot slope sum lands in the moment-arm matrix:
        # slot j is the same coordinate in all of a muscle's terms but the
        # constant ones (no axes).
        slot_coordinate = np.full((n_muscles, n_slots), -1)
        term_rows, term_slots = np.nonzero(axes >= 0)
        slot_coordinate[muscle[term_rows], term_slots] = \
            self.axis_coordinate[axes[term_rows, term_slots]]
        rows, slots = np.nonzero(slot_coordinate >= 0)
        self._moment_arm_target = rows * n_coordinates + slot_coordinate[rows, slots]
        self._moment_arm_source = (slots + 1) * n_muscles + rows
        self._shape = (n_muscles, n_coordinates)

    # -------------------------------------------------------- evaluation
    def evaluate(self, q) -> tuple[np.ndarray, np.ndarray]:
        """Musculotendon lengths (n_muscles,) in m and moment arms
        (n_muscles, n_coordinates) in m (or dimensionless for translations)
        at the coordinate vector ``q`` (model order)."""
        q = np.asarray(q, dtype=float)
        if q.shape != self._q_shape:
            raise ValueError(f"q has shape {q.shape}; the model has {self._q_shape[0]} coordinates")
        q_axis = q[self._axis_coordinate]
        inside = np.minimum(np.maximum(q_axis, self._axis_lower), self._axis_upper)
        base = self._power_base
        base[1:] = (inside - self._axis_middle) * self._axis_scale
        if self._pieces:
            base[0] = (q_axis >= self._active_from) & (q_axis < self._active_to)
        powers, slopes = self._tables
        np.multiply.accumulate(base, axis=0, out=powers)
        np.multiply(powers[:-1], self._slope_factor, out=slopes[1:])
        beyond = q_axis - inside
        # An active axis beyond its interval is past its coordinate's range
        # (a piece's inner edges bound where it is active).
        at_range = None  # the tables at the pose clamped to the ranges
        if self._has_roots and np.dot(np.abs(beyond) * base[0], self._root_axes):
            at_range = self._tables.copy()
            at_range[1] *= beyond == 0  # a clamped coordinate moves nothing
        # Past the fitted range, each factor continues along its boundary tangent.
        powers -= slopes * beyond
        totals = self._segment_sums(self._tables)  # (1 + slots, segments)
        n_muscles = self._shape[0]
        if self._has_roots:
            # L = c + sqrt(P): the sums of a root segment are P and -dP/dq.
            inner = totals[:, n_muscles:]
            if at_range is not None:
                inner = _extend_root(inner, self._segment_sums(at_range)[:, n_muscles:],
                                     self._root_floor)
            value, slope = _soft_root(inner[0], self._root_floor)
            inner[1:] *= slope
            inner[0] = value
            totals = totals[:, :n_muscles] + inner @ self._root_to_muscle
        moment_arms = np.zeros(self._shape)
        moment_arms.ravel()[self._moment_arm_target] = totals.ravel()[self._moment_arm_source]
        return totals[0], moment_arms

    def _segment_sums(self, tables: np.ndarray) -> np.ndarray:
        """Per segment, the sum of its terms and of their slopes (negated) by
        each slot's coordinate: (1 + slots, segments)."""
        gathered = tables.ravel()[self._factor_index]
        factors, factor_slopes = gathered[:self._n_slots], gathered[self._n_slots:]
        # Leave-one-out products (times the coefficient): prefix products of
        # the factors before each slot, times suffix products of those after.
        prefix, sums = self._prefix, self._sums
        prefix[0] = self._coefficients
        for j in range(1, self._n_slots):
            np.multiply(prefix[j - 1], factors[j - 1], out=prefix[j])
        np.multiply(prefix[-1], factors[-1], out=sums[0])  # the terms' values
        np.multiply(prefix[-1], factor_slopes[-1], out=sums[-1])
        suffix = None
        for j in range(self._n_slots - 2, -1, -1):
            suffix = factors[j + 1] if suffix is None else suffix * factors[j + 1]
            np.multiply(prefix[j] * suffix, factor_slopes[j], out=sums[1 + j])
        return np.add.reduceat(sums, self._segment_starts, axis=1)

    def evaluate_many(self, poses) -> tuple[np.ndarray, np.ndarray]:
        """`evaluate` at each row of ``poses``: (n, n_muscles) and (n, n_muscles, n_coordinates)."""
        results = [self.evaluate(q) for q in np.atleast_2d(poses)]
        return np.array([r[0] for r in results]), np.array([r[1] for r in results])

    # ------------------------------------------------------- description
    @property
    def num_terms(self) -> int:
        return len(self.coefficients)

    def spanned(self, muscle: str) -> list[str]:
        """The coordinates the named muscle's length depends on."""
        row = self.spans[self.muscle_names.index(muscle)]
        return [n for n, s in zip(self.coordinate_names, row) if s]

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, np.ndarray]:
        arrays = {name: np.asarray(getattr(self, name)) for name in self._FIELDS}
        arrays["format_version"] = np.array(FORMAT_VERSION)
        return arrays

    @classmethod
    def from_dict(cls, arrays) -> MusclePaths:
        version = int(np.asarray(arrays.get("format_version", -1)))
        if version != FORMAT_VERSION:
            raise ValueError(f"muscle paths of format {version}, expected {FORMAT_VERSION}: refit")
        return cls(**{name: arrays[name] for name in cls._FIELDS})

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with open(path, "wb") as file:  # a file object: np.savez would append ".npz"
            np.savez(file, **self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | Path) -> MusclePaths:
        with np.load(path, allow_pickle=False) as arrays:
            return cls.from_dict(dict(arrays))


def fit_paths(model: opensim.Model, *, n_poses: int = 1200, n_validation: int = 300,
              seed: int = 0, length_tolerance: float = 1e-3,
              moment_arm_tolerance: float = 1e-3) -> MusclePaths:
    """Fit the musculotendon length of every muscle of ``model`` (not
    modified) as a function of the coordinates it spans, over their full ranges.

    ``n_poses`` poses (seeded, uniform over the ranges, every other one denser
    near the range limits) feed the least squares; ``n_validation`` others
    choose each muscle's family and degree: the lowest of `DEGREES` whose
    length RMS is within ``length_tolerance`` (fraction of the mean length) and
    whose moment-arm RMS is within ``moment_arm_tolerance`` (m) about every
    spanned coordinate. Deterministic for a given ``seed``. Takes 1-5 s on the
    four models here, most of it in OpenSim.
    """
    probe = _PathProbe(model)
    rng = np.random.default_rng(seed)
    spans = probe.spans(np.vstack([probe.default, probe.random_poses(3, rng)]))
    detected = probe.detected_switches(spans, probe.random_poses(3, rng))
    pairs = [(m, c) for m, c in zip(*np.nonzero(spans))]
    train_poses = probe.random_poses(n_poses, rng, edges=True)
    validation_poses = probe.random_poses(n_validation, rng)
    train = probe.sample(train_poses, pairs)
    validation = probe.sample(validation_poses, pairs)

    def muscle_samples(m: int, poses: np.ndarray, sampled) -> _Samples:
        columns = [k for k, (pm, _) in enumerate(pairs) if pm == m]
        return _Samples(poses, sampled[0][:, m], sampled[1][:, columns])

    tolerances = (length_tolerance, moment_arm_tolerance)
    jobs = []
    for m in range(len(probe.muscles)):
        span = list(np.flatnonzero(spans[m]))
        switches = _merge_switches(probe.declared_switches(m, spans), detected.get(m, {}),
                                   probe.lower, probe.upper)
        jobs.append((span, functools.partial(_pieces, span, switches, probe.lower, probe.upper),
                     muscle_samples(m, train_poses, train),
                     muscle_samples(m, validation_poses, validation)))
    fits = [_fit_muscle(*job, *tolerances) for job in jobs]
    # Square roots cost `ROOT_OVERHEAD_TERMS` once per model: do without them
    # where polynomials within the tolerances need fewer extra terms in all.
    budget = ROOT_OVERHEAD_TERMS
    polynomial_only = list(fits)
    for m, fit in enumerate(fits):
        if fit.family == "polynomial":
            continue
        later = [d for d in DEGREES if d >= fit.degree]
        alternative = _fit_muscle(*jobs[m], *tolerances, families=("polynomial",),
                                  degrees=later, max_terms=fit.num_terms + budget)
        if not _within(alternative, *tolerances):
            break
        budget -= alternative.num_terms - fit.num_terms
        polynomial_only[m] = alternative
    else:
        fits = polynomial_only
    return _assemble(probe, spans, fits)


def _merge_switches(declared: dict[int, list[float]], detected: dict[int, list[float]],
                    lower: np.ndarray, upper: np.ndarray) -> dict[int, list[float]]:
    """Declared switching values, and detected ones that are not one of them
    seen a sweep step or two off."""
    merged = {c: sorted(values) for c, values in declared.items()}
    for c, values in detected.items():
        near = 2 * (upper[c] - lower[c]) / (SWEEP_POINTS - 1)
        known = merged.setdefault(c, [])
        known += [v for v in values if all(abs(v - k) > near for k in known)]
        known.sort()
    return merged


def _assemble(probe: _PathProbe, spans: np.ndarray, fits: list[_MuscleFit]) -> MusclePaths:
    """Flatten the muscles' pieces into the term arrays `MusclePaths` stores:
    each term names one axis and one exponent per slot (slot j of a muscle is
    its j-th spanned coordinate; -1 pads muscles spanning fewer). A root-family
    piece gives a constant term c (added to the length) and the terms of P,
    marked with the id of their square root."""
    axes: dict[_Axis, int] = {}
    n_slots = max([len(f.span) for f in fits] + [1])
    unit = ([-1] * n_slots, [0] * n_slots)  # a constant term: 1 at every pose
    terms: list[tuple] = []  # (muscle, root id or -1, axis ids, exponents, coefficient)
    root_floor = []
    for m, fit in enumerate(fits):
        if fit.root is not None and len(fit.pieces) > 1:
            # A piece that is not active has P = 0, where the soft root is floor / 2.
            terms.append((m, -1, *unit, -0.5 * fit.root.floor * (len(fit.pieces) - 1)))
        for k, piece in enumerate(fit.pieces):
            ids = [axes.setdefault(axis, len(axes)) for axis in piece.axes]
            ids += [-1] * (n_slots - len(ids))
            root = -1
            if fit.root is not None:
                terms.append((m, -1, ids, [0] * n_slots, fit.root.offsets[k]))  # c, where active
                root = len(root_floor)
                root_floor.append(fit.root.floor)
            for exponent, c in zip(piece.exponents, fit.coefficients[k]):
                terms.append((m, root, ids, list(exponent) + [0] * (n_slots - len(exponent)), c))
    axis_list = sorted(axes, key=axes.get)
    moment_arm_errors = np.full(spans.shape, np.nan)
    for m, fit in enumerate(fits):
        moment_arm_errors[m, fit.span] = fit.moment_arm_errors
    muscle, root, term_axes, exponents, coefficients = zip(*terms)
    return MusclePaths(
        coordinate_names=np.array(probe.coordinate_names),
        muscle_names=np.array(probe.muscle_names),
        lower=probe.lower, upper=probe.upper, spans=spans,
        degrees=np.array([f.degree for f in fits]), families=np.array([f.family for f in fits]),
        axis_coordinate=np.array([a.coordinate for a in axis_list], dtype=np.int64),
        axis_lower=np.array([a.lower for a in axis_list]),
        axis_upper=np.array([a.upper for a in axis_list]),
        axis_active_from=np.array([a.active_from for a in axis_list]),
        axis_active_to=np.array([a.active_to for a in axis_list]),
        term_muscle=np.array(muscle, dtype=np.int64), term_root=np.array(root, dtype=np.int64),
        root_floor=np.array(root_floor, dtype=float),
        term_axes=np.array(term_axes, dtype=np.int64).reshape(-1, n_slots),
        term_exponents=np.array(exponents, dtype=np.int64).reshape(-1, n_slots),
        coefficients=np.array(coefficients),
        validation_length_error=np.array([f.length_error for f in fits]),
        validation_moment_arm_error=moment_arm_errors,
    )


# ---------------------------------------------------------------- agreement
def agreement(model: opensim.Model, paths: MusclePaths, n_poses: int = 100,
              seed: int = 12345) -> dict:
    """Compare ``paths`` with OpenSim at ``n_poses`` random poses (seeded,
    uniform over the free coordinates' full ranges, drawn independently of the
    fit's poses).

    Returns per muscle the length RMS error as % of its mean length
    (``length_rms_percent``), per spanned muscle-coordinate pair the moment-arm
    RMS error in mm (``moment_arm_rms_mm``, keyed ``(muscle, coordinate)``),
    and the summary figures ``worst_length`` / ``worst_pair`` (name, value),
    ``mean_pair_mm`` and ``max_pair_mm``. Pairs are those where OpenSim or the
    fit has a nonzero moment arm at some pose, so a missed span shows.
    """
    probe = _PathProbe(model)
    if probe.coordinate_names != paths.coordinate_names or probe.muscle_names != paths.muscle_names:
        raise ValueError("the paths were fitted to another model")
    poses = probe.random_poses(n_poses, np.random.default_rng(seed))
    free = np.flatnonzero(probe.free)
    all_pairs = [(m, c) for m in range(len(probe.muscles)) for c in free]
    lengths, moment_arms = probe.sample(poses, all_pairs)
    fitted_lengths, fitted_moment_arms = paths.evaluate_many(poses)
    length_rms = np.sqrt(np.mean((fitted_lengths - lengths) ** 2, axis=0))
    length_percent = 100 * length_rms / np.mean(lengths, axis=0)
    pair_rms = {}
    for k, (m, c) in enumerate(all_pairs):
        reference, fitted = moment_arms[:, k], fitted_moment_arms[:, m, c]
        if np.abs(reference).max() > SPAN_TOLERANCE or np.abs(fitted).max() > 0:
            key = (probe.muscle_names[m], probe.coordinate_names[c])
            pair_rms[key] = 1000 * float(np.sqrt(np.mean((fitted - reference) ** 2)))
    worst_muscle = int(np.argmax(length_percent))
    worst_pair = max(pair_rms, key=pair_rms.get)
    return {
        "n_poses": n_poses,
        "length_rms_percent": dict(zip(probe.muscle_names, map(float, length_percent))),
        "moment_arm_rms_mm": pair_rms,
        "worst_length": (probe.muscle_names[worst_muscle], float(length_percent[worst_muscle])),
        "worst_pair": (worst_pair, pair_rms[worst_pair]),
        "mean_pair_mm": float(np.mean(list(pair_rms.values()))),
        "max_pair_mm": pair_rms[worst_pair],
    }


__all__ = ["DEGREES", "MusclePaths", "agreement", "fit_paths"]
