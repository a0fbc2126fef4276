"""The MuJoCo engine's per-step arithmetic, compiled with Numba.

At MuJoCo's speeds the Python side of a step dominates: the rigid-tendon
muscles, activation dynamics and coordinate forces cost about a hundred numpy
calls per MuJoCo step (60-70 us) for a few dozen numbers. `substep_forces`
does all of it in one compiled call (a few microseconds). It computes exactly
what `muscles.ThelenMuscles` (activation by `rk4_activations`) and
`forces.CoordinateForces` compute in numpy; tests/test_mujoco_engine.py holds
the two to each other. Compiled once per machine (``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Rows of the muscle parameter table (`muscle_table`).
(FMAX, TENDON_SLACK, INV_OPTIMAL, PENNATION_HEIGHT2, MAX_SIN2, MIN_LENGTH, LENGTH_FLOOR,
 MIN_ALONG_TENDON, INV_MAX_SPEED, INV_KSHAPE_ACTIVE, PASSIVE_EXPONENT, PASSIVE_SCALE,
 INV_AF, ECCENTRIC_FACTOR, ECCENTRIC_BASE, EXTRAP_VELOCITY, EXTRAP_VELOCITY_PER_FV,
 TAU_ACTIVATION, TAU_DEACTIVATION, MIN_ACTIVATION, INV_TENDON_SLACK, TOE_STRAIN, TOE_EXPONENT,
 TOE_SCALE, TENDON_STIFFNESS, OPTIMAL) = range(26)
# Equilibrium tendon: fiber lengths are solved to this force balance (x max isometric force).
BALANCE_TOLERANCE = 1e-8
MAX_BALANCE_ITERATIONS = 60


def muscle_table(muscles) -> np.ndarray:
    """The `ThelenMuscles` parameters the kernels read, one row per quantity.
    Max isometric force (row `FMAX`) is read at each call: rebuild after changing it."""
    m = muscles
    rows = {
        FMAX: m.max_isometric_force, TENDON_SLACK: m.tendon_slack_length,
        INV_OPTIMAL: m._inverse_optimal_fiber_length, PENNATION_HEIGHT2: m._pennation_height_squared,
        MAX_SIN2: m._max_sin_pennation_squared, MIN_LENGTH: m.minimum_fiber_length,
        LENGTH_FLOOR: m._fiber_length_floor, MIN_ALONG_TENDON: m._minimum_fiber_length_along_tendon,
        INV_MAX_SPEED: m._inverse_max_fiber_speed, INV_KSHAPE_ACTIVE: 1.0 / m.kshape_active,
        PASSIVE_EXPONENT: m._passive_exponent, PASSIVE_SCALE: m._passive_scale,
        INV_AF: m._inverse_af, ECCENTRIC_FACTOR: m._eccentric_factor,
        ECCENTRIC_BASE: m._eccentric_base, EXTRAP_VELOCITY: m._fv_extrap_velocity,
        EXTRAP_VELOCITY_PER_FV: m._fv_extrap_velocity_per_fv,
        TAU_ACTIVATION: m.activation_time_constant, TAU_DEACTIVATION: m.deactivation_time_constant,
        MIN_ACTIVATION: m.minimum_activation, INV_TENDON_SLACK: m._inverse_tendon_slack_length,
        TOE_STRAIN: m._toe_strain, TOE_EXPONENT: m._toe_exponent, TOE_SCALE: m._toe_scale,
        TENDON_STIFFNESS: m._tendon_linear_stiffness, OPTIMAL: m.optimal_fiber_length,
    }
    table = np.empty((len(rows), m.count))
    for row, values in rows.items():
        table[row] = np.broadcast_to(values, (m.count,))
    return table


@njit(cache=True, fastmath=False)
def _activation_rate(p, i, a, u):
    c = min(max(a, p[MIN_ACTIVATION, i]), 1.0)
    speed_up = 0.5 + 1.5 * c
    tau = p[TAU_ACTIVATION, i] * speed_up if u > c else p[TAU_DEACTIVATION, i] / speed_up
    return (u - c) / tau


@njit(cache=True)
def rk4_activations(p, a, u, h, out):
    """Activations after ``h`` at constant excitations ``u``: one classical
    Runge-Kutta step of Thelen's activation law, per muscle, into ``out``."""
    for i in range(a.shape[0]):
        k1 = _activation_rate(p, i, a[i], u[i])
        k2 = _activation_rate(p, i, a[i] + 0.5 * h * k1, u[i])
        k3 = _activation_rate(p, i, a[i] + 0.5 * h * k2, u[i])
        k4 = _activation_rate(p, i, a[i] + h * k3, u[i])
        out[i] = a[i] + h / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)


