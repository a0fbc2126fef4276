"""Frames of a simulation as RGB arrays, drawn with Pillow (no display, GPU or OpenGL).

The picture is a stick figure read from the engine at the current state: each
body is a capsule from the joint that carries it to the joints it carries (a
body that carries none ends at its farthest marker, or as far past its centre
of mass as the joint is before it), with a dot at its centre of mass; each muscle is a polyline through the points of its current
path (conditional, moving and wrapping points as OpenSim resolves them),
coloured from blue (activation 0) to red (activation 1). The ground, contact
spheres and what the task places in the world (the ARM target, L2Run
obstacles) are drawn too. Parts far from the camera are drawn first; seen
from the side, the far (left) side is paler.

Which frames, bodies and muscles to read is found once per model; a frame then
costs one ``realizePosition`` and a few hundred engine queries (well under a
millisecond), the rest is drawing. Rendering only reads the state: the
simulated trajectory is the same with or without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import opensim
from PIL import Image, ImageDraw, ImageFont

from osim.render import check_view

# name -> rows (screen right, screen up, towards the viewer) in ground coordinates.
# OpenSim models stand along +y and walk along +x; the right side is +z.
CAMERA_AXES: dict[str, np.ndarray] = {
    "side": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),   # from the right
    "front": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),  # facing the model
    "top": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),   # from above
}

BACKGROUND = (246, 246, 242)
GROUND_FILL = (222, 214, 196)
GROUND_LINE = (120, 110, 95)
BONE = (236, 228, 205)
BONE_EDGE = (95, 90, 80)
COM_DOT = (40, 40, 40)
CONTACT = (90, 110, 90)
TARGET = (0, 160, 60)
OBSTACLE = (150, 105, 60)
TEXT = (60, 60, 60)
FAR_FADE = 0.45  # how much parts on the far side blend into the background

BONE_DENSITY_RADIUS = 0.012  # capsule radius (m) = this * mass(kg)^(1/3), clipped below
BONE_RADIUS_RANGE = (0.008, 0.035)
HEAD_RADIUS = 0.1  # m
MUSCLE_WIDTH = 0.009  # m, at least 2 px in the output
TICK_SPACING = 0.5  # m between ground marks, so that a followed walker visibly moves


def activation_color(activation: float) -> tuple[int, int, int]:
    """Blue at activation 0, red at 1 (purple between)."""
    a = min(max(float(activation), 0.0), 1.0)
    return (int(40 + 215 * a), 40, int(255 - 215 * a))


def _faded(color: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(c + FAR_FADE * (b - c)) for c, b in zip(color, BACKGROUND))


def _vec(v) -> np.ndarray:
    return np.array((v.get(0), v.get(1), v.get(2)))


@dataclass
class _Bone:
    body: Any  # opensim.Body
    start: Any  # frame on the body at the joint that carries it
    ends: list  # the carried bodies' frames at the joints this body carries
    mass_center: Any  # opensim.Vec3 in the body frame
    tip: Any  # opensim.Vec3 in the body frame: end of a body that carries nothing
    radius: float  # m
    head: bool = False  # a leaf drawn as a disc around its tip


@dataclass
class _ModelGeometry:
    """What to read from a model: found once, read every frame."""

    bones: list[_Bone] = field(default_factory=list)
    paths: list = field(default_factory=list)  # GeometryPath per muscle, model order
    spheres: list = field(default_factory=list)  # (frame, location Vec3, radius)
    markers: list = field(default_factory=list)
    ground_height: float = 0.0
    floating_root: Any = None  # the body the camera follows, None for a fixed base
    fixed_centre: Any = None  # frame at the first moving joint of a fixed-base model

    @classmethod
    def of(cls, model: opensim.Model) -> _ModelGeometry:
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
            radius = float(np.clip(BONE_DENSITY_RADIUS * max(body.getMass(), 0.0) ** (1 / 3),
                                   *BONE_RADIUS_RANGE))
            geometry.bones.append(_Bone(body, start, ends, body.getMassCenter(),
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


@dataclass
class Pose:
    """Positions (m, ground frame) read from the engine for one frame."""

    bones: list[tuple[np.ndarray, list[np.ndarray], np.ndarray, float, bool]]
    muscles: list[np.ndarray]  # (n_points, 3) per muscle
    activations: np.ndarray
    spheres: list[tuple[np.ndarray, float]]
    markers: list[np.ndarray]
    root: np.ndarray | None
    time: float


def read_pose(geometry: _ModelGeometry, model: opensim.Model, state: opensim.State,
              activations: np.ndarray) -> Pose:
    """Everything a frame draws, read at Position stage (the state itself is not changed)."""
    model.realizePosition(state)
    bones = []
    for bone in geometry.bones:
        start = _vec(bone.start.getPositionInGround(state))
        ends = [_vec(f.getPositionInGround(state)) for f in bone.ends]
        if not ends:
            ends = [_vec(bone.body.findStationLocationInGround(state, bone.tip))]
        com = _vec(bone.body.findStationLocationInGround(state, bone.mass_center))
        bones.append((start, ends, com, bone.radius, bone.head))
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
    return Pose(bones, muscles, np.asarray(activations, dtype=float), spheres, markers, root,
                float(state.getTime()))


def task_overlays(task: Any) -> dict[str, Any]:
    """What a task places in the world, from its episode memory: the ARM's
    ``target`` (x, y) and L2Run's ``obstacles`` rows (x, y, radius)."""
    episode = getattr(task, "episode", None) or {}
    overlays: dict[str, Any] = {}
    target = episode.get("target")
    if target is not None and np.size(target) in (2, 3):
        overlays["target"] = np.resize(np.asarray(target, dtype=float), 3) * (
            [1.0, 1.0, 0.0] if np.size(target) == 2 else 1.0)
    obstacles = episode.get("obstacles")
    if obstacles is not None and len(obstacles):
        overlays["obstacles"] = [tuple(float(v) for v in row[:3]) for row in obstacles]
    return overlays


