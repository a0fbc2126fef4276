"""Learning to Run (NIPS 2017): run forward over obstacles with a weakened psoas."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import opensim

from osim.models import human as human_model
from osim.models.builder import add_hunt_crossley_force
from osim.sim import Simulation
from osim.tasks.base import ObsEntry
from osim.tasks.human import HumanTask

FOOT_SPHERES = ("r_heel", "r_toe", "l_heel", "l_toe")
PSOAS = ("iliopsoas_l", "iliopsoas_r")  # observation order: left, right
PARKED = (-100.0, 0.0, 0.05)  # x, y, radius of an obstacle not in use
NO_OBSTACLE = (100.0, 0.0, 0.0)  # observation when no obstacle remains ahead
LIGAMENT_WEIGHT = 1e-7
LIGAMENTS = tuple(f"{joint}Limit_{side}" for joint in ("Hip", "Knee", "Ankle") for side in "rl")


def obstacle_name(i: int, sphere: str) -> str:
    """The copy of obstacle ``i`` that foot sphere ``sphere`` touches."""
    return f"obstacle_{i}_{sphere}"


def obstacle_force_name(sphere: str) -> str:
    return f"obstacles_{sphere}"


class L2Run(HumanTask):
    """Run as far as possible over obstacles (the NIPS 2017 "Learning to Run" RunEnv).

    Model: the planar HUMAN model plus ``max_obstacles`` spheres fixed to the
    ground. The model is planar but its feet are 0.09 m either side of the
    plane z = 0, so each obstacle is one ``ContactSphere`` per foot sphere
    (``obstacle_<i>_<sphere>`` for r_heel, r_toe, l_heel, l_toe), centred in
    that foot sphere's plane: every foot meets the obstacle as a cylinder
    across the path would meet it. Each foot sphere touches its copies through
    its own Hunt-Crossley force ``obstacles_<sphere>`` (the foot-ground contact
    parameters). Obstacles not in use are parked at x = -100 m.

    Actions: 18 muscle excitations in [0, 1] (hamstrings_r, bifemsh_r,
    glut_max_r, iliopsoas_r, rect_fem_r, vasti_r, gastroc_r, soleus_r,
    tib_ant_r, then the same ``_l``).

    Observation (flattened in this order; 41 values):

    ===== ============== =====================================================
    index key            entry
    ===== ============== =====================================================
    0-2   pelvis_pos     tilt (rad), x, y (m): pelvis_tilt, pelvis_tx, pelvis_ty
    3-5   pelvis_vel     their speeds (rad/s, m/s)
    6-11  joint_pos      hip_r, knee_r, ankle_r, hip_l, knee_l, ankle_l (rad)
    12-17 joint_vel      their speeds (rad/s)
    18-19 com_pos        x, y of the whole-body centre of mass (m)
    20-21 com_vel        its vx, vy (m/s)
    22-35 body_pos       x, y of head, pelvis, torso, toes_l, toes_r, talus_l,
                         talus_r (body-frame origins in ground, m)
    36-37 psoas_strength left, right: max isometric force of iliopsoas_l,
                         iliopsoas_r over its nominal value (1.0 = nominal)
    38-40 next_obstacle  dx (m, obstacle centre x minus pelvis x), y (m, of
                         its centre), radius (m) of the first obstacle whose
                         far edge (x + radius) is not behind the pelvis;
                         [100, 0, 0] when none remains
    ===== ============== =====================================================

    Reward per step, named terms::

        forward   = pelvis_tx(t) - pelvis_tx(t - 0.01 s)                  (m)
        ligaments = -1e-7 * sqrt(sum of the squared generalized forces of the
                    six CoordinateLimitForces HipLimit_r/l, KneeLimit_r/l,
                    AnkleLimit_r/l)                                        (N m)

    Terminated when ``pelvis_ty < 0.65`` m; 1000 steps of 0.01 s at most.

    Reset option ``difficulty`` (classic ``reset(difficulty=2)``; default the
    constructor's ``difficulty=2``), drawn from the env's seeded RNG:

    * 0: no obstacles, psoas nominal;
    * 1: ``max_obstacles`` (constructor option, default 3) obstacles, centre
      x ~ U(1, 5) m ahead of the pelvis's start (obstacles 4-6 in U(5, 9),
      and so on: three per further 4 m), radius r = 0.05 + Exp(scale
      0.05), centre y = U(-0.25, 0.25) * r; psoas nominal;
    * 2: as 1, and each psoas's max isometric force is scaled by
      max(0.5, 1 - N(0, 0.1)), left and right drawn separately.

    Obstacles and psoas strengths are episode memory (``episode["obstacles"]``,
    ``episode["psoas"]``), applied to the model (one ``initSystem``, ~15 ms)
    when they change at reset or when a snapshot or pickle is restored.
    Constructor options ``symmetric`` and ``reset_noise_scale`` are those of the
    other HUMAN tasks.
    """

    classic_name = "L2RunEnv"
    max_episode_steps = 1000
    MIN_PELVIS_HEIGHT = 0.65
    SYMMETRIC = False
    reset_options: ClassVar[tuple[str, ...]] = ("difficulty",)

    def __init__(self, difficulty: int = 2, max_obstacles: int = 3,
                 symmetric: bool | None = None, reset_noise_scale: float = 0.0):
        super().__init__(symmetric=symmetric, reset_noise_scale=reset_noise_scale)
        self.difficulty = self._check_difficulty(difficulty)
        if (isinstance(max_obstacles, bool) or not isinstance(max_obstacles, (int, np.integer))
                or max_obstacles < 0):
            raise ValueError(f"max_obstacles must be an int >= 0, got {max_obstacles!r}")
        self.max_obstacles = int(max_obstacles)
        # (obstacles, psoas) last written into the model; set by bind()
        self._applied: tuple | None = None

    @staticmethod
    def _check_difficulty(difficulty: Any) -> int:
        if difficulty not in (0, 1, 2) or isinstance(difficulty, bool):
            raise ValueError(f"difficulty must be 0, 1 or 2, got {difficulty!r}")
        return int(difficulty)

    # ------------------------------------------------------------ model
    def build_model(self, muscle_model: str = "thelen2003") -> opensim.Model:
        from osim.models import build_model

        model = build_model(self.model, muscle_model=muscle_model)
        c = human_model.FOOT_CONTACT
        x, y, r = PARKED
        if self.max_obstacles:
            for sphere in FOOT_SPHERES:
                names = [obstacle_name(i, sphere) for i in range(self.max_obstacles)]
                for name in names:
                    model.addContactGeometry(opensim.ContactSphere(
                        r, opensim.Vec3(x, y, 0.0), model.getGround(), name))
                add_hunt_crossley_force(model, obstacle_force_name(sphere), [sphere, *names], c)
        model.finalizeConnections()
        return model

    def bind(self, sim: Simulation) -> None:
        super().bind(sim)
        self._applied = ((), (1.0, 1.0))  # a freshly built model: no obstacle, nominal psoas
        self._nominal_psoas = tuple(
            sim.model.getMuscles().get(name).getMaxIsometricForce() for name in PSOAS)
        # Planar model: each foot sphere's z in ground is the same in every pose.
        sim.model.realizePosition(sim.state)
        geometry = sim.model.getContactGeometrySet()
        self._foot_z = {}
        for foot in FOOT_SPHERES:
            g = geometry.get(foot)
            self._foot_z[foot] = float(
                g.getFrame().findStationLocationInGround(sim.state, g.get_location()).get(2))

    def _apply(self, sim: Simulation, obstacles, psoas) -> None:
        """Write obstacles and psoas strengths into ``sim``'s model if they changed."""
        config = (tuple(tuple(float(v) for v in o) for o in obstacles),
                  tuple(float(s) for s in psoas))
        if self._applied == config:
            return
        geometry = sim.model.getContactGeometrySet()
        for i in range(self.max_obstacles):
            x, y, r = config[0][i] if i < len(config[0]) else PARKED
            for foot, z in self._foot_z.items():
                sphere = opensim.ContactSphere.safeDownCast(geometry.get(obstacle_name(i, foot)))
                sphere.set_location(opensim.Vec3(x, y, z))
                sphere.setRadius(r)
        muscles = sim.model.updMuscles()
        for name, nominal, scale in zip(PSOAS, self._nominal_psoas, config[1]):
            muscles.get(name).setMaxIsometricForce(nominal * scale)
        sim.reinitialize()
        self._applied = config

    def psoas_strength(self, sim: Simulation) -> np.ndarray:
        """Max isometric force of iliopsoas_l, _r over nominal, read from the model."""
        muscles = sim.model.getMuscles()
        return np.array([muscles.get(n).getMaxIsometricForce() / f
                         for n, f in zip(PSOAS, self._nominal_psoas)])

    # ---------------------------------------------------------- episode
    def reset(self, sim: Simulation, rng: np.random.Generator, **options: Any) -> None:
        difficulty = self._check_difficulty(options.pop("difficulty", self.difficulty))
        obstacles: list[list[float]] = []
        psoas = [1.0, 1.0]
        # Draws come before the model is placed, so they do not depend on the pose
        # noise; the pelvis start x is read after.
        if difficulty >= 1:
            for i in range(self.max_obstacles):
                # three per 4 m: the first three as in 2017, more go further ahead
                x = rng.uniform(1.0, 5.0) + 4.0 * (i // 3)
                r = 0.05 + rng.exponential(0.05)
                y = rng.uniform(-0.25, 0.25) * r
                obstacles.append([x, y, r])
        if difficulty >= 2:
            psoas = [max(0.5, 1.0 - rng.normal(0.0, 0.1)) for _ in PSOAS]
        ahead = sorted(obstacles)
        # Strength before the muscles' equilibrium at reset; obstacles placed from
        # the default pelvis x, and placed again only if pose noise moved it.
        x0 = self.layout.default_pose.get("pelvis_tx", 0.0)
        self._apply(sim, [[x0 + x, y, r] for x, y, r in ahead], psoas)
        super().reset(sim, rng, **options)
        x0 = self.pelvis_x(sim)
        obstacles = [[x0 + x, y, r] for x, y, r in ahead]
        self._apply(sim, obstacles, psoas)  # keeps the state just set
        self.episode.update(difficulty=difficulty, obstacles=obstacles, psoas=psoas, pelvis_x=x0)

    def set_episode(self, episode: dict[str, Any], sim: Simulation) -> None:
        super().set_episode(episode, sim)
        self._apply(sim, self.episode.get("obstacles", ()), self.episode.get("psoas", (1.0, 1.0)))

    # ------------------------------------------------------ observation
    def observation_spec(self, sim: Simulation) -> list[ObsEntry]:
        # The HUMAN observation without activations, then L2Run's own entries.
        common = [e for e in super().observation_spec(sim) if e.key != "muscle_activation"]
        return common + [
            ObsEntry("psoas_strength", ("left", "right"), 0.0, np.inf),
            ObsEntry("next_obstacle", ("dx", "y", "radius")),
        ]

    def next_obstacle(self, sim: Simulation) -> np.ndarray:
        x = self.pelvis_x(sim)
        for ox, oy, r in self.episode.get("obstacles", ()):
            if ox + r >= x:
                return np.array([ox - x, oy, r])
        return np.array(NO_OBSTACLE)

    def observe(self, sim: Simulation) -> dict[str, np.ndarray]:
        obs = super().observe(sim)
        del obs["muscle_activation"]
        obs["psoas_strength"] = self.psoas_strength(sim)
        obs["next_obstacle"] = self.next_obstacle(sim)
        return obs

    # ----------------------------------------------------------- reward
    def ligament_forces(self, sim: Simulation) -> np.ndarray:
        """Generalized forces (N m) of the six coordinate-limit forces, in `LIGAMENTS` order."""
        return sim.coordinate_limit_forces(LIGAMENTS)

    def reward_terms(self, sim: Simulation) -> dict[str, float]:
        x = self.pelvis_x(sim)
        forward = x - self.episode["pelvis_x"]
        self.episode["pelvis_x"] = x
        ligaments = -LIGAMENT_WEIGHT * float(np.sqrt(np.sum(self.ligament_forces(sim) ** 2)))
        return {"forward": forward, "ligaments": ligaments}


# HumanTask appends its 54-value observation table to subclass docstrings; L2Run's
# own docstring above is complete.
_COMMON_START = "\n    Actions: 18 muscle excitations in [0, 1], in the order of"
L2Run.__doc__ = L2Run.__doc__.split(_COMMON_START)[0]
