"""An OpenSim model as files for MuJoCo: what ``osim-rl convert`` writes.

`export_mujoco` builds the model's MuJoCo form (`build.build`) and writes

- ``OUT.xml``: the skeleton's MJCF with the contact parameters that
  `contact.configure_contacts` sets on the compiled model written into its
  ``<pair>`` elements and ``<option>`` (cone, impratio), so that
  ``mujoco.MjModel.from_xml_path`` gives the same contact;
- ``OUT.paths.npz``: the fitted muscle paths (`paths.MusclePaths.save`);
- ``OUT.muscles.json``: each muscle's Thelen 2003 parameters
  (`muscles.ThelenMuscles`).

Muscles are no MuJoCo actuators in this design: the engine
(`engine.MuJoCoEngine`) applies their forces as generalized forces, so the
XML alone is the passive skeleton with its contact; its header comment says so.

`parity_report` measures the conversion against OpenSim: coupling errors,
body origins at random poses, muscle path agreement and contact fit errors.
"""

from __future__ import annotations

import dataclasses
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import opensim

import osim
from osim.engines.mujoco.build import MujocoBuild, build
from osim.engines.mujoco.contact import FITTED_LOADS
from osim.engines.mujoco.convert import DEFAULT_TIMESTEP
from osim.engines.mujoco.muscles import ThelenMuscles
from osim.engines.mujoco.paths import agreement
from osim.engines.opensim.engine import load_model
from osim.engines.opensim.logging import quiet_opensim
from osim.models import MODELS, build_model
from osim.tasks import TASKS

# Each <pair> attribute and the MjModel field that configure_contacts sets for it.
PAIR_ATTRIBUTES = {
    "condim": "pair_dim",
    "friction": "pair_friction",
    "solref": "pair_solref",
    "solreffriction": "pair_solreffriction",
    "solimp": "pair_solimp",
    "margin": "pair_margin",
    "gap": "pair_gap",
}
CONES = {mujoco.mjtCone.mjCONE_PYRAMIDAL: "pyramidal", mujoco.mjtCone.mjCONE_ELLIPTIC: "elliptic"}
REPORT_POSES = 100
REPORT_SEED = 0
VERSION = getattr(osim, "__version__", "(unknown version)")


@dataclass
class ModelSource:
    """Where a model came from: ``description`` in words, ``python`` the
    argument that gives `MuJoCoEngine` the same model; ``path`` its file, or
    ``builtin`` its name in `osim.models.MODELS`, if any."""

    model: opensim.Model
    description: str
    python: str
    path: Path | None = None
    builtin: str | None = None


@dataclass
class ExportResult:
    """The files written and what they were made from."""

    xml: Path
    paths: Path
    muscles: Path
    source: ModelSource
    build: MujocoBuild

    @property
    def files(self) -> list[Path]:
        return [self.xml, self.paths, self.muscles]


def companion_paths(out_xml: str | os.PathLike) -> tuple[Path, Path]:
    """The muscle files written beside ``out_xml``: OUT.paths.npz and OUT.muscles.json."""
    out = Path(out_xml)
    return out.with_suffix(".paths.npz"), out.with_suffix(".muscles.json")


def load_source(model: opensim.Model | str | os.PathLike) -> ModelSource:
    """``model`` as an ``opensim.Model`` (a private copy, frames connected):
    a built-in model by its name in `osim.models.MODELS`, an ``.osim`` path
    (``./arm`` for a file named like a built-in model), or an ``opensim.Model``."""
    quiet_opensim()
    if isinstance(model, opensim.Model):
        source = ModelSource(load_model(model), f"model {model.getName()!r} (in memory)",
                             "model")
    elif isinstance(model, str) and model in MODELS:
        source = ModelSource(build_model(model), f"built-in model {model!r}",
                             f"osim.models.build_model({model!r})", builtin=model)
    else:
        path = Path(model).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{str(model)!r} is neither a model file nor a built-in "
                                    f"model ({', '.join(MODELS)})")
        source = ModelSource(load_model(path), str(path), repr(str(path)), path=path)
    try:
        source.model.finalizeConnections()  # a copy's frames are not yet connected
    except Exception as err:  # noqa: BLE001  (OpenSim's errors arrive as RuntimeError)
        raise ValueError(f"OpenSim could not connect model "
                         f"{source.model.getName()!r}: {err}") from None
    return source


