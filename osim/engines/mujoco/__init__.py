"""The MuJoCo engine (PyPI ``mujoco``, the ``mujoco`` extra): OpenSim models
converted to MJCF and run on MuJoCo.

`convert` turns an ``opensim.Model``'s skeleton into MJCF
(`convert.convert_skeleton`: bodies, joints, couplings, contact geometry,
markers); `muscles` and `paths` compute OpenSim's muscle dynamics and path
geometry in numpy. Nothing is imported here, so that
``import osim.engines.mujoco`` needs neither ``mujoco`` nor ``opensim``.
"""
