"""The OpenSim -> MuJoCo skeleton converter (osim.engines.mujoco.convert)
against the real OpenSim models, no mocks: each model is built in OpenSim,
converted, compiled by MuJoCo and both are posed alike.

At 100 random poses (coordinates uniform within their ranges, coupled joints
set from their couplings) body frames, markers, contact spheres and centres of
mass agree to 1e-6 m (rad) where no coupled joint is involved and to 1 mm
where one is (the knee's spline translations, fitted by quartics). Under
gravity alone the ARM's accelerations agree to rounding; the coupled models'
agree to about 1% (MuJoCo's equality constraints are soft).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import opensim
import pytest

import model_parity as mp
from osim.models import build_model

mujoco = pytest.importorskip("mujoco")
from osim.engines.mujoco.convert import (  # noqa: E402  (after the skip)
    MAX_COUPLING_ERROR, Skeleton, convert_skeleton)

mp.silence_opensim()

MODELS = {
    "arm": ("arm", {}),
    "human": ("human", {}),
    "gait3d_prosthetic": ("gait3d", {"prosthetic": True}),
    "gait3d_healthy": ("gait3d", {"prosthetic": False}),
}
N_POSES = 100
EXACT = 1e-6  # m or rad: where no coupled joint is involved
COUPLED = 1e-3  # m: downstream of a coupled joint (the fitted knee)
SEED = 14


def _vec3(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(3)])


def _rotation(transform) -> np.ndarray:
    return np.array([[transform.R().get(i, j) for j in range(3)] for i in range(3)])


@dataclass
class Converted:
    """An OpenSim model and its MuJoCo conversion, posed together by `pose`."""

    model: opensim.Model
    state: opensim.State
    skeleton: Skeleton
    mj_model: object
    data: object

    def free_coordinates(self) -> list[opensim.Coordinate]:
        return [c for c in self.model.getCoordinateSet() if not c.getDefaultLocked()]

    def random_pose(self, rng) -> dict[str, float]:
        return {c.getName(): rng.uniform(c.getRangeMin(), c.getRangeMax())
                for c in self.free_coordinates()}

    def pose(self, coordinates: dict[str, float], speeds: dict[str, float] | None = None) -> None:
        """Both models in this pose: OpenSim realized to positions, MuJoCo's
        kinematics and centres of mass computed."""
        speeds = speeds or {}
        for c in self.free_coordinates():
            c.setValue(self.state, coordinates[c.getName()], False)
            c.setSpeedValue(self.state, speeds.get(c.getName(), 0.0))
        self.model.realizePosition(self.state)
        mujoco.mj_resetData(self.mj_model, self.data)
        self.skeleton.set_qpos(self.data.qpos, coordinates)
        self.skeleton.set_qvel(self.data.qvel, speeds, coordinates)
        mujoco.mj_kinematics(self.mj_model, self.data)
        mujoco.mj_comPos(self.mj_model, self.data)

    def body_id(self, opensim_name: str) -> int:
        return self.mj_model.body(self.skeleton.bodies[opensim_name]).id

    def tolerances(self) -> np.ndarray:
        """Per MuJoCo body: COUPLED at or below a coupled joint, else EXACT."""
        coupled = {self.mj_model.body(c.body).id for c in self.skeleton.couplings}
        tolerance = np.full(self.mj_model.nbody, EXACT)
        for body in range(1, self.mj_model.nbody):  # parents come before children
            if body in coupled or tolerance[self.mj_model.body_parentid[body]] == COUPLED:
                tolerance[body] = COUPLED
        return tolerance


def convert(model: opensim.Model, **options) -> Converted:
    skeleton = convert_skeleton(model, **options)
    state = model.initSystem()
    mj_model = mujoco.MjModel.from_xml_string(skeleton.xml)
    return Converted(model, state, skeleton, mj_model, mujoco.MjData(mj_model))


@pytest.fixture(scope="module", params=list(MODELS))
def converted(request) -> Converted:
    name, options = MODELS[request.param]
    return convert(build_model(name, **options))


# ---------------------------------------------------------------------------
# Kinematics at random poses
# ---------------------------------------------------------------------------
def test_body_frames_markers_spheres_and_mass_centres_match_opensim(converted):
    c, rng = converted, np.random.default_rng(SEED)
    tolerance = c.tolerances()
    bodies = list(c.model.getBodySet())
    body_ids = [c.body_id(b.getName()) for b in bodies]
    massive = [i for i, b in enumerate(bodies) if b.getMass() > 0.0]
    markers = list(c.model.getMarkerSet())
    marker_sites = [c.mj_model.site(c.skeleton.markers[m.getName()]).id for m in markers]
    spheres = [(g, c.mj_model.geom(c.skeleton.spheres[g.getName()].geom).id)
               for g in c.model.getContactGeometrySet() if g.getName() in c.skeleton.spheres]
    whole_model = COUPLED if c.skeleton.couplings else EXACT
    # Errors in units of their tolerance: 1 is at the bound.
    worst = dict.fromkeys(("origin", "orientation", "mass centre", "marker", "sphere"), 0.0)
    for _ in range(N_POSES):
        c.pose(c.random_pose(rng))
        s, d = c.state, c.data
        origins = np.array([_vec3(b.getPositionInGround(s)) for b in bodies])
        rotations = np.array([_rotation(b.getTransformInGround(s)) for b in bodies])
        centres = np.array([_vec3(b.findStationLocationInGround(s, b.getMassCenter())) for b in bodies])
        errors = {
            "origin": np.abs(origins - d.xpos[body_ids]).max(axis=1) / tolerance[body_ids],
            "orientation": (np.abs(rotations - d.xmat[body_ids].reshape(-1, 3, 3)).max(axis=(1, 2))
                            / tolerance[body_ids]),
            "mass centre": (np.abs(centres - d.xipos[body_ids]).max(axis=1)
                            / tolerance[body_ids])[massive],
            "marker": np.array([np.abs(_vec3(m.getLocationInGround(s)) - d.site_xpos[i]).max()
                                / tolerance[c.mj_model.site_bodyid[i]]
                                for m, i in zip(markers, marker_sites)]),
            "sphere": np.array([np.abs(_vec3(g.getFrame().findStationLocationInGround(
                s, g.get_location())) - d.geom_xpos[i]).max() / tolerance[c.mj_model.geom_bodyid[i]]
                for g, i in spheres]),
        }
        for key, value in errors.items():
            worst[key] = max(worst[key], float(value.max(initial=0.0)))
        model_centre = np.abs(_vec3(c.model.calcMassCenterPosition(s)) - d.subtree_com[0]).max()
        assert model_centre <= whole_model, model_centre
    assert max(worst.values()) <= 1.0, worst


def test_masses_inertias_and_mass_centres_equal_opensim(converted):
    c = converted
    total = 0.0
    for body in c.model.getBodySet():
        i = c.body_id(body.getName())
        assert c.mj_model.body_mass[i] == pytest.approx(body.getMass(), rel=1e-15, abs=0.0)
        total += body.getMass()
        if body.getMass() == 0.0:
            continue
        np.testing.assert_allclose(c.mj_model.body_ipos[i], _vec3(body.getMassCenter()), atol=1e-15)
        moments = [body.get_inertia().get(k) for k in range(6)]
        tensor = np.array([[moments[0], moments[3], moments[4]],
                           [moments[3], moments[1], moments[5]],
                           [moments[4], moments[5], moments[2]]])
        frame = np.empty(9)
        mujoco.mju_quat2Mat(frame, c.mj_model.body_iquat[i])
        frame = frame.reshape(3, 3)
        np.testing.assert_allclose(frame @ np.diag(c.mj_model.body_inertia[i]) @ frame.T, tensor,
                                   atol=1e-12)
    assert mujoco.mj_getTotalmass(c.mj_model) == pytest.approx(total, rel=1e-14)
    assert total == pytest.approx(c.model.getTotalMass(c.state), rel=1e-14)


# ---------------------------------------------------------------------------
# Coordinates, couplings, contact, options
# ---------------------------------------------------------------------------
def test_every_coordinate_maps_to_a_joint_or_is_locked(converted):
    c, skeleton = converted, converted.skeleton
    coordinates = list(c.model.getCoordinateSet())
    assert list(skeleton.coordinates) == [k.getName() for k in coordinates]
    for coordinate in coordinates:
        mapped = skeleton.coordinates[coordinate.getName()]
        assert mapped.locked == coordinate.getDefaultLocked()
        assert mapped.default_value == coordinate.getDefaultValue()
        assert mapped.range == (coordinate.getRangeMin(), coordinate.getRangeMax())
        if mapped.locked:  # fixed at its default: no joint of that name
            assert mujoco.mj_name2id(c.mj_model, mujoco.mjtObj.mjOBJ_JOINT, coordinate.getName()) == -1
            continue
        joint = c.mj_model.joint(mapped.joint)
        assert (mapped.qpos_address, mapped.dof_address) == (joint.qposadr[0], joint.dofadr[0])
        assert mapped.scale == 1.0  # all our transform axes are the coordinate itself
        np.testing.assert_array_equal(joint.range, mapped.range)
        assert not joint.limited[0]  # OpenSim's ranges are not hard limits
    assert skeleton.default_coordinates == {k.getName(): k.getDefaultValue() for k in coordinates}
    assert skeleton.locked_coordinates == [k.getName() for k in coordinates if k.getDefaultLocked()]
    # The engine reads coordinates back from qpos.
    c.pose(skeleton.default_coordinates | {"r_elbow_flex": 0.7, "knee_angle_r": -0.9})
    for name, value in skeleton.coordinates_from_qpos(c.data.qpos).items():
        assert value == pytest.approx(c.model.getCoordinateSet().get(name).getValue(c.state), abs=1e-15)


def test_locked_coordinates_fix_their_bodies_at_the_default_value():
    locked = build_model("gait3d", prosthetic=False)
    assert convert(locked).skeleton.locked_coordinates == [
        "hip_rotation_r", "hip_rotation_l", "lumbar_extension"]
    # Lock the whole pelvis too: it is then welded to ground at its default pose.
    for name in ("pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty",
                 "pelvis_tz"):
        locked.getCoordinateSet().get(name).setDefaultLocked(True)
    c = convert(locked)
    assert c.mj_model.body("pelvis").jntnum[0] == 0
    c.pose(c.skeleton.default_coordinates)
    for name in ("pelvis", "torso"):
        body = c.model.getBodySet().get(name)
        np.testing.assert_allclose(c.data.xpos[c.body_id(name)],
                                   _vec3(body.getPositionInGround(c.state)), atol=1e-15)


def test_couplings_state_their_error_and_match_opensim_functions(converted):
    c, skeleton = converted, converted.skeleton
    knees = [name for name in ("knee_angle_r", "knee_angle_l") if name in skeleton.coordinates]
    # The planar knee: tibia translations along x and y as splines of the knee angle.
    assert sorted((k.coordinate, k.axis) for k in skeleton.couplings) == sorted(
        (knee, axis) for knee in knees for axis in ("translation1", "translation2"))
    rng = np.random.default_rng(SEED)
    argument = opensim.Vector(1, 0.0)
    for coupling in skeleton.couplings:
        assert coupling.kind == "slide" and coupling.function == "SimmSpline"
        assert 0.0 < coupling.max_error < MAX_COUPLING_ERROR
        # The stated error is the real one: check it between the fit's samples.
        joint = opensim.CustomJoint.safeDownCast(c.model.getJointSet().get(coupling.opensim_joint))
        spline = joint.getSpatialTransform().getTransformAxis(
            {"translation1": 3, "translation2": 4}[coupling.axis]).getFunction()
        coordinate = c.model.getCoordinateSet().get(coupling.coordinate)
        errors = []
        for q in rng.uniform(coordinate.getRangeMin(), coordinate.getRangeMax(), 500):
            argument.set(0, q)
            errors.append(abs(coupling.value(q) - spline.calcValue(argument)))
        assert max(errors) <= coupling.max_error * (1.0 + 1e-9)
        assert max(errors) > 0.5 * coupling.max_error
        # MuJoCo holds the joint by the same polynomial.
        equality = c.mj_model.equality(coupling.joint)
        assert equality.type[0] == mujoco.mjtEq.mjEQ_JOINT
        assert c.mj_model.joint(equality.obj1id[0]).name == coupling.joint
        assert c.mj_model.joint(equality.obj2id[0]).name == coupling.coordinate
        np.testing.assert_array_equal(equality.data[:5], coupling.polycoef)
        assert c.mj_model.qpos0[coupling.qpos_address] == coupling.reference


def test_contact_geometry_and_hunt_crossley_parameters(converted):
    c, skeleton = converted, converted.skeleton
    geometry = {g.getName(): g for g in c.model.getContactGeometrySet()}
    assert set(skeleton.spheres) | set(skeleton.planes) == set(geometry)
    for name, sphere in skeleton.spheres.items():
        geom = c.mj_model.geom(sphere.geom)
        assert geom.type[0] == mujoco.mjtGeom.mjGEOM_SPHERE
        assert geom.size[0] == sphere.radius == opensim.ContactSphere.safeDownCast(
            geometry[name]).getRadius()
        assert c.mj_model.body(geom.bodyid[0]).name == sphere.body == geometry[name].getFrame().getName()
        np.testing.assert_allclose(geom.pos, _vec3(geometry[name].get_location()), atol=1e-15)
    for plane in skeleton.planes.values():  # the platform: y = 0, normal +y
        geom = c.mj_model.geom(plane.geom)
        assert geom.type[0] == mujoco.mjtGeom.mjGEOM_PLANE and geom.bodyid[0] == 0
        np.testing.assert_allclose(plane.normal, [0.0, 1.0, 0.0], atol=1e-12)
        np.testing.assert_allclose(plane.point, 0.0, atol=1e-15)
        mat = np.empty(9)
        mujoco.mju_quat2Mat(mat, geom.quat)
        np.testing.assert_allclose(mat.reshape(3, 3)[:, 2], plane.normal, atol=1e-15)

    forces = [f for f in c.model.getForceSet() if f.getConcreteClassName() == "HuntCrossleyForce"]
    assert [k.force for k in skeleton.contacts] == [f.getName() for f in forces]
    for contact, force in zip(skeleton.contacts, forces):
        force = opensim.HuntCrossleyForce.safeDownCast(force)
        assert (contact.stiffness, contact.dissipation, contact.static_friction,
                contact.dynamic_friction, contact.viscous_friction, contact.transition_velocity) == (
            force.getStiffness(), force.getDissipation(), force.getStaticFriction(),
            force.getDynamicFriction(), force.getViscousFriction(), force.getTransitionVelocity())
        # Each foot sphere touches the platform, nothing else (the toes share a body).
        assert contact.geometry[0] == "platform"
        assert contact.pairs == tuple(("platform", g) for g in contact.geometry[1:])
    pairs = [(c.mj_model.geom(g1).name, c.mj_model.geom(g2).name)
             for g1, g2 in zip(c.mj_model.pair_geom1, c.mj_model.pair_geom2)]
    assert pairs == [p for k in skeleton.contacts for p in k.pairs]
    # Only the pairs collide: no geom takes part in MuJoCo's default filtering.
    assert not c.mj_model.geom_contype.any() and not c.mj_model.geom_conaffinity.any()


def test_options_gravity_and_timestep(converted):
    c = converted
    gravity = _vec3(c.model.getGravity())
    np.testing.assert_array_equal(c.mj_model.opt.gravity, gravity)
    np.testing.assert_array_equal(c.skeleton.gravity, gravity)
    assert c.mj_model.opt.timestep == c.skeleton.timestep == 0.005
    assert c.mj_model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    assert set(c.skeleton.markers) == {m.getName() for m in c.model.getMarkerSet()}


def test_a_model_read_from_its_file_converts_alike(arm_osim):
    assert convert_skeleton(opensim.Model(str(arm_osim))).xml == convert_skeleton(
        build_model("arm")).xml


def test_timestep_is_an_argument():
    skeleton = convert_skeleton(build_model("arm"), timestep=0.002)
    assert mujoco.MjModel.from_xml_string(skeleton.xml).opt.timestep == skeleton.timestep == 0.002
    with pytest.raises(ValueError, match="timestep"):
        convert_skeleton(build_model("arm"), timestep=0.0)


# ---------------------------------------------------------------------------
# Dynamics: accelerations under gravity alone
# ---------------------------------------------------------------------------
def gravity_accelerations(model: opensim.Model, n_poses: int, speeds: bool = False):
    """Coordinate accelerations (OpenSim, MuJoCo) under gravity alone (every
    force and contact off) at random poses, at rest or at random speeds."""
    for force in model.getForceSet():
        force.set_appliesForce(False)
    c = convert(model)
    c.mj_model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    rng = np.random.default_rng(SEED)
    names = [k.getName() for k in c.free_coordinates()]
    in_opensim, in_mujoco = [], []
    for _ in range(n_poses):
        velocity = {n: rng.uniform(-2.0, 2.0) for n in names} if speeds else {}
        c.pose(c.random_pose(rng), velocity)
        c.model.realizeAcceleration(c.state)
        mujoco.mj_forward(c.mj_model, c.data)
        in_opensim.append([k.getAccelerationValue(c.state) for k in c.free_coordinates()])
        accelerations = c.skeleton.coordinates_from_dofs(c.data.qacc)
        in_mujoco.append([accelerations[n] for n in names])
    return np.array(in_opensim), np.array(in_mujoco)


@pytest.mark.parametrize("speeds", [False, True], ids=["at_rest", "moving"])
def test_arm_accelerations_under_gravity_equal_opensim(speeds):
    """No coupled joint: the mass matrix, gravity and velocity terms are OpenSim's."""
    in_opensim, in_mujoco = gravity_accelerations(build_model("arm"), 5, speeds)
    assert np.abs(in_opensim).max() > 10.0  # rad/s^2: a real test
    np.testing.assert_allclose(in_mujoco, in_opensim, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["human", "gait3d_prosthetic", "gait3d_healthy"])
