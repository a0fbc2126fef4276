"""The MuJoCo engine's muscle path geometry (`osim.engines.mujoco.paths`)
against OpenSim's own paths: issue 14's agreement targets at random poses,
moment arms as exact derivatives, spans, OpenSim's length jumps, behaviour
past the fitted ranges and storage."""

import osim  # noqa: F401  (before opensim: see osim/engines/opensim/libs.py)
import numpy as np
import pytest

from osim.engines.mujoco.paths import MusclePaths, agreement, fit_paths
from osim.models import build_model

# Issue 14, item 4: per muscle length RMS <= 1% of its mean length; per
# muscle-coordinate pair moment-arm RMS <= 5 mm, mean over pairs <= 2 mm.
LENGTH_TARGET_PERCENT = 1.0
PAIR_TARGET_MM = 5.0
MEAN_PAIR_TARGET_MM = 2.0


@pytest.fixture(scope="module")
def human():
    model = build_model("human")
    return model, fit_paths(model)


@pytest.fixture(scope="module")
def arm():
    model = build_model("arm")
    return model, fit_paths(model)


def assert_agrees(model, paths):
    figures = agreement(model, paths)
    assert figures["worst_length"][1] <= LENGTH_TARGET_PERCENT, figures["worst_length"]
    assert figures["max_pair_mm"] <= PAIR_TARGET_MM, figures["worst_pair"]
    assert figures["mean_pair_mm"] <= MEAN_PAIR_TARGET_MM, figures["mean_pair_mm"]
    return figures


def assert_moment_arms_are_slopes(paths, seed=0, n_poses=10, step=1e-5):
    """-dL/dq by central differences, at poses inside and up to 30% past the ranges."""
    rng = np.random.default_rng(seed)
    width = paths.upper - paths.lower
    for margin in (0.0, 0.3):
        for _ in range(n_poses):
            q = paths.lower + (rng.random(len(width)) * (1 + 2 * margin) - margin) * width
            _, moment_arms = paths.evaluate(q)
            for c in range(len(q)):
                ahead, behind = q.copy(), q.copy()
                ahead[c] += step
                behind[c] -= step
                slope = (paths.evaluate(ahead)[0] - paths.evaluate(behind)[0]) / (2 * step)
                np.testing.assert_allclose(moment_arms[:, c], -slope, atol=1e-6)


def test_human_agrees_with_opensim(human):
    figures = assert_agrees(*human)
    assert len(figures["moment_arm_rms_mm"]) == 24  # the spanned pairs, no others


def test_arm_agrees_with_opensim(arm):
    assert_agrees(*arm)


# ~7-11 s each here; the healthy model adds only three ankle muscles to the other.
@pytest.mark.parametrize("prosthetic", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_gait3d_agrees_with_opensim(prosthetic):
    model = build_model("gait3d", prosthetic=prosthetic)
    paths = fit_paths(model)
    assert_agrees(model, paths)
    assert "root" in set(paths.families)  # the hip muscles' square roots
    assert_moment_arms_are_slopes(paths, n_poses=3)


def test_spans(human):
    _, paths = human
    assert paths.spanned("soleus_r") == ["ankle_angle_r"]
    assert paths.spanned("bifemsh_r") == ["knee_angle_r"]
    assert paths.spanned("hamstrings_l") == ["hip_flexion_l", "knee_angle_l"]
    assert paths.spanned("gastroc_r") == ["knee_angle_r", "ankle_angle_r"]
    assert paths.spanned("iliopsoas_r") == ["hip_flexion_r"]
    # Pelvis and the locked lumbar joint move no muscle's ends relative to each other.
    unused = ("pelvis_tilt", "pelvis_tx", "pelvis_ty", "lumbar_extension")
    assert not paths.spans[:, [paths.coordinate_names.index(n) for n in unused]].any()


def test_moment_arms_are_slopes(human, arm):
    assert_moment_arms_are_slopes(human[1])
    assert_moment_arms_are_slopes(arm[1])


def test_reproduces_a_conditional_path_points_jump(human):
    """iliopsoas's third point leaves the path below -90 degrees of hip
    flexion: OpenSim's length drops by 2 cm there, and so does the fit's."""
    model, paths = human
    state = model.initSystem()
    hip = model.getCoordinateSet().get("hip_flexion_r")
    muscle = model.getMuscles().get("iliopsoas_r")
    q = np.array([c.getDefaultValue() for c in model.getCoordinateSet()])
    fitted = []
    for degrees in (-90.05, -89.95):
        hip.setValue(state, np.radians(degrees), False)
        model.realizePosition(state)
        q[paths.coordinate_names.index("hip_flexion_r")] = np.radians(degrees)
        fitted.append(paths.evaluate(q)[0][paths.muscle_names.index("iliopsoas_r")])
        assert fitted[-1] == pytest.approx(muscle.getLength(state), abs=1e-3)
    assert fitted[1] - fitted[0] > 0.015


def test_continues_along_the_tangent_past_the_ranges(human):
    _, paths = human
    middle = (paths.lower + paths.upper) / 2
    knee = paths.coordinate_names.index("knee_angle_r")
    at_limit = middle.copy()
    at_limit[knee] = paths.lower[knee]
    lengths_at, arms_at = paths.evaluate(at_limit)
    # Polynomials of the knee alone: linear past the limit, moment arms those at it.
    knee_only = np.flatnonzero((paths.spans.sum(axis=1) == 1) & paths.spans[:, knee]
                               & (paths.families == "polynomial"))
    assert len(knee_only)
    for overshoot in (1e-6, 0.5):
        past = at_limit.copy()
        past[knee] -= overshoot
        lengths, arms = paths.evaluate(past)
        np.testing.assert_allclose(arms[knee_only, knee], arms_at[knee_only, knee], atol=1e-9)
        np.testing.assert_allclose(lengths[knee_only],
                                   lengths_at[knee_only] + arms_at[knee_only, knee] * overshoot,
                                   atol=1e-9)
    spanned = paths.spans.any(axis=0)
    for far in (np.where(spanned, paths.upper + 10, middle),
                np.where(spanned, paths.lower - 10, middle)):
        lengths, arms = paths.evaluate(far)
        assert np.isfinite(lengths).all() and np.isfinite(arms).all()


def test_storage_round_trip(human, tmp_path):
    _, paths = human
    q = (paths.lower + paths.upper) / 3
    expected = paths.evaluate(q)
    for copy in (MusclePaths.from_dict(paths.to_dict()),
                 MusclePaths.load(paths.save(tmp_path / "human_paths.npz"))):
        assert copy.muscle_names == paths.muscle_names
        for got, want in zip(copy.evaluate(q), expected):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(copy.families, paths.families)


def test_fit_is_deterministic():
    model = build_model("human")
    first, second = (fit_paths(model, n_poses=300, n_validation=60, seed=3) for _ in range(2))
    np.testing.assert_array_equal(first.coefficients, second.coefficients)


def test_rejects_a_coordinate_vector_of_another_model(human):
    _, paths = human
    with pytest.raises(ValueError, match="coordinates"):
        paths.evaluate(np.zeros(len(paths.coordinate_names) + 1))
    with pytest.raises(ValueError, match="another model"):
        agreement(build_model("arm"), paths)