def export_mujoco(model: opensim.Model | str | os.PathLike, out_xml: str | os.PathLike, *,
                  timestep: float = DEFAULT_TIMESTEP, use_cache: bool = True) -> ExportResult:
    """Write ``out_xml`` and its muscle files (see the module's docstring) for
    ``model`` (see `load_source`) at MuJoCo's ``timestep`` (s), which the
    contact parameters depend on. Raises ``ValueError`` naming the element and
    the model for anything the MuJoCo engine does not convert."""
    out_xml = Path(out_xml)
    if not out_xml.parent.is_dir():  # before the seconds of fitting
        raise FileNotFoundError(f"no folder {str(out_xml.parent)!r} to write {out_xml.name!r} in")
    source = load_source(model)
    built = build(source.model, timestep, use_cache=use_cache)
    paths_file, muscles_file = companion_paths(out_xml)
    xml = mjcf_with_contacts(built, header=_header(source, built, out_xml))
    out_xml.write_text(xml, encoding="utf-8")
    built.paths.save(paths_file)
    muscles_file.write_text(json.dumps(muscles_document(built.muscles, source), indent=1) + "\n",
                            encoding="utf-8")
    return ExportResult(out_xml, paths_file, muscles_file, source, built)


# ---------------------------------------------------------------------------
# The MJCF
# ---------------------------------------------------------------------------
def _numbers(values) -> str:
    """MJCF text that reads back exactly (repr: the shortest round trip)."""
    values = np.atleast_1d(values)
    if np.issubdtype(values.dtype, np.integer):
        return " ".join(str(int(v)) for v in values)
    return " ".join(repr(float(v)) for v in values)


def mjcf_with_contacts(built: MujocoBuild, header: str = "") -> str:
    """The skeleton's MJCF with ``built.mj_model``'s contact parameters in
    it, preceded by the comment ``header``. Checked: MuJoCo compiles it to
    the same pair parameters, cone and impratio."""
    mj_model = built.mj_model
    root = ET.fromstring(built.skeleton.xml)
    pair_ids = {(mj_model.geom(int(g1)).name, mj_model.geom(int(g2)).name): i
                for i, (g1, g2) in enumerate(zip(mj_model.pair_geom1, mj_model.pair_geom2))}
    for element in root.iter("pair"):
        pair_id = pair_ids[element.get("geom1"), element.get("geom2")]
        for attribute, field in PAIR_ATTRIBUTES.items():
            element.set(attribute, _numbers(getattr(mj_model, field)[pair_id]))
    if pair_ids:  # configure_contacts sets the cone and impratio for a model's pairs
        option = root.find("option")
        option.set("cone", CONES[mujoco.mjtCone(mj_model.opt.cone)])
        option.set("impratio", _numbers(mj_model.opt.impratio))
    text = ET.tostring(root, encoding="unicode")
    _check_contacts_read_back(text, mj_model, built.name)
    return (_comment(header) + "\n" if header else "") + text + "\n"


def _check_contacts_read_back(xml: str, configured: mujoco.MjModel, name: str) -> None:
    loaded = mujoco.MjModel.from_xml_string(xml)
    fields = [*PAIR_ATTRIBUTES.values(), "pair_geom1", "pair_geom2"]
    differing = [f for f in fields if not np.array_equal(getattr(loaded, f), getattr(configured, f))]
    differing += [f"opt.{f}" for f in ("cone", "impratio")
                  if getattr(loaded.opt, f) != getattr(configured.opt, f)]
    if differing:
        raise ValueError(f"model {name!r}: MuJoCo reads back other contact parameters "
                         f"from the MJCF ({', '.join(differing)})")


def _comment(text: str) -> str:
    return "<!--\n" + text.replace("--", "- -") + "\n-->"  # "--" may not occur in a comment