def test_coupled_models_accelerations_under_gravity(name):
    model, options = MODELS[name]
    # All coordinates free the model falls as one body: every joint's
    # acceleration is 0 but the vertical one, in both engines.
    in_opensim, in_mujoco = gravity_accelerations(build_model(model, **options), 3)
    np.testing.assert_allclose(in_mujoco, in_opensim, atol=1e-9)
    # Pelvis held (locked, so welded in MuJoCo): the legs swing. MuJoCo's
    # equality constraints are soft (regularized); measured ~0.8% of the largest acceleration.
    held = build_model(model, **options)
    pelvis = held.getJointSet().get("ground_pelvis")
    for i in range(pelvis.numCoordinates()):
        pelvis.upd_coordinates(i).setDefaultLocked(True)
    in_opensim, in_mujoco = gravity_accelerations(held, 3)
    scale = np.abs(in_opensim).max()
    assert scale > 10.0
    assert np.abs(in_mujoco - in_opensim).max() < 0.02 * scale


# ---------------------------------------------------------------------------
# A joint of every supported kind, with what our models do not exercise
# ---------------------------------------------------------------------------
def _axis(transform, index: int, axis, coordinate: str | None, function) -> None:
    transform_axis = transform.updTransformAxis(index)
    transform_axis.setAxis(opensim.Vec3(*axis))
    names = opensim.ArrayStr()
    if coordinate is not None:
        names.append(coordinate)
    transform_axis.setCoordinateNames(names)
    transform_axis.set_function(function)


