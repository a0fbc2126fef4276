"""HUMAN gait: walk as far forward as possible."""

from __future__ import annotations

from typing import Any

import numpy as np

from osim.engines import Engine
from osim.tasks.human import HumanTask


class HumanGait(HumanTask):
    """Walk as far as possible with the planar HUMAN model (as the 2017 osim-rl GaitEnv).

    Reward per step: the forward displacement of the pelvis in that step::

        reward = forward_reward_weight * (pelvis_tx(t) - pelvis_tx(t - 0.01 s))   (m)

    named ``forward`` (``forward_reward_weight`` 1 as the original). The previous ``pelvis_tx`` is episode memory
    (``episode["pelvis_x"]``), set at reset and updated by every reward, so
    snapshots and pickles carry it.

    Terminated when the pelvis height ``pelvis_ty < min_pelvis_height`` (0.7 m); 500 steps of
    0.01 s at most; 18 actions (``symmetric=False``) by default.
    """

    classic_name = "GaitEnv"
    SYMMETRIC = False
    parameters = {"min_pelvis_height": 0.7, "forward_reward_weight": 1.0}

    def reset(self, sim: Engine, rng: np.random.Generator, **options: Any) -> None:
        super().reset(sim, rng, **options)
        self.episode["pelvis_x"] = self.pelvis_x(sim)

    def reward_terms(self, sim: Engine) -> dict[str, float]:
        x = self.pelvis_x(sim)
        forward = x - self.episode["pelvis_x"]
        self.episode["pelvis_x"] = x
        return {"forward": self.forward_reward_weight * forward}
