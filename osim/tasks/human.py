"""What the HUMAN tasks (Stand, Crouch, Jump, Gait) share: the observation, the
symmetric-action option, the initial state and termination by pelvis height.

Each task is a small subclass in its own module that sets its constants and
its ``reward_terms``; the common part of its docstring (observation table,
actions, initial state, options) is appended here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from osim.checks import non_negative_number
from osim.models import human as human_model
from osim.engines import Engine
from osim.tasks.base import ObsEntry, Task

# Muscles in the model's order (right leg, then left) and the 9 leg muscles
# that one symmetric action drives on both sides.
MUSCLE_NAMES: tuple[str, ...] = human_model.MUSCLE_NAMES
LEG_MUSCLES: tuple[str, ...] = tuple(m.name for m in human_model.LEG_MUSCLES)
# excitations = action[SYMMETRIC_INDEX] for a symmetric action of 9 values.
SYMMETRIC_INDEX = np.array([LEG_MUSCLES.index(name.rsplit("_", 1)[0]) for name in MUSCLE_NAMES])

PELVIS = ("pelvis_tilt", "pelvis_tx", "pelvis_ty")
PELVIS_LABELS = ("tilt", "x", "y")
JOINTS = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r",
          "hip_flexion_l", "knee_angle_l", "ankle_angle_l")
JOINT_LABELS = ("hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")
BODIES = ("head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r")

# A mid-stride start for walking controllers: the right leg ahead about to land,
# the left behind in early swing, the pelvis pitched forward and moving at
# 1.7 m/s: the start of the Learn-to-Move 2019 reflex example, with the pelvis
# lowered to this model's legs (right heel 3.5 mm above the ground, as there).
WALKING_START = {
    "coordinates": {"pelvis_tilt": -0.2012303881285583, "pelvis_ty": 0.8824,
                    "hip_flexion_r": 0.6952390849304798, "knee_angle_r": -0.3231075259785814,
                    "ankle_angle_r": -0.1709011708233401, "hip_flexion_l": 0.052823239143419,
                    "knee_angle_l": -0.8041966456860847, "ankle_angle_l": 0.1745329251994329},
    "speeds": {"pelvis_tx": 1.7},
}
INIT_POSES = ("standing", "walking")

COMMON_DOC = """
    Actions: 18 muscle excitations in [0, 1], in the order of
    ``muscle_activation`` below. With ``symmetric=True``, 9 excitations
    (hamstrings, bifemsh, glut_max, iliopsoas, rect_fem, vasti, gastroc,
    soleus, tib_ant): action ``i`` drives both ``<muscle_i>_r`` and
    ``<muscle_i>_l``.

    Observation (flattened in this order; 54 values):

    ================== ===== ===================================================
    key                size  entries
    ================== ===== ===================================================
    pelvis_pos         3     tilt (rad), x, y (m): pelvis_tilt, pelvis_tx,
                             pelvis_ty (y is the pelvis height)
    pelvis_vel         3     their speeds (rad/s, m/s)
    joint_pos          6     hip_r, knee_r, ankle_r, hip_l, knee_l, ankle_l
                             (rad): hip_flexion, knee_angle, ankle_angle
    joint_vel          6     their speeds (rad/s)
    com_pos            2     x, y of the whole-body centre of mass (m)
    com_vel            2     x, y of its velocity (m/s)
    body_pos           14    head_x, head_y, pelvis_x, pelvis_y, torso_x, ...,
                             talus_r_y: body-frame origins of head, pelvis,
                             torso, toes_l, toes_r, talus_l, talus_r (m)
    muscle_activation  18    hamstrings_r, bifemsh_r, glut_max_r, iliopsoas_r,
                             rect_fem_r, vasti_r, gastroc_r, soleus_r,
                             tib_ant_r, then the same ``_l`` (in [0, 1])
    ================== ===== ===================================================

    Positions are in the ground frame (x forward, y up). Every entry except
    the activations is unbounded (the joint limits are soft forces).

    Initial state: the model's default standing pose (pelvis_tilt -0.05 rad,
    pelvis_ty 0.91 m, all joint angles 0, lumbar_extension locked at
    -0.139626 rad), zero speeds, muscles in equilibrium at zero excitation.
    ``init_pose="walking"`` starts mid-stride instead (`WALKING_START`: right
    leg ahead, left leg in early swing, pelvis pitched 11.5 deg forward and
    moving forward at 1.7 m/s), for walking controllers. With
    ``reset_noise_scale=s > 0``, ``U(-s, s)`` drawn from the env's seeded RNG
    is added to each of the 9 unlocked coordinates (rad or m).

    Termination: ``pelvis_ty < min_pelvis_height``; truncation after
    ``max_episode_steps`` steps of ``step_size`` s.

    Options: the reward and termination ``parameters`` named above (defaults:
    the original values), ``symmetric`` (bool; None takes the task's default) and
    ``reset_noise_scale`` (float >= 0, default 0), ``init_pose`` (``"standing"``,
    the default, or ``"walking"``).
    """


@dataclass(frozen=True)
class _Layout:
    """Indices into the simulation's arrays, found by name once per simulation."""

    pelvis: np.ndarray  # into coordinate_values()/coordinate_speeds()
    joints: np.ndarray
    bodies: np.ndarray  # into body_positions()
    default_pose: dict[str, float]  # default value of every unlocked coordinate


class HumanTask(Task):
    """Base of the tasks on the planar HUMAN model (9 DOF, 18 muscles).

    Subclasses set ``parameters`` (with ``min_pelvis_height``), ``SYMMETRIC``
    (the default of the ``symmetric`` option) and ``reward_terms``.
    """

    model = "human"
    max_episode_steps = 500
    step_size = 0.01

    SYMMETRIC: ClassVar[bool] = False
    min_pelvis_height: float  # a parameter of every subclass

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if cls.__doc__:
            cls.__doc__ = cls.__doc__.rstrip() + "\n" + COMMON_DOC

    def __init__(self, symmetric: bool | None = None, reset_noise_scale: float = 0.0,
                 init_pose: str = "standing", **parameters: float):
        super().__init__(**parameters)
        if symmetric is not None and not isinstance(symmetric, (bool, np.bool_)):
            raise TypeError(f"symmetric must be a bool or None, got {symmetric!r}")
        self.symmetric = self.SYMMETRIC if symmetric is None else bool(symmetric)
        self.reset_noise_scale = non_negative_number("reset_noise_scale", reset_noise_scale)
        if init_pose not in INIT_POSES:
            raise ValueError(f"init_pose must be one of {INIT_POSES}, got {init_pose!r}")
        self.init_pose = init_pose
        self.layout: _Layout | None = None  # set by bind()

    # ----------------------------------------------------------- layout
    def bind(self, sim: Engine) -> None:
        if tuple(sim.muscle_names) != MUSCLE_NAMES:
            raise ValueError(f"{type(self).__name__} needs the HUMAN model's muscles "
                             f"{MUSCLE_NAMES}, got {tuple(sim.muscle_names)}")
        coordinate = {name: i for i, name in enumerate(sim.coordinate_names)}
        body = {name: i for i, name in enumerate(sim.body_names)}
        default_pose = sim.default_coordinates()
        self.layout = _Layout(
            pelvis=np.array([coordinate[n] for n in PELVIS]),
            joints=np.array([coordinate[n] for n in JOINTS]),
            bodies=np.array([body[n] for n in BODIES]),
            default_pose=default_pose,
        )

    def pelvis_height(self, sim: Engine) -> float:
        return float(sim.coordinate_values()[self.layout.pelvis[2]])

    def pelvis_x(self, sim: Engine) -> float:
        return float(sim.coordinate_values()[self.layout.pelvis[1]])

    # ---------------------------------------------------------- actions
    def action_size(self, sim: Engine) -> int:
        return len(LEG_MUSCLES) if self.symmetric else len(MUSCLE_NAMES)

    def action_labels(self, sim: Engine) -> list[str]:
        return list(LEG_MUSCLES if self.symmetric else MUSCLE_NAMES)

    def excitations(self, action: np.ndarray) -> np.ndarray:
        return action[SYMMETRIC_INDEX] if self.symmetric else action

    # ---------------------------------------------------------- episode
    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        self.episode = {}
        pose, speeds = None, None
        if self.init_pose == "walking":
            pose = {**self.layout.default_pose, **WALKING_START["coordinates"]}
            speeds = WALKING_START["speeds"]
        if self.reset_noise_scale > 0.0:
            start = pose or self.layout.default_pose
            noise = rng.uniform(-self.reset_noise_scale, self.reset_noise_scale, len(start))
            pose = {name: value + n for (name, value), n in zip(start.items(), noise)}
        sim.reset(coordinates=pose, speeds=speeds)

    def terminated(self, sim: Engine) -> bool:
        return self.pelvis_height(sim) < self.min_pelvis_height

    # ------------------------------------------------------ observation
    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        return [
            ObsEntry("pelvis_pos", PELVIS_LABELS),
            ObsEntry("pelvis_vel", PELVIS_LABELS),
            ObsEntry("joint_pos", JOINT_LABELS),
            ObsEntry("joint_vel", JOINT_LABELS),
            ObsEntry("com_pos", ("x", "y")),
            ObsEntry("com_vel", ("x", "y")),
            ObsEntry("body_pos", tuple(f"{b}_{axis}" for b in BODIES for axis in "xy")),
            ObsEntry("muscle_activation", MUSCLE_NAMES, 0.0, 1.0),
        ]

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        layout = self.layout
        q, u = sim.coordinate_values(), sim.coordinate_speeds()
        return {
            "pelvis_pos": q[layout.pelvis],
            "pelvis_vel": u[layout.pelvis],
            "joint_pos": q[layout.joints],
            "joint_vel": u[layout.joints],
            "com_pos": sim.center_of_mass_position()[:2],
            "com_vel": sim.center_of_mass_velocity()[:2],
            "body_pos": sim.body_positions()[layout.bodies, :2].reshape(-1),
            "muscle_activation": np.clip(sim.muscle_activations(), 0.0, 1.0),
        }


HumanTask.__doc__ = HumanTask.__doc__.rstrip() + "\n" + COMMON_DOC
