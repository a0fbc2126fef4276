"""MuJoCo's foot contact (osim.engines.mujoco.contact) against OpenSim's
Hunt-Crossley contact on our HUMAN and both 3D models, no mocks: each model is
built in OpenSim, run there, converted, configured and run in MuJoCo.

Standing: every coordinate but the pelvis translations is locked at its
default in the OpenSim model that both engines run (the converter turns a
locked coordinate into a fixed joint). The pelvis rotations are locked too:
free, they let every model tip backwards within a second in OpenSim (its
compliant contact cannot hold the centre of mass above the feet), so there is
no standing height to compare; `test_tipping_over_matches_opensim` compares
that fall instead. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import osim  # noqa: F401  (before opensim: loads the engine's libraries)
import numpy as np
import opensim
import pytest

import model_parity as mp
from osim.models import build_model

mujoco = pytest.importorskip("mujoco")
from osim.engines.mujoco.contact import (  # noqa: E402  (after the skip)
    ContactModel, configure_contacts)
from osim.engines.mujoco.convert import Skeleton, convert_skeleton  # noqa: E402

mp.silence_opensim()

MODELS = {
    "human": ("human", {}),
    "gait3d_prosthetic": ("gait3d", {"prosthetic": True}),
    "gait3d_healthy": ("gait3d", {"prosthetic": False}),
}
PELVIS_TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
SETTLE_TIME = 1.0  # s: both engines settle within 0.5 s
TIP_TIME = 1.0  # s of tipping over
TIMESTEP = 0.005  # s: MuJoCo's, the converter's default
HEIGHT_TOLERANCE = 0.002  # m: the criterion
WEIGHT_TOLERANCE = 0.02  # of body weight: the criterion


def _vec3(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(3)])


def _model(key: str, free: tuple[str, ...] | None) -> opensim.Model:
    """Model ``key`` with every coordinate not in ``free`` locked at its
    default (``free`` None: none locked beyond the model's own)."""
    name, options = MODELS[key]
    model = build_model(name, **options)
    if free is not None:
        for coordinate in model.getCoordinateSet():
            if coordinate.getName() not in free:
                coordinate.setDefaultLocked(True)
    model.finalizeConnections()
    return model


@dataclass
class OpenSimRun:
    times: np.ndarray
    pelvis: list[dict[str, float]]  # pelvis coordinate values at each time
    speeds: np.ndarray  # of the free coordinates, at the end
    ground_reactions: dict[str, np.ndarray]  # at the end, on the model
    penetrations: dict[str, float]  # of each sphere, at the end
    weight: float


def run_opensim(model: opensim.Model, duration: float, samples: int) -> OpenSimRun:
    state = model.initSystem()
    manager = opensim.Manager(model)
    manager.setIntegratorAccuracy(1e-6)
    manager.initialize(state)
    coordinates = [c for c in model.getCoordinateSet() if c.getName().startswith("pelvis")]
    times = np.linspace(duration / samples, duration, samples)
    pelvis = []
    for time in times:
        state = manager.integrate(time)
        pelvis.append({c.getName(): c.getValue(state) for c in coordinates})
    model.realizeDynamics(state)
    # recorded as the force on the ground: the model feels the opposite
    ground_reactions = {
        f.getName(): -np.array([f.getRecordValues(state).get(i) for i in range(3)])
        for f in model.getForceSet() if f.getConcreteClassName() == "HuntCrossleyForce"}
    speeds = np.array([c.getSpeedValue(state) for c in model.getCoordinateSet()
                       if not c.getLocked(state)])
    weight = (sum(b.getMass() for b in model.getBodySet())
              * np.linalg.norm(_vec3(model.getGravity())))
    return OpenSimRun(times, pelvis, speeds, ground_reactions, sphere_penetrations(model, state),
                      weight)


def sphere_penetrations(model: opensim.Model, state: opensim.State) -> dict[str, float]:
    """How deep each contact sphere is in the ground (the plane y = 0), m."""
    penetrations = {}
    for geometry in model.getContactGeometrySet():
        if geometry.getConcreteClassName() == "ContactSphere":
            center = geometry.getFrame().findStationLocationInGround(state, geometry.get_location())
            radius = opensim.ContactSphere.safeDownCast(geometry).getRadius()
            penetrations[geometry.getName()] = radius - center.get(1)
    return penetrations


@dataclass
class MuJoCoModel:
    skeleton: Skeleton
    model: object
    data: object
    contacts: ContactModel

    @classmethod
    def convert(cls, model: opensim.Model) -> MuJoCoModel:
        skeleton = convert_skeleton(model, TIMESTEP)
        mj_model = mujoco.MjModel.from_xml_string(skeleton.xml)
        contacts = configure_contacts(skeleton, mj_model)
        data = mujoco.MjData(mj_model)
        skeleton.set_qpos(data.qpos)
        mujoco.mj_forward(mj_model, data)
        return cls(skeleton, mj_model, data, contacts)

    def pelvis(self) -> dict[str, float]:
        values = self.skeleton.coordinates_from_qpos(self.data.qpos)
        return {name: value for name, value in values.items() if name.startswith("pelvis")}

    def run(self, duration: float, samples: int) -> list[dict[str, float]]:
        steps = round(duration / samples / self.model.opt.timestep)
        pelvis = []
        for _ in range(samples):
            mujoco.mj_step(self.model, self.data, steps)
            pelvis.append(self.pelvis())
        mujoco.mj_forward(self.model, self.data)
        return pelvis

    def ground_reactions(self) -> dict[str, np.ndarray]:
        return self.contacts.ground_reaction_forces(self.model, self.data)

    def penetrations(self) -> dict[str, float]:
        contacts = self.data.contact
        return {self.model.geom(int(contacts.geom2[i])).name: -float(contacts.dist[i])
                for i in range(self.data.ncon)}

    def weight(self) -> float:
        return float(self.model.body_mass.sum() * np.linalg.norm(self.model.opt.gravity))


@dataclass
class Standing:
    opensim: OpenSimRun
    mujoco: MuJoCoModel
    height: float  # MuJoCo's settled pelvis height


@cache
def standing(key: str) -> Standing:
    model = _model(key, PELVIS_TRANSLATIONS)
    engine = MuJoCoModel.convert(model)
    engine.run(SETTLE_TIME, 1)
    return Standing(run_opensim(model, SETTLE_TIME, 1), engine, engine.pelvis()["pelvis_ty"])


@pytest.fixture(params=sorted(MODELS))
def key(request) -> str:
    return request.param


# ---------------------------------------------------------------------------
# The force law
# ---------------------------------------------------------------------------
def test_hunt_crossley_law_is_opensims(key):
    """The law the pairs approximate is OpenSim's: at the default pose (the
    spheres 24-39 mm deep, at rest), each force's recorded normal force equals
    the sum of C x^1.5 over its spheres."""
    model = _model(key, None)
    state = model.initSystem()
    model.realizeDynamics(state)
    engine = MuJoCoModel.convert(model)
    penetrations = sphere_penetrations(model, state)
    for name in engine.contacts.forces:
        recorded = -model.getForceSet().get(name).getRecordValues(state).get(1)
        ours = sum(float(pair.hunt_crossley_force(penetrations[pair.geom2]))
                   for pair in engine.contacts.pairs if pair.force == name)
        assert ours == pytest.approx(recorded, rel=1e-9)


def test_force_law_at_rest_follows_hunt_crossley(key):
    """MuJoCo's normal force at rest (from ``solref``/``solimp`` and the
    model's inverse masses) is within 6% of Hunt-Crossley's at the same
    penetration over the fitted loads, 3% over the standing ones."""
    engine = MuJoCoModel.convert(_model(key, None))
    weight = engine.weight()
    standing_loads = np.linspace(0.1, 1.0, 50) * weight
    for pair in engine.contacts.pairs:
        assert pair.fit_error <= 0.06, pair
        penetrations = (standing_loads / pair.hertz) ** (2.0 / 3.0)
        error = np.abs(pair.force_at_rest(penetrations)
                       / pair.hunt_crossley_force(penetrations) - 1.0)
        assert error.max() <= 0.03, (pair.geom2, error.max())


# ---------------------------------------------------------------------------
# Standing: the criteria
# ---------------------------------------------------------------------------
def test_standing_weight_on_the_ground(key):
    """Settled, the vertical ground reaction is the body weight within 2% (in
    OpenSim too), the horizontal one nil, shared between the feet as in OpenSim,
    and each sphere's penetration within 1 mm of OpenSim's."""
    run = standing(key)
    weight = run.mujoco.weight()
    assert weight == pytest.approx(run.opensim.weight, rel=1e-9)
    ours, theirs = run.mujoco.ground_reactions(), run.opensim.ground_reactions
    assert set(ours) == set(theirs)
    total, total_opensim = sum(ours.values()), sum(theirs.values())
    print(f"\n{key}: vertical ground reaction / body weight: MuJoCo {total[1] / weight:.5f}, "
          f"OpenSim {total_opensim[1] / weight:.5f}")
    assert abs(total[1] / weight - 1.0) <= WEIGHT_TOLERANCE
    assert abs(total_opensim[1] / weight - 1.0) <= WEIGHT_TOLERANCE
    assert np.abs(total[[0, 2]]).max() <= 1e-3 * weight
    for name in ours:
        assert ours[name][1] == pytest.approx(theirs[name][1], abs=0.01 * weight), name
    penetrations = run.mujoco.penetrations()
    assert set(penetrations) == set(run.opensim.penetrations)
    for sphere, depth in run.opensim.penetrations.items():
        print(f"  {sphere}: penetration MuJoCo {1000 * penetrations[sphere]:.2f} mm, "
              f"OpenSim {1000 * depth:.2f} mm")
        assert penetrations[sphere] == pytest.approx(depth, abs=0.001), sphere


def test_standing_pelvis_height_matches_opensim(key):
    run = standing(key)
    height_opensim = run.opensim.pelvis[-1]["pelvis_ty"]
    print(f"\n{key}: settled pelvis height MuJoCo {run.height:.5f} m, OpenSim "
          f"{height_opensim:.5f} m: {1000 * (run.height - height_opensim):+.3f} mm")
    assert abs(run.height - height_opensim) <= HEIGHT_TOLERANCE


def test_both_engines_have_settled(key):
    """The comparison is of rest states: after 1 s both engines' pelvis
    speeds are below 1 mm/s."""
    run = standing(key)
    assert np.abs(run.opensim.speeds).max() < 1e-3
    assert np.abs(run.mujoco.data.qvel).max() < 1e-3


def test_tipping_over_matches_opensim(key):
    """With the pelvis free (rotations too) and the joints locked, both
    engines tip the model backwards on its heels alike: pelvis tilt within
    0.03 rad and pelvis height within 1 cm at every 0.1 s over 1 s."""
    unlocked = _model(key, None)  # kept: its coordinates die with it
    free = tuple(c.getName() for c in unlocked.getCoordinateSet()
                 if c.getName().startswith("pelvis"))
    model = _model(key, free)
    ours = MuJoCoModel.convert(model).run(TIP_TIME, 10)
    theirs = run_opensim(model, TIP_TIME, 10).pelvis
    tilt = np.array([[o["pelvis_tilt"], t["pelvis_tilt"]] for o, t in zip(ours, theirs)])
    height = np.array([[o["pelvis_ty"], t["pelvis_ty"]] for o, t in zip(ours, theirs)])
    print(f"\n{key}: pelvis tilt at 1 s MuJoCo {tilt[-1, 0]:.3f}, OpenSim {tilt[-1, 1]:.3f} rad; "
          f"largest differences: tilt {np.abs(tilt[:, 0] - tilt[:, 1]).max():.4f} rad, "
          f"height {1000 * np.abs(height[:, 0] - height[:, 1]).max():.2f} mm")
    assert tilt[-1, 1] > 0.2  # it does tip over
    assert np.abs(tilt[:, 0] - tilt[:, 1]).max() <= 0.03
    assert np.abs(height[:, 0] - height[:, 1]).max() <= 0.01


def test_sideways_creep_matches_opensim(key):
    """Pushed sideways at the pelvis by a fifth of its weight, well within
    friction's limit, the standing model creeps in both engines (OpenSim's
    friction is proportional to slip speed below its transition velocity) at
    speeds within 5% of each other, over its second half second."""
    model = _model(key, PELVIS_TRANSLATIONS)
    engine = MuJoCoModel.convert(model)
    push = 0.2 * engine.weight()
    pelvis = model.getBodySet().get("pelvis")
    force = opensim.PrescribedForce("push", pelvis)
    force.setPointIsInGlobalFrame(False)
    force.setPointFunctions(*(opensim.Constant(x) for x in _vec3(pelvis.getMassCenter())))
    force.setForceFunctions(opensim.Constant(push), opensim.Constant(0.0), opensim.Constant(0.0))
    model.addForce(force)
    theirs = run_opensim(model, 1.0, 2).pelvis
    engine.data.xfrc_applied[engine.model.body("pelvis").id, 0] = push  # at its centre of mass
    ours = engine.run(1.0, 2)
    speeds = [(run[1]["pelvis_tx"] - run[0]["pelvis_tx"]) / 0.5 for run in (ours, theirs)]
    print(f"\n{key}: creep MuJoCo {1000 * speeds[0]:.2f} mm/s, OpenSim {1000 * speeds[1]:.2f} mm/s")
    assert speeds[1] > 0.01
    assert speeds[0] == pytest.approx(speeds[1], rel=0.05)


# ---------------------------------------------------------------------------
# Ground reaction forces and stability
# ---------------------------------------------------------------------------
def test_ground_reactions_obey_newton(key):
    """With every joint free and the muscles off, the model collapses onto
    its feet: at each of 12 instants each force's ground reaction equals the
    contact force MuJoCo applies to its feet (``cfrc_ext``), and their sum is
    the total mass times the centre of mass's acceleration less gravity."""
    engine = MuJoCoModel.convert(_model(key, None))
    model, data = engine.model, engine.data
    # Accelerations agree with the constraint forces as far as the solver has
    # converged: to its default tolerance (1e-8), 1e-4 of the forces here.
    model.opt.tolerance = 1e-14
    feet = {name: sorted({model.geom(p.geom2).bodyid[0] for p in engine.contacts.pairs
                          if p.force == name}) for name in engine.contacts.forces}
    body_acceleration = np.zeros(6)
    compared = 0
    for _ in range(12):
        mujoco.mj_step(model, data, 5)
        mujoco.mj_forward(model, data)
        mujoco.mj_rnePostConstraint(model, data)
        reactions = engine.ground_reactions()
        for name, bodies in feet.items():
            np.testing.assert_allclose(reactions[name], data.cfrc_ext[bodies, 3:].sum(0),
                                       rtol=1e-9, atol=1e-9 * engine.weight())
        # MuJoCo's body accelerations carry gravity as an upward acceleration
        # of the world: they are a - g.
        momentum_rate = np.zeros(3)
        for body in range(1, model.nbody):
            mujoco.mj_objectAcceleration(model, data, mujoco.mjtObj.mjOBJ_BODY, body,
                                         body_acceleration, 0)
            momentum_rate += model.body_mass[body] * body_acceleration[3:]
        # the planar HUMAN has no out-of-plane freedom: its joints hold z
        axes = [0, 1] if "pelvis_tz" not in engine.skeleton.coordinates else [0, 1, 2]
        np.testing.assert_allclose(sum(reactions.values())[axes], momentum_rate[axes],
                                   rtol=1e-7, atol=1e-7 * engine.weight())
        compared += data.ncon > 0
    assert compared >= 6  # the feet were on the ground most of the time


def test_stable_at_five_millisecond_steps(key):
    """MuJoCo's implicitfast at 5 ms: the standing model dropped from 5 cm at
    0.5 m/s comes to rest at its settled height, without warnings; the full
    model collapsing with its muscles off stays finite and slow."""
    model = _model(key, PELVIS_TRANSLATIONS)
    engine = MuJoCoModel.convert(model)
    assert engine.model.opt.timestep == TIMESTEP
    assert engine.model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    height = engine.skeleton.coordinates["pelvis_ty"]
    engine.data.qpos[height.qpos_address] += 0.05 + 0.03  # 3 cm deep at default: 5 cm clear
    engine.data.qvel[height.dof_address] = -0.5
    engine.run(3.0, 3)
    assert not any(warning.number for warning in engine.data.warning)
    assert np.abs(engine.data.qvel).max() < 1e-3
    assert engine.pelvis()["pelvis_ty"] == pytest.approx(standing(key).height, abs=1e-4)

    limp = MuJoCoModel.convert(_model(key, None))
    for _ in range(20):
        limp.run(0.1, 1)
        assert np.all(np.isfinite(limp.data.qvel)) and np.abs(limp.data.qvel).max() < 50.0
    assert not any(warning.number for warning in limp.data.warning)
