"""HUMAN standing: stand still."""

from __future__ import annotations


from osim.sim import Simulation
from osim.tasks.human import HumanTask


class HumanStand(HumanTask):
    """Stand still with the planar HUMAN model (as the 2017 osim-rl StandEnv).

    Reward per step, with ``a`` and ``v`` the acceleration (m/s^2) and
    velocity (m/s) of the whole-body centre of mass, all three components
    (z is 0 in this planar model)::

        reward = (50 - min(|a|^2, 10) - min(|v|^2, 40)) / 50

    named ``alive`` (+1), ``acceleration`` (``-min(|a|^2, 10) / 50``) and
    ``velocity`` (``-min(|v|^2, 40) / 50``); it lies in [0, 1]. Standing on
    the ground in the default pose the feet are pressed into the compliant
    contact, so the first steps' acceleration term is saturated.

    Terminated when the pelvis height ``pelvis_ty < 0.5`` m; 500 steps of
    0.01 s at most; 18 actions (``symmetric=False``) by default.
    """

    classic_name = "StandEnv"
    MIN_PELVIS_HEIGHT = 0.5
    SYMMETRIC = False

    MAX_ACCELERATION_SQ = 10.0
    MAX_VELOCITY_SQ = 40.0
    SCALE = 50.0

    def reward_terms(self, sim: Simulation) -> dict[str, float]:
        a, v = sim.center_of_mass_acceleration(), sim.center_of_mass_velocity()
        return {
            "alive": 1.0,
            "acceleration": -min(float(a @ a), self.MAX_ACCELERATION_SQ) / self.SCALE,
            "velocity": -min(float(v @ v), self.MAX_VELOCITY_SQ) / self.SCALE,
        }
