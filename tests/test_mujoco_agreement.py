"""An agreement target of the MuJoCo engine that tests/test_mujoco_engine.py
does not check: the HUMAN left alone (zero excitation) falls as in OpenSim.
The full report of every target is ``python benchmarks/agreement.py``."""

import osim  # noqa: F401  (before opensim: loads the engine's libraries)
import numpy as np
import pytest

from osim.engines import ModelSpec, make_engine
from osim.tasks import TASKS


def fall_time(engine: str, min_height: float, max_time: float = 5.0) -> float:
    """When the HUMAN's pelvis first drops below ``min_height`` at zero excitation."""
    sim = make_engine(engine, ModelSpec("human"))
    pelvis = sim.coordinate_names.index("pelvis_ty")
    excitations = np.zeros(sim.num_muscles)
    while sim.time < max_time:
        sim.step(excitations)
        if sim.coordinate_values()[pelvis] < min_height:
            return sim.time
    pytest.fail(f"the {engine} HUMAN did not fall within {max_time} s")


@pytest.mark.xfail(strict=True, reason=(
    "measured: MuJoCo 1.77 s, OpenSim 1.39 s (27% off). Standing still is an unstable "
    "equilibrium and the two fall different ways: OpenSim forward with the knees buckling, "
    "MuJoCo backward with the knees held straight. The feet start pressed into the ground "
    "and the first bounce differs (MuJoCo's soft contact holds them with static friction; "
    "Hunt-Crossley lets them slip). The rigid tendon fell at 1.63 s (17% off) but its "
    "muscle forces are far from OpenSim's (benchmarks/agreement.py)."))
def test_human_at_zero_excitation_falls_when_opensims_does():
    """Issue target: below the Gait task's termination height within 20% of
    OpenSim's time."""
    min_height = TASKS["Gait"]().min_pelvis_height
    ours, reference = fall_time("mujoco", min_height), fall_time("opensim", min_height)
    assert ours == pytest.approx(reference, rel=0.2), (ours, reference)
