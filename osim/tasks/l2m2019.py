"""Learn to Move - Walk Around (NeurIPS 2019): walk where a target-velocity
field leads, with the 3D healthy gait model or its planar mode."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from osim.engines import Engine, ModelSpec
from osim.tasks.base import ObsEntry, Task
from osim.tasks.l2m2019_field import (
    LOCAL_OFFSETS,
    TARGET_RADIUS,
    TargetVelocityField,
    check_seed,
)
from osim.tasks.l2m2019_field import check_version as check_difficulty

MODES = ("3D", "2D")
# The out-of-plane coordinates that the planar mode locks at 0 (the original's
# gait14dof22musc_planar_20170320.osim is the 3D model with these locked).
PLANAR_LOCKED = ("pelvis_list", "pelvis_rotation", "pelvis_tz",
                 "hip_adduction_r", "hip_adduction_l")
GRAVITY = 9.80665  # m/s^2, the original's G (body weight = total mass * G)

# The 11 muscles of a leg in the original's action and observation order, by
# abbreviation, and the model's muscle they name (``<name>_r``, ``<name>_l``).
LEG_MUSCLES = {
    "HAB": "abd", "HAD": "add", "HFL": "iliopsoas", "GLU": "glut_max", "HAM": "hamstrings",
    "RF": "rect_fem", "VAS": "vasti", "BFSH": "bifemsh", "GAS": "gastroc", "SOL": "soleus",
    "TA": "tib_ant",
}
SIDES = (("r_leg", "r"), ("l_leg", "l"))
ACTION_MUSCLES = tuple(f"{muscle}_{side}" for _, side in SIDES for muscle in LEG_MUSCLES.values())

# Observed joints of a leg: (name in the observation, coordinate, sign); the
# signs make extension and abduction positive, as the original.
LEG_JOINTS = (("hip_abd", "hip_adduction", -1.0), ("hip", "hip_flexion", -1.0),
              ("knee", "knee_angle", 1.0), ("ankle", "ankle_angle", -1.0))

FIELD_SHAPE = (2, len(LOCAL_OFFSETS), len(LOCAL_OFFSETS))
FIELD_LABELS = tuple(f"{component}[{int(g):+d},{int(h):+d}]"
                     for component in ("forward", "leftward")
                     for g in LOCAL_OFFSETS for h in LOCAL_OFFSETS)
PELVIS_LABELS = ("height", "pitch", "roll", "vel_forward", "vel_leftward", "vel_upward",
                 "vel_pitch", "vel_roll", "vel_yaw")
LEG_LABELS = (("grf_forward", "grf_lateral", "grf_upward")
              + tuple(f"joint_{name}" for name, _, _ in LEG_JOINTS)
              + tuple(f"d_joint_{name}" for name, _, _ in LEG_JOINTS)
              + tuple(f"{abbr}_{k}" for abbr in LEG_MUSCLES for k in "flv"))
FIELD_BOUND = 10.0  # m/s, the original's bound (the field never exceeds 1.8 m/s)

# init_pose: 12 numbers in the original's order and signs; by index the
# coordinate written and the sign from the pose's convention to the model's.
INIT_POSE = (0.0, 0.0, 0.94, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
# Mid-stride at 1.7 m/s, right leg ahead: the start of the original's reflex
# controller example (a walking controller cannot start from standing).
WALKING_POSE = (1.7, 0.5, 0.9023245653983966, 0.2012303881285583, 0.0, -0.6952390849304798,
                -0.3231075259785814, 0.1709011708233401, 0.0, -0.052823239143419,
                -0.8041966456860847, -0.1745329251994329)
NAMED_POSES = {"standing": INIT_POSE, "walking": WALKING_POSE}
INIT_SPEEDS = {0: ("pelvis_tx", 1.0), 1: ("pelvis_tz", 1.0)}  # forward, rightward (m/s)
INIT_COORDINATES = {
    2: ("pelvis_ty", 1.0), 3: ("pelvis_tilt", -1.0),
    4: ("hip_adduction_r", -1.0), 5: ("hip_flexion_r", -1.0),
    6: ("knee_angle_r", 1.0), 7: ("ankle_angle_r", -1.0),
    8: ("hip_adduction_l", -1.0), 9: ("hip_flexion_l", -1.0),
    10: ("knee_angle_l", 1.0), 11: ("ankle_angle_l", -1.0),
}
EPISODE_STEPS = {0: 1000, 1: 1000, 2: 1000, 3: 2500}  # by difficulty: 10 s, Round 2 25 s
ROUND_2 = 3  # the difficulty of Round 2 (its own reward); 0-2 use Round 1's


def heading_frame(x: float, z: float, yaw: float) -> tuple[float, float]:
    """Ground (X, Z) components as (forward, rightward) for a walker turned ``yaw``
    about Y (the original's ``rotate_frame``)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return x * c - z * s, x * s + z * c


def check_init_pose(pose: Any) -> np.ndarray:
    if isinstance(pose, str):
        if pose not in NAMED_POSES:
            raise ValueError(f"init_pose must be 12 numbers or one of {sorted(NAMED_POSES)}, "
                             f"got {pose!r}")
        pose = NAMED_POSES[pose]
    try:
        values = np.asarray(pose, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"init_pose must be 12 numbers, got {pose!r}") from None
    if values.shape != (len(INIT_POSE),) or not np.all(np.isfinite(values)):
        raise ValueError(f"init_pose must be {len(INIT_POSE)} finite numbers, got {pose!r}")
    return values


class L2M2019(Task):
    """Walk where a target-velocity field leads (the NeurIPS 2019 "Learn to Move
    - Walk Around" L2M2019Env).

    Model: ``gait3d`` with ``prosthetic=False`` (gait14dof22musc: 22 muscles,
    75.1646 kg). ``model="2D"`` (the original's planar model) locks
    pelvis_list, pelvis_rotation, pelvis_tz, hip_adduction_r and
    hip_adduction_l at 0; the observation and actions keep their sizes (the
    out-of-plane entries stay ~0, HAB and HAD still act against the locks and
    cost effort).

    Actions: 22 excitations in [0, 1], right leg then left, each leg in the
    original's order HAB (abd), HAD (add), HFL (iliopsoas), GLU (glut_max), HAM
    (hamstrings), RF (rect_fem), VAS (vasti), BFSH (bifemsh), GAS (gastroc),
    SOL (soleus), TA (tib_ant); ``env.action_labels`` names them.

    Frames: the ground's X forward, Y up, Z right; the field's map axes are x
    = X and y = -Z (leftward); the heading (yaw) is ``pelvis_rotation``. "In
    the heading frame" = (forward, rightward) = (X cos yaw - Z sin yaw, X sin
    yaw + Z cos yaw). BW = total body mass x 9.80665 (737.1129 N).

    Observation (flattened in this order; 339 values, the original's flat
    layout; keys as the original dictionary's):

    ======= =========== ====================================================
    index   key         entries
    ======= =========== ====================================================
    0-241   v_tgt_field target velocity (m/s) around the pelvis in the heading
                        frame, (2, 11, 11) in C order: [c, i, j] is component c
                        (0 forward, 1 leftward) at i - 5 m ahead and j - 5 m
                        to the left of the pelvis (1 m apart)
    242-250 pelvis      height (m, pelvis origin Y), pitch (rad, -pelvis_tilt,
                        + forward), roll (rad, pelvis_list, + right side down),
                        vel_forward, vel_leftward, vel_upward (m/s, pelvis
                        origin, heading frame), vel_pitch, vel_roll, vel_yaw
                        (rad/s: -d pelvis_tilt, d pelvis_list, d
                        pelvis_rotation)
    251-294 r_leg       grf_forward, grf_lateral (+ outward, i.e. rightward),
                        grf_upward: the ground's force on the foot (contact
                        force foot_r) in BW, heading frame; joint_hip_abd
                        (-hip_adduction_r), joint_hip (-hip_flexion_r, +
                        extension), joint_knee (knee_angle_r, + extension),
                        joint_ankle (-ankle_angle_r, + plantarflexion) in rad;
                        d_joint_* their speeds (rad/s); then for HAB, HAD, HFL,
                        GLU, HAM, RF, VAS, BFSH, GAS, SOL, TA: f (fiber force /
                        max isometric force), l (fiber length / optimal fiber
                        length), v (fiber velocity / optimal fiber length, 1/s)
    295-338 l_leg       the same for the left leg (foot_l, ``_l`` coordinates
                        and muscles; grf_lateral + outward, i.e. leftward)
    ======= =========== ====================================================

    The classic ``L2M2019Env`` returns the original's nested dictionary by
    default (`nested_observation`).

    Target-velocity field (`osim.tasks.l2m2019_field`), version = difficulty:
    0 a constant 1.4 m/s forward; 1 sinks 5-7 m straight ahead; 2 sinks 5-7 m
    away within +-90 deg of the previous heading; 3 the same within +-180 deg.
    Staying within 0.3 m of the sink for a dwell time drawn in [2, 4] s
    reaches the target: a new sink is drawn from the reached one (difficulty
    1-2: always; 3: after the first only, the second stays).

    Reward per step, named terms (difficulty 0-2: Round 1; 3: Round 2), dt =
    0.01 s. Accumulated since the last paid footstep: the time ``T`` (s), the
    velocity error ``D = sum (v - v_tgt) dt`` (2-vector; v the pelvis origin's
    velocity and v_tgt the global field at the pelvis, both in map axes) and
    the effort ``E = sum_steps sum_muscles activation^2 dt``::

        alive              = alive_reward                    (0.1, every step)
        footstep           = footstep_weight * T             (10)
        velocity_deviation = -w_v * |D|     (w_v: velocity_weight 1 in Round 1,
                                             velocity_weight_round2 3 in Round 2)
        effort             = -effort_weight * E              (1)
        target_bonus       = target_reward if the target was reached (500,
                             Round 2 only; at most twice)
        success_bonus      = success_reward                  (10, Round 1 only)

    ``footstep``, ``velocity_deviation`` and ``effort`` are paid, and T, D, E
    restart, when a new footstep was detected (Round 2: also on success).
    Success: not fallen after `max_episode_steps` steps (Round 2: and more
    than 5 footsteps). A footstep is the rising edge of either foot's contact
    (vertical ground force on the foot > ``contact_threshold`` BW, 0.05),
    counted once if both land; the initial double stance does not count. As in
    the original, footsteps and reached targets are detected after each step's
    reward, so their payouts come one step later (`episode` holds them).

    Terminated when the pelvis origin's height < ``min_pelvis_height`` (0.6
    m). Truncated after ``max_episode_steps`` steps (an instance attribute:
    1000 at difficulty 0-2, 2500 at 3; the Gymnasium id is registered with
    1000: for difficulty 3 use ``gymnasium.make("osim/L2M2019-v0",
    difficulty=3, max_episode_steps=2500)``).

    Initial state: ``init_pose`` (constructor and reset option; 12 numbers,
    or ``"standing"``: `INIT_POSE`, upright at rest, the default, or
    ``"walking"``: `WALKING_POSE`, mid-stride at 1.7 m/s): forward and rightward pelvis speed (m/s),
    pelvis height (m), pitch (+ forward), then per leg (right, left) hip
    abduction, hip extension, knee extension, ankle plantarflexion (rad);
    written by coordinate name with the signs above (coordinates locked by
    the 2D mode are left at 0); the other coordinates at their defaults,
    muscles in equilibrium at zero excitation.

    Seeding: the field draws from its own ``numpy.random.RandomState``. The
    reset option ``field_seed`` seeds it (the original's field for that seed,
    0 included). Otherwise it is seeded with an integer drawn from the env's
    seeded generator, so ``reset(seed=s)`` fixes the field and ``reset()``
    draws a new one; with ``continue_field_stream=True`` (the classic
    ``L2M2019Env``) an unseeded reset continues the previous episode's
    generator instead, as the original's global RNG did.

    Options: ``difficulty`` (0-3, default 2; also a reset option),
    ``model`` (``"3D"`` or ``"2D"``), ``init_pose``, ``continue_field_stream``, and the
    parameters ``min_pelvis_height``, ``alive_reward``, ``footstep_weight``,
    ``velocity_weight``, ``velocity_weight_round2``, ``effort_weight``,
    ``target_reward``, ``success_reward``, ``contact_threshold``. Reset
    options: ``difficulty``, ``init_pose``, ``field_seed``.
    """

    model = "gait3d"
    classic_name = "L2M2019Env"
    max_episode_steps = EPISODE_STEPS[0]  # class default, used for registration
    step_size = 0.01
    parameters = {
        "min_pelvis_height": 0.6,
        "alive_reward": 0.1,
        "footstep_weight": 10.0,
        "velocity_weight": 1.0,  # Round 1
        "velocity_weight_round2": 3.0,
        "effort_weight": 1.0,
        "target_reward": 500.0,  # Round 2
        "success_reward": 10.0,  # Round 1
        "contact_threshold": 0.05,  # vertical ground force, BW
    }
    reset_options: ClassVar[tuple[str, ...]] = ("difficulty", "init_pose", "field_seed")
    MIN_FOOTSTEPS_ROUND_2 = 5  # success in Round 2 needs more footsteps than this

    def __init__(self, difficulty: int = 2, model: str = "3D",
                 continue_field_stream: bool = False,
                 init_pose: str | tuple = "standing", **parameters: float):
        super().__init__(**parameters)
        self.init_pose = check_init_pose(init_pose)
        if model not in MODES:
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        self.model_name = model  # the original's name; ``model`` is the registry's "gait3d"
        self.difficulty = check_difficulty(difficulty)
        self.max_episode_steps = EPISODE_STEPS[self.difficulty]
        self.continue_field_stream = bool(continue_field_stream)
        self.layout: dict | None = None  # set by bind()

    # ------------------------------------------------------------ model
    def model_spec(self) -> ModelSpec:
        options = {"prosthetic": False}
        if self.model_name == "2D":
            options["locked"] = PLANAR_LOCKED
        return ModelSpec(name=self.model, options=options)

    def bind(self, sim: Engine) -> None:
        coordinate = {n: i for i, n in enumerate(sim.coordinate_names)}
        muscle = {n: i for i, n in enumerate(sim.muscle_names)}
        missing = sorted(set(ACTION_MUSCLES) - set(muscle))
        if missing or "pelvis" not in sim.body_names:
            raise ValueError(f"{type(self).__name__} needs the healthy 3D gait model; "
                             f"missing muscles {missing}")
        legs = {}
        for leg, side in SIDES:
            names = [f"{m}_{side}" for m in LEG_MUSCLES.values()]
            legs[leg] = {
                "foot": f"foot_{side}",
                "joints": np.array([coordinate[f"{c}_{side}"] for _, c, _ in LEG_JOINTS]),
                "muscles": np.array([muscle[n] for n in names]),
            }
        self.layout = {
            "pelvis_body": sim.body_names.index("pelvis"),
            "pelvis": {n: coordinate[n] for n in
                       ("pelvis_tilt", "pelvis_list", "pelvis_rotation")},
            "legs": legs,
            "joint_signs": np.array([sign for _, _, sign in LEG_JOINTS]),
            "actions": np.array([muscle[n] for n in ACTION_MUSCLES]),
            "body_weight": float(np.sum(sim.body_masses())) * GRAVITY,
            "max_forces": sim.max_isometric_forces(),
            "optimal_lengths": sim.optimal_fiber_lengths(),
            "unlocked": set(sim.default_coordinates()),
        }

    @property
    def body_weight(self) -> float:
        """Total body mass x g (N): the unit of the observed ground forces."""
        return self.layout["body_weight"]

    # ----------------------------------------------------------- actions
    def action_labels(self, sim: Engine) -> list[str]:
        return [f"{abbr}_{side}" for _, side in SIDES for abbr in LEG_MUSCLES]

    def excitations(self, action: np.ndarray) -> np.ndarray:
        excitations = np.empty_like(action)
        excitations[self.layout["actions"]] = action
        return excitations

    # ---------------------------------------------------------- episode
    @property
    def field(self) -> TargetVelocityField | None:
        """This episode's target-velocity field (None before the first reset)."""
        return self.episode.get("field")

    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        difficulty = check_difficulty(options.pop("difficulty", self.difficulty))
        init_pose = check_init_pose(options.pop("init_pose", self.init_pose))
        field_seed = options.pop("field_seed", None)
        if field_seed is not None:
            random = np.random.RandomState(check_seed(field_seed))
        elif self.continue_field_stream and self.field is not None:
            random = self.field.random  # the previous episode's generator, continued
        else:
            random = np.random.RandomState(int(rng.integers(2**32)))
        field = TargetVelocityField(difficulty, random, dt=sim.step_size)

        unlocked = self.layout["unlocked"]
        coordinates = {name: sign * init_pose[i] for i, (name, sign) in INIT_COORDINATES.items()
                       if name in unlocked}
        speeds = {name: sign * init_pose[i] for i, (name, sign) in INIT_SPEEDS.items()
                  if name in unlocked}
        sim.reset(coordinates=coordinates, speeds=speeds)
        self.max_episode_steps = EPISODE_STEPS[difficulty]
        self.episode = {
            "difficulty": difficulty,
            "field": field,
            # the initial double stance is not a footstep
            "footsteps": {"count": 0, "new": False, "contact_r": True, "contact_l": True},
            # since the last paid footstep: time (s), velocity error (m), effort
            "since_footstep": {"time": 0.0, "velocity_error": np.zeros(2), "effort": 0.0},
        }
        self._update_field(sim)

    def set_episode(self, episode: dict[str, Any], sim: Engine) -> None:
        super().set_episode(episode, sim)
        if "difficulty" in self.episode:
            self.max_episode_steps = EPISODE_STEPS[self.episode["difficulty"]]

    def pose(self, sim: Engine) -> np.ndarray:
        """(x, y, heading) of the pelvis in the field's map axes."""
        x, _, z = sim.body_positions()[self.layout["pelvis_body"]]
        yaw = sim.coordinate_values()[self.layout["pelvis"]["pelvis_rotation"]]
        return np.array([x, -z, yaw])

    def _update_field(self, sim: Engine) -> None:
        pose = self.pose(sim)
        local, reached = self.field.update(pose)
        self.episode["pose"] = pose
        self.episode["local_field"] = local
        self.episode["target_reached"] = reached

    def _update_footsteps(self, sim: Engine) -> None:
        forces = sim.ground_reaction_forces()
        threshold = self.contact_threshold * self.body_weight
        steps = self.episode["footsteps"]
        contact = {side: bool(forces[f"foot_{side}"][1] > threshold) for _, side in SIDES}
        steps["new"] = any(contact[s] and not steps[f"contact_{s}"] for s in contact)
        steps["count"] += int(steps["new"])
        for side, value in contact.items():
            steps[f"contact_{side}"] = value

    def pelvis_height(self, sim: Engine) -> float:
        return float(sim.body_positions()[self.layout["pelvis_body"], 1])

    def terminated(self, sim: Engine) -> bool:
        return self.pelvis_height(sim) < self.min_pelvis_height

    # ------------------------------------------------------ observation
    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        return [
            ObsEntry("v_tgt_field", FIELD_LABELS, -FIELD_BOUND, FIELD_BOUND),
            ObsEntry("pelvis", PELVIS_LABELS),
            *(ObsEntry(leg, LEG_LABELS) for leg, _ in SIDES),
        ]

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        layout = self.layout
        q, u = sim.coordinate_values(), sim.coordinate_speeds()
        pelvis = layout["pelvis"]
        tilt, roll, yaw = (pelvis[n] for n in ("pelvis_tilt", "pelvis_list", "pelvis_rotation"))
        position = sim.body_positions()[layout["pelvis_body"]]
        vx, vy, vz = sim.body_velocities()[layout["pelvis_body"]]
        forward, rightward = heading_frame(vx, vz, q[yaw])
        obs = {
            "v_tgt_field": self.episode["local_field"].ravel(),
            "pelvis": np.array([position[1], -q[tilt], q[roll], forward, -rightward, vy,
                                -u[tilt], u[roll], u[yaw]]),
        }
        forces = sim.ground_reaction_forces()
        fiber = (sim.fiber_forces() / layout["max_forces"],
                 sim.fiber_lengths() / layout["optimal_lengths"],
                 sim.fiber_velocities() / layout["optimal_lengths"])
        for leg, side in SIDES:
            where = layout["legs"][leg]
            fx, fy, fz = forces[where["foot"]] / self.body_weight
            grf_forward, grf_rightward = heading_frame(fx, fz, q[yaw])
            outward = grf_rightward if side == "r" else -grf_rightward
            muscles = np.stack([values[where["muscles"]] for values in fiber], axis=1)
            obs[leg] = np.concatenate([
                [grf_forward, outward, fy],
                layout["joint_signs"] * q[where["joints"]],
                layout["joint_signs"] * u[where["joints"]],
                muscles.ravel(),  # per muscle f, l, v
            ])
        return obs

    def nested_observation(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        """The original's observation dictionary from `observe`'s entries:
        ``v_tgt_field`` a (2, 11, 11) array; ``pelvis`` {height, pitch, roll, vel
        (6 values)}; ``r_leg``/``l_leg`` {ground_reaction_forces (3 values),
        joint and d_joint {hip_abd, hip, knee, ankle}, HAB ... TA {f, l, v}}."""
        pelvis = [float(v) for v in obs["pelvis"]]
        nested: dict[str, Any] = {
            "v_tgt_field": np.asarray(obs["v_tgt_field"], dtype=np.float64).reshape(FIELD_SHAPE),
            "pelvis": {"height": pelvis[0], "pitch": pelvis[1], "roll": pelvis[2],
                       "vel": pelvis[3:]},
        }
        n_joints = len(LEG_JOINTS)
        for leg, _ in SIDES:
            values = [float(v) for v in obs[leg]]
            joints, speeds = values[3:3 + n_joints], values[3 + n_joints:3 + 2 * n_joints]
            muscles = values[3 + 2 * n_joints:]
            nested[leg] = {
                "ground_reaction_forces": values[:3],
                "joint": {name: v for (name, _, _), v in zip(LEG_JOINTS, joints)},
                "d_joint": {name: v for (name, _, _), v in zip(LEG_JOINTS, speeds)},
                **{abbr: dict(zip("flv", muscles[3 * k:3 * k + 3]))
                   for k, abbr in enumerate(LEG_MUSCLES)},
            }
        return nested

    def state_dict(self, sim: Engine) -> dict:
        """The full state dictionary (original ``get_state_desc()``) with
        ``"v_tgt_field"``, the local field as a (2, 11, 11) array."""
        desc = sim.state_dict()
        desc["v_tgt_field"] = self.episode["local_field"].copy()
        return desc

    # ----------------------------------------------------------- reward
    def reward_terms(self, sim: Engine) -> dict[str, float]:
        episode, dt = self.episode, sim.step_size
        steps, since = episode["footsteps"], episode["since_footstep"]
        since["time"] += dt
        since["effort"] += float(np.sum(sim.muscle_activations() ** 2)) * dt
        x, y, _ = self.pose(sim)
        vx, _, vz = sim.body_velocities()[self.layout["pelvis_body"]]
        target = self.field.velocity_at([x, y])
        since["velocity_error"] = since["velocity_error"] + (np.array([vx, -vz]) - target) * dt

        terms = {"alive": self.alive_reward, "footstep": 0.0, "velocity_deviation": 0.0,
                 "effort": 0.0, "target_bonus": 0.0, "success_bonus": 0.0}
        round_2 = episode["difficulty"] == ROUND_2
        success = sim.step_count >= self.max_episode_steps and not self.terminated(sim)
        if round_2:
            success = success and steps["count"] > self.MIN_FOOTSTEPS_ROUND_2
        # footsteps and the target flag are those detected after the previous step
        if steps["new"] or (round_2 and success):
            weight = self.velocity_weight_round2 if round_2 else self.velocity_weight
            terms["footstep"] = self.footstep_weight * since["time"]
            terms["velocity_deviation"] = -weight * float(np.linalg.norm(since["velocity_error"]))
            terms["effort"] = -self.effort_weight * since["effort"]
            episode["since_footstep"] = {"time": 0.0, "velocity_error": np.zeros(2),
                                         "effort": 0.0}
        if round_2 and episode["target_reached"]:
            terms["target_bonus"] = self.target_reward
        if not round_2 and success:
            terms["success_bonus"] = self.success_reward

        # then what the next step's reward reads, as the original's step did
        self._update_footsteps(sim)
        self._update_field(sim)
        return terms

    def info(self, sim: Engine) -> dict[str, Any]:
        sink = self.field.sink
        return {"footsteps": self.episode["footsteps"]["count"],
                "targets_reached": self.field.targets_reached,
                "sink": None if sink is None else sink.tolist()}

    # -------------------------------------------------------- rendering
    def overlays(self) -> dict[str, Any]:
        """The sink (``target``, on the ground) and the local field as ground
        arrows (``velocity_field``: ``points`` and ``vectors`` (n, 3), ground
        frame, m and m/s) at the observed 11 x 11 points."""
        field, pose = self.field, self.episode.get("pose")
        if field is None or pose is None:
            return {}
        points = field.local_points(pose).reshape(-1, 2)
        velocities = field.velocity_at(points)

        def ground(xy: np.ndarray) -> np.ndarray:  # map axes -> ground frame, on the floor
            return np.stack([xy[..., 0], np.zeros(len(xy)), -xy[..., 1]], axis=-1)

        overlays: dict[str, Any] = {"velocity_field": {"points": ground(points),
                                                       "vectors": ground(velocities)}}
        if field.sink is not None:
            overlays["target"] = (float(field.sink[0]), 0.0, float(-field.sink[1]))
        return overlays

    def field_map(self) -> dict[str, Any] | None:
        """The current global field for plots: node coordinates ``x``, ``y`` (m, map
        axes), ``velocity`` (2, nx, ny) in m/s, every ``sinks`` of the episode
        and the ``target_radius``."""
        field = self.field
        if field is None:
            return None
        return {"x": field.node_x.copy(), "y": field.node_y.copy(),
                "velocity": field.velocities.copy(), "sinks": [s.copy() for s in field.sinks],
                "target_radius": TARGET_RADIUS}
