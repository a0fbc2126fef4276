"""HUMAN gait: walk as far forward as possible."""

from __future__ import annotations

from typing import Any

import numpy as np

from osim.sim import Simulation
from osim.tasks.human import HumanTask


class HumanGait(HumanTask):
    """Walk as far as possible with the planar HUMAN model (as the 2017 osim-rl GaitEnv).

    Reward per step: the forward displacement of the pelvis in that step::

        reward = pelvis_tx(t) - pelvis_tx(t - 0.01 s)          (m)

    named ``forward``. The previous ``pelvis_tx`` is episode memory
    (``episode["pelvis_x"]``), set at reset and updated by every reward, so
    snapshots and pickles carry it.

    Terminated when the pelvis height ``pelvis_ty < 0.7`` m; 500 steps of
    0.01 s at most; 18 actions (``symmetric=False``) by default.
    """

    classic_name = "GaitEnv"
    MIN_PELVIS_HEIGHT = 0.7
    SYMMETRIC = False

    def reset(self, sim: Simulation, rng: np.random.Generator, **options: Any) -> None:
        super().reset(sim, rng, **options)
        self.episode["pelvis_x"] = self.pelvis_x(sim)

    def reward_terms(self, sim: Simulation) -> dict[str, float]:
        x = self.pelvis_x(sim)
        forward = x - self.episode["pelvis_x"]
        self.episode["pelvis_x"] = x
        return {"forward": forward}
