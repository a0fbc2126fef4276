"""Videos of episodes: `save_video` writes frames as .mp4 or .gif, `record_episode`
runs a policy and keeps a frame per step."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from osim.atomic import atomic_path

VIDEO_FORMATS = (".mp4", ".gif")
# GIF frame delays are whole hundredths of a second and browsers slow down
# delays under 0.02 s: faster GIFs need fewer frames (`frame_stride`).
MAX_GIF_FPS = 50.0


def _check_frames(frames: Iterable[np.ndarray]) -> list[np.ndarray]:
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("no frames to write")
    shape = frames[0].shape
    for i, frame in enumerate(frames):
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame {i} must be a (height, width, 3) uint8 array, "
                             f"got {frame.dtype} {frame.shape}")
        if frame.shape != shape:
            raise ValueError(f"frame {i} has shape {frame.shape}, frame 0 {shape}: "
                             "all frames must have the same size")
    return frames


def frame_stride(fps: float, max_fps: float = MAX_GIF_FPS) -> int:
    """Keep every n-th frame so that ``fps / n <= max_fps`` (for GIFs of 100 Hz envs)."""
    return max(1, int(np.ceil(fps / max_fps - 1e-9)))


def check_video_path(path: str | os.PathLike) -> Path:
    """`path` if a video can be written there: ValueError for a format other than .mp4 or
    .gif, FileNotFoundError for a missing folder. Call it before rendering anything."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_FORMATS:
        raise ValueError(f"unsupported video format {path.suffix or '(none)'!r} of {path}; "
                         f"use .mp4 or .gif")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"no directory {path.parent} to write {path.name} in")
    return path


def save_video(frames: Iterable[np.ndarray], path: str | os.PathLike, *, fps: float = 30.0) -> Path:
    """Write frames ((height, width, 3) uint8 arrays) to ``path``, an .mp4 (H.264,
    with the ffmpeg binary of imageio-ffmpeg) or a looping .gif, chosen by the
    extension. The file appears whole or not at all: it is written next to
    ``path`` under a temporary name and renamed when complete.

    GIFs store delays in hundredths of a second: ``fps`` above 50 raises
    ``ValueError`` (keep every `frame_stride`-th frame instead).
    """
    path = check_video_path(path)
    suffix = path.suffix.lower()
    fps = float(fps)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps}")
    if suffix == ".gif" and fps > MAX_GIF_FPS:
        k = frame_stride(fps)
        raise ValueError(f"a GIF plays at most {MAX_GIF_FPS:g} frames/s, got fps={fps:g}; "
                         f"keep one frame in {k} and write them at fps={fps / k:g}")
    frames = _check_frames(frames)
    with atomic_path(path, suffix) as temporary:
        if suffix == ".gif":
            _write_gif(frames, str(temporary), fps)
        else:
            _write_mp4(frames, str(temporary), fps)
    return path


def _write_gif(frames: list[np.ndarray], path: str, fps: float) -> None:
    from PIL import Image

    # One palette for the whole clip (frames share their few flat colours), so
    # colours do not flicker between frames and the file stays small.
    images = [Image.fromarray(f) for f in frames]
    palette = _shared_palette(images)
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    quantized[0].save(path, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=round(1000.0 / fps), loop=0, optimize=False, disposal=1)


def _shared_palette(images: list):
    from PIL import Image

    step = max(1, len(images) // 8)
    sample = images[::step][:8]
    strip = Image.new("RGB", (sample[0].width, sample[0].height * len(sample)))
    for i, im in enumerate(sample):
        strip.paste(im, (0, i * im.height))
    return strip.quantize(colors=128, method=Image.Quantize.MEDIANCUT)


def _write_mp4(frames: list[np.ndarray], path: str, fps: float) -> None:
    try:
        import imageio.v2 as imageio
    except ImportError as err:
        raise ImportError(f"writing .mp4 needs imageio and imageio-ffmpeg ({err}); "
                          "pip install 'osim-rl[render]'") from None
    height, width = frames[0].shape[:2]
    # H.264 in yuv420p needs even sizes: repeat the last row/column if odd
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                pixelformat="yuv420p", macro_block_size=1,
                                ffmpeg_log_level="error", output_params=["-crf", "23"])
    try:
        for frame in frames:
            writer.append_data(np.pad(frame, pad, mode="edge") if any(p[1] for p in pad)
                               else frame)
    finally:
        writer.close()


def _frame_source(env) -> Callable[[], np.ndarray]:
    """The function that draws ``env``'s current frame: any osim env, Gymnasium
    (wrapped or not) or classic, whatever its render_mode."""
    from osim.env.classic import ClassicEnv
    from osim.env.gym_env import OsimGymEnv

    if isinstance(env, ClassicEnv):
        return env.env.render_frame
    base = getattr(env, "unwrapped", env)
    if isinstance(base, OsimGymEnv):
        return base.render_frame
    if getattr(env, "render_mode", None) == "rgb_array":
        return env.render
    raise ValueError(f"cannot draw frames of {env!r}: make it with render_mode='rgb_array'")


def record_episode(env, policy_fn: Callable[[np.ndarray], np.ndarray], seed: int | None = None,
                   *, max_steps: int | None = None, frame_every: int = 1
                   ) -> tuple[list[np.ndarray], float]:
    """Run one episode of ``policy_fn(observation) -> action`` and keep a frame
    per state (the reset state, then one per step), or per `frame_every` steps
    (0: no frames, just the total reward).

    ``env`` is an osim env: Gymnasium (``gymnasium.make("osim/Arm-v0")``, wrapped
    or not) or classic (``ArmEnv()``); its render_mode does not matter.
    The episode ends when the env says so (terminated, truncated, ``done``) or
    after ``max_steps`` steps. Returns ``(frames, total_reward)``.
    """
    from osim.env.classic import ClassicEnv

    draw = _frame_source(env) if frame_every else None
    classic = isinstance(env, ClassicEnv)
    observation = env.reset(seed=seed) if classic else env.reset(seed=seed)[0]
    frames, total, steps = [draw()] if draw else [], 0.0, 0
    while max_steps is None or steps < max_steps:
        action = policy_fn(observation)
        if classic:
            observation, reward, done, _ = env.step(action)
        else:
            observation, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        total += float(reward)
        steps += 1
        if draw and steps % frame_every == 0:
            frames.append(draw())
        if done:
            break
    return frames, total
