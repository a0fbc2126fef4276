"""Thelen 2003 muscle dynamics for all muscles of a model at once, in numpy.

The MuJoCo engine computes each muscle's musculotendon length and lengthening
speed from the skeleton and applies the tendon force along the moment arms;
this module turns those into forces and state derivatives the way OpenSim 4.6's
``Thelen2003Muscle`` does (OpenSim is the oracle: tests/test_mujoco_muscles.py).

Two ways to treat the tendon:

* rigid (`ThelenMuscles.rigid_tendon`): the tendon stays at its slack length and
  the fiber takes up every change of musculotendon length; the only state is
  activation. OpenSim 4.6 refuses this mode for Thelen2003Muscle, so the curves
  are OpenSim's but the behaviour is an approximation.
* compliant (`ThelenMuscles.compliant_tendon`, OpenSim's model): states are
  activation and fiber length; the fiber velocity follows from the balance of
  tendon and fiber force through the inverted force-velocity curve.

`fit_mujoco_muscles` fits MuJoCo's own muscle (rigid tendon, its own curve
shapes) to the rigid-tendon Thelen curves.

Units: metres, seconds, newtons; "norm" marks quantities divided by optimal fiber
length, tendon slack length, maximum contraction speed or max isometric force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

# Thelen 2003 tendon: an exponential toe up to this normalized force, then linear.
_TOE_SHAPE = 3.0
_TOE_NORM_FORCE = 0.33

# SimTK's threshold below which OpenSim treats a pennation angle as zero.
_SIMTK_EPS = np.finfo(float).eps

# Numbers as 0-d arrays in the per-step paths: numpy converts a Python float on
# every call, which costs more than the arithmetic on a model's few dozen muscles.
_ZERO, _ONE, _MINUS_ONE, _HALF, _ONE_AND_HALF = (np.array(x) for x in (0.0, 1.0, -1.0, 0.5, 1.5))
_QUARTER, _THREE_QUARTERS, _TINY = np.array(0.25), np.array(0.75), np.array(1e-300)


def _speed_scale(activation):
    """Thelen's force-velocity curve scales fiber velocities by 0.25 + 0.75 a."""
    return _QUARTER + _THREE_QUARTERS * activation

# Our attribute -> the OpenSim property it is read from.
_OPENSIM_PROPERTIES = {
    "max_isometric_force": "max_isometric_force",
    "optimal_fiber_length": "optimal_fiber_length",
    "tendon_slack_length": "tendon_slack_length",
    "pennation_angle_at_optimal": "pennation_angle_at_optimal",
    "max_contraction_velocity": "max_contraction_velocity",  # optimal fiber lengths / s
    "activation_time_constant": "activation_time_constant",
    "deactivation_time_constant": "deactivation_time_constant",
    "minimum_activation": "minimum_activation",
    "fmax_tendon_strain": "FmaxTendonStrain",
    "fmax_muscle_strain": "FmaxMuscleStrain",
    "kshape_active": "KshapeActive",
    "kshape_passive": "KshapePassive",
    "af": "Af",
    "flen": "Flen",
    "fv_linear_extrap_threshold": "fv_linear_extrap_threshold",
    "maximum_pennation_angle": "maximum_pennation_angle",
}


class RigidTendonForces(NamedTuple):
    fiber_length: np.ndarray  # m
    fiber_velocity: np.ndarray  # m/s, lengthening positive
    fiber_force: np.ndarray  # N, along the fiber
    tendon_force: np.ndarray  # N, what the path applies to the skeleton
    damping: np.ndarray | None = None  # N s/m: d tendon_force / d musculotendon speed


class CompliantTendonDynamics(NamedTuple):
    activation_rate: np.ndarray  # 1/s
    fiber_velocity: np.ndarray  # m/s: the derivative of the fiber-length state
    fiber_force: np.ndarray  # N, along the fiber
    tendon_force: np.ndarray  # N, what the path applies to the skeleton