def _polynomial(*highest_first: float) -> opensim.PolynomialFunction:
    return opensim.PolynomialFunction(opensim.Vector(list(highest_first)))


def _scaled(function: opensim.Function, scale: float) -> opensim.MultiplierFunction:
    function.thisown = False  # the MultiplierFunction adopts it
    return opensim.MultiplierFunction(function, scale)


def general_model() -> opensim.Model:
    """Oblique axes, rotated offset frames on both sides, a constant rotation
    between two variable ones, a negative slope with an intercept, coupled
    translations (one scaled by a MultiplierFunction) and a coupled rotation
    (polynomials: fitted exactly), a
    SliderJoint on a frame offset from its body, products of inertia, a marker
    and a contact sphere on offset frames."""
    model = opensim.Model()
    model.setName("general")
    inertia = opensim.Inertia(0.3, 0.2, 0.25, 0.02, -0.01, 0.015)
    bodies = [opensim.Body(name, mass, opensim.Vec3(0.01, -0.1, 0.02), inertia)
              for name, mass in (("a", 2.0), ("b", 1.5), ("c", 1.0))]
    for body in bodies:
        model.addBody(body)
    first = opensim.SpatialTransform()
    _axis(first, 0, (0.3, 0.2, 1.0), "r1", opensim.LinearFunction(1.0, 0.0))
    _axis(first, 1, (0.1, 1.0, 0.3), None, opensim.Constant(0.4))
    _axis(first, 2, (1.0, -0.2, 0.4), "r3", opensim.LinearFunction(-2.0, 0.3))
    _axis(first, 3, (1.0, 0.1, 0.0), "t1", opensim.LinearFunction(1.0, 0.0))
    _axis(first, 4, (0.2, 1.0, 0.0), "r1", _polynomial(0.02, 0.0, -0.05, 0.1))
    _axis(first, 5, (0.0, 0.3, 1.0), None, opensim.Constant(0.05))
    model.addJoint(opensim.CustomJoint(
        "first", model.getGround(), opensim.Vec3(0.1, 0.2, 0.3), opensim.Vec3(0.4, -0.3, 0.2),
        bodies[0], opensim.Vec3(0.05, -0.1, 0.02), opensim.Vec3(-0.2, 0.3, 0.1), first))
    side = opensim.PhysicalOffsetFrame("a_side", bodies[0], opensim.Transform(
        opensim.Rotation(0.5, opensim.Vec3(0.0, 1.0, 0.0)), opensim.Vec3(0.02, -0.3, 0.01)))
    model.addComponent(side)
    model.addJoint(opensim.SliderJoint("slider", side, opensim.Vec3(0.0, -0.05, 0.0),
                                       opensim.Vec3(0.0, 0.0, 0.3), bodies[1],
                                       opensim.Vec3(0.0), opensim.Vec3(0.1, 0.0, 0.0)))
    last = opensim.SpatialTransform()
    _axis(last, 0, (0.0, 0.0, 1.0), "k", opensim.LinearFunction(1.0, 0.0))
    _axis(last, 1, (1.0, 0.0, 0.0), "k", _polynomial(0.3, 0.0, 0.1))
    _axis(last, 2, (0.0, 1.0, 0.0), None, opensim.Constant(0.0))  # OpenSim needs 3 axes
    _axis(last, 3, (1.0, 0.0, 0.0), "k", _scaled(_polynomial(0.1, -0.2, 0.05), 0.5))
    model.addJoint(opensim.CustomJoint(
        "last", bodies[1], opensim.Vec3(0.0, -0.4, 0.0), opensim.Vec3(0.0, 0.2, 0.0),
        bodies[2], opensim.Vec3(0.0, 0.05, 0.0), opensim.Vec3(0.1, 0.0, -0.1), last))
    for joint in model.getJointSet():
        for i in range(joint.numCoordinates()):
            coordinate = joint.upd_coordinates(i)
            coordinate.setRangeMin(-1.0)
            coordinate.setRangeMax(1.2)
    model.addMarker(opensim.Marker("tip", side, opensim.Vec3(0.01, 0.02, 0.03)))
    model.addContactGeometry(opensim.ContactSphere(0.03, opensim.Vec3(0.0, 0.1, 0.0), side, "ball"))
    model.finalizeConnections()
    return model


