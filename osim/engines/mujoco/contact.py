"""OpenSim's Hunt-Crossley foot contact as MuJoCo soft contact, and the ground
reaction forces read back per contact force.

`configure_contacts` sets the contact pairs of a compiled MuJoCo model built by
`convert.convert_skeleton` (one pair per sphere and what it touches) from each
HuntCrossleyForce's parameters; `ContactModel.ground_reaction_forces` sums
MuJoCo's contact forces by the force they stand for (``foot_r``, ...).

Hunt-Crossley (Simbody)
-----------------------
The normal force on a sphere of radius R at penetration x, deepening at rate
v, with stiffness E and dissipation c on both surfaces (OpenSim gives every
geometry of a parameter set the same ones), is

    f = C x^1.5 (1 + 1.5 c v),   C = (4/3) k^1.5 sqrt(R),   k = E^(2/3) / 2

(Simbody keeps E^(2/3) per surface and combines two as k1 k2 / (k1 + k2)).
With equal static and dynamic friction mu, as in our models, friction is
mu f min(s / vt, 1) at slip speed s, vt the transition velocity. Standing,
our models' spheres sink 15-26 mm.

MuJoCo's contact
----------------
A soft constraint. With A the contact's inverse mass as MuJoCo approximates
it (both bodies' ``body_invweight0``: a constant of the compiled model), the
impedance d = d(r) that ``solimp`` shapes, K = -solref[0] / dmax^2 and
B = -solref[1] / dmax, its normal force at rest at penetration r is

    f = K d^2 r / ((1 - d) A)                                       (1)

and in motion it acts as that spring (damper B d / ((1 - d) A)) on the
body's mass plus a virtual mass d / ((1 - d) A), the regulariser's inverse,
responding at most at sqrt(K d) (elliptic cones throughout).

- K is MuJoCo's stiffest safe reference, 1 / (2 timestep)^2 (its rule that a
  time constant spans at least two steps), so the contact holds at 5 ms.
- d(r) then makes (1) Hunt-Crossley's law: d^2 / (1 - d) = C sqrt(r) A / K,
  low on heavy bodies (small virtual mass: the contact moves like the
  Hunt-Crossley spring), high on light ones (the virtual mass slows the
  contact instead of letting it go unstable). ``solimp``'s curve is fitted to
  it per pair over 0.05-2 body weights per sphere (weighted least squares
  for dmin and dmax on a grid of widths and powers): within 3% in force
  over 0.1-1.5 body weights, 6% at the ends. Law (1) holds at rest whatever
  the body's true inverse mass: A, fitted for, only shapes the dynamics.
- B makes the damping 1.5 c f at the standing load, the body weight shared
  evenly by the model's spheres; the two laws grow differently with load. It is
  capped at 1 / timestep, the damping of MuJoCo's critically damped
  reference at its shortest safe time constant (MuJoCo damps with the
  velocity at the start of the step).

Friction: Coulomb's cone with OpenSim's static friction (the most the contact
holds), ``condim`` 3 (no torsional or rolling friction, as in Hunt-Crossley).
Below Coulomb's limit MuJoCo's soft friction is a damper of B_f / R_t
(``solreffriction``'s rate over the friction regulariser R_t = R_n /
``impratio``): a sliding foot creeps as Hunt-Crossley's does below vt. B_f and
``impratio`` make that damper mu f / vt at the standing load, with B_f at most
1 / timestep, so a contact stops slipping within a few steps (pushed
sideways by a fifth of its weight, a standing model creeps at 25.4-25.6 mm/s,
OpenSim's at 25.0). Not matched: Hunt-Crossley's friction is proportional to
the normal force at every load, MuJoCo's damper grows more slowly with it
(its effective vt is vt at the standing load, smaller below, larger above);
and Hunt-Crossley's sticking is immediate (its rate, mu f A / vt, is the
stiffness that holds OpenSim to sub-millisecond steps), MuJoCo's takes a few
steps. Viscous friction (a force proportional to slip speed without bound)
has no MuJoCo counterpart: a nonzero one is refused.

``opt.cone`` and ``opt.impratio`` are set for the whole model: every contact of
a converted model is one of these pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from osim.engines.mujoco.convert import HuntCrossleyContact, Skeleton

CONDIM = 3  # normal and sliding friction in both tangent directions
FITTED_LOADS = (0.05, 2.0)  # body weights per sphere where the force law is fitted
FIT_SAMPLES = 100
# The grid of solimp's curve: widths (x the penetration at the top fitted
# load) and powers; the midpoint at MuJoCo's least makes the curve
# 1 - (1 - r/width)^power, which other midpoints did not improve on.
FIT_WIDTHS = np.geomspace(1.0, 10.0, 28)
FIT_POWERS = np.linspace(1.0, 12.0, 45)
FIT_MIDPOINT = mujoco.mjMINIMP
# impratio's range: friction's regulariser from 100 times the normal one's
# (nearly free slip) to 1/100 of it (nearly hard, for a transition velocity of 0).
IMPRATIO_RANGE = (0.01, 100.0)
_XYZ = np.arange(3)


@dataclass(frozen=True)
class ContactPair:
    """One MuJoCo contact pair (``pair_id``) standing for the geometries
    ``geom1``-``geom2`` of the Hunt-Crossley force ``force``."""

    force: str
    pair_id: int
    geom1: str
    geom2: str
    radius: float  # effective radius of curvature, m
    hertz: float  # C in f = C x^1.5, N/m^1.5
    dissipation: float  # c, s/m
    friction: float  # mu
    inverse_mass: float  # A, 1/kg
    solref: tuple[float, float]  # MuJoCo's direct form: (-K dmax^2, -B dmax)
    solreffriction: tuple[float, float]  # (solref[0], -B_f dmax)
    solimp: tuple[float, float, float, float, float]
    fit_error: float  # largest relative error of the force at rest over FITTED_LOADS

    def hunt_crossley_force(self, penetration, rate=0.0):
        """Hunt-Crossley's normal force (N) at ``penetration`` (m) deepening
        at ``rate`` (m/s): what this pair approximates."""
        x = np.maximum(penetration, 0.0)
        return np.maximum(self.hertz * x ** 1.5 * (1.0 + 1.5 * self.dissipation * rate), 0.0)

    def force_at_rest(self, penetration):
        """MuJoCo's normal force (N) at rest at ``penetration`` (m): law (1)."""
        return normal_force_at_rest(penetration, self.solref, self.solimp, self.inverse_mass)


