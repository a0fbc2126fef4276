"""HUMAN standing: stand still."""

from __future__ import annotations


from osim.engines import Engine
from osim.tasks.human import HumanTask


class HumanStand(HumanTask):
    """Stand still with the planar HUMAN model (as the 2017 osim-rl StandEnv).

    Reward per step, with ``a`` and ``v`` the acceleration (m/s^2) and
    velocity (m/s) of the whole-body centre of mass, all three components
    (z is 0 in this planar model)::

        reward = (50 - min(|a|^2, 10) - min(|v|^2, 40)) / 50

    named ``alive`` (+1), ``acceleration`` (``-min(|a|^2, 10) / 50``) and
    ``velocity`` (``-min(|v|^2, 40) / 50``); it lies in [0, 1]. Parameters
    (the figures above): ``max_acceleration_sq`` (10), ``max_velocity_sq``
    (40), ``reward_scale`` (50). Standing on
    the ground in the default pose the feet are pressed into the compliant
    contact, so the first steps' acceleration term is saturated.

    Terminated when the pelvis height ``pelvis_ty < min_pelvis_height`` (0.5 m); 500 steps of
    0.01 s at most; 18 actions (``symmetric=False``) by default.
    """

    classic_name = "StandEnv"
    SYMMETRIC = False
    parameters = {"min_pelvis_height": 0.5, "max_acceleration_sq": 10.0,
                  "max_velocity_sq": 40.0, "reward_scale": 50.0}

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        a, v = sim.center_of_mass_acceleration(), sim.center_of_mass_velocity()
        return {
            "alive": 1.0,
            "acceleration": -min(float(a @ a), self.max_acceleration_sq) / self.reward_scale,
            "velocity": -min(float(v @ v), self.max_velocity_sq) / self.reward_scale,
        }
