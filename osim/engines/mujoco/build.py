"""Everything the MuJoCo engine needs of one OpenSim model, built once.

`build` reads an ``opensim.Model`` and returns a `MujocoBuild`: the compiled
MuJoCo skeleton with its contacts configured, the muscles' parameters, their
fitted path geometry, the coordinate forces, and the model's structure (names,
coordinate kinds, joints). Fitting the paths takes seconds; the fit is cached
on disk by the model's content (`path_cache_dir`), so a model seen before
builds in a fraction of a second.

A model the engine cannot run faithfully is refused with one ``ValueError``
naming the element and the model: muscles other than Thelen2003Muscle, forces
other than muscles, Hunt-Crossley contact, coordinate-limit forces and
generalized springs, and whatever `convert.convert_skeleton` refuses.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import opensim

from osim.engines.mujoco.contact import ContactModel, configure_contacts
from osim.engines.mujoco.convert import Skeleton, convert_skeleton
from osim.engines.mujoco.forces import CoordinateForces
from osim.engines.mujoco.muscles import ThelenMuscles
from osim.engines.mujoco.paths import FORMAT_VERSION, MusclePaths, fit_paths

# Forces the engine runs, besides muscles (`ThelenMuscles`): contact, and the
# forces on single coordinates (`CoordinateForces`).
SUPPORTED_FORCES = ("HuntCrossleyForce", *CoordinateForces.SUPPORTED)
# Bump when the path fit changes, so that cached fits are refitted.
PATH_FIT_VERSION = 2


def path_cache_dir() -> Path | None:
    """Where fitted muscle paths are kept: ``$OSIM_RL_CACHE`` (empty: no
    cache), else ``$XDG_CACHE_HOME/osim-rl`` or ``~/.cache/osim-rl``."""
    configured = os.environ.get("OSIM_RL_CACHE")
    if configured is not None:
        return Path(configured) / "mujoco-paths" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "osim-rl" / "mujoco-paths"


@dataclass
class MujocoBuild:
    """One model's MuJoCo form. ``mj_model`` is the engine's own (contacts
    configured); the rest is read-only model structure."""

    name: str
    skeleton: Skeleton
    mj_model: mujoco.MjModel
    contacts: ContactModel
    muscles: ThelenMuscles
    paths: MusclePaths
    coordinate_forces: CoordinateForces
    coordinate_names: list[str]
    coordinate_types: list[str]
    joint_coordinates: dict[str, list[str]]
    body_names: list[str]
    marker_names: list[str]
    default_activations: np.ndarray
    record_labels: dict[str, int]  # force name -> how many values OpenSim records for it
    paths_from_cache: bool


def build(model: opensim.Model, timestep: float, *, use_cache: bool = True) -> MujocoBuild:
    """The MuJoCo form of ``model`` (read, not changed) at ``timestep`` (s)."""
    where = f"model {model.getName()!r}"
    _check_forces(model, where)
    muscles = ThelenMuscles.from_model(model)
    if muscles.count == 0:
        raise ValueError(f"{where} has no muscles to control")
    skeleton = convert_skeleton(model, timestep)
    mj_model = mujoco.MjModel.from_xml_string(skeleton.xml)
    skeleton.locate(mj_model)
    contacts = configure_contacts(skeleton, mj_model)
    paths, cached = _muscle_paths(model, use_cache)

    coordinates = list(model.getCoordinateSet())
    coordinate_names = [c.getName() for c in coordinates]
    kinds = {opensim.Coordinate.Rotational: "rotational",
             opensim.Coordinate.Translational: "translational",
             opensim.Coordinate.Coupled: "coupled"}
    if paths.coordinate_names != coordinate_names or list(paths.muscle_names) != list(muscles.names):
        raise ValueError(f"{where}: the fitted muscle paths do not match its coordinates and muscles")
    record_labels = {force.getName(): force.getRecordLabels().getSize()
                     for force in model.getForceSet()}
    return MujocoBuild(
        name=model.getName(),
        skeleton=skeleton,
        mj_model=mj_model,
        contacts=contacts,
        muscles=muscles,
        paths=paths,
        coordinate_forces=CoordinateForces.from_model(model, coordinate_names),
        coordinate_names=coordinate_names,
        coordinate_types=[kinds[c.getMotionType()] for c in coordinates],
        joint_coordinates={j.getName(): [j.get_coordinates(i).getName()
                                         for i in range(j.numCoordinates())]
                           for j in model.getJointSet()},
        body_names=[b.getName() for b in model.getBodySet()],
        marker_names=[m.getName() for m in model.getMarkerSet()],
        default_activations=np.array([opensim.Thelen2003Muscle.safeDownCast(m).getDefaultActivation()
                                      for m in model.getMuscles()]),
        record_labels=record_labels,
        paths_from_cache=cached,
    )


def _check_forces(model: opensim.Model, where: str) -> None:
    for force in model.getForceSet():
        kind = force.getConcreteClassName()
        if not force.get_appliesForce():
            continue
        if opensim.Muscle.safeDownCast(force) is not None:
            continue  # ThelenMuscles names any muscle of another model
        if kind not in SUPPORTED_FORCES:
            raise ValueError(f"{where}: force {force.getName()!r} is a {kind}, which the MuJoCo "
                             f"engine does not run (it runs muscles and {', '.join(SUPPORTED_FORCES)})")
    for controller in model.getControllerSet():
        raise ValueError(f"{where}: controller {controller.getName()!r}: the MuJoCo engine takes "
                         "excitations from its caller only")


def model_digest(model: opensim.Model) -> str:
    """A key for the model's content: the SHA-256 of its XML (and of the fit's version)."""
    text = f"{FORMAT_VERSION}:{PATH_FIT_VERSION}:{model.dump()}"
    return hashlib.sha256(text.encode()).hexdigest()


def _muscle_paths(model: opensim.Model, use_cache: bool) -> tuple[MusclePaths, bool]:
    directory = path_cache_dir() if use_cache else None
    if directory is None:
        return fit_paths(model), False
    path = directory / f"{model.getName()}-{model_digest(model)[:32]}.npz"
    if path.is_file():
        try:
            return MusclePaths.load(path), True
        except (OSError, ValueError, KeyError):
            pass  # unreadable or from an older format: refit and replace it
    paths = fit_paths(model)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as file:
            np.savez(file, **paths.to_dict())
        os.replace(file.name, path)  # atomic: parallel workers never read half a file
    except OSError:
        pass  # a read-only home: fit each time
    return paths, False


__all__ = ["MujocoBuild", "PATH_FIT_VERSION", "SUPPORTED_FORCES", "build", "model_digest",
           "path_cache_dir"]