class ContactModel:
    """A converted model's Hunt-Crossley forces as set on its MuJoCo contact
    pairs by `configure_contacts`; reads the ground reaction forces."""

    def __init__(self, mj_model: mujoco.MjModel, pairs: list[ContactPair], forces: list[str]):
        self.pairs = pairs
        self.forces = forces  # OpenSim force names, in the model's order
        # By a contact's (geom1, geom2), either way round: its force's index
        # (len(forces), summed nowhere, for none) and +1 where geom2 is on the
        # model's side, -1 where geom1 is. A pair between two moving bodies is
        # no ground reaction: left out.
        shape = (mj_model.ngeom, mj_model.ngeom)
        self._force_index = np.full(shape, len(forces))
        self._sign = np.zeros(shape)
        for pair in pairs:
            g1, g2 = mj_model.pair_geom1[pair.pair_id], mj_model.pair_geom2[pair.pair_id]
            on_ground = mj_model.geom_bodyid[[g1, g2]] == 0
            if on_ground[0] != on_ground[1]:
                self._force_index[g1, g2] = self._force_index[g2, g1] = forces.index(pair.force)
                self._sign[g1, g2] = 1.0 if on_ground[0] else -1.0
                self._sign[g2, g1] = -self._sign[g1, g2]
        self._summation = np.eye(len(forces), len(forces) + 1)  # by force index

    def ground_reaction_forces(self, mj_model: mujoco.MjModel,
                               data: mujoco.MjData) -> dict[str, np.ndarray]:
        """The force (N, ground frame) that the ground applies to the model
        through each Hunt-Crossley force, by its name, from the contact forces
        of the last ``mj_forward``/``mj_step``."""
        contacts = data.contact
        rows, (g1, g2) = contacts.efc_address, contacts.geom.T
        # An elliptic contact's first three constraint rows are its force in
        # the contact frame (rows: the normal, from geom1 to geom2, and the
        # tangents): geom1's force on geom2. Vectorised: a few contacts cost
        # less than a loop's calls.
        local = data.efc_force[rows[:, None] + _XYZ] * (self._sign[g1, g2] * (rows >= 0))[:, None]
        world = (local[:, None, :] @ contacts.frame.reshape(-1, 3, 3))[:, 0]
        totals = self._summation[:, self._force_index[g1, g2]] @ world
        return dict(zip(self.forces, totals))


def hertz_coefficient(stiffness: float, radius: float) -> float:
    """C in Hunt-Crossley's f = C x^1.5, for two surfaces of ``stiffness`` E
    (OpenSim's parameter) and an effective radius of curvature ``radius``."""
    k = stiffness ** (2.0 / 3.0) / 2.0
    return 4.0 / 3.0 * k ** 1.5 * np.sqrt(radius)


def impedance(penetration, solimp):
    """MuJoCo's impedance d(r) for ``solimp`` at ``penetration`` r >= 0 (m)."""
    dmin, dmax, width, midpoint, power = solimp
    x = np.clip(np.asarray(penetration, dtype=float) / width, 0.0, 1.0)
    return dmin + _impedance_shape(x, midpoint, power) * (dmax - dmin)


