"""ARM reaching: move the hand of a 2-DOF, 6-muscle arm to a random target."""

from __future__ import annotations

from typing import Any

import numpy as np

from osim.engines import Engine
from osim.tasks.base import ObsEntry, Task


class ArmReach(Task):
    """Reach a target with the hand of the planar arm (shoulder and elbow, 6 muscles).

    At reset a target is drawn from the env's seeded RNG: a shoulder elevation
    ``U(SHOULDER_RANGE)`` and an elbow flexion ``U(ELBOW_RANGE)`` are drawn and the
    target is where the hand (wrist marker ``r_radius_styloid``) would be in that
    pose, so every target is reachable. The arm starts hanging at its default
    pose with muscles in equilibrium. The task's arm has joint stops at the
    shoulder and elbow ranges (``osim.models.arm.JOINT_STOPS``; the reference
    model has none and its elbow hyperextends into a very stiff region). Episodes last 200 steps of 0.01 s and never
    terminate early.

    Reward per step (as the 2017 osim-rl ArmEnv with ``distance_weight=1``)::

        reward = 1 - distance_weight * |p_hand - p_target|^2     (x, y in metres)

    named in ``info["reward_terms"]`` as ``alive`` (+1) and ``distance`` (the
    weighted negative squared distance).

    Observation (flattened in this order; 16 values):

    ================== ===== ==========================================
    key                size  entries
    ================== ===== ==========================================
    target             2     x, y of the target (m, ground frame)
    joint_pos          2     r_shoulder_elev, r_elbow_flex (rad)
    joint_vel          2     their speeds (rad/s)
    joint_acc          2     their accelerations (rad/s^2)
    muscle_activation  6     TRIlong, TRIlat, TRImed, BIClong, BICshort, BRA
    hand_pos           2     x, y of the wrist marker (m)
    ================== ===== ==========================================
    """

    model = "arm"
    model_options = {"joint_stops": True}  # see osim.models.arm.JOINT_STOPS
    max_episode_steps = 200
    classic_name = "ArmEnv"

    HAND = "r_radius_styloid"
    JOINTS = ("r_shoulder_elev", "r_elbow_flex")
    SHOULDER_RANGE = (0.0, np.pi / 2)
    ELBOW_RANGE = (0.0, 2.0)
    parameters = {"distance_weight": 1.0}

    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        super().reset(sim, rng, **options)
        pose = {self.JOINTS[0]: rng.uniform(*self.SHOULDER_RANGE),
                self.JOINTS[1]: rng.uniform(*self.ELBOW_RANGE)}
        self.episode["target"] = sim.marker_position_at(self.HAND, pose)[:2]

    def bind(self, sim: Engine) -> None:
        # The shoulder centre and arm length: the hand never leaves that disc.
        pos = dict(zip(sim.body_names, sim.body_positions()))
        shoulder, elbow = pos["r_humerus"], pos["r_ulna_radius_hand"]
        hand = sim.marker_position(self.HAND)
        length = np.linalg.norm(elbow - shoulder) + np.linalg.norm(hand - elbow)
        self.workspace = (shoulder[:2], float(length) * 1.001)

    def observation_spec(self, sim: Engine) -> list[ObsEntry]:
        centre, reach = self.workspace
        low, high = float(centre.min() - reach), float(centre.max() + reach)
        return [
            ObsEntry("target", ("x", "y"), low, high),
            ObsEntry("joint_pos", self.JOINTS),
            ObsEntry("joint_vel", self.JOINTS),
            ObsEntry("joint_acc", self.JOINTS),
            ObsEntry("muscle_activation", tuple(sim.muscle_names), 0.0, 1.0),
            ObsEntry("hand_pos", ("x", "y"), low, high),
        ]

    def observe(self, sim: Engine) -> dict[str, np.ndarray]:
        return {
            "target": np.array(self.episode["target"], dtype=np.float64),
            "joint_pos": sim.coordinate_values(),
            "joint_vel": sim.coordinate_speeds(),
            "joint_acc": sim.coordinate_accelerations(),
            "muscle_activation": np.clip(sim.muscle_activations(), 0.0, 1.0),
            "hand_pos": sim.marker_position(self.HAND)[:2],
        }

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        error = sim.marker_position(self.HAND)[:2] - self.episode["target"]
        return {"alive": 1.0, "distance": -self.distance_weight * float(error @ error)}

    def overlays(self) -> dict[str, Any]:
        target = self.episode.get("target")
        return {} if target is None else {"target": np.array([*target, 0.0])}
