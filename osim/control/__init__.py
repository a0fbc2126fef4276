"""Controllers that drive the models without learning: a reflex-based walking
controller (Song & Geyer 2015, as adapted for Learn to Move 2019).

``reflex(env)`` is a policy factory, usable wherever ``--policy MODULE:FACTORY``
is accepted (``osim-rl evaluate --policy osim.control:reflex --env Gait``)."""

from __future__ import annotations

import numpy as np

from osim.control.reflex import (
    MUSCLES,
    EngineSensors,
    ReflexController,
    ReflexParameters,
    Sensors,
)

# Parameter table per model and mode (osim/control/params/<name>.json): the 3D
# gait model is L2M2019's, the planar HUMAN model the Gait task's.
DEFAULT_PARAMETERS = {("gait3d", "2D"): "l2m2019_2d", ("gait3d", "3D"): "l2m2019_3d",
                      ("human", "2D"): "human_2d"}


def reflex(env, parameters: str | ReflexParameters | None = None):
    """A policy ``observation -> action`` that walks ``env`` with reflexes.

    ``env``: a Gymnasium osim env (wrapped or not) or a classic one, on the
    HUMAN model (Stand, Gait, ...) or L2M2019. The controller reads the
    engine's state, not the observation (the HUMAN observation has no ground
    reaction forces or muscle forces), and restarts its state machine when
    the episode does. ``parameters``: a table name in ``osim/control/params``
    or `ReflexParameters`; default the table for the env's model and mode.
    """
    base = getattr(env, "env", env)  # a classic env wraps its Gymnasium env
    base = getattr(base, "unwrapped", base)
    sim, task = base.sim, base.task
    planar = "hip_adduction_r" not in sim.default_coordinates()  # absent or locked
    if parameters is None:
        key = (task.model, "2D" if planar else "3D")
        if key not in DEFAULT_PARAMETERS:
            raise ValueError(f"no reflex parameters for {key[0]} in {key[1]}; "
                             f"choose one of {sorted(DEFAULT_PARAMETERS.values())}")
        parameters = DEFAULT_PARAMETERS[key]
    if isinstance(parameters, str):
        parameters = ReflexParameters.load(parameters)
    sensors = EngineSensors(sim)
    controller = ReflexController(parameters, planar=planar)
    # The action index that drives each model muscle: a task's excitations()
    # map the actions onto the muscles, so probing with the indices inverts it.
    n_actions = int(np.prod(env.action_space.shape))
    source = np.asarray(task.excitations(np.arange(n_actions, dtype=float))).astype(int)
    targets = []
    for m, name in enumerate(sim.muscle_names):
        muscle, _, side = name.rpartition("_")
        abbreviation = next((a for a, n in MUSCLES.items() if n == muscle), None)
        if abbreviation is None or side not in "rl":
            raise ValueError(f"the reflex controller has no law for muscle {name!r}")
        targets.append((source[m], side, abbreviation))

    def policy(observation) -> np.ndarray:
        if sim.step_count == 0:
            controller.reset()
        stimulation = controller.step(sensors.read(sim))
        action = np.zeros(n_actions, dtype=np.float32)
        for index, side, abbreviation in targets:
            action[index] = stimulation[side][abbreviation]
        return action

    policy.controller = controller
    return policy


__all__ = ["reflex", "ReflexController", "ReflexParameters", "EngineSensors", "Sensors",
           "DEFAULT_PARAMETERS"]