def _header(source: ModelSource, built: MujocoBuild, out_xml: Path) -> str:
    paths_file, muscles_file = companion_paths(out_xml)
    timestep = built.mj_model.opt.timestep
    # The contact parameters were fitted at this timestep: the engine needs the same one.
    default = timestep == DEFAULT_TIMESTEP
    engine = "" if default else f", timestep={timestep!r}"
    env = 'engine="mujoco"' + ("" if default else f", max_step_size={timestep!r}")
    run = [f"  osim.engines.mujoco.engine.MuJoCoEngine({source.python}{engine})"]
    if source.path is not None:
        run.append(f"  osim.env.OsimGymEnv(osim.tasks.ModelTask({source.python}), {env})")
    tasks = _tasks_on(source)
    if tasks:
        run.append(f"  osim.env.OsimGymEnv({tasks[0]!r}, {env})"
                   f"   (tasks on this model: {', '.join(tasks)})")
    return "\n".join([
        f"MuJoCo model of {source.description},",
        f"written by osim-rl {VERSION} (osim-rl convert).",
        "",
        "Muscles are not MuJoCo actuators here: osim-rl's MuJoCo engine computes",
        "their Thelen 2003 forces in numpy and applies them as generalized forces",
        "(qfrc_applied). Loaded alone, this file is the passive skeleton"
        + (" with its contact." if built.contacts.pairs else ".") + " Beside it:",
        f"  {paths_file.name}: the fitted muscle paths, lengths and moment arms as functions",
        "    of the OpenSim coordinates (osim.engines.mujoco.paths.MusclePaths.load);",
        f"  {muscles_file.name}: each muscle's Thelen 2003 parameters.",
        "Run it with its muscles from the source model:",
        *run,
    ])


def _tasks_on(source: ModelSource) -> list[str]:
    """The registered tasks on this built-in model (none for another model)."""
    if source.builtin is None:
        return []
    return [task for task, cls in TASKS.items() if getattr(cls, "model", None) == source.builtin]


def muscles_document(muscles: ThelenMuscles, source: ModelSource) -> dict:
    """The muscles' Thelen 2003 parameters by muscle name, as JSON-ready data:
    ``ThelenMuscles(names, **columns)`` rebuilds them."""
    parameters = [f.name for f in dataclasses.fields(muscles) if f.init and f.name != "names"]
    return {
        "source": source.description,
        "osim_rl_version": VERSION,
        "muscle_model": "Thelen2003Muscle",
        "units": "SI (N, m, s, rad); max_contraction_velocity in optimal fiber lengths per second",
        "muscles": {name: {p: float(getattr(muscles, p)[i]) for p in parameters}
                    for i, name in enumerate(muscles.names)},
    }


def muscles_from_document(document: dict) -> ThelenMuscles:
    """The `ThelenMuscles` that `muscles_document` describes."""
    names = list(document["muscles"])
    rows = [document["muscles"][name] for name in names]
    return ThelenMuscles(tuple(names), **{p: np.array([row[p] for row in rows]) for p in rows[0]})


# ---------------------------------------------------------------------------
# Parity with OpenSim
# ---------------------------------------------------------------------------
def body_origin_errors(model: opensim.Model, built: MujocoBuild, n_poses: int = REPORT_POSES,
                       seed: int = REPORT_SEED) -> dict[str, float]:
    """Per body, the largest distance (m) between OpenSim's body origin and
    MuJoCo's at ``n_poses`` random poses (free coordinates uniform over their
    ranges; coupled joints set from their polynomials, as the engine sets them)."""
    copy = opensim.Model(model)
    state = copy.initSystem()
    free = [c for c in copy.getCoordinateSet() if not c.getDefaultLocked()]
    bodies = list(copy.getBodySet())
    body_ids = [built.mj_model.body(built.skeleton.bodies[b.getName()]).id for b in bodies]
    data = mujoco.MjData(built.mj_model)
    rng = np.random.default_rng(seed)
    largest = np.zeros(len(bodies))
    for _ in range(n_poses):
        pose = {c.getName(): rng.uniform(c.getRangeMin(), c.getRangeMax()) for c in free}
        for coordinate in free:
            coordinate.setValue(state, pose[coordinate.getName()], False)
        copy.realizePosition(state)
        mujoco.mj_resetData(built.mj_model, data)
        built.skeleton.set_qpos(data.qpos, pose)
        mujoco.mj_kinematics(built.mj_model, data)
        in_opensim = np.array([_vec3(b.getPositionInGround(state)) for b in bodies])
        largest = np.maximum(largest, np.linalg.norm(data.xpos[body_ids] - in_opensim, axis=1))
    return dict(zip((b.getName() for b in bodies), map(float, largest)))