def test_general_joints_match_opensim_exactly():
    c = convert(general_model())
    assert {(k.opensim_joint, k.axis, k.kind) for k in c.skeleton.couplings} == {
        ("first", "translation2", "slide"), ("last", "rotation2", "hinge"),
        ("last", "translation1", "slide")}
    assert max(k.max_error for k in c.skeleton.couplings) < 1e-14  # polynomials
    assert c.skeleton.coordinates["r3"].scale == 2.0
    rng = np.random.default_rng(SEED)
    bodies = list(c.model.getBodySet())
    marker = c.model.getMarkerSet().get("tip")
    sphere = c.model.getContactGeometrySet().get("ball")
    for _ in range(20):
        c.pose(c.random_pose(rng))
        for body in bodies:
            i = c.body_id(body.getName())
            transform = body.getTransformInGround(c.state)
            np.testing.assert_allclose(c.data.xpos[i], _vec3(transform.p()), atol=1e-12)
            np.testing.assert_allclose(c.data.xmat[i].reshape(3, 3), _rotation(transform), atol=1e-12)
            np.testing.assert_allclose(c.data.xipos[i], _vec3(body.findStationLocationInGround(
                c.state, body.getMassCenter())), atol=1e-12)
        np.testing.assert_allclose(c.data.site_xpos[c.mj_model.site("tip").id],
                                   _vec3(marker.getLocationInGround(c.state)), atol=1e-12)
        np.testing.assert_allclose(c.data.geom_xpos[c.mj_model.geom("ball").id], _vec3(
            sphere.getFrame().findStationLocationInGround(c.state, sphere.get_location())),
            atol=1e-12)
        for name, value in c.skeleton.coordinates_from_qpos(c.data.qpos).items():
            assert value == pytest.approx(c.model.getCoordinateSet().get(name).getValue(c.state),
                                          abs=1e-14)


