"""HUMAN jumping: keep the pelvis high (the original osim-rl "hop")."""

from __future__ import annotations

from osim.engines import Engine
from osim.tasks.human import HumanTask


class HumanJump(HumanTask):
    """Jump: keep the pelvis as high as possible (as the 2017 osim-rl HopEnv).

    Reward per step, with ``y`` the pelvis height ``pelvis_ty`` (m)::

        reward = y^3

    named ``height``. Terminated when ``y < min_pelvis_height`` (0.4 m); 500 steps of 0.01 s at
    most. Symmetric by default: 9 actions, each driving a muscle of both legs
    (the original hop model moved both legs together).
    """

    classic_name = "JumpEnv"
    SYMMETRIC = True
    parameters = {"min_pelvis_height": 0.4}

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        return {"height": self.pelvis_height(sim) ** 3}