@dataclass(eq=False)
class ThelenMuscles:
    """Parameters of n Thelen2003Muscles as arrays of length n, and their dynamics.

    Every method takes arrays of length n (or broadcastable to it) and works on
    all muscles at once. Activation inputs are clamped to [minimum_activation, 1]
    as OpenSim does; excitation is not clamped (OpenSim 4.6 does not either).
    """

    names: tuple[str, ...]
    max_isometric_force: np.ndarray
    optimal_fiber_length: np.ndarray
    tendon_slack_length: np.ndarray
    pennation_angle_at_optimal: np.ndarray
    max_contraction_velocity: np.ndarray
    activation_time_constant: np.ndarray
    deactivation_time_constant: np.ndarray
    minimum_activation: np.ndarray
    fmax_tendon_strain: np.ndarray
    fmax_muscle_strain: np.ndarray
    kshape_active: np.ndarray
    kshape_passive: np.ndarray
    af: np.ndarray
    flen: np.ndarray
    fv_linear_extrap_threshold: np.ndarray
    maximum_pennation_angle: np.ndarray
    # Derived once (OpenSim recomputes several of these on every call).
    minimum_fiber_length: np.ndarray = field(init=False)
    pennation_height: np.ndarray = field(init=False)  # m: fiber length x sin(pennation), constant
    max_fiber_speed: np.ndarray = field(init=False)  # m/s

    def __post_init__(self) -> None:
        self.names = tuple(self.names)
        for name in _OPENSIM_PROPERTIES:
            setattr(self, name, np.asarray(getattr(self, name), dtype=float).copy())
        ofl = self.optimal_fiber_length
        pennated = self.pennation_angle_at_optimal > _SIMTK_EPS
        # Constant-thickness pennation: fiber length * sin(pennation) is fixed.
        height = np.where(pennated, ofl * np.sin(self.pennation_angle_at_optimal), 0.0)
        self.pennation_height = height
        self._pennation_height_squared = height**2
        self._max_sin_pennation_squared = np.sin(self.maximum_pennation_angle) ** 2
        # OpenSim's floor on fiber length: the length at the maximum pennation angle
        # (zero for an unpennated muscle), or 1% of optimal without a maximum angle.
        self.minimum_fiber_length = np.where(
            self.maximum_pennation_angle > _SIMTK_EPS ** (7 / 8),
            height / np.sin(self.maximum_pennation_angle),
            0.01 * ofl,
        )
        # Kept above zero so that pennation never divides by zero (unpennated muscles).
        self._fiber_length_floor = np.maximum(self.minimum_fiber_length, 1e-12 * ofl)
        self._minimum_fiber_length_along_tendon = self.minimum_fiber_length * np.cos(
            self.maximum_pennation_angle
        )
        self.max_fiber_speed = self.max_contraction_velocity * ofl
        # Reciprocals and products the hot paths use (numpy calls dominate their cost).
        self._inverse_optimal_fiber_length = 1.0 / ofl
        self._inverse_tendon_slack_length = 1.0 / self.tendon_slack_length
        self._inverse_max_fiber_speed = 1.0 / self.max_fiber_speed
        self._minus_inverse_kshape_active = -1.0 / self.kshape_active
        self._passive_exponent = self.kshape_passive / self.fmax_muscle_strain
        self._passive_scale = 1.0 / (np.exp(self.kshape_passive) - 1.0)
        # Tendon toe region, exactly as OpenSim solves it (the paper rounds it to 0.609 e0).
        e3 = np.exp(_TOE_SHAPE)
        self._toe_strain = 99.0 * self.fmax_tendon_strain * e3 / (166.0 * e3 - 67.0)
        self._toe_exponent = _TOE_SHAPE / self._toe_strain
        self._toe_scale = np.full_like(ofl, _TOE_NORM_FORCE / (e3 - 1.0))
        self._tendon_linear_stiffness = 0.67 / (self.fmax_tendon_strain - self._toe_strain)
        # Force-velocity (Thelen's eqs. 6-7 in units of a*fl): shortening denominator
        # 1 + fv/Af, lengthening k (Flen - fv); linear beyond fv_linear_extrap_threshold*Flen.
        self._inverse_af = 1.0 / self.af
        self._eccentric_factor = (2.0 + 2.0 / self.af) / (self.flen - 1.0)
        self._minus_eccentric_factor = -self._eccentric_factor
        self._eccentric_base = self._eccentric_factor * self.flen
        self._minus_inverse_af = -self._inverse_af
        self._fv_extrap_start = self.fv_linear_extrap_threshold * self.flen
        threshold_gap = self.flen * (1.0 - self.fv_linear_extrap_threshold)
        # Velocity where extrapolation starts, and velocity per unit fv beyond it,
        # both per unit of the activation-dependent speed scale 0.25 + 0.75 a.
        self._fv_extrap_velocity = (self._fv_extrap_start - 1.0) / (self._eccentric_factor * threshold_gap)
        self._fv_extrap_velocity_per_fv = (self.flen - 1.0) / (self._eccentric_factor * threshold_gap**2)

    @property
    def count(self) -> int:
        return len(self.names)

    @classmethod
    def from_model(cls, model) -> ThelenMuscles:
        """The muscles of an ``opensim.Model`` (all must be Thelen2003Muscle)."""
        import opensim

        muscles = model.getMuscles()
        names, rows = [], []
        for i in range(muscles.getSize()):
            muscle = muscles.get(i)
            thelen = opensim.Thelen2003Muscle.safeDownCast(muscle)
            if thelen is None:
                raise ValueError(
                    f"muscle {muscle.getName()!r} of model {model.getName()!r} is a "
                    f"{muscle.getConcreteClassName()}; ThelenMuscles needs Thelen2003Muscle"
                )
            if thelen.get_ignore_activation_dynamics():
                raise ValueError(
                    f"muscle {muscle.getName()!r} of model {model.getName()!r} ignores activation "
                    "dynamics; ThelenMuscles always integrates activation"
                )
            names.append(thelen.getName())
            rows.append([getattr(thelen, f"get_{prop}")() for prop in _OPENSIM_PROPERTIES.values()])
        columns = np.array(rows, dtype=float).reshape(len(rows), len(_OPENSIM_PROPERTIES)).T
        return cls(tuple(names), **dict(zip(_OPENSIM_PROPERTIES, columns)))

    # ------------------------------------------------------------------ curves
    def clamp_activation(self, activation):
        return np.minimum(np.maximum(activation, self.minimum_activation), _ONE)

    def activation_rate(self, activation, excitation):
        """d(activation)/dt: faster activation and deactivation at high activation."""
        return self._activation_rate(self.clamp_activation(activation), excitation)

    def _activation_rate(self, clamped_activation, excitation):
        speed_up = _HALF + _ONE_AND_HALF * clamped_activation
        tau = np.where(
            excitation > clamped_activation,
            self.activation_time_constant * speed_up,
            self.deactivation_time_constant / speed_up,
        )
        return (excitation - clamped_activation) / tau

    def fiber_force_length(self, norm_fiber_length):
        """Active and passive force-length multipliers."""
        stretch = norm_fiber_length - _ONE
        active = np.exp(stretch * stretch * self._minus_inverse_kshape_active)
        passive = (np.exp(self._passive_exponent * np.maximum(stretch, _ZERO)) - _ONE) * self._passive_scale
        return active, passive

    def tendon_force_length(self, norm_tendon_length):
        """Normalized tendon force: zero when slack, an exponential toe, then linear."""
        strain = norm_tendon_length - _ONE
        toe_strain = np.minimum(np.maximum(strain, _ZERO), self._toe_strain)
        toe = self._toe_scale * (np.exp(self._toe_exponent * toe_strain) - _ONE)
        return toe + self._tendon_linear_stiffness * np.maximum(strain - self._toe_strain, _ZERO)

    def norm_fiber_velocity(self, activation, force_velocity):
        """Fiber velocity (max_fiber_speed units) at which the force-velocity multiplier
        is ``force_velocity``: Thelen's eqs. 6-7, as OpenSim extends them linearly
        beyond the curve's ends (multiplier 0 when shortening, fv_linear_extrap_threshold
        x Flen when lengthening) so that any multiplier, even a negative one, has a
        finite velocity. ``activation`` must already be clamped."""
        on_curve = np.minimum(np.maximum(force_velocity, _ZERO), self._fv_extrap_start)
        # Both branches are (fv - 1) / (base + slope * fv).
        shortening = on_curve <= _ONE
        denominator_slope = np.where(shortening, self._inverse_af, self._minus_eccentric_factor)
        denominator = np.where(shortening, _ONE, self._eccentric_base) + denominator_slope * on_curve
        quotient = (on_curve - _ONE) / denominator
        slope = (_ONE - quotient * denominator_slope) / denominator
        return _speed_scale(activation) * (quotient + slope * (force_velocity - on_curve))

    def force_velocity(self, activation, norm_fiber_velocity):
        """The force-velocity multiplier at a fiber velocity (max_fiber_speed units):
        the exact inverse of `norm_fiber_velocity` (OpenSim inverts it by Newton
        iterations to 1e-6), zero below -1 as OpenSim floors it. ``activation``
        must already be clamped."""
        velocity = norm_fiber_velocity / _speed_scale(activation)
        on_curve = np.minimum(np.maximum(velocity, _MINUS_ONE), self._fv_extrap_velocity)
        # Both branches are (1 + a v) / (1 + b v).
        shortening = on_curve <= _ZERO
        numerator_slope = np.where(shortening, _ONE, self._eccentric_base)
        denominator_slope = np.where(shortening, self._minus_inverse_af, self._eccentric_factor)
        fv = (_ONE + numerator_slope * on_curve) / (_ONE + denominator_slope * on_curve)
        return fv + np.maximum(velocity - self._fv_extrap_velocity, _ZERO) / self._fv_extrap_velocity_per_fv

    def force_velocity_slope(self, activation, norm_fiber_velocity):
        """d `force_velocity` / d norm_fiber_velocity (``activation`` clamped)."""
        scale = _speed_scale(activation)
        velocity = norm_fiber_velocity / scale
        on_curve = np.minimum(np.maximum(velocity, _MINUS_ONE), self._fv_extrap_velocity)
        shortening = on_curve <= _ZERO
        numerator_slope = np.where(shortening, _ONE, self._eccentric_base)
        denominator_slope = np.where(shortening, self._minus_inverse_af, self._eccentric_factor)
        denominator = _ONE + denominator_slope * on_curve
        slope = (numerator_slope - denominator_slope) / (denominator * denominator)
        slope = np.where(velocity < _MINUS_ONE, _ZERO, slope)
        slope = np.where(velocity > self._fv_extrap_velocity, 1.0 / self._fv_extrap_velocity_per_fv, slope)
        return slope / scale

    def cos_pennation(self, fiber_length):
        """cos(pennation) at a fiber length (held at the maximum pennation angle below
        the minimum fiber length)."""
        return self._cos_pennation(np.maximum(fiber_length, self._fiber_length_floor))

    def _cos_pennation(self, fiber_length):
        """cos(pennation) of a fiber length at or above ``_fiber_length_floor``."""
        sin_squared = np.minimum(
            self._pennation_height_squared / (fiber_length * fiber_length), self._max_sin_pennation_squared
        )
        return np.sqrt(_ONE - sin_squared)

    # ------------------------------------------------------------- rigid tendon
    def rigid_tendon(self, activation, mt_length, mt_velocity,
                     with_damping: bool = False) -> RigidTendonForces:
        """Forces with the tendon at slack length, from musculotendon length and
        speed; ``with_damping`` adds d(tendon force)/d(speed), the force-velocity
        curve's slope seen along the path (cos(pennation) held at its value)."""
        a = self.clamp_activation(activation)
        along_tendon = mt_length - self.tendon_slack_length
        at_minimum = along_tendon < self._minimum_fiber_length_along_tendon
        fiber_length = np.where(
            at_minimum,
            self.minimum_fiber_length,
            np.sqrt(self._pennation_height_squared + along_tendon * along_tendon),
        )
        cos_pennation = self.cos_pennation(fiber_length)
        # Constant thickness: d(length along tendon)/dt = fiber velocity / cos(pennation).
        fiber_velocity = mt_velocity * cos_pennation
        active_fl, passive_fl = self.fiber_force_length(fiber_length * self._inverse_optimal_fiber_length)
        fv = self.force_velocity(a, fiber_velocity * self._inverse_max_fiber_speed)
        # As OpenSim's inextensible-tendon force: nothing active at the minimum length.
        active = np.where(at_minimum, _ZERO, a * active_fl * fv)
        fiber_force = (active + passive_fl) * self.max_isometric_force
        damping = None
        if with_damping:
            slope = self.force_velocity_slope(a, fiber_velocity * self._inverse_max_fiber_speed)
            damping = np.where(at_minimum, _ZERO, a * active_fl * slope * self.max_isometric_force
                               * cos_pennation * cos_pennation * self._inverse_max_fiber_speed)
        return RigidTendonForces(fiber_length, fiber_velocity, fiber_force,
                                 fiber_force * cos_pennation, damping)

    # --------------------------------------------------------- compliant tendon
    def compliant_tendon(self, activation, fiber_length, excitation, mt_length) -> CompliantTendonDynamics:
        """State derivatives and forces with an elastic tendon.

        The musculotendon lengthening speed does not enter: Thelen's fiber velocity
        comes from the force balance alone. A fiber at its minimum length that would
        shorten further is held there with no fiber force, as in OpenSim.
        """
        a = self.clamp_activation(activation)
        length = np.maximum(fiber_length, self._fiber_length_floor)
        cos_pennation = self._cos_pennation(length)
        norm_tendon_length = (mt_length - length * cos_pennation) * self._inverse_tendon_slack_length
        tendon_force = self.tendon_force_length(norm_tendon_length)
        active_fl, passive_fl = self.fiber_force_length(length * self._inverse_optimal_fiber_length)
        # The tendon force fixes the fiber force, hence the force-velocity multiplier;
        # the floor keeps an underflowed active curve (absurd lengths) finite.
        fiber_force = tendon_force / cos_pennation
        fv = (fiber_force - passive_fl) / np.maximum(a * active_fl, _TINY)
        fiber_velocity = self.norm_fiber_velocity(a, fv) * self.max_fiber_speed
        fiber_force = fiber_force * self.max_isometric_force
        at_minimum = fiber_length <= self.minimum_fiber_length
        if at_minimum.any():  # rare: skip the masking otherwise
            held = at_minimum & (fiber_velocity <= 0.0)
            fiber_velocity = np.where(held, 0.0, fiber_velocity)
            fiber_force = np.where(held, 0.0, fiber_force)
        return CompliantTendonDynamics(
            self._activation_rate(a, excitation),
            fiber_velocity,
            fiber_force,
            tendon_force * self.max_isometric_force,
        )

    def fiber_velocity_jacobian(self, activation, fiber_length, mt_length, relative_step=1e-7):
        """d(fiber velocity)/d(fiber length) per muscle (1/s), the eigenvalue that limits
        explicit integration of the compliant tendon (explicit Euler is stable for
        steps below 2/|eigenvalue|). The curves have kinks (the force-velocity slope
        halves at isometric), so this is the one-sided difference of larger magnitude."""
        step = relative_step * self.optimal_fiber_length
        excitation = np.zeros(self.count)

        def velocity(length):
            return self.compliant_tendon(activation, length, excitation, mt_length).fiber_velocity

        here = velocity(fiber_length)
        longer = (velocity(fiber_length + step) - here) / step
        shorter = (here - velocity(fiber_length - step)) / step
        return np.where(np.abs(longer) > np.abs(shorter), longer, shorter)

    def equilibrium(self, activation, mt_length, tolerance=1e-12, max_iterations=200):
        """Fiber length (m) where fiber and tendon forces balance with the fiber at rest.

        Solved along the tendon by bracketed regula falsi (Illinois), so it always
        ends inside the physical range; where no balance exists (a tendon slack even
        at the minimum fiber length) it returns the minimum fiber length, as OpenSim
        does. ``tolerance`` is on the force error in units of max isometric force.
        """
        a = self.clamp_activation(activation)
        mt_length = np.broadcast_to(np.asarray(mt_length, dtype=float), (self.count,))
        height_squared = self._pennation_height_squared

        def force_error(along_tendon):
            fiber_length = np.maximum(np.sqrt(height_squared + along_tendon**2), self._fiber_length_floor)
            norm_length = fiber_length * self._inverse_optimal_fiber_length
            active_fl, passive_fl = self.fiber_force_length(norm_length)
            tendon = self.tendon_force_length((mt_length - along_tendon) / self.tendon_slack_length)
            return (a * active_fl + passive_fl) * self._cos_pennation(fiber_length) - tendon

        # Short end: the fiber at its minimum; long end: the tendon exactly slack
        # (there the error is the fiber's force, which is positive).
        short = self._minimum_fiber_length_along_tendon.copy()
        long = np.maximum(mt_length - self.tendon_slack_length, short)
        error_short, error_long = force_error(short), force_error(long)
        solvable = error_short < 0.0
        # Neutralise the brackets without a root so they do not divide by zero.
        error_short = np.where(solvable, error_short, -1.0)
        error_long = np.where(solvable, error_long, 1.0)
        last_side = np.zeros(self.count)
        along = short
        for _ in range(max_iterations):
            along = (short * error_long - long * error_short) / (error_long - error_short)
            error = np.where(solvable, force_error(along), 0.0)
            if np.all(np.abs(error) <= tolerance):
                break
            too_long = error > 0.0
            # Illinois: halve the stale end's error when the same end moves twice.
            error_short = np.where(too_long & (last_side > 0), 0.5 * error_short, error_short)
            error_long = np.where(~too_long & (last_side < 0), 0.5 * error_long, error_long)
            long = np.where(too_long, along, long)
            error_long = np.where(too_long, error, error_long)
            short = np.where(too_long, short, along)
            error_short = np.where(too_long, error_short, error)
            last_side = np.where(too_long, 1.0, -1.0)
        return np.where(solvable, np.sqrt(height_squared + along**2), self.minimum_fiber_length)


