"""HUMAN crouching: lower the pelvis without falling."""

from __future__ import annotations

from osim.engines import Engine
from osim.tasks.human import HumanTask


class HumanCrouch(HumanTask):
    """Crouch: bring the pelvis down without falling (as the 2017 osim-rl CrouchEnv).

    Reward per step, with ``y`` the pelvis height ``pelvis_ty`` (m)::

        reward = 1 - (y - 0.5)^3

    named ``alive`` (+1) and ``height`` (``-(y - 0.5)^3``): above 1 below
    0.5 m, below 1 above it (parameter ``target_height``, 0.5). Terminated
    when ``y < min_pelvis_height`` (0.25 m); 500 steps of
    0.01 s at most. Symmetric by default (9 actions, both legs together).
    """

    classic_name = "CrouchEnv"
    SYMMETRIC = True
    parameters = {"min_pelvis_height": 0.25, "target_height": 0.5}

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        return {"alive": 1.0, "height": -(self.pelvis_height(sim) - self.target_height) ** 3}
