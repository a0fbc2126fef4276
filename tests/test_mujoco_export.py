"""``osim-rl convert`` (osim.engines.mujoco.export) end to end, with real
OpenSim and MuJoCo: the built-in ARM by name and the HUMAN as a user's .osim
file, each converted by the command line and its files checked against the
engine's own conversion (contact configured on the compiled model, a fresh
path fit, the muscles read from the model); and a model the converter refuses.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opensim
import pytest

import model_parity as mp
import osim
from osim.cli import main
from osim.models import build_model, export_model

mujoco = pytest.importorskip("mujoco")
from osim.engines.mujoco.contact import configure_contacts  # noqa: E402  (after the skip)
from osim.engines.mujoco.convert import DEFAULT_TIMESTEP, convert_skeleton  # noqa: E402
from osim.engines.mujoco.export import muscles_from_document  # noqa: E402
from osim.engines.mujoco.muscles import ThelenMuscles  # noqa: E402
from osim.engines.mujoco.paths import MusclePaths, agreement, fit_paths  # noqa: E402

mp.silence_opensim()

# What configure_contacts sets on a compiled model, listed here independently of export.py.
PAIR_FIELDS = ("pair_dim", "pair_friction", "pair_solref", "pair_solreffriction", "pair_solimp",
               "pair_margin", "pair_gap", "pair_geom1", "pair_geom2")


def run_convert(*args) -> tuple[int, str, str]:
    """``osim-rl convert ARGS`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["convert", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


@dataclass
class Exported:
    """A model as the command line got it, and what the command did."""

    model: opensim.Model  # the same model, read here
    source: str  # how the XML's header names it
    contact_pairs: int
    xml: Path
    code: int
    stdout: str
    stderr: str

    @property
    def paths_file(self) -> Path:
        return self.xml.with_suffix(".paths.npz")

    @property
    def muscles_file(self) -> Path:
        return self.xml.with_suffix(".muscles.json")


@pytest.fixture(scope="module")
def fresh_fits():
    """No path cache: every export fits its paths afresh."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OSIM_RL_CACHE", "")
        yield


@pytest.fixture(scope="module")
def arm_export(tmp_path_factory, fresh_fits) -> Exported:
    out = tmp_path_factory.mktemp("arm") / "arm.xml"
    return Exported(build_model("arm"), "built-in model 'arm'", 0, out, *run_convert("arm", out))


@pytest.fixture(scope="module")
def human_export(tmp_path_factory, fresh_fits) -> Exported:
    folder = tmp_path_factory.mktemp("human")
    osim_file = export_model("human", folder / "human.osim")
    model = opensim.Model(str(osim_file))
    model.finalizeConnections()
    out = folder / "human.xml"
    return Exported(model, str(osim_file.resolve()), 4, out,
                    *run_convert(osim_file, out, "--report"))


@pytest.fixture(scope="module", params=["arm", "human"])
def exported(request) -> Exported:
    return request.getfixturevalue(f"{request.param}_export")


def test_writes_the_three_files_and_says_so(exported):
    assert (exported.code, exported.stderr) == (0, "")
    last = exported.stdout.splitlines()[-1]
    assert last.startswith("wrote ")
    for file in (exported.xml, exported.paths_file, exported.muscles_file):
        assert file.is_file() and str(file) in last


def test_quiet_without_report(arm_export):
    assert len(arm_export.stdout.splitlines()) == 1


def test_xml_loads_with_the_contact_that_configure_contacts_sets(exported):
    loaded = mujoco.MjModel.from_xml_path(str(exported.xml))
    skeleton = convert_skeleton(exported.model, DEFAULT_TIMESTEP)
    configured = mujoco.MjModel.from_xml_string(skeleton.xml)
    contacts = configure_contacts(skeleton, configured)
    assert loaded.npair == len(contacts.pairs) == exported.contact_pairs
    for field in PAIR_FIELDS:
        np.testing.assert_array_equal(getattr(loaded, field), getattr(configured, field), err_msg=field)
    assert loaded.opt.cone == configured.opt.cone
    assert loaded.opt.impratio == configured.opt.impratio
    # ... and the same skeleton
    np.testing.assert_array_equal(loaded.body_pos, configured.body_pos)
    np.testing.assert_array_equal(loaded.body_mass, configured.body_mass)
    np.testing.assert_array_equal(loaded.jnt_axis, configured.jnt_axis)
    np.testing.assert_array_equal(loaded.eq_data, configured.eq_data)


def test_human_contact_is_elliptic_as_configured(human_export):
    loaded = mujoco.MjModel.from_xml_path(str(human_export.xml))
    assert loaded.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    assert loaded.opt.impratio != 1.0  # fitted, not MuJoCo's default


def test_xml_header_names_version_source_and_engine(exported):
    header = exported.xml.read_text().split("-->")[0]
    assert header.startswith("<!--")
    assert f"osim-rl {osim.__version__}" in header
    assert exported.source in header
    assert "osim.engines.mujoco.engine.MuJoCoEngine(" in header
    assert 'engine="mujoco"' in header
    assert "not MuJoCo actuators" in header


def test_paths_equal_a_fresh_fit(exported):
    saved = MusclePaths.load(exported.paths_file)
    fresh = fit_paths(exported.model)
    assert saved.muscle_names == fresh.muscle_names
    assert saved.coordinate_names == fresh.coordinate_names
    rng = np.random.default_rng(3)
    poses = rng.uniform(saved.lower, saved.upper, (50, len(saved.lower)))
    for got, expected in zip(saved.evaluate_many(poses), fresh.evaluate_many(poses)):
        np.testing.assert_allclose(got, expected, rtol=0.0, atol=1e-12)


def test_muscles_json_holds_the_thelen_parameters(exported):
    document = json.loads(exported.muscles_file.read_text())
    saved = muscles_from_document(document)
    expected = ThelenMuscles.from_model(exported.model)
    assert saved.names == expected.names
    for name in ("max_isometric_force", "optimal_fiber_length", "tendon_slack_length",
                 "pennation_angle_at_optimal", "activation_time_constant", "fmax_tendon_strain"):
        np.testing.assert_array_equal(getattr(saved, name), getattr(expected, name), err_msg=name)
    np.testing.assert_array_equal(saved.max_fiber_speed, expected.max_fiber_speed)


def test_report_gives_the_parity_figures(human_export):
    report = human_export.stdout
    skeleton = convert_skeleton(human_export.model, DEFAULT_TIMESTEP)
    for coupling in skeleton.couplings:  # the knees' spline translations
        assert re.search(rf"{coupling.joint} .* {coupling.max_error * 1e3:.3f}\s+mm", report)
    origins = float(re.search(r"largest error\s+(\S+)\s+m\b", report).group(1))
    assert 0.0 < origins < 1e-3  # the fitted knees move the shank by tenths of a millimetre
    fit = agreement(human_export.model, MusclePaths.load(human_export.paths_file))
    muscle, length = fit["worst_length"]
    assert re.search(rf"worst length RMS\s+{length:.3f}\s+%\s+\({muscle}\)", report)
    (muscle, coordinate), pair = fit["worst_pair"]
    assert re.search(rf"worst moment-arm RMS\s+{pair:.3f}\s+mm\s+\({muscle} about {coordinate}\)",
                     report)
    assert re.search(rf"mean moment-arm RMS\s+{fit['mean_pair_mm']:.3f}\s+mm", report)
    contacts = configure_contacts(skeleton, mujoco.MjModel.from_xml_string(skeleton.xml))
    for pair in contacts.pairs:
        assert re.search(rf"{pair.force}\s+{pair.geom1}-{pair.geom2}\s+{pair.fit_error * 100:.1f}\s+%",
                         report)


# ---------------------------------------------------------------------------
# Refusals: one line on stderr, exit code 2, nothing written
# ---------------------------------------------------------------------------
def _ellipsoid_joint(model: opensim.Model) -> None:
    body = opensim.Body("scapula", 1.0, opensim.Vec3(0.0), opensim.Inertia(0.1, 0.1, 0.1))
    model.addBody(body)
    model.addJoint(opensim.EllipsoidJoint("scapulothoracic", model.getGround(), opensim.Vec3(0.0),
                                          opensim.Vec3(0.0), body, opensim.Vec3(0.0),
                                          opensim.Vec3(0.0), opensim.Vec3(0.1, 0.2, 0.3)))


def _contact_ellipsoid(model: opensim.Model) -> None:
    model.addContactGeometry(opensim.ContactEllipsoid(
        opensim.Vec3(0.05, 0.1, 0.05), opensim.Vec3(0.0), opensim.Vec3(0.0),
        model.getBodySet().get("r_ulna_radius_hand"), "hand_pad"))


def _arm_file_with(change, path: Path) -> Path:
    model = build_model("arm")
    change(model)
    model.finalizeConnections()
    model.printToXML(str(path))
    return path


def test_unsupported_joint_exits_2_with_one_line_naming_it(tmp_path):
    osim_file = _arm_file_with(_ellipsoid_joint, tmp_path / "arm_scapula.osim")
    out = tmp_path / "out.xml"
    done = subprocess.run([sys.executable, "-m", "osim", "convert", str(osim_file), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("osim-rl convert: error: model 'arm2dof6musc': "
                                  "joint 'scapulothoracic' is a EllipsoidJoint")
    assert not out.exists()


def test_unsupported_contact_geometry_exits_2_naming_it(tmp_path):
    osim_file = _arm_file_with(_contact_ellipsoid, tmp_path / "arm_pad.osim")
    code, stdout, stderr = run_convert(osim_file, tmp_path / "out.xml")
    assert (code, stdout) == (2, "")
    assert stderr.startswith("osim-rl convert: error: model 'arm2dof6musc': "
                             "contact geometry 'hand_pad' (ContactEllipsoid)")
    assert not (tmp_path / "out.xml").exists()


def test_neither_file_nor_built_in_model_exits_2(tmp_path):
    code, _, stderr = run_convert(tmp_path / "missing.osim", tmp_path / "out.xml")
    assert code == 2
    assert "is neither a model file nor a built-in model (arm, human, gait3d)" in stderr