def _vec3(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(3)])


def parity_report(model: opensim.Model, built: MujocoBuild, n_poses: int = REPORT_POSES,
                  seed: int = REPORT_SEED) -> str:
    """How closely ``built`` (the MuJoCo form of ``model``) follows OpenSim, as
    plain aligned text: couplings, body origins and muscle paths at ``n_poses``
    random poses, contact force laws."""
    sections = [
        f"Parity of model {built.name!r} with OpenSim (MuJoCo {mujoco.__version__}, "
        f"timestep {built.mj_model.opt.timestep * 1000:g} ms)",
        _couplings_section(built),
        _bodies_section(model, built, n_poses, seed),
        _paths_section(model, built, n_poses),
        _contacts_section(built),
    ]
    return "\n\n".join(sections)


def _table(rows: list[tuple[str, ...]], numbers: int) -> list[str]:
    """Rows of cells, indented, columns padded to their widest cell; column
    ``numbers`` (a figure) right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.rjust(w) if i == numbers else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def _couplings_section(built: MujocoBuild) -> str:
    title = "Coupled joints: largest error of the polynomial over the coordinate's range"
    couplings = built.skeleton.couplings
    if not couplings:
        return f"{title}\n  none"
    rows = [(c.joint, f"{c.function} of {c.coordinate}",
             *((f"{c.max_error * 1e3:.3f}", "mm") if c.kind == "slide"
               else (f"{c.max_error * 1e3:.3f}", "mrad")))
            for c in couplings]
    return "\n".join([title, *_table(rows, numbers=2)])


def _bodies_section(model: opensim.Model, built: MujocoBuild, n_poses: int, seed: int) -> str:
    errors = body_origin_errors(model, built, n_poses, seed)
    worst = max(errors, key=errors.get)
    return "\n".join([f"Body origins vs OpenSim, {n_poses} random poses",
                      *_table([("largest error", f"{errors[worst]:.2e}", "m", f"({worst})")],
                                               numbers=1)])


def _paths_section(model: opensim.Model, built: MujocoBuild, n_poses: int) -> str:
    fit = agreement(model, built.paths, n_poses)
    (length_muscle, length_error), ((pair_muscle, pair_coordinate), pair_error) = (
        fit["worst_length"], fit["worst_pair"])
    rows = [("worst length RMS", f"{length_error:.3f}", "%", f"({length_muscle})"),
            ("worst moment-arm RMS", f"{pair_error:.3f}", "mm",
             f"({pair_muscle} about {pair_coordinate})"),
            ("mean moment-arm RMS", f"{fit['mean_pair_mm']:.3f}", "mm",
             f"(over {len(fit['moment_arm_rms_mm'])} muscle-coordinate pairs)")]
    return "\n".join([f"Muscle paths vs OpenSim, {n_poses} random poses ({len(fit['length_rms_percent'])} "
                      "muscles)", *_table(rows, numbers=1)])


def _contacts_section(built: MujocoBuild) -> str:
    low, high = FITTED_LOADS
    title = (f"Contact pairs: largest error of MuJoCo's force at rest vs Hunt-Crossley, "
             f"{low:g}-{high:g} body weights")
    pairs = built.contacts.pairs
    if not pairs:
        return f"{title}\n  none"
    rows = [(p.force, f"{p.geom1}-{p.geom2}", f"{p.fit_error * 100:.1f}", "%") for p in pairs]
    return "\n".join([title, *_table(rows, numbers=2)])


__all__ = ["ExportResult", "ModelSource", "PAIR_ATTRIBUTES", "body_origin_errors",
           "companion_paths", "export_mujoco", "load_source", "mjcf_with_contacts",
           "muscles_document", "muscles_from_document", "parity_report"]