@njit(cache=True)
def _fiber(p, i, a, lf, speed):
    """The curves at fiber length ``lf`` with the fiber moving at the path's
    ``speed``: cos(pennation), fiber velocity, active and passive force-length,
    force-velocity, and the force-velocity slope per unit of normalized velocity."""
    floor = max(lf, p[LENGTH_FLOOR, i])
    cos = math.sqrt(1.0 - min(p[PENNATION_HEIGHT2, i] / (floor * floor), p[MAX_SIN2, i]))
    vf = speed * cos
    stretch = lf * p[INV_OPTIMAL, i] - 1.0
    active_fl = math.exp(-stretch * stretch * p[INV_KSHAPE_ACTIVE, i])
    passive_fl = (math.exp(p[PASSIVE_EXPONENT, i] * max(stretch, 0.0)) - 1.0) * p[PASSIVE_SCALE, i]
    scale = 0.25 + 0.75 * a
    velocity = vf * p[INV_MAX_SPEED, i] / scale
    extrap = p[EXTRAP_VELOCITY, i]
    on_curve = min(max(velocity, -1.0), extrap)
    if on_curve <= 0.0:
        numerator_slope, denominator_slope = 1.0, -p[INV_AF, i]
    else:
        numerator_slope, denominator_slope = p[ECCENTRIC_BASE, i], p[ECCENTRIC_FACTOR, i]
    denominator = 1.0 + denominator_slope * on_curve
    fv = ((1.0 + numerator_slope * on_curve) / denominator
          + max(velocity - extrap, 0.0) / p[EXTRAP_VELOCITY_PER_FV, i])
    if velocity < -1.0:
        slope = 0.0
    elif velocity > extrap:
        slope = 1.0 / p[EXTRAP_VELOCITY_PER_FV, i]
    else:
        slope = (numerator_slope - denominator_slope) / (denominator * denominator)
    return cos, vf, active_fl, passive_fl, fv, slope / scale


@njit(cache=True)
def rigid_tendon(p, activation, lengths, speeds, fiber_length, fiber_velocity, fiber_force,
                 tension, damping):
    """`ThelenMuscles.rigid_tendon(..., with_damping=True)`, into the output arrays."""
    for i in range(activation.shape[0]):
        a = min(max(activation[i], p[MIN_ACTIVATION, i]), 1.0)
        along = lengths[i] - p[TENDON_SLACK, i]
        at_minimum = along < p[MIN_ALONG_TENDON, i]
        if at_minimum:
            lf = p[MIN_LENGTH, i]
        else:
            lf = math.sqrt(p[PENNATION_HEIGHT2, i] + along * along)
        cos, vf, active_fl, passive_fl, fv, slope = _fiber(p, i, a, lf, speeds[i])
        fmax = p[FMAX, i]
        active = 0.0 if at_minimum else a * active_fl * fv
        force = (active + passive_fl) * fmax
        fiber_length[i] = lf
        fiber_velocity[i] = vf
        fiber_force[i] = force
        tension[i] = force * cos
        damping[i] = 0.0 if at_minimum else a * active_fl * slope * fmax * cos * cos * p[INV_MAX_SPEED, i]


@njit(cache=True)
def _fiber_balance(p, i, a, mt_length, speed, along):
    """Fiber force along the tendon minus tendon force (x max isometric force)
    with the fiber's length along the tendon ``along``, and the fiber's length,
    cos(pennation), velocity, force (x max isometric force), active
    force-length and force-velocity slope."""
    lf = max(math.sqrt(p[PENNATION_HEIGHT2, i] + along * along), p[LENGTH_FLOOR, i])
    cos, vf, active_fl, passive_fl, fv, slope = _fiber(p, i, a, lf, speed)
    strain = (mt_length - along) * p[INV_TENDON_SLACK, i] - 1.0
    toe = min(max(strain, 0.0), p[TOE_STRAIN, i])
    tendon = (p[TOE_SCALE, i] * (math.exp(p[TOE_EXPONENT, i] * toe) - 1.0)
              + p[TENDON_STIFFNESS, i] * max(strain - p[TOE_STRAIN, i], 0.0))
    fiber = a * active_fl * fv + passive_fl
    return fiber * cos - tendon, lf, cos, vf, fiber, active_fl, slope


