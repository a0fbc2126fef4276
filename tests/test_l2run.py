"""Learning to Run (L2Run, NIPS 2017) over the real engine: the 41-value
observation against the slow state_dict and the model's own properties,
obstacles and psoas weakness per difficulty and seed, the reward from engine
readings, obstacle contact, snapshots, pickles and the classic API."""

import pickle

import gymnasium
import numpy as np
import opensim
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.env import L2RunEnv, OsimGymEnv, RunEnv
from osim.models import build_model
from osim.tasks import TASKS, L2Run
from osim.models.builder import obstacle_name
from osim.tasks.l2run import LIGAMENTS

FOOT_SPHERES = ("r_heel", "r_toe", "l_heel", "l_toe")


def obstacle_force_name(sphere: str) -> str:
    return f"obstacles_{sphere}"

JOINTS = [f"{j}_{s}" for s in "rl" for j in ("hip", "knee", "ankle")]
BODIES = ["head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r"]
# iliopsoas max isometric force of the model as built, read from a fresh model.
_FRESH = build_model("human")
NOMINAL_PSOAS = {name: opensim.Muscle.safeDownCast(_FRESH.getForceSet().get(name))
                 .getMaxIsometricForce() for name in ("iliopsoas_l", "iliopsoas_r")}


def engine_psoas(env):
    muscles = env.sim.model.getMuscles()
    return [muscles.get(n).getMaxIsometricForce() / NOMINAL_PSOAS[n]
            for n in ("iliopsoas_l", "iliopsoas_r")]


def engine_obstacles(env):
    """(x, y, radius) of every obstacle in use, read from the model's contact
    geometry; each copy must sit in its foot sphere's plane."""
    model, found = env.sim.model, []
    geometry = model.getContactGeometrySet()
    model.realizePosition(env.sim.state)
    for i in range(env.task.max_obstacles):
        copies = []
        for foot in FOOT_SPHERES:
            sphere = opensim.ContactSphere.safeDownCast(geometry.get(obstacle_name(i, foot)))
            x, y, z = sphere.get_location().to_numpy()
            f = geometry.get(foot)
            where = f.getFrame().findStationLocationInGround(env.sim.state, f.get_location())
            foot_z = where.get(2)
            if x > -50:  # in use, not parked
                assert z == pytest.approx(foot_z, abs=1e-12)
            copies.append((x, y, sphere.getRadius()))
        assert len(set(copies)) == 1
        if copies[0][0] > -50:  # not parked
            found.append(list(copies[0]))
    return found


# ---------------------------------------------------------------- registry
def test_registered_with_its_constants_and_classic_names():
    assert TASKS["L2Run"] is L2Run and L2Run.classic_name == "L2RunEnv"
    assert L2Run.max_episode_steps == 1000 and L2Run.step_size == 0.01
    assert L2Run.parameters["min_pelvis_height"] == 0.65 and L2Run.reset_options == ("difficulty",)
    assert gymnasium.registry["osim/L2Run-v0"].max_episode_steps == 1000
    assert RunEnv is L2RunEnv and L2RunEnv.task_class is L2Run
    assert "41 values" in L2Run.__doc__ and "muscle_activation" not in L2Run.__doc__
    env = OsimGymEnv("L2Run")
    assert env.action_space.shape == (18,) and env.observation_space.shape == (41,)
    labels = env.observation_labels
    assert len(labels) == 41 and labels[0] == "pelvis_pos/tilt"
    assert labels[36:] == ["psoas_strength/left", "psoas_strength/right", "next_obstacle/dx",
                           "next_obstacle/y", "next_obstacle/radius"]
    with pytest.raises(ValueError):
        env.reset(options={"difficulty": 3})
    with pytest.raises(ValueError):
        env.reset(options={"obstacles": 1})


def test_env_checker_passes():
    check_env(gymnasium.make("osim/L2Run-v0").unwrapped, skip_render_check=True)