# ---------------------------------------------------------------------------
# MuJoCo's own muscle fitted to the rigid-tendon Thelen curves
# ---------------------------------------------------------------------------
def mujoco_length_curve(norm_length, lmin, lmax):
    """MuJoCo's active force-length curve: four half-quadratics peaking at 1."""
    low_mid, high_mid = 0.5 * (lmin + 1.0), 0.5 * (1.0 + lmax)
    rising = 0.5 * ((norm_length - lmin) / (low_mid - lmin)) ** 2
    below_peak = 1.0 - 0.5 * ((1.0 - norm_length) / (1.0 - low_mid)) ** 2
    above_peak = 1.0 - 0.5 * ((norm_length - 1.0) / (high_mid - 1.0)) ** 2
    falling = 0.5 * ((lmax - norm_length) / (lmax - high_mid)) ** 2
    curve = np.where(
        norm_length <= low_mid,
        rising,
        np.where(norm_length <= 1.0, below_peak, np.where(norm_length <= high_mid, above_peak, falling)),
    )
    return np.where((norm_length >= lmin) & (norm_length <= lmax), curve, 0.0)


def mujoco_velocity_curve(norm_velocity, fvmax):
    """MuJoCo's force-velocity curve: quadratic to zero at -1, saturating at fvmax."""
    lengthening_limit = fvmax - 1.0
    shortening = (norm_velocity + 1.0) ** 2
    lengthening = fvmax - (lengthening_limit - norm_velocity) ** 2 / lengthening_limit
    curve = np.where(
        norm_velocity <= 0.0, shortening, np.where(norm_velocity <= lengthening_limit, lengthening, fvmax)
    )
    return np.where(norm_velocity <= -1.0, 0.0, curve)


