"""Frames, videos and plots of the real engine's state (osim.render)."""

import os
import pickle
import subprocess
import sys

import gymnasium
import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import REPO

import osim  # noqa: F401  (registers the envs)
from osim.env import ArmEnv, OsimGymEnv, env_id
from osim.render import scene
from osim.render.plots import plot_episode
from osim.render.video import frame_stride, record_episode, save_video
from osim.tasks import TASKS


def osim_cli(*argv, timeout=300):
    return subprocess.run([sys.executable, "-m", "osim", *argv], capture_output=True, text=True,
                          check=False, timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)})


def colour_pixels(frame, colour, tolerance=12):
    return int(np.all(np.abs(frame.astype(int) - colour) <= tolerance, axis=-1).sum())


def red_and_blue_pixels(frame):
    r, b = frame[..., 0].astype(int), frame[..., 2].astype(int)
    return int(((r > 150) & (b < 110)).sum()), int(((b > 150) & (r < 110)).sum())


@pytest.fixture(scope="module")
def arm():
    env = OsimGymEnv("Arm", render_mode="rgb_array", width=160, height=120)
    env.reset(seed=3)
    return env


def test_frame_is_an_rgb_uint8_array_of_the_asked_size(arm):
    frame = arm.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10  # more than a blank canvas


def test_frame_changes_when_the_pose_changes():
    env = OsimGymEnv("Arm", render_mode="rgb_array", width=128, height=128)
    env.reset(seed=0)
    before = env.render()
    assert np.array_equal(before, env.render())  # same state, same picture
    for _ in range(30):
        env.step(np.ones(6))
    after = env.render()
    assert np.abs(after.astype(int) - before.astype(int)).sum(axis=-1).astype(bool).sum() > 100


@pytest.mark.parametrize("excitation, dominant", [(1.0, "red"), (0.0, "blue")])
def test_muscles_are_coloured_by_activation(excitation, dominant):
    env = OsimGymEnv("Arm", render_mode="rgb_array", width=200, height=200)
    env.reset(seed=0)
    for _ in range(25):
        env.step(np.full(6, excitation))
    red, blue = red_and_blue_pixels(env.render())
    assert red + blue > 50, "no muscle pixels"
    assert (red > 5 * blue) if dominant == "red" else (blue > 5 * red), (red, blue)


def test_arm_target_is_drawn(arm):
    assert colour_pixels(arm.render(), scene.TARGET, tolerance=40) > 10


def test_l2run_obstacles_are_drawn():
    env = OsimGymEnv("L2Run", render_mode="rgb_array", width=120, height=120)
    env.reset(seed=0, options={"difficulty": 0})
    renderer = scene.SceneRenderer(env.sim, width=120, height=120)
    plain = renderer.render(env.task.overlays())
    assert colour_pixels(plain, scene.OBSTACLE) == 0
    with_obstacle = renderer.render({"obstacles": [(env.task.pelvis_x(env.sim) + 0.3, 0.0, 0.1)]})
    assert colour_pixels(with_obstacle, scene.OBSTACLE) > 20


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_registered_env_renders(name, engine):
    env = gymnasium.make(env_id(name), render_mode="rgb_array", width=64, height=48, engine=engine)
    assert env.metadata["render_fps"] == pytest.approx(100.0)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert frame.std() > 5  # the model is in view
    env.close()


@pytest.mark.parametrize("camera", ["side", "front", "top"])
def test_cameras_show_the_3d_model(camera):
    env = OsimGymEnv("Prosthetics", render_mode="rgb_array", width=200, height=200, camera=camera)
    env.reset(seed=0)
    frame = env.render()
    assert colour_pixels(frame, scene.BONE, tolerance=6) > 30
    assert colour_pixels(frame[:170, :60], scene.BONE, tolerance=6) == 0  # centred on the pelvis
    assert colour_pixels(frame[:170, -60:], scene.BONE, tolerance=6) == 0


def test_rendering_does_not_change_the_trajectory(engine):
    for name in ("Arm", "Gait"):
        rng = np.random.default_rng(0)
        plain = OsimGymEnv(name, engine=engine)
        drawn = OsimGymEnv(name, render_mode="rgb_array", width=64, height=64, engine=engine)
        a, _ = plain.reset(seed=1)
        b, _ = drawn.reset(seed=1)
        drawn.render()
        for _ in range(15):
            action = rng.uniform(0, 1, plain.action_space.shape)
            a = plain.step(action)[0]
            b = drawn.step(action)[0]
            drawn.render()
            assert np.array_equal(a, b), name