# ---------------------------------------------------------------------------
# What the converter refuses
# ---------------------------------------------------------------------------
def pendulum(joint=None) -> opensim.Model:
    """One body on ``joint(model, body)`` (a PinJoint by default)."""
    model = opensim.Model()
    model.setName("pendulum")
    body = opensim.Body("bob", 1.0, opensim.Vec3(0.0, -0.5, 0.0), opensim.Inertia(0.1, 0.1, 0.1))
    model.addBody(body)
    if joint is None:
        joint = lambda m, b: opensim.PinJoint(  # noqa: E731
            "hinge", m.getGround(), opensim.Vec3(0.0), opensim.Vec3(0.0), b, opensim.Vec3(0.0),
            opensim.Vec3(0.0))
    model.addJoint(joint(model, body))
    return model


def _ball(m, b):
    return opensim.BallJoint("shoulder", m.getGround(), opensim.Vec3(0.0), opensim.Vec3(0.0),
                             b, opensim.Vec3(0.0), opensim.Vec3(0.0))


def _ellipsoid(m, b):
    return opensim.EllipsoidJoint("scapula", m.getGround(), opensim.Vec3(0.0), opensim.Vec3(0.0),
                                  b, opensim.Vec3(0.0), opensim.Vec3(0.0), opensim.Vec3(0.1, 0.2, 0.3))


