"""AI for Prosthetics (NIPS 2018): walk with a transtibial prosthesis, at 3 m/s
(difficulty 0) or following a changing target velocity (difficulty 1)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from osim.engines import Engine, ModelSpec
from osim.tasks.base import ObsEntry, Task

# Bodies observed relative to the pelvis; a body the model lacks is all zeros
# (toes_r, talus_r on the prosthetic model; pros_foot_r on the healthy one).
BODIES = ("head", "torso", "toes_l", "toes_r", "talus_l", "talus_r", "pros_foot_r")
BODY_LABELS = ("x", "y", "z", "vx", "vy", "vz")
# The non-pelvis coordinates of both 3D gait models.
JOINTS = ("hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "knee_angle_r", "ankle_angle_r",
          "hip_flexion_l", "hip_adduction_l", "hip_rotation_l", "knee_angle_l", "ankle_angle_l",
          "lumbar_extension")
# The 22 muscles of the healthy model, sorted by name; the prosthetic model lacks
# gastroc_r, soleus_r and tib_ant_r (zeros in the observation).
MUSCLES = tuple(sorted(f"{m}_{side}" for side in "lr" for m in (
    "abd", "add", "hamstrings", "bifemsh", "glut_max", "iliopsoas", "rect_fem", "vasti",
    "gastroc", "soleus", "tib_ant")))
PELVIS_LABELS = ("height", "pitch", "roll", "vx", "vy", "vz", "pitch_rate", "roll_rate", "yaw_rate")

# Target velocity process (difficulty 1), as the 2018 ``generate_new_targets``.
TARGET_SPEED0 = 1.25  # m/s, heading 0 (along +x)
POISSON_LAMBDA = 300  # mean number of steps between changes
NUM_CHANGES = 10
SPEED_CHANGE = 0.5  # speed += U(-0.5, 0.5) m/s
HEADING_CHANGE = math.pi / 8  # heading += U(-pi/8, pi/8) rad

# The 2018 challenge's flat observation (``obs_layout="2018"``): per body a
# 9-vector of 2D position, velocity and acceleration and the z rotation, its
# rate and acceleration; the pelvis without its x. Joints in name order, each
# with its coordinates' values, speeds and accelerations.
OBS_LAYOUTS = ("default", "2018")
BODIES_2018 = ("pelvis", "head", "torso", "toes_l", "toes_r", "talus_l", "talus_r")
BODY_LABELS_2018 = ("x", "y", "vx", "vy", "ax", "ay", "rz", "vrz", "arz")
JOINTS_2018 = ("ankle_l", "ankle_r", "back", "hip_l", "hip_r", "knee_l", "knee_r")
MUSCLE_LABELS_2018 = ("activation", "fiber_length", "fiber_velocity")
MASS_CENTER_LABELS_2018 = ("x", "y", "vx", "vy", "vz", "ax", "ay", "az")


def target_velocity(speed: float, heading: float) -> np.ndarray:
    """Ground-frame target (vx, vy, vz) for a speed and heading (0 = +x; positive
    turns towards -z, i.e. to the left of a walker facing +x)."""
    return np.array([speed * math.cos(heading), 0.0, -speed * math.sin(heading)])


class Prosthetics(Task):
    """Walk with the 3D gait model (14 DOF) fitted with a right transtibial
    prosthesis (the NIPS 2018 "AI for Prosthetics" ProstheticsEnv).

    Model: ``gait3d`` with ``prosthetic=True`` (19 muscles; bodies pros_tibia_r
    and pros_foot_r replace tibia_r, talus_r, calcn_r, toes_r) or, with
    ``prosthetic=False``, the healthy model (22 muscles). ``model="3D"`` is the
    only model accepted (as in the original).

    Actions: one excitation in [0, 1] per muscle of the model, in model order
    (19 prosthetic, 22 healthy; see ``env.action_labels``).

    Observation (flattened in this order; 148 values for BOTH models; indices
    in the flat vector):

    ======= ================= ===================================================
    index   key               entries
    ======= ================= ===================================================
    0-8     pelvis            height (m, pelvis origin y), pitch (rad,
                              pelvis_tilt), roll (rad, pelvis_list), vx, vy, vz
                              (m/s, pelvis origin in ground), pitch_rate,
                              roll_rate, yaw_rate (rad/s, speeds of
                              pelvis_tilt, pelvis_list, pelvis_rotation)
    9-14    head              x, y, z (m): the body origin minus the pelvis
    15-20   torso             origin; vx, vy, vz (m/s): its velocity minus the
    21-26   toes_l            pelvis's (ground frame). A body the model lacks
    27-32   toes_r            is all zeros: toes_r and talus_r on the
    33-38   talus_l           prosthetic model, pros_foot_r (the prosthetic
    39-44   talus_r           foot) on the healthy model
    45-50   pros_foot_r
    51-61   joint_pos         hip_flexion_r, hip_adduction_r, hip_rotation_r,
                              knee_angle_r, ankle_angle_r, the same ``_l``,
                              lumbar_extension (rad; ankle_angle_r is the
                              prosthetic ankle on the prosthetic model)
    62-72   joint_vel         their speeds (rad/s)
    73-94   muscle_activation the 22 muscle names sorted: abd_l, abd_r, add_l,
                              add_r, bifemsh_l, ..., vasti_l, vasti_r (in [0,
                              1]); gastroc_r, soleus_r, tib_ant_r are 0 on the
                              prosthetic model
    95-116  fiber_length      same order (m), 0 for a missing muscle
    117-138 fiber_velocity    same order (m/s), 0 for a missing muscle
    139-141 com_pos           whole-body centre of mass minus the pelvis origin (m)
    142-144 com_vel           centre-of-mass velocity (m/s, ground frame)
    145-147 target_vel        target (vx, vy, vz) (m/s): (3, 0, 0) at
                              difficulty 0; the current target at difficulty 1
                              (vy = 0)
    ======= ================= ===================================================

    ``obs_layout="2018"`` gives instead the 2018 challenge's own flat vector
    (160 values with the prosthesis, 169 healthy), built from the state
    dictionary as the 2018 ``get_observation()`` was: entries ``pelvis`` (8:
    y, vx, vy, ax, ay, rz, vrz, arz) and ``head``, ``torso``, ``toes_l``,
    ``toes_r``, ``talus_l``, ``talus_r`` (9 each: x, y, vx, vy, ax, ay, rz,
    vrz, arz; x, y and rz relative to the pelvis, the rest absolute; zeros for
    toes_r and talus_r on the prosthetic model); the joints ``ankle_l``,
    ``ankle_r``, ``back``, ``hip_l``, ``hip_r``, ``knee_l``, ``knee_r`` (their
    coordinates' values, then speeds, then accelerations); each of the model's
    muscles in name order (activation, fiber length, fiber velocity);
    ``mass_center`` (x, y relative to the pelvis, velocity and acceleration,
    3 each). Where the two differ: the default layout is 3D (z positions and
    velocities, pelvis roll), has no accelerations (which need one more
    engine stage per step), observes the prosthetic foot, groups activations,
    lengths and velocities per quantity, and keeps the same 148 slots for both
    models, so a policy's input size does not change with ``prosthetic``; the
    2018 layout is planar apart from the centre of mass and sized by the model.

    ``project=False`` (classic API) gives instead the full state dictionary
    (``sim.state_dict()``, the original ``get_state_desc()`` layout, plus
    ``"target_vel"`` at difficulty 1, as the original).

    Reward per step, named terms; ``vx``, ``vz`` are the pelvis origin's
    ground velocity (the original ``body_vel["pelvis"]``):

    * difficulty 0: ``alive = 9``, ``velocity = -(vx - target_speed)^2``
      (``target_speed`` 3 m/s);
    * difficulty 1: ``alive = 10``, ``velocity_x = -(vx - tvx)^2``,
      ``velocity_z = -(vz - tvz)^2``, ``activation = -activation_weight *
      sum(a_i^2)`` (``activation_weight`` 0.001) over the model's muscles,
      where ``(tvx, 0, tvz) = target_vel`` after the step.

    Target velocity (difficulty 1), drawn at reset from the env's seeded RNG
    and kept in ``episode["target_changes"]`` as rows ``[step, speed,
    heading]``: speed 1.25 m/s, heading 0 at step 0; it changes at the
    cumulative sums of 10 draws of Poisson(300) steps, each time speed +=
    U(-0.5, 0.5) m/s and heading += U(-pi/8, pi/8) rad; ``target_vel =
    speed * (cos heading, 0, -sin heading)`` holds from the change's step on
    (a positive heading turns left, towards -z; the 2018 code used +sin, the
    same distribution since the heading changes are symmetric).

    Terminated when the pelvis origin's height < ``min_pelvis_height``
    (0.6 m). Truncated after
    ``max_episode_steps`` steps of 0.01 s: 300 at difficulty 0, 1000 at
    difficulty 1 (an instance attribute). The Gymnasium id
    ``osim/Prosthetics-v0`` is registered with 300; with difficulty 1 use
    ``gymnasium.make("osim/Prosthetics-v0", difficulty=1, max_episode_steps=1000)``.

    Initial state: the model's default standing pose (pelvis height 0.94 m),
    zero speeds, muscles in equilibrium at zero excitation.

    Options: ``difficulty`` (0 or 1, default 0), ``prosthetic`` (default
    True), ``model`` (only ``"3D"``), ``obs_layout`` (``"default"`` or
    ``"2018"``) and the parameters ``min_pelvis_height``, ``target_speed``,
    ``activation_weight``.
    """

    model = "gait3d"
    classic_name = "ProstheticsEnv"
    parameters = {
        "min_pelvis_height": 0.6,
        "target_speed": 3.0,  # difficulty 0: the target is vx = 3 m/s
        "activation_weight": 0.001,  # difficulty 1
    }
    max_episode_steps = 300  # class default (difficulty 0), used for registration
    step_size = 0.01

    def __init__(self, difficulty: int = 0, prosthetic: bool = True, model: str = "3D",
                 obs_layout: str = "default", **parameters: float):
        super().__init__(**parameters)
        if obs_layout not in OBS_LAYOUTS:
            raise ValueError(f"obs_layout must be one of {OBS_LAYOUTS}, got {obs_layout!r}")
        self.obs_layout = obs_layout
        if model != "3D":
            raise ValueError(f"model must be '3D' (the only 3D gait model), got {model!r}")
        if difficulty not in (0, 1) or isinstance(difficulty, bool):
            raise ValueError(f"difficulty must be 0 or 1, got {difficulty!r}")
        if not isinstance(prosthetic, (bool, np.bool_)):
            raise TypeError(f"prosthetic must be a bool, got {prosthetic!r}")
        self.model_name = model  # the original's name; ``model`` is the registry's "gait3d"
        self.difficulty = int(difficulty)
        self.prosthetic = bool(prosthetic)
        self.max_episode_steps = 300 if self.difficulty == 0 else 1000
        self.layout: dict | None = None  # set by bind()

    # ------------------------------------------------------------ model
    def model_spec(self) -> ModelSpec:
        return ModelSpec(name=self.model, options={"prosthetic": self.prosthetic})

    def bind(self, sim: Engine) -> None:
        if self.obs_layout == "2018":
            self.joints_2018 = sim.joint_coordinates()
            missing = sorted(set(JOINTS_2018) - set(self.joints_2018))
            if missing:
                raise ValueError(f"the 2018 observation needs the joints {missing}")
        coordinate = {n: i for i, n in enumerate(sim.coordinate_names)}
        body = {n: i for i, n in enumerate(sim.body_names)}
        muscle = {n: i for i, n in enumerate(sim.muscle_names)}
        unknown = sorted(set(muscle) - set(MUSCLES))
        if unknown or "pelvis" not in body:
            raise ValueError(f"{type(self).__name__} needs a 3D gait model; "
                             f"unexpected muscles {unknown}")
        self.layout = {
            "pelvis_body": body["pelvis"],
            "pelvis_q": np.array([coordinate[n] for n in ("pelvis_tilt", "pelvis_list")]),
            "pelvis_u": np.array([coordinate[n] for n in
                                  ("pelvis_tilt", "pelvis_list", "pelvis_rotation")]),
            "joints": np.array([coordinate[n] for n in JOINTS]),
            # (slot in BODIES, index in the simulation) of the bodies present
            "bodies": [(k, body[n]) for k, n in enumerate(BODIES) if n in body],
            "muscles": (np.array([k for k, n in enumerate(MUSCLES) if n in muscle], dtype=int),
                        np.array([muscle[n] for n in MUSCLES if n in muscle], dtype=int)),
        }

    # ---------------------------------------------------------- episode
    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        self.episode = {}
        if self.difficulty >= 1:
            steps = np.cumsum(rng.poisson(POISSON_LAMBDA, NUM_CHANGES))
            speed, heading = TARGET_SPEED0, 0.0
            changes = [[0, speed, heading]]
            for step in steps:
                speed += rng.uniform(-SPEED_CHANGE, SPEED_CHANGE)
                heading += rng.uniform(-HEADING_CHANGE, HEADING_CHANGE)
                changes.append([int(step), float(speed), float(heading)])
            self.episode["target_changes"] = changes
        sim.reset()

    def target_at(self, step: int) -> np.ndarray:
        """Target (vx, vy, vz) in m/s after ``step`` control steps."""
        if self.difficulty == 0:
            return np.array([self.target_speed, 0.0, 0.0])
        speed, heading = TARGET_SPEED0, 0.0
        for change_step, s, h in self.episode.get("target_changes", ()):
            if change_step > step:
                break
            speed, heading = s, h
        return target_velocity(speed, heading)

    def pelvis_height(self, sim: Engine) -> float:
        return float(sim.body_positions()[self.layout["pelvis_body"], 1])

    def pelvis_velocity(self, sim: Engine) -> np.ndarray:
        return sim.body_velocities()[self.layout["pelvis_body"]]

    def terminated(self, sim: Engine) -> bool:
        return self.pelvis_height(sim) < self.min_pelvis_height

    # ------------------------------------------------------ observation
    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        if self.obs_layout == "2018":
            return self._observation_spec_2018(sim)
        return [
            ObsEntry("pelvis", PELVIS_LABELS),
            *(ObsEntry(b, BODY_LABELS) for b in BODIES),
            ObsEntry("joint_pos", JOINTS),
            ObsEntry("joint_vel", JOINTS),
            ObsEntry("muscle_activation", MUSCLES, 0.0, 1.0),
            ObsEntry("fiber_length", MUSCLES),
            ObsEntry("fiber_velocity", MUSCLES),
            ObsEntry("com_pos", ("x", "y", "z")),
            ObsEntry("com_vel", ("vx", "vy", "vz")),
            ObsEntry("target_vel", ("vx", "vy", "vz")),
        ]

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        if self.obs_layout == "2018":
            return self._observe_2018(sim)
        layout = self.layout
        q, u = sim.coordinate_values(), sim.coordinate_speeds()
        positions, velocities = sim.body_positions(), sim.body_velocities()
        p0, v0 = positions[layout["pelvis_body"]], velocities[layout["pelvis_body"]]
        obs = {"pelvis": np.concatenate([[p0[1]], q[layout["pelvis_q"]], v0, u[layout["pelvis_u"]]])}
        for name in BODIES:
            obs[name] = np.zeros(6)
        for slot, i in layout["bodies"]:
            obs[BODIES[slot]] = np.concatenate([positions[i] - p0, velocities[i] - v0])
        obs["joint_pos"] = q[layout["joints"]]
        obs["joint_vel"] = u[layout["joints"]]
        slots, index = layout["muscles"]
        for key, values in (("muscle_activation", np.clip(sim.muscle_activations(), 0.0, 1.0)),
                            ("fiber_length", sim.fiber_lengths()),
                            ("fiber_velocity", sim.fiber_velocities())):
            obs[key] = np.zeros(len(MUSCLES))
            obs[key][slots] = values[index]
        obs["com_pos"] = sim.center_of_mass_position() - p0
        obs["com_vel"] = sim.center_of_mass_velocity()
        obs["target_vel"] = self.target_at(sim.step_count)
        return obs

    # ------------------------------------------- the 2018 challenge's layout
    def _observation_spec_2018(self, sim: Engine) -> list[ObsEntry]:
        spec = [ObsEntry("pelvis", BODY_LABELS_2018[1:])]
        spec += [ObsEntry(b, BODY_LABELS_2018) for b in BODIES_2018[1:]]
        for joint in JOINTS_2018:
            coordinates = self.joints_2018[joint]
            spec.append(ObsEntry(joint, tuple(f"{c}_{kind}" for kind in ("pos", "vel", "acc")
                                              for c in coordinates)))
        spec += [ObsEntry(m, MUSCLE_LABELS_2018) for m in sorted(sim.muscle_names)]
        spec.append(ObsEntry("mass_center", MASS_CENTER_LABELS_2018))
        return spec

    def _observe_2018(self, sim: Engine) -> dict[str, np.ndarray]:
        """Built from the state dictionary, as the 2018 ``get_observation()`` did."""
        desc = sim.state_dict()

        def body_vector(name: str) -> np.ndarray:
            if name not in desc["body_pos"]:  # toes_r, talus_r on the prosthetic model
                return np.zeros(9)
            return np.array([*desc["body_pos"][name][:2], *desc["body_vel"][name][:2],
                             *desc["body_acc"][name][:2], desc["body_pos_rot"][name][2],
                             desc["body_vel_rot"][name][2], desc["body_acc_rot"][name][2]])

        pelvis = body_vector("pelvis")
        obs = {"pelvis": pelvis[1:]}
        for name in BODIES_2018[1:]:
            c = body_vector(name)
            if name in desc["body_pos"]:
                c[[0, 1, 6]] -= pelvis[[0, 1, 6]]
            obs[name] = c
        for joint in JOINTS_2018:
            obs[joint] = np.array([*desc["joint_pos"][joint], *desc["joint_vel"][joint],
                                   *desc["joint_acc"][joint]])
        for muscle in sorted(sim.muscle_names):
            values = desc["muscles"][muscle]
            obs[muscle] = np.array([values[k] for k in MUSCLE_LABELS_2018])
        misc = desc["misc"]
        obs["mass_center"] = np.array([*(np.array(misc["mass_center_pos"][:2]) - pelvis[:2]),
                                       *misc["mass_center_vel"], *misc["mass_center_acc"]])
        return obs

    def state_dict(self, sim: Engine) -> dict:
        """The full state dictionary (original ``get_state_desc()``), with
        ``"target_vel"`` at difficulty 1 as the original."""
        desc = sim.state_dict()
        if self.difficulty >= 1:
            desc["target_vel"] = self.target_at(sim.step_count).tolist()
        return desc

    # ----------------------------------------------------------- reward
    def reward_terms(self, sim: Engine) -> dict[str, float]:
        vx, _, vz = self.pelvis_velocity(sim)
        if self.difficulty == 0:
            return {"alive": 9.0, "velocity": -float((vx - self.target_speed) ** 2)}
        tvx, _, tvz = self.target_at(sim.step_count)
        return {
            "alive": 10.0,
            "velocity_x": -float((vx - tvx) ** 2),
            "velocity_z": -float((vz - tvz) ** 2),
            "activation": -self.activation_weight * float(np.sum(sim.muscle_activations() ** 2)),
        }

    def info(self, sim: Engine) -> dict[str, Any]:
        return {"target_vel": self.target_at(sim.step_count)}
