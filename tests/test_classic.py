"""The classic osim-rl API: every classic class steps straight after construction,
pickles mid-episode, refuses bad settings; the original tutorials run as written;
ProstheticsEnv also gives the 2018 challenge's flat observation."""

import math
import os
import pickle
import subprocess
import sys
import textwrap

import gymnasium
import numpy as np
import pytest

from osim.env import CLASSIC_ENVS, OsimEnv, ProstheticsEnv, RunEnv
from osim.tasks import HumanTask

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = {**CLASSIC_ENVS, "RunEnv": RunEnv, "OsimEnv": OsimEnv}


@pytest.fixture(params=sorted(CLASSES))
def classic(request, arm_osim, engine):
    """A factory for one classic class: ``classic(**options)`` makes an env of it."""
    cls = CLASSES[request.param]
    defaults = {"visualize": False, "engine": engine}
    if cls is OsimEnv:
        defaults["model_path"] = str(arm_osim)

    def make(**options):
        return cls(**{**defaults, **options})

    make.cls = cls
    return make


def flat(observation) -> np.ndarray:
    """Every number of an observation: a vector, or a dict (nested in L2M2019Env's)."""
    if isinstance(observation, dict):
        return np.concatenate([flat(v) for v in observation.values()])
    return np.ravel(np.asarray(observation, dtype=float))


def actions(env, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.0, 1.0, env.action_space.shape[0]) for _ in range(n)]


def test_steps_straight_after_construction_and_reset_starts_afresh(classic):
    env = classic(seed=5)
    first = env.get_observation()
    assert np.all(np.isfinite(first))
    for action in actions(env, 3, seed=0):
        observation, reward, done, info = env.step(action)
        assert np.all(np.isfinite(flat(observation))) and math.isfinite(reward)
        assert "reward_terms" in info
    assert env.istep == 3
    # the first reset() without a seed starts the constructor's episode again
    np.testing.assert_array_equal(flat(env.reset(obs_as_dict=False)), first)
    assert env.istep == 0


def test_pickled_mid_episode_carries_on_identically(classic):
    env = classic(seed=2)
    for action in actions(env, 3, seed=1):
        env.step(action)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.istep == env.istep == 3
    for action in actions(env, 4, seed=2):
        original, twin = env.step(action), copy.step(action)
        np.testing.assert_array_equal(flat(original[0]), flat(twin[0]))
        assert original[1:3] == twin[1:3]
        assert original[3]["reward_terms"] == twin[3]["reward_terms"]


BAD_NUMBERS = (0, -1.0, float("nan"), float("inf"))


def test_bad_settings_are_refused_by_name(classic):
    settings = [("integrator_accuracy", "accuracy", v) for v in BAD_NUMBERS]
    settings += [(name, name, v) for name in ("step_size", "max_step_size") for v in BAD_NUMBERS]
    settings += [("max_episode_steps", "max_episode_steps", v) for v in (0, -5, 2.5, "10")]
    task = getattr(classic.cls, "task_class", None)
    if isinstance(task, type) and issubclass(task, HumanTask):
        settings += [("reset_noise_scale", "reset_noise_scale", v)
                     for v in (-0.1, float("nan"), float("inf"))]
    for option, named, value in settings:
        with pytest.raises(ValueError, match=named):
            classic(**{option: value})


@pytest.mark.parametrize("option, value", [("step_size", 0), ("step_size", -0.01),
                                           ("accuracy", float("inf")),
                                           ("max_step_size", float("nan"))])
def test_gymnasium_make_refuses_bad_settings(option, value):
    with pytest.raises(ValueError, match=option):
        gymnasium.make("osim/Arm-v0", **{option: value})


