"""The MuJoCo engine (PyPI ``mujoco``): OpenSim models converted and run on
MuJoCo, behind the `osim.engines.Engine` interface (`engine.MuJoCoEngine`,
registered as ``"mujoco"``).

The parts, each measured against OpenSim in its tests: `convert` (the
skeleton as MJCF: bodies, joints, couplings, contact geometry, markers),
`contact` (Hunt-Crossley contact as MuJoCo soft contact), `paths` (muscle
path geometry as fitted functions of the coordinates), `muscles` (Thelen 2003
in numpy), `forces` (coordinate-limit forces and springs), `kernels` (the
per-step arithmetic compiled), `build` (all of it for one model, cached),
`scene` (drawing), `export` (``osim-rl convert``). Nothing is imported here,
so that ``import osim.engines.mujoco`` loads neither ``mujoco`` nor ``opensim``.
"""
