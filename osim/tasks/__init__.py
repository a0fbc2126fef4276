"""Tasks: what to achieve in a model (observation, reward, termination).

A task is one module with one `Task` subclass; register it with one line in
`TASKS`, which names the Gymnasium id ``osim/<Name>-v0`` and the classic
class ``osim.env.<classic_name>``.
"""

from osim.tasks.arm import ArmReach
from osim.tasks.base import ModelTask, ObsEntry, Task
from osim.tasks.crouch import HumanCrouch
from osim.tasks.gait import HumanGait
from osim.tasks.human import HumanTask
from osim.tasks.jump import HumanJump
from osim.tasks.l2m2019 import L2M2019
from osim.tasks.l2run import L2Run
from osim.tasks.prosthetics import Prosthetics
from osim.tasks.stand import HumanStand

TASKS: dict[str, type[Task]] = {
    "Arm": ArmReach,
    "Stand": HumanStand,
    "Crouch": HumanCrouch,
    "Jump": HumanJump,
    "Gait": HumanGait,
    "L2Run": L2Run,
    "Prosthetics": Prosthetics,
    "L2M2019": L2M2019,
}

__all__ = ["TASKS", "Task", "ObsEntry", "ModelTask", "ArmReach", "HumanTask",
           "HumanStand", "HumanCrouch", "HumanJump", "HumanGait", "L2Run",
           "Prosthetics", "L2M2019"]