def _custom(function):
    def joint(m, b):
        transform = opensim.SpatialTransform()
        _axis(transform, 0, (0.0, 0.0, 1.0), "q", opensim.LinearFunction(1.0, 0.0))
        _axis(transform, 1, (1.0, 0.0, 0.0), None, opensim.Constant(0.0))
        _axis(transform, 2, (0.0, 1.0, 0.0), None, opensim.Constant(0.0))
        _axis(transform, 3, (1.0, 0.0, 0.0), "q", function())
        return opensim.CustomJoint("knee", m.getGround(), opensim.Vec3(0.0), opensim.Vec3(0.0),
                                   b, opensim.Vec3(0.0), opensim.Vec3(0.0), transform)
    return joint


def _steps() -> opensim.PiecewiseConstantFunction:
    steps = opensim.PiecewiseConstantFunction()
    for x, y in ((-1.0, 0.0), (0.0, 0.01), (1.0, 0.02)):
        steps.addPoint(x, y)
    return steps


def _kink() -> opensim.PiecewiseLinearFunction:
    """|q| * 5 cm: no quartic comes within 1 mm of it."""
    kink = opensim.PiecewiseLinearFunction()
    for x, y in ((-4.0, 0.2), (0.0, 0.0), (4.0, 0.2)):
        kink.addPoint(x, y)
    return kink