@njit(cache=True)
def equilibrium_tendon(p, activation, lengths, speeds, fiber_length, fiber_velocity,
                       fiber_force, tension, damping):
    """Thelen muscles whose elastic tendon is always in balance with the fiber:
    the fiber's length is solved so that fiber and tendon forces are equal,
    with the fiber moving at the path's speed (its velocity along the tendon).
    Static forces are OpenSim's equilibrium; there is no stiff fiber state to
    integrate. Solved from the full bracket every time (no warm start), so the
    forces are a function of the state alone and snapshots replay bit for bit."""
    for i in range(activation.shape[0]):
        a = min(max(activation[i], p[MIN_ACTIVATION, i]), 1.0)
        length, speed = lengths[i], speeds[i]
        short = p[MIN_ALONG_TENDON, i]
        long = max(length - p[TENDON_SLACK, i], short)  # the tendon just slack
        error_short = _fiber_balance(p, i, a, length, speed, short)[0]
        along = short  # no balance (a fiber stronger than its stretched tendon): shortest, as OpenSim
        if error_short < 0.0:
            error_long = _fiber_balance(p, i, a, length, speed, long)[0]
            side = 0
            for _ in range(MAX_BALANCE_ITERATIONS):  # Illinois regula falsi
                along = (short * error_long - long * error_short) / (error_long - error_short)
                error = _fiber_balance(p, i, a, length, speed, along)[0]
                if abs(error) <= BALANCE_TOLERANCE or long - short <= 1e-15:
                    break
                if error > 0.0:
                    long, error_long = along, error
                    if side > 0:
                        error_short *= 0.5
                    side = 1
                else:
                    short, error_short = along, error
                    if side < 0:
                        error_long *= 0.5
                    side = -1
        error, lf, cos, vf, fiber, active_fl, slope = _fiber_balance(p, i, a, length, speed, along)
        fmax = p[FMAX, i]
        fiber_length[i] = lf
        fiber_velocity[i] = vf
        fiber_force[i] = fiber * fmax
        tension[i] = (fiber * cos - error) * fmax  # the tendon's force (the fiber's, in balance)
        damping[i] = a * active_fl * slope * fmax * cos * cos * p[INV_MAX_SPEED, i]


