"""Frames of a simulation as RGB arrays, drawn with Pillow (no display, GPU or OpenGL).

The picture is a stick figure of the `osim.engines.Scene` that the engine
reads at the current state: each body is a capsule from joint to joint with a
dot at its centre of mass; each muscle is a polyline along its current path,
coloured from blue (activation 0) to red (activation 1). The ground, contact
spheres and what the task places in the world (`Task.overlays`: the ARM
target, L2Run obstacles, the L2M2019 target and its velocity field as arrows
on the ground) are drawn too; a target out of the frame is shown by an
arrowhead at the frame's edge pointing at it. Parts far from the camera are drawn
first; seen from the side, the far (left) side is paler. Rendering only reads
the state: the simulated trajectory is the same with or without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from osim.engines import Engine, Scene
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
FIELD = (40, 120, 190)
TEXT = (60, 60, 60)
FAR_FADE = 0.45  # how much parts on the far side blend into the background

MUSCLE_WIDTH = 0.009  # m, at least 2 px in the output
TICK_SPACING = 0.5  # m between ground marks, so that a followed walker visibly moves
# A velocity-field arrow is as long as the distance covered at its speed in this
# time, so that 1 m-spaced arrows of walking speeds (<= 1.8 m/s) do not overlap.
ARROW_TIME = 0.4  # s
# Seen from the side or front, only the arrows this close to the root's plane
# are drawn (the others would pile up along the ground line).
ARROW_SLICE = 0.5  # m
ARROW_BELOW = 0.04  # m: there drawn this far below the ground line


def activation_color(activation: float) -> tuple[int, int, int]:
    """Blue at activation 0, red at 1 (purple between)."""
    a = min(max(float(activation), 0.0), 1.0)
    return (int(40 + 215 * a), 40, int(255 - 215 * a))


def _faded(color: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(c + FAR_FADE * (b - c)) for c, b in zip(color, BACKGROUND))


class SceneRenderer:
    """Draws frames of one simulation.

    Args:
        sim: an `osim.engines.Engine` (read, never written).
        width, height: frame size in pixels.
        camera: ``"side"`` (from the model's right, the default), ``"front"`` or ``"top"``;
            orthographic. The camera follows the pelvis (the root body) horizontally
            when the model moves freely and is fixed on a fixed-base model (ARM).
        supersample: drawing scale before downsampling, for smooth edges (1 = off).
    """

    def __init__(self, sim: Engine, *, width: int = 480, height: int = 480, camera: str = "side",
                 supersample: int = 2):
        check_view(width, height, camera)
        if supersample not in (1, 2, 3, 4):
            raise ValueError(f"supersample must be 1, 2, 3 or 4, got {supersample!r}")
        self.sim = sim
        self.width, self.height, self.camera = int(width), int(height), camera
        self.supersample = supersample
        self._axes = CAMERA_AXES[camera]
        self._font = ImageFont.load_default(size=max(10, self.height // 32))
        self._fit_view(sim.scene(default_pose=True))

    # ------------------------------------------------------------ view
    def _fit_view(self, pose: Scene) -> None:
        """Scale (px per m) and fixed parts of the view, from the default pose."""
        self._floating, self._ground = pose.floating_base, pose.ground_height
        points = np.array([p for bone in pose.bones
                           for p in (bone.start, bone.mass_center, *bone.ends)]
                          + [p for m in pose.muscles for p in m] + list(pose.markers))
        screen = points @ self._axes[:2].T
        aspect = self.width / self.height
        if not self._floating:
            # fixed base: everything within reach of the first moving joint stays in view
            centre = pose.root @ self._axes[:2].T
            reach = 1.1 * float(np.max(np.linalg.norm(screen - centre, axis=1)))
            half_height = max(reach, reach / aspect)
            self._centre = centre
        else:
            ground = self._ground
            tallest = float(points[:, 1].max()) - ground
            if self.camera == "top":
                half_height = 0.5 * tallest
                self._centre = None  # follows the root in both screen directions
            else:
                # ground a tenth of the frame from the bottom, head room above
                half_height = 0.62 * tallest
                self._centre = np.array([np.nan, ground + 0.8 * half_height])
        self._scale = self.height / (2.0 * half_height)

    def _view_centre(self, pose: Scene) -> np.ndarray:
        if not self._floating:
            return self._centre
        root = pose.root @ self._axes[:2].T
        if self._centre is None:
            return root
        return np.array([root[0], self._centre[1]])

    # ------------------------------------------------------------ frame
    def render(self, overlays: dict[str, Any] | None = None) -> np.ndarray:
        """The current state as an (height, width, 3) uint8 array, with a task's
        ``overlays`` (`osim.tasks.Task.overlays`)."""
        return self.draw(self.sim.scene(), overlays or {})

    def draw(self, pose: Scene, overlays: dict[str, Any]) -> np.ndarray:
        """A frame of ``pose`` (`Engine.scene`) with a task's ``overlays``."""
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
        if "velocity_field" in overlays:
            self._draw_velocity_field(draw, project, pose, overlays["velocity_field"], s)
        for x, y, radius in overlays.get("obstacles", ()):
            (cx, cy), r = project(np.array([x, y, 0.0])), radius * px
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=OBSTACLE,
                         outline=GROUND_LINE, width=s)

        # painter's algorithm over (depth, layer, paint)
        items: list[tuple[float, int, Any]] = []
        muscle_width = max(2 * s, round(MUSCLE_WIDTH * px))
        min_radius = 1.5 * s
        for bone in pose.bones:
            start, ends, com, radius = bone.start, bone.ends, bone.mass_center, bone.radius
            if bone.head:
                depth = float(ends[0] @ toward)
                items.append((depth, 0, self._disc(draw, project(ends[0]), radius * px,
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
            if 0 <= cx <= image.width and 0 <= cy <= image.height:
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=TARGET, width=2 * s)
                draw.line((cx - 1.6 * r, cy, cx + 1.6 * r, cy), fill=TARGET, width=s)
                draw.line((cx, cy - 1.6 * r, cx, cy + 1.6 * r), fill=TARGET, width=s)
            else:
                self._edge_pointer(draw, np.array([cx, cy]), image.size, 3 * r)
        if s > 1:
            image = image.reduce(s)
        if self.width >= 128:
            ImageDraw.Draw(image).text((6, 4), f"t = {pose.time:.2f} s", fill=TEXT,
                                       font=self._font)
        return np.asarray(image)

    def _draw_velocity_field(self, draw, project, pose: Scene, field: dict, s: int) -> None:
        """Arrows of ``field`` (``points``, ``vectors``: (n, 3) m and m/s, ground
        frame) on the ground; from the side or front only near the root's plane."""
        points = np.array(field["points"], dtype=float).reshape(-1, 3)
        vectors = np.array(field["vectors"], dtype=float).reshape(-1, 3)
        points[:, 1] = self._ground
        if self.camera != "top":
            near = np.abs((points - pose.root) @ self._axes[2]) <= ARROW_SLICE
            points, vectors = points[near], vectors[near]
            points[:, 1] -= ARROW_BELOW  # on the ground band, clear of the ground line
        starts, ends = project(points), project(points + ARROW_TIME * vectors)
        for start, end in zip(starts, ends):
            self._arrow(draw, start, end, FIELD, s)

    @staticmethod
    def _arrow(draw, start: np.ndarray, end: np.ndarray, color, s: int) -> None:
        length = float(np.linalg.norm(end - start))
        if length < 2 * s:
            return  # too short to show a direction
        along = (end - start) / length
        across = np.array([-along[1], along[0]])
        head = min(0.35 * length, 8.0 * s)
        draw.line((*start, *(end - 0.5 * head * along)), fill=color, width=2 * s)
        base = end - head * along
        draw.polygon([tuple(end), tuple(base + 0.45 * head * across),
                      tuple(base - 0.45 * head * across)], fill=color)

    @staticmethod
    def _edge_pointer(draw, point: np.ndarray, size: tuple[int, int], length: float) -> None:
        """An arrowhead just inside the frame's edge, pointing at ``point`` outside it."""
        centre = np.array(size, dtype=float) / 2
        offset = point - centre
        # shrink the offset onto the frame, a margin inside its edge
        scale = min((centre[k] - length) / abs(offset[k]) for k in (0, 1) if offset[k] != 0)
        tip = centre + scale * offset
        along = offset / np.linalg.norm(offset)
        across = np.array([-along[1], along[0]])
        base = tip - length * along
        draw.polygon([tuple(tip), tuple(base + 0.5 * length * across),
                      tuple(base - 0.5 * length * across)], fill=TARGET)

    # ----------------------------------------------------- primitives
    def _ground_row(self) -> float | None:
        """Pixel row (supersampled) of the ground in side and front views, else None."""
        if not self._floating or self.camera == "top":
            return None
        s = self.supersample
        return self.height * s / 2 - (self._ground - self._centre[1]) \
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
        if not self._floating or self.camera == "front":
            return
        half_width = size[0] / (2 * px) + TICK_SPACING
        first = np.floor((centre[0] - half_width) / TICK_SPACING) * TICK_SPACING
        ground = self._ground
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