def normal_force_at_rest(penetration, solref, solimp, inverse_mass: float):
    """MuJoCo's normal force at rest (N) at ``penetration`` (m) of an elliptic
    contact with direct-form ``solref``, ``solimp`` and inverse mass A: law (1)."""
    d = impedance(penetration, solimp)
    stiffness = -solref[0] / solimp[1] ** 2
    return stiffness * d ** 2 * np.asarray(penetration) / ((1.0 - d) * inverse_mass)


def configure_contacts(skeleton: Skeleton, mj_model: mujoco.MjModel) -> ContactModel:
    """Set ``mj_model``'s contact pairs, friction cone and ``impratio`` to
    stand for ``skeleton``'s Hunt-Crossley forces (see the module's docstring).

    ``mj_model`` is the compiled skeleton or a model built on it (muscles
    added); pairs are found by their geometries' names. The parameters depend
    on the compiled model (masses, joints, timestep): configure again after
    changing those. Raises ``ValueError`` for a force with viscous friction
    or a pair missing from the model.
    """
    weight = float(np.sum(mj_model.body_mass) * np.linalg.norm(mj_model.opt.gravity))
    if not weight > 0.0:
        raise ValueError(f"model {skeleton.model_name!r} has no weight to stand on its contacts")
    pair_ids = {}
    for i, geoms in enumerate(zip(mj_model.pair_geom1, mj_model.pair_geom2)):
        names = tuple(mj_model.geom(int(g)).name for g in geoms)
        pair_ids[names] = pair_ids[names[::-1]] = i
    for contact in skeleton.contacts:
        if contact.viscous_friction != 0.0:
            raise ValueError(f"model {skeleton.model_name!r}: force {contact.force!r} has viscous "
                             "friction, which MuJoCo's contact cannot represent")
        for geoms in contact.pairs:
            if geoms not in pair_ids:
                raise ValueError(f"model {skeleton.model_name!r}: no MuJoCo contact pair "
                                 f"{geoms[0]!r}-{geoms[1]!r} for force {contact.force!r}")
    n_pairs = sum(len(contact.pairs) for contact in skeleton.contacts)
    if n_pairs == 0:  # nothing touches (the ARM): no pairs to set
        return ContactModel(mj_model, [], list(dict.fromkeys(c.force for c in skeleton.contacts)))
    standing_load = weight / n_pairs
    fitted = [_FittedPair(mj_model, pair_ids[geoms], contact, _effective_radius(skeleton, *geoms),
                          weight, standing_load)
              for contact in skeleton.contacts for geoms in contact.pairs]

    # Friction's damper B_f impratio / R_n = mu f / vt at the standing load,
    # i.e. impratio B_f = mu K d r / vt (law (1)); one impratio for the model,
    # the least that keeps every B_f within 1 / timestep.
    timestep = mj_model.opt.timestep
    friction_products = [pair.friction_product() for pair in fitted]
    impratio = float(np.clip(max(friction_products, default=1.0) * timestep, *IMPRATIO_RANGE))
    mj_model.opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    mj_model.opt.impratio = impratio
    pairs = [pair.apply(min(product / impratio, 1.0 / timestep))
             for pair, product in zip(fitted, friction_products)]
    return ContactModel(mj_model, pairs, list(dict.fromkeys(c.force for c in skeleton.contacts)))