def mujoco_passive_curve(norm_length, lmax, fpmax):
    """MuJoCo's passive force-length curve: half-quadratic to (1 + lmax)/2, then linear."""
    knee = 0.5 * (1.0 + lmax)
    quadratic = 0.5 * fpmax * ((norm_length - 1.0) / (knee - 1.0)) ** 2
    linear = fpmax * (0.5 + (norm_length - knee) / (knee - 1.0))
    return np.where(norm_length <= 1.0, 0.0, np.where(norm_length <= knee, quadratic, linear))


@dataclass
class MujocoMuscleFit:
    """MuJoCo muscle parameters per muscle, and how well they reproduce Thelen's curves.

    MuJoCo derives the tendon length LT and optimal length L0 (musculotendon length
    = LT + L0 * normalized length) from the actuator's ``lengthrange`` and ``range``;
    `gainprm` gives the ``range`` that yields the fitted LT and L0 for a lengthrange.
    ``force`` is set explicitly, so MuJoCo's ``scale`` plays no part.
    The RMS errors are fractions of max isometric force over the fitted samples.
    """

    names: tuple[str, ...]
    tendon_length: np.ndarray  # m
    optimal_length: np.ndarray  # m
    force: np.ndarray  # N
    lmin: np.ndarray
    lmax: np.ndarray
    vmax: np.ndarray  # optimal lengths / s
    fpmax: np.ndarray
    fvmax: np.ndarray
    rms_active_force_length: np.ndarray
    rms_passive_force_length: np.ndarray
    rms_force_velocity: np.ndarray

    def gainprm(self, lengthrange, scale=200.0):
        """MuJoCo's (range0, range1, force, scale, lmin, lmax, vmax, fpmax, fvmax) per
        muscle for musculotendon length ranges ``lengthrange`` of shape (n, 2)."""
        lengthrange = np.asarray(lengthrange, dtype=float)
        norm_range = (lengthrange - self.tendon_length[:, None]) / self.optimal_length[:, None]
        scale = np.full_like(self.force, scale)
        columns = (self.force, scale, self.lmin, self.lmax, self.vmax, self.fpmax, self.fvmax)
        return np.column_stack((norm_range, *columns))