@pytest.mark.filterwarnings("ignore:visualize=True but no display")  # its "human" check
def test_env_checker_passes_with_frames():
    from gymnasium.utils.env_checker import check_env

    check_env(gymnasium.make("osim/Arm-v0", render_mode="rgb_array", width=48,
                             height=48).unwrapped, skip_render_check=False)


def test_demo_reacher_brings_the_hand_to_a_low_target():
    from osim.render.demo_policies import arm_reach

    env = OsimGymEnv("Arm")
    policy = arm_reach(env)
    observation, _ = env.reset(seed=2)
    start = np.linalg.norm(observation[:2] - observation[-2:])
    for _ in range(100):
        observation = env.step(policy(observation))[0]
    assert np.linalg.norm(observation[:2] - observation[-2:]) < 0.3 * start


def test_unknown_camera_and_bad_sizes_raise_value_error(arm):
    with pytest.raises(ValueError, match="camera"):
        OsimGymEnv("Arm", render_mode="rgb_array", camera="diagonal")
    with pytest.raises(ValueError, match="camera"):
        scene.SceneRenderer(arm.sim, camera="iso")
    with pytest.raises(ValueError, match="width"):
        OsimGymEnv("Arm", render_mode="rgb_array", width=0)
    with pytest.raises(ValueError, match="render_mode"):
        OsimGymEnv("Arm", render_mode="rgb")


def test_render_without_a_mode_warns_and_returns_none():
    env = OsimGymEnv("Arm")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_classic_env_renders_frames():
    env = ArmEnv(render_mode="rgb_array", width=64, height=64)
    env.reset()
    assert env.render().shape == (64, 64, 3)
    plain = ArmEnv()
    plain.reset()
    assert plain.render(mode="rgb_array").shape == (480, 480, 3)
    with pytest.raises(ValueError, match="render mode"):
        plain.render(mode="ascii")


def test_pickled_env_keeps_its_view():
    env = OsimGymEnv("Arm", render_mode="rgb_array", width=72, height=40, camera="front")
    env.reset(seed=0)
    copy = pickle.loads(pickle.dumps(env))
    assert np.array_equal(copy.render(), env.render())


# ----------------------------------------------------------------- videos
@pytest.fixture(scope="module")
def arm_frames():
    env = gymnasium.make("osim/Arm-v0", render_mode="rgb_array", width=66, height=50)
    frames, total = record_episode(env, lambda obs: env.action_space.sample(), seed=0,
                                   max_steps=11)
    assert np.isfinite(total)
    return frames


def test_record_episode_keeps_one_frame_per_state(arm_frames):
    assert len(arm_frames) == 12
    assert all(f.shape == (50, 66, 3) for f in arm_frames)


def test_record_episode_works_on_classic_envs_without_a_render_mode():
    env = ArmEnv()
    frames, _ = record_episode(env, lambda obs: np.zeros(6), seed=0, max_steps=3)
    assert len(frames) == 4 and frames[0].shape == (480, 480, 3)


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_save_video_reads_back_with_every_frame(tmp_path, arm_frames, suffix):
    path = save_video(arm_frames, tmp_path / f"arm{suffix}", fps=25)
    reader = imageio.get_reader(path)
    count = reader.count_frames() if suffix == ".mp4" else len(list(reader))
    assert count == len(arm_frames)
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left


def test_save_video_refuses_bad_input_and_leaves_nothing(tmp_path, arm_frames):
    with pytest.raises(ValueError, match="format"):
        save_video(arm_frames, tmp_path / "arm.avi")
    with pytest.raises(ValueError, match="same size"):
        save_video([arm_frames[0], arm_frames[0][:10]], tmp_path / "arm.gif")
    with pytest.raises(ValueError, match="no frames"):
        save_video([], tmp_path / "arm.mp4")
    with pytest.raises(ValueError, match="GIF"):
        save_video(arm_frames, tmp_path / "arm.gif", fps=100)

    def failing():
        yield arm_frames[0]
        raise RuntimeError("policy crashed")

    with pytest.raises(RuntimeError):
        save_video(failing(), tmp_path / "arm.mp4")
    assert os.listdir(tmp_path) == []
    assert frame_stride(100) == 2 and frame_stride(30) == 1


