"""The target-velocity field of Learn to Move 2019 ("Walk Around").

A field of walking velocities on the ground, pointing at a target (the sink)
and slowing down to 0 there, of which the walker observes an 11 x 11 patch
around its pelvis in its heading frame. It reproduces the original
``envs/target/v_tgt_field.py`` (osim-rl 3.0.11) draw for draw from a legacy
``numpy.random.RandomState`` (the original drew from NumPy's global RNG), so
``TargetVelocityField(version, RandomState(seed))`` gives the original's
fields for ``seed``, seed 0 included (the original ignored seeds 0 and None).

Map axes: x forward (the ground X), y to the LEFT (minus the ground Z).
Between the nodes of the global map (0.5 m apart, +-20 m around its centre)
the field is interpolated bilinearly, and points off the map take the value at
the nearest edge (what the original's ``scipy.interpolate.interp2d(...,
kind="linear")``, removed from SciPy 1.14, did).
"""

from __future__ import annotations

import math

import numpy as np

V_MIN, V_MAX = 0.8, 1.8  # m/s, range of the sink fields' speeds
CONSTANT_VELOCITY = (1.4, 0.0)  # version 0: the same velocity everywhere, map axes
TARGET_RADIUS = 0.3  # m: the walker is "at the target" within this distance of the sink
DWELL_TIME = (2.0, 4.0)  # s: range of the time to stay at a target, drawn per sink
SLOWDOWN_DISTANCE = 1.0  # m: the speed ramps linearly to 0 within this distance of the sink
MAP_HALF_WIDTH = 20.0  # m
MAP_SPACING = 0.5  # m between nodes of the global map (81 x 81 nodes)
LOCAL_OFFSETS = np.arange(-5.0, 6.0)  # m: the observed 11 x 11 patch, 1 m apart

# version -> (sink distance range (m), heading increment range (rad), number of
# targets whose reaching is flagged, None = unlimited). Version 0 has no sink.
SINK_VERSIONS = {
    1: ((5.0, 7.0), (0.0, 0.0), None),  # straight ahead
    2: ((5.0, 7.0), (-math.pi / 2, math.pi / 2), None),  # within +-90 deg (Round 1)
    3: ((5.0, 7.0), (-math.pi, math.pi), 2),  # anywhere, two targets (Round 2)
}
VERSIONS = (0, *SINK_VERSIONS)


def check_version(version) -> int:
    if isinstance(version, bool) or version not in VERSIONS:
        raise ValueError(f"difficulty (field version) must be one of {list(VERSIONS)}, "
                         f"got {version!r}")
    return int(version)


def check_seed(seed) -> int:
    """A seed of ``numpy.random.RandomState``: an int in [0, 2**32)."""
    if (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or not 0 <= seed < 2**32):
        raise ValueError(f"a field seed must be an int in [0, 2**32), got {seed!r}")
    return int(seed)