# ----------------------------------------------------- observation content
@pytest.mark.parametrize("difficulty", [0, 1, 2])
def test_observation_is_the_documented_41_values(difficulty):
    env = OsimGymEnv("L2Run")
    flat, _ = env.reset(seed=4, options={"difficulty": difficulty})
    rng = np.random.default_rng(4)
    for _ in range(4):
        flat, *_ = env.step(rng.uniform(0, 1, 18))
    assert flat.shape == (41,) and np.all(np.isfinite(flat))
    desc = env.state_dict()
    pelvis = desc["joint_pos"]["ground_pelvis"]
    np.testing.assert_allclose(flat[0:3], pelvis, atol=1e-12)
    np.testing.assert_allclose(flat[3:6], desc["joint_vel"]["ground_pelvis"], atol=1e-12)
    np.testing.assert_allclose(flat[6:12], [desc["joint_pos"][j][0] for j in JOINTS], atol=1e-12)
    np.testing.assert_allclose(flat[12:18], [desc["joint_vel"][j][0] for j in JOINTS], atol=1e-12)
    np.testing.assert_allclose(flat[18:20], desc["misc"]["mass_center_pos"][:2], atol=1e-12)
    np.testing.assert_allclose(flat[20:22], desc["misc"]["mass_center_vel"][:2], atol=1e-12)
    np.testing.assert_allclose(flat[22:36], [v for b in BODIES for v in desc["body_pos"][b][:2]],
                               atol=1e-12)
    np.testing.assert_allclose(flat[36:38], engine_psoas(env), rtol=1e-12)
    obstacles = engine_obstacles(env)
    ahead = [o for o in obstacles if o[0] + o[2] >= pelvis[1]]
    if ahead:
        x, y, r = min(ahead)
        np.testing.assert_allclose(flat[38:41], [x - pelvis[1], y, r], atol=1e-12)
    else:
        np.testing.assert_array_equal(flat[38:41], [100.0, 0.0, 0.0])
    assert len(obstacles) == (0 if difficulty == 0 else 3)
    if difficulty < 2:
        np.testing.assert_array_equal(flat[36:38], [1.0, 1.0])
    else:
        assert np.all(flat[36:38] != 1.0)


def test_next_obstacle_moves_on_once_the_pelvis_has_passed_it():
    env = OsimGymEnv("L2Run", obs_as_dict=True)
    env.reset(seed=0, options={"difficulty": 1})
    snapshot = env.get_state()
    snapshot.extra["episode"]["obstacles"] = [
        [-0.5, 0.01, 0.1], [-0.05, 0.0, 0.06], [2.0, 0.02, 0.1]]
    env.set_state(snapshot)
    # pelvis x is 0: the second obstacle's far edge (+0.01) is still ahead.
    np.testing.assert_allclose(env.observation_dict()["next_obstacle"], [-0.05, 0.0, 0.06])
    snapshot.extra["episode"]["obstacles"] = [[-0.5, 0.01, 0.1], [2.0, 0.02, 0.1]]
    env.set_state(snapshot)
    np.testing.assert_allclose(env.observation_dict()["next_obstacle"], [2.0, 0.02, 0.1])
    assert engine_obstacles(env) == [[-0.5, 0.01, 0.1], [2.0, 0.02, 0.1]]
    snapshot.extra["episode"]["obstacles"] = [[-0.5, 0.01, 0.1]]
    env.set_state(snapshot)
    np.testing.assert_array_equal(env.observation_dict()["next_obstacle"], [100.0, 0.0, 0.0])


# ---------------------------------------------------- difficulty and seed
def test_obstacles_and_psoas_follow_difficulty_and_seed():
    env = OsimGymEnv("L2Run")
    episodes = {}
    for difficulty in (0, 1, 2):
        for seed in (1, 2):
            env.reset(seed=seed, options={"difficulty": difficulty})
            episodes[difficulty, seed] = env.task.get_episode()
            assert engine_obstacles(env) == episodes[difficulty, seed]["obstacles"]
            np.testing.assert_allclose(engine_psoas(env), episodes[difficulty, seed]["psoas"],
                                       rtol=1e-12)
    for seed in (1, 2):
        assert episodes[0, seed]["obstacles"] == [] and episodes[0, seed]["psoas"] == [1.0, 1.0]
        assert episodes[1, seed]["psoas"] == [1.0, 1.0]
        for difficulty in (1, 2):
            obstacles = np.array(episodes[difficulty, seed]["obstacles"])
            assert obstacles.shape == (3, 3)
            x, y, r = obstacles.T
            assert np.all((x >= 1) & (x <= 5)) and np.all(np.diff(x) >= 0)
            assert np.all(r >= 0.05) and np.all(np.abs(y) <= 0.25 * r)
        psoas = episodes[2, seed]["psoas"]
        assert all(0.5 <= s <= 1.5 for s in psoas) and psoas[0] != psoas[1]
    for difficulty in (1, 2):
        assert episodes[difficulty, 1] != episodes[difficulty, 2]
    # Same seed, same draws, in this env and in a fresh one.
    fresh = OsimGymEnv("L2Run")
    fresh.reset(seed=2, options={"difficulty": 2})
    assert fresh.task.get_episode() == episodes[2, 2]
    env.reset(seed=2, options={"difficulty": 2})
    assert env.task.get_episode() == episodes[2, 2]
    # Difficulty 0 puts the psoas back to nominal and parks every obstacle.
    env.reset(seed=1, options={"difficulty": 0})
    assert engine_obstacles(env) == [] and engine_psoas(env) == [1.0, 1.0]
    # Without an option, the constructor's difficulty (default 2).
    env.reset(seed=2)
    assert env.task.get_episode() == episodes[2, 2]
    zero = OsimGymEnv("L2Run", difficulty=0)
    zero.reset(seed=2)
    assert zero.task.episode["obstacles"] == [] and zero.task.episode["difficulty"] == 0