@njit(cache=True)
def _rise(u):
    u = max(u, 0.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


@njit(cache=True)
def _rise_slope(u):
    if u <= 0.0 or u >= 1.0:
        return 0.0
    return 30.0 * u * u * (1.0 - u) * (1.0 - u)


@njit(cache=True)
def coordinate_forces(limits, springs, q, qdot, out, stiffness, damping):
    """`CoordinateForces.generalized`, added into ``out`` (per coordinate), and
    their stiffness (-d force / d q) and damping (-d force / d qdot) added into
    ``stiffness`` and ``damping``. ``limits`` rows: coordinate, upper, lower,
    upper stiffness, lower stiffness, 1 / transition, damping; ``springs``
    rows: coordinate, stiffness, rest length, viscosity."""
    for k in range(limits.shape[1]):
        c = int(limits[0, k])
        x, upper, lower, inverse_width = q[c], limits[1, k], limits[2, k], limits[5, k]
        if x <= upper and x >= lower:
            continue  # slack
        u_up = min((x - upper) * inverse_width, 1.0)
        u_low = min((lower - x) * inverse_width, 1.0)
        up, low = _rise(u_up), _rise(u_low)
        out[c] += (-limits[3, k] * up * (x - upper) + limits[4, k] * low * (lower - x)
                   - limits[6, k] * (up + low) * qdot[c])
        stiffness[c] += (limits[3, k] * (_rise_slope(u_up) * (x - upper) * inverse_width + up)
                         + limits[4, k] * (_rise_slope(u_low) * (lower - x) * inverse_width + low))
        damping[c] += limits[6, k] * (up + low)
    for k in range(springs.shape[1]):
        c = int(springs[0, k])
        out[c] += -springs[1, k] * (q[c] - springs[2, k]) - springs[3, k] * qdot[c]
        stiffness[c] += springs[1, k]
        damping[c] += springs[3, k]


@njit(cache=True)
def substep_forces(p, activation, lengths, moment_arms, q, qdot, limits, springs,
                   fiber_length, fiber_velocity, fiber_force, tension, damping,
                   generalized, joint_damping, joint_stiffness, balanced):
    """Everything applied at one MuJoCo step, per coordinate: the muscles'
    (`equilibrium_tendon` if ``balanced``, else `rigid_tendon`) generalized forces plus the coordinate forces into ``generalized``; their
    damping (d force / d speed, negated: the muscles' force-velocity slope
    along the joints, the limits' and springs' dampers) into ``joint_damping``
    and the coordinate forces' stiffness into ``joint_stiffness`` (MuJoCo's
    implicit integrator treats both as damping); the muscle readings into theirs."""
    n_muscles, n_coordinates = moment_arms.shape
    speeds = np.empty(n_muscles)
    for m in range(n_muscles):
        total = 0.0
        for c in range(n_coordinates):
            total -= moment_arms[m, c] * qdot[c]
        speeds[m] = total
    if balanced:
        equilibrium_tendon(p, activation, lengths, speeds, fiber_length, fiber_velocity,
                           fiber_force, tension, damping)
    else:
        rigid_tendon(p, activation, lengths, speeds, fiber_length, fiber_velocity, fiber_force,
                     tension, damping)
    for c in range(n_coordinates):
        force, slope = 0.0, 0.0
        for m in range(n_muscles):
            r = moment_arms[m, c]
            force += r * tension[m]
            slope += r * r * damping[m]
        generalized[c] = force
        joint_damping[c] = slope
        joint_stiffness[c] = 0.0
    coordinate_forces(limits, springs, q, qdot, generalized, joint_stiffness, joint_damping)


def force_tables(forces) -> tuple[np.ndarray, np.ndarray]:
    """`coordinate_forces`' ``limits`` and ``springs`` tables of a `CoordinateForces`."""
    limit = np.array([k == "limit" for k in forces.kinds], dtype=bool)
    limits = np.array([forces.coordinate[limit], forces.upper_limit[limit], forces.lower_limit[limit],
                       forces.upper_stiffness[limit], forces.lower_stiffness[limit],
                       1.0 / forces.transition[limit], forces.damping[limit]], dtype=float).reshape(7, -1)
    springs = np.array([forces.coordinate[~limit], forces.stiffness[~limit], forces.rest[~limit],
                        forces.damping[~limit]], dtype=float).reshape(4, -1)
    return limits, springs


# ------------------------------------------------------------- muscle paths
class CompiledPaths:
    """`paths.MusclePaths.evaluate`, compiled: the same lengths and moment arms
    (to rounding) from one call. Returns views of its own buffers, rewritten
    by the next call: copy what must outlive it."""

    def __init__(self, paths):
        p = paths
        self.muscle_names, self.coordinate_names = p.muscle_names, p.coordinate_names
        n_muscles, n_coordinates = p._shape
        width, n_axes = p._power_base.shape
        self._arrays = (
            p._axis_coordinate.astype(np.int64), p._axis_lower, p._axis_upper, p._axis_middle,
            p._axis_scale, p._active_from, p._active_to, bool(p._pieces),
            np.ascontiguousarray(p._slope_factor), p._factor_index.astype(np.int64),
            p._coefficients, p._segment_starts.astype(np.int64), int(p.term_muscle.size),
            np.argmax(p._root_to_muscle, axis=1).astype(np.int64) if p._has_roots else np.zeros(0, np.int64),
            p._root_floor.astype(float), p._root_axes, bool(p._has_roots),
            p._moment_arm_target.astype(np.int64), p._moment_arm_source.astype(np.int64),
        )
        self._tables = np.zeros((2, width, n_axes))
        self._at_range = np.zeros((2, width, n_axes))
        self.lengths = np.zeros(n_muscles)
        self.moment_arms = np.zeros((n_muscles, n_coordinates))
        self._shape = (n_coordinates,)

    def evaluate(self, q) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(q, dtype=float)
        if q.shape != self._shape:
            raise ValueError(f"q has shape {q.shape}; the model has {self._shape[0]} coordinates")
        evaluate_paths(q, *self._arrays, self._tables, self._at_range, self.lengths, self.moment_arms)
        return self.lengths, self.moment_arms


@njit(cache=True)
def _segment_sums(flat, factor_index, coefficients, segment_starts, n_terms, totals):
    """Per segment the sum of its terms and of their slopes by each slot's
    coordinate (negated): ``totals`` (1 + slots, segments). Leave-one-out
    products from prefix and suffix products, as in `paths.MusclePaths`."""
    n_slots = factor_index.shape[0] // 2
    totals[:] = 0.0
    factors = np.empty(n_slots)
    prefix = np.empty(n_slots + 1)
    n_segments = segment_starts.shape[0]
    for s in range(n_segments):
        end = segment_starts[s + 1] if s + 1 < n_segments else n_terms
        for t in range(segment_starts[s], end):
            prefix[0] = coefficients[t]
            for j in range(n_slots):
                factors[j] = flat[factor_index[j, t]]
                prefix[j + 1] = prefix[j] * factors[j]
            totals[0, s] += prefix[n_slots]
            suffix = 1.0
            for j in range(n_slots - 1, -1, -1):
                totals[1 + j, s] += prefix[j] * suffix * flat[factor_index[n_slots + j, t]]
                suffix *= factors[j]


@njit(cache=True)
def evaluate_paths(q, axis_coordinate, axis_lower, axis_upper, axis_middle, axis_scale,
                   active_from, active_to, pieces, slope_factor, factor_index, coefficients,
                   segment_starts, n_terms, root_muscle, root_floor, root_axes, has_roots,
                   moment_arm_target, moment_arm_source, tables, at_range, lengths, moment_arms):
    """See `paths.MusclePaths.evaluate`: the same steps, in loops."""
    width, n_axes = tables.shape[1], tables.shape[2]
    beyond = np.empty(n_axes)
    past_root_range = False
    for j in range(n_axes):
        x = q[axis_coordinate[j]]
        inside = min(max(x, axis_lower[j]), axis_upper[j])
        base = (inside - axis_middle[j]) * axis_scale[j]
        active = 1.0
        if pieces and not (x >= active_from[j] and x < active_to[j]):
            active = 0.0
        beyond[j] = x - inside
        tables[0, 0, j] = active
        tables[1, 0, j] = 0.0
        for k in range(1, width):
            tables[0, k, j] = tables[0, k - 1, j] * base
            tables[1, k, j] = tables[0, k - 1, j] * slope_factor[k - 1, j]
        if has_roots and beyond[j] != 0.0 and active != 0.0 and root_axes[j] != 0.0:
            past_root_range = True
    if past_root_range:  # the tables at the pose clamped to the ranges
        for j in range(n_axes):
            for k in range(width):
                at_range[0, k, j] = tables[0, k, j]
                at_range[1, k, j] = tables[1, k, j] if beyond[j] == 0.0 else 0.0
    # Past the fitted range each factor continues along its boundary tangent.
    for j in range(n_axes):
        if beyond[j] != 0.0:
            for k in range(width):
                tables[0, k, j] -= tables[1, k, j] * beyond[j]
    n_slots = factor_index.shape[0] // 2
    n_segments = segment_starts.shape[0]
    n_muscles = lengths.shape[0]
    totals = np.empty((1 + n_slots, n_segments))
    _segment_sums(tables.ravel(), factor_index, coefficients, segment_starts, n_terms, totals)
    if has_roots:
        n_roots = n_segments - n_muscles
        if past_root_range:
            clamped = np.empty((1 + n_slots, n_segments))
            _segment_sums(at_range.ravel(), factor_index, coefficients, segment_starts, n_terms, clamped)
        for r in range(n_roots):
            s = n_muscles + r
            floor2 = root_floor[r] * root_floor[r]
            if past_root_range:  # see paths._extend_root
                value, fixed = totals[0, s], clamped[0, s]
                ratio = (value - fixed) / (2.0 * max(fixed, floor2))
                for j in range(n_slots):
                    slope, fixed_slope = totals[1 + j, s], clamped[1 + j, s]
                    totals[1 + j, s] = slope + ratio * (slope - fixed_slope) - ratio * ratio * fixed_slope
                totals[0, s] = value + 0.5 * ratio * (value - fixed)
            inner = totals[0, s]
            segment = math.sqrt(max(inner, floor2))
            derivative = 0.5 / segment
            m = root_muscle[r]
            totals[0, m] += 0.5 * (segment + inner / segment)
            for j in range(n_slots):
                totals[1 + j, m] += totals[1 + j, s] * derivative
    for m in range(n_muscles):
        lengths[m] = totals[0, m]
    flat_totals = totals[:, :n_muscles].copy().ravel()
    arms = moment_arms.ravel()
    arms[:] = 0.0
    for k in range(moment_arm_target.shape[0]):
        arms[moment_arm_target[k]] = flat_totals[moment_arm_source[k]]