class TargetVelocityField:
    """One episode's target-velocity field (the original's ``VTgtField``).

    Args:
        version: 0 (constant 1.4 m/s forward), 1 (sinks straight ahead), 2
            (sinks within +-90 deg of the previous heading) or 3 (anywhere; the
            first two targets count): the env's difficulty.
        random: the legacy generator to draw sinks from, e.g.
            ``numpy.random.RandomState(seed)``; it is consumed as the original
            consumed the global RNG: per sink r, heading increment, phase,
            dwell time (a U(0, 0) draw still consumes a number).
        dt: time (s) between calls of `update` (the env's control step).

    The first sink is placed at construction, from the map origin with the
    walker there (as the original's ``reset`` did). The object is plain data
    (numpy arrays and the generator), so an episode holding it pickles.
    """

    def __init__(self, version: int, random: np.random.RandomState, dt: float = 0.01):
        self.version = check_version(version)
        if not isinstance(random, np.random.RandomState):
            raise ValueError(f"random must be a numpy.random.RandomState, got {random!r}")
        self.random = random
        self.dt = float(dt)
        self.time_at_target = 0.0
        self.targets_reached = 0
        self.sinks: list[np.ndarray] = []  # every sink of the episode, the current last
        self.path_heading = 0.0  # rad, cumulative heading of the sink chain
        self._centre_map(np.zeros(2))
        if self.version == 0:
            self.velocities = np.empty((2, *self.node_x.shape + self.node_y.shape))
            self.velocities[0], self.velocities[1] = CONSTANT_VELOCITY
        else:
            self._next_sink(np.zeros(2), previous=np.zeros(2))

    @classmethod
    def from_seed(cls, version: int, seed: int, dt: float = 0.01) -> TargetVelocityField:
        """The original's field for ``seed`` (drawn from a fresh ``RandomState(seed)``)."""
        return cls(version, np.random.RandomState(check_seed(seed)), dt)

    # ------------------------------------------------------------- sinks
    @property
    def sink(self) -> np.ndarray | None:
        """The current sink (x, y) in map axes (m); None for version 0."""
        return self.sinks[-1].copy() if self.sinks else None

    @property
    def dwell_time(self) -> float:
        """Seconds to stay within `TARGET_RADIUS` of the current sink (version >= 1)."""
        return self._dwell_time

    def _centre_map(self, centre: np.ndarray) -> None:
        offsets = np.arange(-MAP_HALF_WIDTH, MAP_HALF_WIDTH + MAP_SPACING / 2, MAP_SPACING)
        self.node_x, self.node_y = offsets + centre[0], offsets + centre[1]

    def _next_sink(self, walker: np.ndarray, previous: np.ndarray) -> None:
        """Draw the next sink from ``previous`` (the last sink, or the origin) and
        build the field around it, the map centred on the ``walker``."""
        (r_low, r_high), (turn_low, turn_high), _ = SINK_VERSIONS[self.version]
        distance = self.random.uniform(r_low, r_high)
        self.path_heading += self.random.uniform(turn_low, turn_high)
        sink = previous + distance * np.array([math.cos(self.path_heading),
                                               math.sin(self.path_heading)])
        self.sinks.append(sink)
        self._centre_map(walker)
        sink_distance = float(np.linalg.norm(sink - walker))
        phase0 = self.random.uniform(-math.pi, math.pi)
        self._dwell_time = self.random.uniform(*DWELL_TIME)
        self.velocities = sink_field(self.node_x, self.node_y, sink, sink_distance, phase0)

    def update(self, pose) -> tuple[np.ndarray, bool]:
        """Advance by ``dt`` with the walker at ``pose`` = (x, y, heading): count
        the time spent at the target and, once it exceeds the dwell time, flag
        the target as reached (and place the next sink while the version has
        more). Returns the local field at ``pose`` and the flag."""
        pose = np.asarray(pose, dtype=np.float64)
        reached = False
        if self.version > 0:
            if np.linalg.norm(self.sinks[-1] - pose[:2]) < TARGET_RADIUS:
                self.time_at_target += self.dt
            else:
                self.time_at_target = 0.0
            limit = SINK_VERSIONS[self.version][2]
            if self.time_at_target > self._dwell_time and (
                    limit is None or self.targets_reached < limit):
                if limit is None or self.targets_reached + 1 < limit:
                    self._next_sink(pose[:2], previous=self.sinks[-1])
                self.targets_reached += 1
                self.time_at_target = 0.0
                reached = True
        return self.local_field(pose), reached

    # ---------------------------------------------------------- readings
    def velocity_at(self, points) -> np.ndarray:
        """Target velocity (m/s, map axes) at ``points`` (..., 2): bilinear
        between nodes, the nearest edge's value off the map."""
        points = np.asarray(points, dtype=np.float64)
        fractions = []
        for nodes, coordinate in ((self.node_x, points[..., 0]), (self.node_y, points[..., 1])):
            position = (np.clip(coordinate, nodes[0], nodes[-1]) - nodes[0]) / MAP_SPACING
            index = np.minimum(np.floor(position).astype(int), len(nodes) - 2)
            fractions.append((index, position - index))
        (i, tx), (j, ty) = fractions
        v = self.velocities
        value = ((1 - tx) * (1 - ty) * v[:, i, j] + tx * (1 - ty) * v[:, i + 1, j]
                 + (1 - tx) * ty * v[:, i, j + 1] + tx * ty * v[:, i + 1, j + 1])
        return np.moveaxis(value, 0, -1)

    def local_points(self, pose) -> np.ndarray:
        """(11, 11, 2) map positions of the local patch around ``pose`` = (x, y,
        heading): [i, j] lies i - 5 m ahead of and j - 5 m left of the walker."""
        x, y, heading = np.asarray(pose, dtype=np.float64)
        forward, left = np.meshgrid(LOCAL_OFFSETS, LOCAL_OFFSETS, indexing="ij")
        c, s = math.cos(heading), math.sin(heading)
        return np.stack([c * forward - s * left + x, s * forward + c * left + y], axis=-1)

    def local_field(self, pose) -> np.ndarray:
        """(2, 11, 11) target velocity around ``pose`` in the walker's heading
        frame: [0] forward, [1] leftward component; [:, i, j] at `local_points`."""
        heading = float(np.asarray(pose, dtype=np.float64)[2])
        v = self.velocity_at(self.local_points(pose))
        c, s = math.cos(heading), math.sin(heading)
        return np.stack([c * v[..., 0] + s * v[..., 1], -s * v[..., 0] + c * v[..., 1]])


def sink_field(node_x: np.ndarray, node_y: np.ndarray, sink: np.ndarray, sink_distance: float,
               phase0: float) -> np.ndarray:
    """(2, nx, ny) velocities towards ``sink`` at the map nodes: V_MAX beyond
    ``sink_distance`` + 1 m, a sine of the distance between V_MIN and V_MAX
    closer (phase ``phase0`` + 2 pi d / ``sink_distance``), and a linear ramp to
    0 within `SLOWDOWN_DISTANCE` of the sink."""
    dx = sink[0] - node_x[:, None]
    dy = sink[1] - node_y[None, :]
    distance = np.sqrt(dx * dx + dy * dy)

    def amplitude(d):
        return (0.5 * (V_MAX - V_MIN) * np.sin(phase0 + d / sink_distance * 2 * math.pi)
                + 0.5 * (V_MAX + V_MIN))

    speed = np.where(distance > sink_distance + SLOWDOWN_DISTANCE, V_MAX,
                     np.where(distance > SLOWDOWN_DISTANCE, amplitude(distance),
                              distance * amplitude(SLOWDOWN_DISTANCE)))
    # A node exactly on the sink gets 0 (the original's 0/0 gave NaN there).
    scale = np.divide(speed, distance, out=np.zeros_like(distance), where=distance > 0)
    return np.stack([scale * dx, scale * dy])
