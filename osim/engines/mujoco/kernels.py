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
 TAU_ACTIVATION, TAU_DEACTIVATION, MIN_ACTIVATION) = range(20)


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
        MIN_ACTIVATION: m.minimum_activation,
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
        floor = max(lf, p[LENGTH_FLOOR, i])
        sin2 = min(p[PENNATION_HEIGHT2, i] / (floor * floor), p[MAX_SIN2, i])
        cos = math.sqrt(1.0 - sin2)
        vf = speeds[i] * cos
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
        slope /= scale
        fmax = p[FMAX, i]
        active = 0.0 if at_minimum else a * active_fl * fv
        force = (active + passive_fl) * fmax
        fiber_length[i] = lf
        fiber_velocity[i] = vf
        fiber_force[i] = force
        tension[i] = force * cos
        damping[i] = 0.0 if at_minimum else a * active_fl * slope * fmax * cos * cos * p[INV_MAX_SPEED, i]


@njit(cache=True)
def _rise(u):
    u = max(u, 0.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


@njit(cache=True)
def coordinate_forces(limits, springs, q, qdot, out):
    """`CoordinateForces.generalized`, added into ``out`` (per coordinate).
    ``limits`` rows: coordinate, upper, lower, upper stiffness, lower
    stiffness, 1 / transition, damping; ``springs`` rows: coordinate,
    stiffness, rest length, viscosity."""
    for k in range(limits.shape[1]):
        c = int(limits[0, k])
        x, upper, lower = q[c], limits[1, k], limits[2, k]
        if x <= upper and x >= lower:
            continue  # slack
        up = _rise(min((x - upper) * limits[5, k], 1.0))
        low = _rise(min((lower - x) * limits[5, k], 1.0))
        out[c] += (-limits[3, k] * up * (x - upper) + limits[4, k] * low * (lower - x)
                   - limits[6, k] * (up + low) * qdot[c])
    for k in range(springs.shape[1]):
        c = int(springs[0, k])
        out[c] += -springs[1, k] * (q[c] - springs[2, k]) - springs[3, k] * qdot[c]


@njit(cache=True)
def substep_forces(p, activation, lengths, moment_arms, q, qdot, limits, springs,
                   fiber_length, fiber_velocity, fiber_force, tension, damping,
                   generalized, joint_damping):
    """Everything applied at one MuJoCo step, per coordinate: the muscles'
    generalized forces plus their damping along the joints (``joint_damping``,
    d force / d speed, positive; MuJoCo integrates it implicitly) plus the
    coordinate forces, into ``generalized``; the muscle readings into theirs."""
    n_muscles, n_coordinates = moment_arms.shape
    speeds = np.empty(n_muscles)
    for m in range(n_muscles):
        total = 0.0
        for c in range(n_coordinates):
            total -= moment_arms[m, c] * qdot[c]
        speeds[m] = total
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
    coordinate_forces(limits, springs, q, qdot, generalized)


def force_tables(forces) -> tuple[np.ndarray, np.ndarray]:
    """`coordinate_forces`' ``limits`` and ``springs`` tables of a `CoordinateForces`."""
    limit = np.array([k == "limit" for k in forces.kinds], dtype=bool)
    limits = np.array([forces.coordinate[limit], forces.upper_limit[limit], forces.lower_limit[limit],
                       forces.upper_stiffness[limit], forces.lower_stiffness[limit],
                       1.0 / forces.transition[limit], forces.damping[limit]], dtype=float).reshape(7, -1)
    springs = np.array([forces.coordinate[~limit], forces.stiffness[~limit], forces.rest[~limit],
                        forces.damping[~limit]], dtype=float).reshape(4, -1)
    return limits, springs