class _FittedPair:
    """One pair's normal force law fitted to its Hunt-Crossley parameters;
    its friction waits for the model's impratio."""

    def __init__(self, mj_model: mujoco.MjModel, pair_id: int, contact: HuntCrossleyContact,
                 radius: float, weight: float, standing_load: float):
        self.mj_model, self.pair_id, self.contact, self.radius = mj_model, pair_id, contact, radius
        timestep = mj_model.opt.timestep
        self.hertz = hertz_coefficient(contact.stiffness, radius)
        bodies = mj_model.geom_bodyid[[mj_model.pair_geom1[pair_id], mj_model.pair_geom2[pair_id]]]
        self.inverse_mass = float(np.sum(mj_model.body_invweight0[bodies, 0]))
        self.stiffness = 1.0 / (2.0 * timestep) ** 2  # K

        # d^2 / (1 - d) = C sqrt(r) A / K makes law (1) C r^1.5
        self.loads = np.geomspace(*FITTED_LOADS, FIT_SAMPLES) * weight
        self.penetrations = (self.loads / self.hertz) ** (2.0 / 3.0)
        ratio = self.hertz * np.sqrt(self.penetrations) * self.inverse_mass / self.stiffness
        target = np.clip((np.sqrt(ratio ** 2 + 4.0 * ratio) - ratio) / 2.0,
                         mujoco.mjMINIMP, mujoco.mjMAXIMP)
        self.solimp = _fit_impedance(self.penetrations, target)
        dmax = self.solimp[1]

        # B d / ((1 - d) A) = 1.5 c f at the standing load
        self.standing_penetration = (standing_load / self.hertz) ** (2.0 / 3.0)
        self.standing_impedance = float(impedance(self.standing_penetration, self.solimp))
        d = self.standing_impedance
        damping = min(1.5 * contact.dissipation * standing_load * (1.0 - d) * self.inverse_mass / d,
                      1.0 / timestep)
        self.solref = (-self.stiffness * dmax ** 2, -damping * dmax)

    def friction_product(self) -> float:
        """impratio x B_f that makes friction's damper mu f / vt at the standing load."""
        vt = self.contact.transition_velocity
        if vt <= 0.0:
            return np.inf
        return (self.contact.static_friction * self.stiffness * self.standing_impedance
                * self.standing_penetration / vt)

    def apply(self, friction_rate: float) -> ContactPair:
        """Write the pair's parameters into the model, with B_f ``friction_rate``."""
        model, pair_id = self.mj_model, self.pair_id
        friction = self.contact.static_friction
        solreffriction = (self.solref[0], -friction_rate * self.solimp[1])
        model.pair_dim[pair_id] = CONDIM
        model.pair_solref[pair_id] = self.solref
        model.pair_solreffriction[pair_id] = solreffriction
        model.pair_solimp[pair_id] = self.solimp
        model.pair_margin[pair_id] = 0.0  # force from first touch, as Hunt-Crossley
        model.pair_gap[pair_id] = 0.0
        # sliding friction only: the torsional and rolling entries are unused at condim 3
        model.pair_friction[pair_id] = (friction, friction, 0.0, 0.0, 0.0)
        fit_error = float(np.max(np.abs(normal_force_at_rest(
            self.penetrations, self.solref, self.solimp, self.inverse_mass) / self.loads - 1.0)))
        geom1, geom2 = (model.geom(int(g)).name for g in
                        (model.pair_geom1[pair_id], model.pair_geom2[pair_id]))
        return ContactPair(self.contact.force, pair_id, geom1, geom2, self.radius, self.hertz,
                           self.contact.dissipation, friction, self.inverse_mass, self.solref,
                           solreffriction, self.solimp, fit_error)


def _effective_radius(skeleton: Skeleton, geom1: str, geom2: str) -> float:
    radii = [skeleton.spheres[g].radius for g in (geom1, geom2) if g in skeleton.spheres]
    return radii[0] if len(radii) == 1 else radii[0] * radii[1] / (radii[0] + radii[1])


def _impedance_shape(x, midpoint, power):
    """MuJoCo's impedance curve from 0 to 1 over x in [0, 1]: x^p rescaled
    below the midpoint, 1 - (1 - x)^p rescaled above."""
    with np.errstate(divide="ignore", invalid="ignore"):
        below = x ** power / midpoint ** (power - 1.0)
        above = 1.0 - (1.0 - x) ** power / (1.0 - midpoint) ** (power - 1.0)
    return np.where(x <= midpoint, below, above)


def _fit_impedance(penetrations: np.ndarray, target: np.ndarray) -> tuple[float, ...]:
    """``solimp`` whose impedance follows ``target`` at ``penetrations``
    (increasing) best in relative force: for each width and power of the
    grid, dmin and dmax by weighted least squares (d is linear in them);
    then the grid point with the smallest largest error."""
    weights = (2.0 - target) / (target * (1.0 - target))  # d log(d^2 / (1 - d)) / dd
    widths = FIT_WIDTHS[:, None, None] * penetrations[-1]
    y = _impedance_shape(np.clip(penetrations / widths, 0.0, 1.0), FIT_MIDPOINT,
                         FIT_POWERS[None, :, None])
    # d = dmin (1 - y) + dmax y
    u, v, t = weights * (1.0 - y), weights * y, weights * target
    uu, uv, vv = (u * u).sum(-1), (u * v).sum(-1), (v * v).sum(-1)
    ut, vt = (u * t).sum(-1), (v * t).sum(-1)
    determinant = uu * vv - uv * uv
    with np.errstate(divide="ignore", invalid="ignore"):
        dmin = np.clip((vv * ut - uv * vt) / determinant, mujoco.mjMINIMP, mujoco.mjMAXIMP)
        dmax = np.clip((uu * vt - uv * ut) / determinant, dmin, mujoco.mjMAXIMP)
    error = np.abs(weights * (dmin[..., None] * (1.0 - y) + dmax[..., None] * y - target)).max(-1)
    w, p = np.unravel_index(np.argmin(np.where(np.isfinite(error), error, np.inf)), error.shape)
    return (float(dmin[w, p]), float(dmax[w, p]), float(widths[w, 0, 0]), FIT_MIDPOINT,
            float(FIT_POWERS[p]))