def _with_constraint(model):
    model.addBody(opensim.Body("other", 1.0, opensim.Vec3(0.0), opensim.Inertia(0.1, 0.1, 0.1)))
    model.addJoint(opensim.PinJoint("other_hinge", model.getGround(), opensim.Vec3(0.0),
                                    opensim.Vec3(0.0), model.getBodySet().get("other"),
                                    opensim.Vec3(0.0), opensim.Vec3(0.0)))
    constraint = opensim.CoordinateCouplerConstraint()
    constraint.setName("follow")
    names = opensim.ArrayStr()
    names.append(model.getJointSet().get("hinge").get_coordinates(0).getName())
    constraint.setIndependentCoordinateNames(names)
    constraint.setDependentCoordinateName(
        model.getJointSet().get("other_hinge").get_coordinates(0).getName())
    constraint.setFunction(opensim.LinearFunction(1.0, 0.0))
    model.addConstraint(constraint)


def _with_ellipsoid(model):
    model.addContactGeometry(opensim.ContactEllipsoid(
        opensim.Vec3(0.1, 0.2, 0.3), opensim.Vec3(0.0), opensim.Vec3(0.0),
        model.getBodySet().get("bob"), "egg"))


def _with_elastic_foundation(model):
    force = opensim.ElasticFoundationForce()
    force.setName("cushion")
    model.addForce(force)


