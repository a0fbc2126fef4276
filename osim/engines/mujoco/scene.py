"""What a renderer draws of a model running on the MuJoCo engine.

The layout (which point of which body each bone starts and ends at, its
centre of mass and radius, the muscles' path points) is read once from the
OpenSim model, as `osim.engines.opensim.scene` reads it, and placed every
frame with MuJoCo's body frames. Muscles are drawn straight through their
path points at the default pose's locations: wrapping and the switching of
conditional points are not redrawn (the engine's muscle lengths come from the
fitted paths, not from these lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np
import opensim

from osim.engines.base import Bone, Scene
from osim.engines.opensim.scene import ModelGeometry


def _vec(v) -> np.ndarray:
    return np.array((v.get(0), v.get(1), v.get(2)))


@dataclass
class _Point:
    body: int  # MuJoCo body id
    local: np.ndarray  # in the body frame


@dataclass
class _BoneLayout:
    start: _Point
    ends: list[_Point]
    mass_center: _Point
    radius: float
    head: bool


@dataclass
class SceneLayout:
    bones: list[_BoneLayout] = field(default_factory=list)
    muscles: list[list[_Point]] = field(default_factory=list)
    spheres: list[tuple[int, float]] = field(default_factory=list)  # geom id, radius
    markers: list[int] = field(default_factory=list)  # site ids
    root: _Point | None = None
    floating_base: bool = False
    ground_height: float = 0.0

    @classmethod
    def of(cls, model: opensim.Model, skeleton, mj_model: mujoco.MjModel) -> SceneLayout:
        model = opensim.Model(model)
        state = model.initSystem()
        geometry = ModelGeometry.of(model)

        def point(frame, local=None) -> _Point:
            base = frame.findBaseFrame().getName()
            pose = frame.findTransformInBaseFrame()
            offset = _vec(pose.p())
            if local is not None:
                rotation = np.array([[pose.R().get(i, j) for j in range(3)] for i in range(3)])
                offset = offset + rotation @ local
            body = skeleton.bodies.get(base, "world")
            return _Point(mj_model.body(body).id, offset)

        layout = cls(floating_base=geometry.floating_root is not None,
                     ground_height=geometry.ground_height)
        for bone in geometry.bones:
            body = _Point(mj_model.body(skeleton.bodies[bone.body.getName()]).id, np.zeros(3))
            ends = [point(f) for f in bone.ends] or [_Point(body.body, _vec(bone.tip))]
            layout.bones.append(_BoneLayout(point(bone.start), ends,
                                            _Point(body.body, _vec(bone.mass_center)),
                                            bone.radius, bone.head))
        for path in geometry.paths:
            points = []
            point_set = path.getPathPointSet()
            for i in range(point_set.getSize()):
                p = point_set.get(i)
                points.append(point(p.getParentFrame(), _vec(p.getLocation(state))))
            layout.muscles.append(points)
        layout.spheres = [(mj_model.geom(s.geom).id, s.radius) for s in skeleton.spheres.values()]
        layout.markers = [mj_model.site(site).id for site in skeleton.markers.values()]
        root = geometry.floating_root if geometry.floating_root is not None else geometry.fixed_centre
        layout.root = point(root)
        return layout


def _place(p: _Point, data: mujoco.MjData) -> np.ndarray:
    return data.xpos[p.body] + data.xmat[p.body].reshape(3, 3) @ p.local


def draw(layout: SceneLayout, mj_model: mujoco.MjModel, data: mujoco.MjData,
         activations: np.ndarray) -> Scene:
    """The scene at ``data``'s positions (``mj_kinematics`` or later done)."""
    bones = [Bone(_place(b.start, data), [_place(e, data) for e in b.ends],
                  _place(b.mass_center, data), b.radius, b.head) for b in layout.bones]
    muscles = [np.array([_place(p, data) for p in points]).reshape(-1, 3)
               for points in layout.muscles]
    spheres = [(data.geom_xpos[g].copy(), float(mj_model.geom_size[g, 0]))
               for g, _ in layout.spheres]
    markers = [data.site_xpos[s].copy() for s in layout.markers]
    return Scene(bones, muscles, np.asarray(activations, dtype=float), spheres, markers,
                 _place(layout.root, data), float(data.time),
                 floating_base=layout.floating_base, ground_height=layout.ground_height)
