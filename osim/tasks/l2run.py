"""Learning to Run (NIPS 2017): run forward over obstacles with a weakened psoas."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from osim.engines import Engine, ModelSpec
from osim.tasks.base import ObsEntry
from osim.tasks.human import HumanTask

PSOAS = ("iliopsoas_l", "iliopsoas_r")  # observation order: left, right
NO_OBSTACLE = (100.0, 0.0, 0.0)  # observation when no obstacle remains ahead
LIGAMENTS = tuple(f"{joint}Limit_{side}" for joint in ("Hip", "Knee", "Ankle") for side in "rl")


class L2Run(HumanTask):
    """Run as far as possible over obstacles (the NIPS 2017 "Learning to Run" RunEnv).

    Model: the planar HUMAN model built with ``max_obstacles`` obstacle slots
    (its build option ``obstacles``): spheres fixed to the ground that every
    foot meets as it would a cylinder across the path (the model is planar but
    its feet are 0.09 m either side of z = 0, so the OpenSim model has one
    sphere per foot sphere, ``obstacle_<i>_<sphere>``, touching it through
    its own Hunt-Crossley force ``obstacles_<sphere>`` with the foot-ground
    contact parameters). Obstacles not in use are parked at x = -100 m.

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
        ligaments = -ligament_weight * sqrt(sum of the squared generalized
                    forces of the six coordinate-limit forces HipLimit_r/l,
                    KneeLimit_r/l, AnkleLimit_r/l)                         (N m)

    with ``ligament_weight`` 1e-7. Terminated when ``pelvis_ty <
    min_pelvis_height`` (0.65 m); 1000 steps of 0.01 s at most.

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
    SYMMETRIC = False
    parameters = {"min_pelvis_height": 0.65, "ligament_weight": 1e-7}
    reset_options: ClassVar[tuple[str, ...]] = ("difficulty",)

    def __init__(self, difficulty: int = 2, max_obstacles: int = 3,
                 symmetric: bool | None = None, reset_noise_scale: float = 0.0,
                 init_pose: str = "standing", **parameters: float):
        super().__init__(symmetric=symmetric, reset_noise_scale=reset_noise_scale,
                         init_pose=init_pose, **parameters)
        self.difficulty = self._check_difficulty(difficulty)
        if (isinstance(max_obstacles, bool) or not isinstance(max_obstacles, (int, np.integer))
                or max_obstacles < 0):
            raise ValueError(f"max_obstacles must be an int >= 0, got {max_obstacles!r}")
        self.max_obstacles = int(max_obstacles)

    @staticmethod
    def _check_difficulty(difficulty: Any) -> int:
        if difficulty not in (0, 1, 2) or isinstance(difficulty, bool):
            raise ValueError(f"difficulty must be 0, 1 or 2, got {difficulty!r}")
        return int(difficulty)

    # ------------------------------------------------------------ model
    def model_spec(self) -> ModelSpec:
        return ModelSpec(name=self.model, options={"obstacles": self.max_obstacles})

    def bind(self, sim: Engine) -> None:
        super().bind(sim)
        self._psoas = [sim.muscle_names.index(name) for name in PSOAS]

    def _apply(self, sim: Engine, obstacles, psoas) -> None:
        """Place the obstacles and set the psoas strengths in ``sim``'s model
        (the engine rebuilds its system only if something changed)."""
        sim.adjust_model(obstacles=obstacles, muscle_strength=dict(zip(PSOAS, psoas)))

    def psoas_strength(self, sim: Engine) -> np.ndarray:
        """Max isometric force of iliopsoas_l, _r over nominal, read from the model."""
        return sim.muscle_strengths()[self._psoas]

    # ---------------------------------------------------------- episode
    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
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

    def set_episode(self, episode: dict[str, Any], sim: Engine) -> None:
        super().set_episode(episode, sim)
        self._apply(sim, self.episode.get("obstacles", ()), self.episode.get("psoas", (1.0, 1.0)))

    # ------------------------------------------------------ observation
    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        # The HUMAN observation without activations, then L2Run's own entries.
        common = [e for e in super().observation_spec(sim) if e.key != "muscle_activation"]
        return common + [
            ObsEntry("psoas_strength", ("left", "right"), 0.0, np.inf),
            ObsEntry("next_obstacle", ("dx", "y", "radius")),
        ]

    def next_obstacle(self, sim: Engine) -> np.ndarray:
        x = self.pelvis_x(sim)
        for ox, oy, r in self.episode.get("obstacles", ()):
            if ox + r >= x:
                return np.array([ox - x, oy, r])
        return np.array(NO_OBSTACLE)

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        obs = super().observe(sim)
        del obs["muscle_activation"]
        obs["psoas_strength"] = self.psoas_strength(sim)
        obs["next_obstacle"] = self.next_obstacle(sim)
        return obs

    # ----------------------------------------------------------- reward
    def overlays(self) -> dict[str, Any]:
        obstacles = self.episode.get("obstacles")
        return {"obstacles": [tuple(float(v) for v in row[:3]) for row in obstacles]} \
            if obstacles else {}

    def ligament_forces(self, sim: Engine) -> np.ndarray:
        """Generalized forces (N m) of the six coordinate-limit forces, in `LIGAMENTS` order."""
        return sim.coordinate_limit_forces(LIGAMENTS)

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        x = self.pelvis_x(sim)
        forward = x - self.episode["pelvis_x"]
        self.episode["pelvis_x"] = x
        ligaments = -self.ligament_weight * float(np.sqrt(np.sum(self.ligament_forces(sim) ** 2)))
        return {"forward": forward, "ligaments": ligaments}


# HumanTask appends its 54-value observation table to subclass docstrings; L2Run's
# own docstring above is complete.
_COMMON_START = "\n    Actions: 18 muscle excitations in [0, 1], in the order of"
L2Run.__doc__ = L2Run.__doc__.split(_COMMON_START)[0]
