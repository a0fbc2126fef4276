"""Hand-written policies for demonstration videos (``osim-rl record --policy``).

They are not trained agents and make no claim to solve a task: they exist so
that a short video shows what a task looks like. Each is a factory
``name(env) -> policy(observation) -> action`` for a Gymnasium osim env.
"""

from __future__ import annotations

import numpy as np

HAND = "r_radius_styloid"
SHOULDER, ELBOW = "r_shoulder_elev", "r_elbow_flex"


def arm_reach(env, *, stiffness: float = 8.0, damping: float = 0.8):
    """ARM: a joint-space proportional-derivative reacher.

    The joint angles that put the hand on the target are looked up once per
    target in a table of the arm's forward kinematics (31 x 31 poses over the
    task's joint ranges); the shoulder error drives the biceps (the only
    shoulder flexors) or the long head of the triceps, the elbow error the
    brachialis or the other triceps heads, which also cancel the biceps' elbow
    flexion. The arm's biceps are too weak to hold it much above 30 degrees of
    elevation, so this reaches low targets (e.g. ``--seed 2``) and falls short
    of high ones.
    """
    from osim.tasks.arm import ArmReach

    base = env.unwrapped
    if not isinstance(base.task, ArmReach) or base.obs_as_dict:
        raise ValueError("arm_reach drives the Arm task with flat observations")
    sim = base.sim
    shoulder = np.linspace(*ArmReach.SHOULDER_RANGE, 31)
    elbow = np.linspace(*ArmReach.ELBOW_RANGE, 31)
    hand = np.array([[sim.marker_position_at(HAND, {SHOULDER: a, ELBOW: b})[:2] for b in elbow]
                     for a in shoulder])
    labels = base.observation_labels
    index = {key: [i for i, label in enumerate(labels) if label.startswith(key + "/")]
             for key in ("target", "joint_pos", "joint_vel")}
    muscles = {name: i for i, name in enumerate(base.action_labels)}

    def policy(observation: np.ndarray) -> np.ndarray:
        target = observation[index["target"]]
        q, qdot = observation[index["joint_pos"]], observation[index["joint_vel"]]
        i, j = np.unravel_index(np.argmin(np.linalg.norm(hand - target, axis=-1)),
                                hand.shape[:2])
        u = stiffness * (np.array([shoulder[i], elbow[j]]) - q) - damping * qdot
        u_shoulder = u[0] + 0.5 * np.sin(q[0]) + 0.1  # + gravity's pull on the raised arm
        biceps = np.clip(u_shoulder + min(0.0, u[1]), 0.0, 1.0)
        extensors = np.clip(-u[1] + biceps, 0.0, 1.0)
        action = np.zeros(len(muscles), dtype=np.float32)
        action[[muscles["BIClong"], muscles["BICshort"]]] = biceps
        action[muscles["TRIlong"]] = np.clip(-u_shoulder, 0.0, 1.0)
        action[[muscles["TRIlat"], muscles["TRImed"]]] = extensors
        action[muscles["BRA"]] = np.clip(u[1], 0.0, 1.0)
        return action

    return policy