def test_psoas_weakness_scales_the_engine_muscle_force():
    env = OsimGymEnv("L2Run")
    env.reset(seed=0, options={"difficulty": 0})
    env.step(np.ones(18))
    snapshot = env.get_state()

    def psoas_forces():
        env.sim.model.realizeDynamics(env.sim.state)
        muscles = env.sim.model.getMuscles()
        return np.array([muscles.get(n).getFiberForce(env.sim.state)
                         for n in ("iliopsoas_l", "iliopsoas_r")])

    nominal = psoas_forces()
    snapshot.extra["episode"]["psoas"] = [0.5, 0.8]
    env.set_state(snapshot)
    assert np.all(nominal > 1.0)
    # Same state (fiber lengths, activations), so the fiber force scales with Fmax.
    np.testing.assert_allclose(psoas_forces() / nominal, [0.5, 0.8], rtol=1e-9)


# ----------------------------------------------------------------- reward
def test_reward_is_displacement_minus_ligament_term():
    env = OsimGymEnv("L2Run")
    env.reset(seed=0, options={"difficulty": 0})
    rng = np.random.default_rng(0)
    saw_ligaments = False
    for _ in range(10):
        before = env.state_dict()["joint_pos"]["ground_pelvis"][1]
        _, reward, terminated, _, info = env.step(rng.uniform(0, 1, 18))
        desc = env.state_dict()
        forces = np.array([desc["forces"][name][0] for name in LIGAMENTS])
        forward = desc["joint_pos"]["ground_pelvis"][1] - before
        ligaments = -1e-7 * np.sqrt(np.sum(forces ** 2))
        assert set(info["reward_terms"]) == {"forward", "ligaments"}
        assert info["reward_terms"]["forward"] == pytest.approx(forward, abs=1e-14)
        assert info["reward_terms"]["ligaments"] == pytest.approx(ligaments, rel=1e-9, abs=1e-18)
        assert reward == pytest.approx(forward + ligaments, abs=1e-14)
        saw_ligaments |= ligaments < -1e-6
        assert terminated == (desc["joint_pos"]["ground_pelvis"][2] < 0.65)
    assert saw_ligaments


# ---------------------------------------------------------------- contact
def test_an_obstacle_at_the_toes_pushes_on_them():
    env = OsimGymEnv("L2Run")
    env.reset(seed=0, options={"difficulty": 0})
    desc = env.state_dict()
    assert all(v == 0.0 for f in FOOT_SPHERES for v in desc["forces"][obstacle_force_name(f)])
    # Right toe sphere centre in ground, from the model geometry.
    model, state = env.sim.model, env.sim.state
    toe = opensim.ContactSphere.safeDownCast(model.getContactGeometrySet().get("r_toe"))
    model.realizePosition(state)
    x, y, _ = toe.getFrame().findStationLocationInGround(state, toe.get_location()).to_numpy()
    radius = 0.05
    snapshot = env.get_state()
    # 5 mm overlap with the toe sphere (radius 0.05), just in front of it.
    snapshot.extra["episode"]["obstacles"] = [[x + toe.getRadius() + radius - 0.005, y, radius]]
    env.set_state(snapshot)
    desc = env.state_dict()
    for foot in FOOT_SPHERES:
        values = np.array(desc["forces"][obstacle_force_name(foot)])
        if foot.endswith("toe"):  # both toes stand at the same x, y
            assert np.any(np.abs(values) > 1.0)
        else:
            assert np.all(values == 0.0)
    # The obstacle slows the body compared with the same step without it.
    _, reward_blocked, *_ = env.step(np.zeros(18))
    snapshot.extra["episode"]["obstacles"] = []
    env.set_state(snapshot)
    _, reward_free, *_ = env.step(np.zeros(18))
    assert reward_blocked != reward_free