class SceneRenderer:
    """Draws frames of one simulation.

    Args:
        sim: an `osim.sim.Simulation` (its ``model`` and ``state`` are read, never written).
        width, height: frame size in pixels.
        camera: ``"side"`` (from the model's right, the default), ``"front"`` or ``"top"``;
            orthographic. The camera follows the pelvis (the root body) horizontally
            when the model moves freely and is fixed on a fixed-base model (ARM).
        supersample: drawing scale before downsampling, for smooth edges (1 = off).
    """

    def __init__(self, sim, *, width: int = 480, height: int = 480, camera: str = "side",
                 supersample: int = 2):
        check_view(width, height, camera)
        if supersample not in (1, 2, 3, 4):
            raise ValueError(f"supersample must be 1, 2, 3 or 4, got {supersample!r}")
        self.sim = sim
        self.width, self.height, self.camera = int(width), int(height), camera
        self.supersample = supersample
        self._axes = CAMERA_AXES[camera]
        self.geometry = _ModelGeometry.of(sim.model)
        self._font = ImageFont.load_default(size=max(10, self.height // 32))
        self._fit_view(self._default_pose())

    # ------------------------------------------------------------ view
    def _default_pose(self) -> Pose:
        """The model's default pose, in a scratch copy of the state."""
        scratch = opensim.State(self.sim.state)
        for coordinate in self.sim.model.getCoordinateSet():
            if not coordinate.getLocked(scratch):
                coordinate.setValue(scratch, coordinate.getDefaultValue(), False)
        return read_pose(self.geometry, self.sim.model, scratch,
                         np.zeros(len(self.geometry.paths)))

    def _fit_view(self, pose: Pose) -> None:
        """Scale (px per m) and fixed parts of the view, from the pose at construction."""
        points = np.array([p for start, ends, com, _, _ in pose.bones for p in (start, com, *ends)]
                          + [p for m in pose.muscles for p in m] + list(pose.markers))
        screen = points @ self._axes[:2].T
        aspect = self.width / self.height
        if self.geometry.floating_root is None:
            # fixed base: everything within reach of the first moving joint stays in view
            centre = pose.root @ self._axes[:2].T
            reach = 1.1 * float(np.max(np.linalg.norm(screen - centre, axis=1)))
            half_height = max(reach, reach / aspect)
            self._centre = centre
        else:
            ground = self.geometry.ground_height
            tallest = float(points[:, 1].max()) - ground
            if self.camera == "top":
                half_height = 0.5 * tallest
                self._centre = None  # follows the root in both screen directions
            else:
                # ground a tenth of the frame from the bottom, head room above
                half_height = 0.62 * tallest
                self._centre = np.array([np.nan, ground + 0.8 * half_height])
        self._scale = self.height / (2.0 * half_height)

    def _view_centre(self, pose: Pose) -> np.ndarray:
        if self.geometry.floating_root is None:
            return self._centre
        root = pose.root @ self._axes[:2].T
        if self._centre is None:
            return root
        return np.array([root[0], self._centre[1]])

    # ------------------------------------------------------------ frame
    def render(self, overlays: dict[str, Any] | None = None) -> np.ndarray:
        """The current state as an (height, width, 3) uint8 array."""
        sim = self.sim
        pose = read_pose(self.geometry, sim.model, sim.state, sim.muscle_activations())
        return self.draw(pose, overlays or {})

    def draw(self, pose: Pose, overlays: dict[str, Any]) -> np.ndarray:
        """A frame of ``pose`` (from `read_pose`) with a task's ``overlays`` (`task_overlays`)."""
        s = self.supersample
        image = self._background().copy()
        draw = ImageDraw.Draw(image)
        px = self._scale * s
        centre = self._view_centre(pose)
        # ground coordinates -> supersampled pixel coordinates, as one affine map
        matrix = self._axes[:2].T * np.array([px, -px])
        shift = np.array([image.width / 2, image.height / 2]) - centre * np.array([px, -px])

        def project(points: np.ndarray) -> np.ndarray:
            return points @ matrix + shift

        toward = self._axes[2]
        # seen from the side, the far (left) side fades into the background
        far_side = float(pose.root @ toward) - 0.02 if self.camera == "side" else -np.inf

        def shade(color, depth: float):
            return color if depth >= far_side else _faded(color)

        self._draw_ground_marks(draw, project, centre, px, image.size)
        for x, y, radius in overlays.get("obstacles", ()):
            (cx, cy), r = project(np.array([x, y, 0.0])), radius * px
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=OBSTACLE,
                         outline=GROUND_LINE, width=s)

        # painter's algorithm over (depth, layer, paint)
        items: list[tuple[float, int, Any]] = []
        muscle_width = max(2 * s, round(MUSCLE_WIDTH * px))
        min_radius = 1.5 * s
        for start, ends, com, radius, head in pose.bones:
            if head:
                depth = float(ends[0] @ toward)
                items.append((depth, 0, self._disc(draw, project(ends[0]), HEAD_RADIUS * px,
                                                   shade(BONE, depth), shade(BONE_EDGE, depth), s)))
                continue
            a = project(start)
            for end in ends:
                b = project(end)
                if abs(a[0] - b[0]) + abs(a[1] - b[1]) < 1.0:
                    continue  # seen end-on
                depth = float((start + end) @ toward) / 2
                items.append((depth, 0, self._capsule(draw, a, b, max(radius * px, min_radius),
                                                      shade(BONE, depth),
                                                      shade(BONE_EDGE, depth), s)))
            depth = float(com @ toward)
            items.append((depth + 0.005, 1, self._dot(draw, project(com), 1.6 * s,
                                                      shade(COM_DOT, depth))))
        for points, activation in zip(pose.muscles, pose.activations):
            if len(points) < 2:
                continue
            depth = float(points.mean(axis=0) @ toward) + 0.01  # over the bone it lies on
            xy = project(points).ravel().tolist()
            color = shade(activation_color(activation), depth)
            items.append((depth, 2, self._polyline(draw, xy, color, muscle_width)))
        for centre_point, radius in pose.spheres:
            depth = float(centre_point @ toward)
            items.append((depth + 0.02, 3, self._circle(draw, project(centre_point),
                                                        radius * px, shade(CONTACT, depth), s)))
        for marker in pose.markers:
            depth = float(marker @ toward)
            items.append((depth + 0.02, 3, self._dot(draw, project(marker), 2.5 * s,
                                                     shade(BONE_EDGE, depth))))
        items.sort(key=lambda item: (item[0], item[1]))
        for _, _, paint in items:
            paint()

        target = overlays.get("target")
        if target is not None:
            cx, cy = project(np.asarray(target, dtype=float))
            r = max(0.03 * px, 5 * s)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=TARGET, width=2 * s)
            draw.line((cx - 1.6 * r, cy, cx + 1.6 * r, cy), fill=TARGET, width=s)
            draw.line((cx, cy - 1.6 * r, cx, cy + 1.6 * r), fill=TARGET, width=s)
        if s > 1:
            image = image.reduce(s)
        if self.width >= 128:
            ImageDraw.Draw(image).text((6, 4), f"t = {pose.time:.2f} s", fill=TEXT,
                                       font=self._font)
        return np.asarray(image)

    # ----------------------------------------------------- primitives
    def _ground_row(self) -> float | None:
        """Pixel row (supersampled) of the ground in side and front views, else None."""
        if self.geometry.floating_root is None or self.camera == "top":
            return None
        s = self.supersample
        return self.height * s / 2 - (self.geometry.ground_height - self._centre[1]) \
            * self._scale * s

    def _background(self) -> Image.Image:
        """Background and ground, which stay put on screen (the camera moves along them)."""
        if getattr(self, "_background_image", None) is None:
            s = self.supersample
            size = (self.width * s, self.height * s)
            image = Image.new("RGB", size, BACKGROUND)
            y = self._ground_row()
            if y is not None:
                draw = ImageDraw.Draw(image)
                draw.rectangle((0, y, size[0], size[1]), fill=GROUND_FILL)
                draw.line((0, y, size[0], y), fill=GROUND_LINE, width=max(2, size[1] // 240))
            self._background_image = image
        return self._background_image

    def _draw_ground_marks(self, draw, project, centre, px, size) -> None:
        """Marks fixed to the ground every `TICK_SPACING` m along x, so motion shows."""
        if self.geometry.floating_root is None or self.camera == "front":
            return
        half_width = size[0] / (2 * px) + TICK_SPACING
        first = np.floor((centre[0] - half_width) / TICK_SPACING) * TICK_SPACING
        ground = self.geometry.ground_height
        y = self._ground_row()
        for k in range(int(2 * half_width / TICK_SPACING) + 2):
            x = project(np.array([first + k * TICK_SPACING, ground, 0.0]))[0]
            if self.camera == "top":
                draw.line((x, 0, x, size[1]), fill=GROUND_FILL, width=max(2, size[1] // 240))
            else:
                draw.line((x, y, x - 0.04 * px, y + 0.06 * px), fill=GROUND_LINE,
                          width=max(1, size[1] // 480))

    @staticmethod
    def _capsule(draw, a, b, radius, fill, edge, s):
        def paint():
            edge_width = max(1, s)
            for color, r in ((edge, radius + edge_width), (fill, radius)):
                draw.line((a[0], a[1], b[0], b[1]), fill=color, width=round(2 * r))
                for x, y in (a, b):
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
        return paint

    @staticmethod
    def _disc(draw, c, radius, fill, edge, s):
        def paint():
            draw.ellipse((c[0] - radius, c[1] - radius, c[0] + radius, c[1] + radius),
                         fill=fill, outline=edge, width=max(1, s))
        return paint

    @staticmethod
    def _dot(draw, c, radius, color):
        def paint():
            draw.ellipse((c[0] - radius, c[1] - radius, c[0] + radius, c[1] + radius), fill=color)
        return paint

    @staticmethod
    def _circle(draw, c, radius, color, s):
        def paint():
            draw.ellipse((c[0] - radius, c[1] - radius, c[0] + radius, c[1] + radius),
                         outline=color, width=max(1, s))
        return paint

    @staticmethod
    def _polyline(draw, xy, color, width):
        def paint():
            draw.line(xy, fill=color, width=width, joint="curve")
        return paint
