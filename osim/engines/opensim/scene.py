"""What a renderer draws of an OpenSim model, read from the engine.

Each body is a bone from the joint that carries it to the joints it carries (a
body that carries none ends at its farthest marker, or as far past its centre
of mass as the joint is before it), with its centre of mass; each muscle is
the polyline through the points of its current path (conditional, moving and
wrapping points as OpenSim resolves them). Which frames, bodies and muscles to
read is found once per model; a frame then costs one ``realizePosition`` and a
few hundred engine queries (well under a millisecond). Reading never changes
the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import opensim

from osim.engines.base import Bone, Scene

BONE_DENSITY_RADIUS = 0.012  # capsule radius (m) = this * mass(kg)^(1/3), clipped below
BONE_RADIUS_RANGE = (0.008, 0.035)
HEAD_RADIUS = 0.1  # m: a head is a disc of this radius, its centre this far above its joint


def _vec(v) -> np.ndarray:
    return np.array((v.get(0), v.get(1), v.get(2)))


@dataclass
class _BoneFrames:
    body: Any  # opensim.Body
    start: Any  # frame on the body at the joint that carries it
    ends: list  # the carried bodies' frames at the joints this body carries
    mass_center: Any  # opensim.Vec3 in the body frame
    tip: Any  # opensim.Vec3 in the body frame: end of a body that carries nothing
    radius: float  # m
    head: bool = False  # a leaf drawn as a disc around its tip


@dataclass
class ModelGeometry:
    """What to read from a model: found once, read every frame."""

    bones: list[_BoneFrames] = field(default_factory=list)
    paths: list = field(default_factory=list)  # GeometryPath per muscle, model order
    spheres: list = field(default_factory=list)  # (frame, location Vec3, radius)
    markers: list = field(default_factory=list)
    ground_height: float = 0.0
    floating_root: Any = None  # the body the camera follows, None for a fixed base
    fixed_centre: Any = None  # frame at the first moving joint of a fixed-base model

    @classmethod
    def of(cls, model: opensim.Model) -> ModelGeometry:
        geometry = cls()
        ground = model.getGround().getAbsolutePathString()
        joints = list(model.getJointSet())
        carrying: dict[str, Any] = {}  # body path -> joint carrying it
        carried: dict[str, list] = {}  # body path -> joints it carries
        for joint in joints:
            parent, child = joint.getParentFrame(), joint.getChildFrame()
            carrying[child.findBaseFrame().getAbsolutePathString()] = joint
            carried.setdefault(parent.findBaseFrame().getAbsolutePathString(), []).append(joint)
            if (parent.findBaseFrame().getAbsolutePathString() == ground
                    and joint.numCoordinates() > 0 and geometry.floating_root is None):
                geometry.floating_root = opensim.Body.safeDownCast(child.findBaseFrame())
        for body in model.getBodySet():
            path = body.getAbsolutePathString()
            joint = carrying.get(path)
            start = joint.getChildFrame() if joint is not None else body
            # A joint's parent frame may sit away from the joint centre (a knee whose
            # translation is a function of its angle): the carried frame is the centre.
            ends = [j.getChildFrame() for j in carried.get(path, [])]
            local_start = (_vec(start.findTransformInBaseFrame().p()) if joint is not None
                           else np.zeros(3))
            com = _vec(body.getMassCenter())
            head = not ends and "head" in body.getName().lower()
            # markers on the body itself (the ARM's wrist, whose target the task sets)
            markers = [_vec(m.get_location()) for m in model.getMarkerSet()
                       if m.getParentFrame().getAbsolutePathString() == path]
            reach = [np.linalg.norm(m - local_start) for m in markers]
            if head:
                tip = local_start + [0.0, HEAD_RADIUS, 0.0]  # models stand along +y
            elif reach and max(reach) > np.linalg.norm(com - local_start):
                tip = markers[int(np.argmax(reach))]  # a leaf ends at its farthest marker
            elif np.linalg.norm(com - local_start) > 0.01:
                tip = 2.0 * com - local_start  # as far past the centre of mass as the joint
            else:
                tip = local_start
            radius = HEAD_RADIUS if head else float(np.clip(
                BONE_DENSITY_RADIUS * max(body.getMass(), 0.0) ** (1 / 3), *BONE_RADIUS_RANGE))
            geometry.bones.append(_BoneFrames(body, start, ends, body.getMassCenter(),
                                        opensim.Vec3(*tip), radius, head))
        if geometry.floating_root is None:
            moving = [j for j in joints if j.numCoordinates() > 0]
            geometry.fixed_centre = moving[0].getParentFrame() if moving else model.getGround()
        geometry.paths = [muscle.getGeometryPath() for muscle in model.getMuscles()]
        for contact in model.getContactGeometrySet():
            sphere = opensim.ContactSphere.safeDownCast(contact)
            if sphere is not None:
                geometry.spheres.append((sphere.getFrame(), sphere.get_location(),
                                         sphere.getRadius()))
            elif opensim.ContactHalfSpace.safeDownCast(contact) is not None:
                # a half-space's surface passes through its location (normal -x of its frame,
                # turned to +y in the models); ground-fixed in every model here
                geometry.ground_height = float(contact.get_location().get(1))
        geometry.markers = list(model.getMarkerSet())
        return geometry


def read_scene(geometry: ModelGeometry, model: opensim.Model, state: opensim.State,
               activations: np.ndarray) -> Scene:
    """Everything a frame draws, read at Position stage (the state itself is not changed)."""
    model.realizePosition(state)
    bones = []
    for bone in geometry.bones:
        start = _vec(bone.start.getPositionInGround(state))
        ends = [_vec(f.getPositionInGround(state)) for f in bone.ends]
        if not ends:
            ends = [_vec(bone.body.findStationLocationInGround(state, bone.tip))]
        com = _vec(bone.body.findStationLocationInGround(state, bone.mass_center))
        bones.append(Bone(start, ends, com, bone.radius, bone.head))
    muscles = []
    for path in geometry.paths:
        points = []
        current = path.getCurrentPath(state)
        for i in range(current.getSize()):
            point = current.get(i)
            wrap = opensim.PathWrapPoint.safeDownCast(point)
            if wrap is not None:
                # the arc over the wrap surface, stored in the wrapping body's frame
                frame = wrap.getParentFrame()
                arc = wrap.getWrapPath(state)
                points.extend(_vec(frame.findStationLocationInGround(state, arc.get(j)))
                              for j in range(arc.getSize()))
            else:
                points.append(_vec(point.getLocationInGround(state)))
        muscles.append(np.array(points).reshape(-1, 3))
    spheres = [(_vec(frame.findStationLocationInGround(state, location)), radius)
                for frame, location, radius in geometry.spheres]
    markers = [_vec(m.getLocationInGround(state)) for m in geometry.markers]
    root = (_vec(geometry.floating_root.getPositionInGround(state))
            if geometry.floating_root is not None
            else _vec(geometry.fixed_centre.getPositionInGround(state)))
    return Scene(bones, muscles, np.asarray(activations, dtype=float), spheres, markers, root,
                 float(state.getTime()), floating_base=geometry.floating_root is not None,
                 ground_height=geometry.ground_height)