# ------------------------------------------------------- the 2018 observation
@pytest.mark.parametrize("prosthetic, size", [(True, 160), (False, 169)])
def test_2018_flat_observation_layout_and_values(prosthetic, size):
    env = ProstheticsEnv(visualize=False, prosthetic=prosthetic, obs_layout="2018", seed=0)
    assert env.get_observation_space_size() == size
    observation = env.reset()  # the 2018 API: a flat vector by default
    assert isinstance(observation, np.ndarray) and observation.shape == (size,)
    for action in actions(env, 5, seed=3):
        observation, reward, done, info = env.step(action)
    assert observation.shape == (size,) and env.observation_space.contains(observation)
    labels = env.env.observation_labels
    at = {label: observation[i] for i, label in enumerate(labels)}
    sim = env.osim_model
    pelvis = sim.body_position("pelvis")
    # values read another way: positions relative to the pelvis, coordinates, muscles
    assert at["pelvis/y"] == pytest.approx(pelvis[1])
    assert at["head/x"] == pytest.approx(sim.body_position("head")[0] - pelvis[0])
    assert at["head/y"] == pytest.approx(sim.body_position("head")[1] - pelvis[1])
    assert at["hip_l/hip_adduction_l_vel"] == pytest.approx(
        sim.coordinate_speeds()[sim.coordinate_names.index("hip_adduction_l")])
    assert at["knee_r/knee_angle_r_pos"] == pytest.approx(sim.coordinate("knee_angle_r"))
    muscles = sorted(sim.muscle_names)
    activations = dict(zip(sim.muscle_names, sim.muscle_activations()))
    assert [at[f"{m}/activation"] for m in muscles] == pytest.approx(
        [activations[m] for m in muscles])
    com = sim.center_of_mass_position()
    assert at["mass_center/x"] == pytest.approx(com[0] - pelvis[0])
    np.testing.assert_allclose([at[f"mass_center/v{a}"] for a in "xyz"],
                               sim.center_of_mass_velocity())
    # the order: 8 pelvis + 6 x 9 bodies, then 33 joint values, then muscles, then 8
    assert labels[8] == "head/x" and labels[62] == "ankle_l/ankle_angle_l_pos"
    assert labels[-8] == "mass_center/x"
    missing = np.r_[35:44, 53:62]  # toes_r, talus_r: absent from the prosthetic model
    assert (observation[missing] == 0).all() == prosthetic


def test_2018_layout_is_an_option_and_the_148_layout_stays_the_default():
    env = ProstheticsEnv(visualize=False)
    assert env.obs_layout == "default" and isinstance(env.reset(), dict)
    assert env.reset(obs_as_dict=False).shape == (148,)
    with pytest.raises(ValueError, match="obs_layout"):
        ProstheticsEnv(visualize=False, obs_layout="2017")
    env = gymnasium.make("osim/Prosthetics-v0", obs_layout="2018", obs_as_dict=True)
    observation, _ = env.reset(seed=0)
    assert observation["pelvis"].shape == (8,) and observation["abd_l"].shape == (3,)


# ------------------------------------------------------------ the tutorials
TUTORIALS = textwrap.dedent("""
    from osim.env import ArmEnv, ProstheticsEnv

    # the 2016 README's first snippet: no reset() before stepping
    env = ArmEnv(visualize=True)
    for i in range(200):
        env.step(env.action_space.sample())
    print("straight after construction: %d steps" % env.istep)

    # the 2017 tutorial
    env = ArmEnv(visualize=True)
    observation = env.reset()
    total_reward = 0
    for i in range(200):
        observation, reward, done, info = env.step(env.action_space.sample())
        total_reward += reward
    print("Total reward %f" % total_reward)

    # the 2018 challenge's
    env = ProstheticsEnv(visualize=True)
    observation = env.reset()
    for i in range(200):
        observation, reward, done, info = env.step(env.action_space.sample())
        if done:
            break
    print("prosthetics: %d steps, done=%s" % (i + 1, done))
""")


def test_the_original_tutorials_run_as_written_headless_and_quiet(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    environment["PYTHONPATH"] = REPO
    result = subprocess.run([sys.executable, "-c", TUTORIALS], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "[info]" not in result.stdout + result.stderr
    assert result.stderr.count("no display") == 1  # warned once, then ran headless
    assert list(tmp_path.iterdir()) == []  # no opensim.log in the user's folder
    lines = result.stdout.splitlines()
    assert lines[0] == "straight after construction: 200 steps"
    assert lines[1].startswith("Total reward ") and float(lines[1].split()[-1]) > 0
    steps, done = lines[2].removeprefix("prosthetics: ").split(" steps, done=")
    assert 1 <= int(steps) <= 200 and (done == "True" or int(steps) == 200)