def test_gymnasium_record_video_writes_a_file(tmp_path):
    env = gymnasium.make("osim/Arm-v0", render_mode="rgb_array", width=64, height=64,
                         max_episode_steps=8)
    env = gymnasium.wrappers.RecordVideo(env, str(tmp_path / "videos"),
                                         episode_trigger=lambda e: True,
                                         disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
    assert imageio.get_reader(videos[0]).count_frames() == 9


# ------------------------------------------------------------------ plots
def test_plot_episode_writes_three_panels(tmp_path):
    time = np.arange(1, 6) * 0.01
    trace = {"time": time, "joints": {"elbow": time * 10}, "activations": {"BIC": time},
             "reward_terms": {"alive": np.ones(5), "distance": -time}}
    png = plot_episode(trace, tmp_path / "episode.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="time steps"):
        plot_episode({**trace, "joints": {"elbow": time[:3]}}, tmp_path / "bad.png")


def test_cli_plots_and_records(tmp_path):
    log = tmp_path / "run" / "progress.csv"
    log.parent.mkdir()
    log.write_text("step,episode,reward,length,time\n"
                   + "".join(f"{200 * i},{i},{i * 0.5},200,{i}\n" for i in range(1, 30)))
    ok = osim_cli("plot", "curve", str(log.parent), "--out", str(tmp_path / "curve.png"))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    ok = osim_cli("plot", "episode", "--env", "Arm", "--steps", "15", "--seed", "2",
                  "--out", str(tmp_path / "episode.png"))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "episode.png").read_bytes()[:4] == b"\x89PNG"
    ok = osim_cli("record", "--env", "Arm", "--steps", "10", "--size", "64", "--camera", "front",
                  "--policy", "osim.render.demo_policies:arm_reach", "--out",
                  str(tmp_path / "arm.gif"))
    assert ok.returncode == 0, ok.stderr
    assert len(list(imageio.get_reader(tmp_path / "arm.gif"))) == 6  # 11 states, every 2nd


@pytest.mark.parametrize("argv", [
    ("plot",), ("plot", "bogus"), ("plot", "episode", "--steps", "0", "--out", "x.png"),
    ("plot", "episode", "--env", "Nope", "--out", "x.png"), ("plot", "curve"),
    ("record", "--camera", "diagonal", "--out", "x.gif"), ("record", "--size", "2", "--out", "x.gif"),
    ("record", "--env", "Arm"), ("record", "--policy", "clever", "--out", "x.gif"),
    ("record", "--fps", "-1", "--out", "x.gif"),
])
def test_cli_bad_flags_exit_2(argv, capsys):
    from osim.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_cli_bad_flag_exits_2_as_a_process():
    bad = osim_cli("record", "--camera", "diagonal", "--out", "x.gif")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_cli_bad_paths_name_the_problem(tmp_path):
    bad = osim_cli("plot", "curve", str(tmp_path / "missing"))
    assert bad.returncode != 0 and "no training log" in bad.stderr
    bad = osim_cli("record", "--steps", "2", "--out", str(tmp_path / "arm.avi"))
    assert bad.returncode != 0 and ".mp4 or .gif" in bad.stderr
    bad = osim_cli("record", "--env", "Gait", "--policy", "osim.render.demo_policies:arm_reach",
                   "--out", str(tmp_path / "gait.gif"))
    assert bad.returncode != 0 and "Arm task" in bad.stderr
    bad = osim_cli("record", "--policy", "osim.nowhere:policy", "--out", str(tmp_path / "a.gif"))
    assert bad.returncode != 0 and "cannot load policy" in bad.stderr
    assert list(tmp_path.iterdir()) == []


def test_both_engines_draw_the_same_pose():
    """The MuJoCo engine's scene comes from its own body frames: the same
    default pose gives (nearly) the same bone pixels as OpenSim's."""
    frames = {}
    for engine in ("opensim", "mujoco"):
        env = OsimGymEnv("Gait", render_mode="rgb_array", width=160, height=160, engine=engine)
        env.reset(seed=0)
        frames[engine] = np.all(np.abs(env.render().astype(int) - scene.BONE) <= 6, axis=-1)
    overlap = (frames["opensim"] & frames["mujoco"]).sum() / frames["opensim"].sum()
    assert frames["opensim"].sum() > 100 and overlap > 0.9