@pytest.mark.parametrize("joint, change, expected", [
    (_ball, None, "joint 'shoulder' is a BallJoint"),
    (_ellipsoid, None, "joint 'scapula' is a EllipsoidJoint"),
    (_custom(_steps), None, "joint 'knee', translation1: transform function PiecewiseConstantFunction"),
    (_custom(lambda: _scaled(_steps(), 2.0)), None,
     "joint 'knee', translation1: transform function PiecewiseConstantFunction"),
    (_custom(_kink), None, "joint 'knee', translation1: a degree-4 polynomial of 'q' misses"),
    (None, _with_constraint, "constraint 'follow' \\(CoordinateCouplerConstraint\\)"),
    (None, _with_ellipsoid, "contact geometry 'egg' \\(ContactEllipsoid\\)"),
    (None, _with_elastic_foundation, "force 'cushion' is a ElasticFoundationForce"),
], ids=["ball", "ellipsoid", "step_function", "scaled_step_function", "unfittable_spline", "constraint",
        "contact_ellipsoid", "elastic_foundation"])
def test_unsupported_elements_raise_naming_element_and_model(joint, change, expected):
    model = pendulum(joint)
    if change is not None:
        change(model)
    model.finalizeConnections()
    with pytest.raises(ValueError, match=f"^model 'pendulum': {expected}"):
        convert_skeleton(model)