# -------------------------------------------------------------- snapshots
def test_snapshot_and_pickle_replay_identically():
    env = OsimGymEnv("L2Run")
    env.reset(seed=3, options={"difficulty": 2})
    rng = np.random.default_rng(3)
    for _ in range(3):
        env.step(rng.uniform(0, 1, 18))
    actions = rng.uniform(0, 1, (4, 18))
    snapshot = env.get_state()
    copy = pickle.loads(pickle.dumps(env))
    first = [env.step(a)[:2] for a in actions]
    # Another episode changes obstacles and psoas; the snapshot brings them back.
    env.reset(seed=9, options={"difficulty": 2})
    env.set_state(snapshot)
    again = [env.step(a)[:2] for a in actions]
    replay = [copy.step(a)[:2] for a in actions]
    for (o1, r1), (o2, r2), (o3, r3) in zip(first, again, replay):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(o1, o3)
        assert r1 == r2 == r3
    np.testing.assert_allclose(engine_psoas(copy), copy.task.episode["psoas"], rtol=1e-12)
    assert engine_obstacles(copy) == copy.task.episode["obstacles"]


# ---------------------------------------------------------------- classic
def test_classic_reset_with_difficulty_and_tutorial_loop():
    env = L2RunEnv(seed=0)
    observation = env.reset(difficulty=0)
    assert len(observation) == 41
    np.testing.assert_array_equal(observation[36:], [1.0, 1.0, 100.0, 0.0, 0.0])
    total = 0.0
    for _ in range(20):
        observation, reward, done, info = env.step(env.action_space.sample())
        total += reward
        assert len(observation) == 41 and np.isfinite(reward)
        if done:
            break
    assert np.isfinite(total)
    observation = env.reset(difficulty=2, seed=5)
    assert observation[38] < 100.0 and observation[36] != 1.0
    as_dict = env.reset(difficulty=1, obs_as_dict=True)
    assert as_dict["psoas_strength"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError):
        env.reset(difficulty=5)
    assert RunEnv(difficulty=0).reset().tolist()[36:] == [1.0, 1.0, 100.0, 0.0, 0.0]


# ------------------------------------------------- Simulation.reinitialize
def test_reinitialize_keeps_the_state_and_applies_property_changes():
    env = OsimGymEnv("L2Run")
    env.reset(seed=0, options={"difficulty": 0})
    sim = env.sim
    sim.step(np.full(18, 0.5))
    before = sim.get_state()
    sim.reinitialize()
    after = sim.get_state()
    np.testing.assert_array_equal(before.y, after.y)
    assert (before.time, before.step_count) == (after.time, after.step_count)
    np.testing.assert_array_equal(before.excitations, after.excitations)
    sim.step(np.full(18, 0.5))
    stepped = sim.coordinate_values()
    sim.set_state(before)
    sim.step(np.full(18, 0.5))
    np.testing.assert_array_equal(sim.coordinate_values(), stepped)
    # A property change takes effect only through reinitialize.
    sphere = opensim.ContactSphere.safeDownCast(sim.model.getContactGeometrySet().get("r_toe"))
    sphere.setRadius(0.2)  # sinks the right toe 0.15 m into the ground
    sim.set_state(before)
    sim.reinitialize()
    desc = env.state_dict()
    assert abs(desc["forces"]["foot_r"][1]) > 10 * abs(desc["forces"]["foot_l"][1])


def test_obstacles_beyond_three_go_further_ahead():
    from osim.env import OsimGymEnv

    env = OsimGymEnv("L2Run", max_obstacles=6)
    env.reset(seed=4, options={"difficulty": 1})
    start = env.task.episode["pelvis_x"]
    ahead = sorted(x - start for x, _, _ in env.task.episode["obstacles"])
    assert len(ahead) == 6
    assert all(1 <= x < 5 for x in ahead[:3]) and all(5 <= x < 9 for x in ahead[3:])