def _least_squares(residuals, start, lower, upper, iterations=200):
    """Levenberg-Marquardt with forward-difference Jacobians and box bounds (few
    parameters, cheap residuals: no need for a solver dependency)."""
    params = np.clip(np.asarray(start, dtype=float), lower, upper)
    current = residuals(params)
    cost = current @ current
    damping = 1e-3
    for _ in range(iterations):
        jacobian = np.empty((current.size, params.size))
        for j, step in enumerate(1e-7 * np.maximum(np.abs(params), 1e-3)):
            shifted = params.copy()
            shifted[j] += step
            jacobian[:, j] = (residuals(shifted) - current) / step
        normal = jacobian.T @ jacobian
        gradient = jacobian.T @ current
        while damping < 1e12:
            trial = np.clip(
                params - np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-12), gradient),
                lower,
                upper,
            )
            trial_residuals = residuals(trial)
            trial_cost = trial_residuals @ trial_residuals
            if trial_cost < cost:
                break
            damping *= 4.0
        else:
            break
        improvement = cost - trial_cost
        params, current, cost = trial, trial_residuals, trial_cost
        damping = max(damping / 3.0, 1e-9)
        if improvement <= 1e-14 * max(cost, 1e-30):
            break
    return params


def fit_mujoco_muscles(
    muscles: ThelenMuscles,
    norm_fiber_length_range=(0.5, 1.6),
    norm_fiber_velocity_range=(-1.0, 1.0),
    samples=81,
) -> MujocoMuscleFit:
    """Fit MuJoCo's muscle to each rigid-tendon Thelen muscle at full activation.

    Three curves, as tendon force on the path, each sampled over the given
    normalized fiber lengths or fiber velocities (max_fiber_speed units): the
    active force at rest, the passive force, and the active force-velocity curve at
    optimal fiber length. Thelen's force-velocity curve slows with activation
    (speed scale 0.25 + 0.75 a) and MuJoCo's does not: the fit holds at full
    activation.
    """
    # Samples down the rows, muscles across the columns.
    norm_fiber_length = np.linspace(*norm_fiber_length_range, samples)[:, None]
    fiber_length = np.maximum(norm_fiber_length * muscles.optimal_fiber_length, muscles.minimum_fiber_length)
    cos_pennation = muscles.cos_pennation(fiber_length)
    mt_length = muscles.tendon_slack_length + fiber_length * cos_pennation
    active_fl, passive_fl = muscles.fiber_force_length(fiber_length / muscles.optimal_fiber_length)
    active_target = active_fl * cos_pennation * muscles.max_isometric_force
    passive_target = passive_fl * cos_pennation * muscles.max_isometric_force
    # At optimal fiber length, moving the path at mt_velocity moves the fiber at
    # mt_velocity * cos(pennation).
    cos_optimal = muscles.cos_pennation(muscles.optimal_fiber_length)
    optimal_mt_length = muscles.tendon_slack_length + muscles.optimal_fiber_length * cos_optimal
    norm_fiber_velocity = np.linspace(*norm_fiber_velocity_range, samples)[:, None]
    mt_velocity = norm_fiber_velocity * muscles.max_fiber_speed / cos_optimal
    fv = muscles.force_velocity(1.0, norm_fiber_velocity)
    velocity_target = fv * cos_optimal * muscles.max_isometric_force

    # Parameters relative to their Thelen counterparts, so that all are near 1
    # (MuJoCo's vmax is in units of its L0 ~ optimal fiber length * cos(pennation)).
    scales = np.stack(
        [
            muscles.tendon_slack_length,
            muscles.optimal_fiber_length * cos_optimal,
            muscles.max_isometric_force * cos_optimal,
            np.ones(muscles.count),
            np.ones(muscles.count),
            muscles.max_contraction_velocity / cos_optimal**2,
            np.ones(muscles.count),
            np.ones(muscles.count),
        ],
        axis=1,
    )
    start = np.array([1.0, 1.0, 1.0, 0.5, 1.6, 1.0, 1.3, 1.4])
    lower = np.array([0.5, 0.2, 0.2, 0.0, 1.01, 0.05, 0.0, 1.01])
    upper = np.array([1.5, 5.0, 5.0, 0.99, 3.0, 20.0, 10.0, 2.5])
    fiso = muscles.max_isometric_force
    fitted, errors = [], []
    for i in range(muscles.count):

        def curve_errors(relative, i=i):
            tendon_length, optimal_length, force, lmin, lmax, vmax, fpmax, fvmax = relative * scales[i]
            norm_length = (mt_length[:, i] - tendon_length) / optimal_length
            active = force * mujoco_length_curve(norm_length, lmin, lmax)
            passive = force * mujoco_passive_curve(norm_length, lmax, fpmax)
            optimal_norm_length = (optimal_mt_length[i] - tendon_length) / optimal_length
            at_optimal = mujoco_length_curve(optimal_norm_length, lmin, lmax)
            norm_velocity = mt_velocity[:, i] / (optimal_length * vmax)
            moving = force * at_optimal * mujoco_velocity_curve(norm_velocity, fvmax)
            targets = (active_target[:, i], passive_target[:, i], velocity_target[:, i])
            return (np.stack((active, passive, moving)) - np.stack(targets)) / fiso[i]

        relative = _least_squares(lambda x: curve_errors(x).ravel(), start, lower, upper)
        fitted.append(relative * scales[i])
        errors.append(np.sqrt(np.mean(curve_errors(relative) ** 2, axis=1)))
    return MujocoMuscleFit(muscles.names, *np.array(fitted).T, *np.array(errors).T)
