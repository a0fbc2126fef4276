"""``osim-rl record``: a video (.mp4 or .gif) of episodes of a simple policy."""

from __future__ import annotations

import argparse

from osim.cli.args import (add_engine_argument, make_policy, policy_name, positive_float,
                            positive_int)


def _record(args: argparse.Namespace) -> int:
    import gymnasium
    from tqdm import tqdm

    from osim.env import env_id
    from osim.render.video import (
        MAX_GIF_FPS,
        check_video_path,
        frame_stride,
        record_episode,
        save_video,
    )

    try:
        out = check_video_path(args.out)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"osim-rl record: --out: {err}") from None
    engine = {} if args.engine is None else {"engine": args.engine}
    env = gymnasium.make(env_id(args.env), render_mode="rgb_array", width=args.size,
                         height=args.size, camera=args.camera, **engine)
    env_fps = env.metadata["render_fps"]
    stride = frame_stride(env_fps) if out.suffix.lower() == ".gif" else 1
    if args.fps is not None:
        stride = max(1, round(env_fps / args.fps))
        if out.suffix.lower() == ".gif" and env_fps / stride > MAX_GIF_FPS:
            raise SystemExit(f"osim-rl record: a GIF plays at most {MAX_GIF_FPS:g} frames/s; "
                             f"use --fps {MAX_GIF_FPS:g} or lower")
    policy = make_policy(args.policy, env, args.seed)
    frames, rewards = [], []
    for episode in tqdm(range(args.episodes), desc=f"recording {args.env}", unit="episode",
                        disable=args.episodes == 1):
        seed = None if args.seed is None else args.seed + episode
        episode_frames, total = record_episode(env, policy, seed=seed, max_steps=args.steps,
                                               frame_every=stride)
        frames.extend(episode_frames)
        rewards.append(total)
    env.close()
    try:
        save_video(frames, out, fps=env_fps / stride)
    except ValueError as err:  # e.g. a GIF faster than 50 frames/s
        raise SystemExit(f"osim-rl record: {err}") from None
    print(f"wrote {out}: {len(frames)} frames at {env_fps / stride:g} frames/s, "
          f"{args.episodes} episode(s) of {args.env} with policy {args.policy}, "
          f"total reward {', '.join(f'{r:.2f}' for r in rewards)}")
    return 0


def _size(text: str) -> int:
    value = int(text)
    if not 16 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"must be in [16, 4096] pixels, got {value}")
    return value


def add_parser(commands) -> None:
    from osim.render import CAMERAS
    from osim.tasks import TASKS

    record = commands.add_parser(
        "record", help="record a video of episodes (.mp4 or .gif)",
        description="Record episodes of a simple policy as a video: the format follows "
                    "the extension of --out (.mp4 or .gif).")
    record.add_argument("--env", default="Arm", choices=sorted(TASKS), help="task (default: Arm)")
    record.add_argument("--episodes", type=positive_int, default=1,
                        help="episodes, one after the other in the video (default 1)")
    record.add_argument("--out", required=True, help="video file, .mp4 or .gif")
    record.add_argument("--policy", default="random", type=policy_name,
                        help="random (uniform excitations, the default), zero, or "
                             "MODULE:FACTORY with FACTORY(env) -> policy(observation) -> action")
    record.add_argument("--seed", type=int, default=0, help="seed of env and policy (default 0)")
    record.add_argument("--camera", default="side", choices=list(CAMERAS))
    record.add_argument("--size", type=_size, default=480, help="frame width = height (pixels)")
    record.add_argument("--steps", type=positive_int, default=None,
                        help="at most this many steps per episode (default: whole episodes)")
    record.add_argument("--fps", type=positive_float, default=None,
                        help="frames per second of the video, at most the env's rate "
                             "(default: the env's rate, at most 50 for a GIF); lower rates "
                             "keep every n-th frame, so the video plays in real time")
    add_engine_argument(record, "physics engine (default: OpenSim)")
    record.set_defaults(run=_record)
