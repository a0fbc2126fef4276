"""``osim-rl evaluate``: run a trained policy (a params.pkl) and print its episode rewards."""

from __future__ import annotations

import argparse
from pathlib import Path

from osim.cli.args import add_engine_argument, positive_int
from osim.cli.train import fail


def video_path(text: str) -> Path:
    from osim.render.video import VIDEO_FORMATS

    path = Path(text)
    if path.suffix.lower() not in VIDEO_FORMATS:
        raise argparse.ArgumentTypeError(f"unsupported video format {path.suffix or '(none)'!r}; "
                                         f"use one of {list(VIDEO_FORMATS)}")
    return path


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from osim.engines import DEFAULT_ENGINE
    from osim.train import (
        BackendUnavailable,
        RandomPolicy,
        SnapshotError,
        evaluate,
        get_backend,
        load_snapshot,
        make_env,
    )

    try:
        snapshot = load_snapshot(args.params)
        env_kwargs = dict(snapshot["env_kwargs"])
        if args.engine is not None:  # e.g. trained on one engine, checked on another
            env_kwargs["engine"] = args.engine
        if args.random:
            env = make_env(snapshot["env"], env_kwargs)
            policy, label = RandomPolicy(env.action_space.shape[0], seed=args.seed), "random"
            env.close()
        else:
            policy = get_backend(snapshot["backend"]).load_policy(snapshot)
            label = f"{snapshot['algorithm']} ({snapshot['backend']}, "
            label += f"{snapshot['steps_done']} steps)"
    except (SnapshotError, BackendUnavailable) as err:
        return fail(str(err))
    engine = env_kwargs.get("engine", DEFAULT_ENGINE)
    print(f"{snapshot['env']} on {engine}: {label} policy, {args.episodes} episode(s) "
          f"from seed {args.seed}", flush=True)
    try:
        rewards = evaluate(policy, snapshot["env"], env_kwargs, args.episodes,
                           args.seed, video=args.video)
    except ValueError as err:
        return fail(str(err))
    for i, reward in enumerate(rewards):
        print(f"episode {i + 1}: total reward {reward:.3f}")
    print(f"mean over {len(rewards)} episodes: {np.mean(rewards):.3f}")
    if args.video is not None:
        print(f"video: {args.video}")
    return 0


def add_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="run a trained policy and print its episode rewards",
        description=__doc__.splitlines()[0].split(": ", 1)[1])
    evaluate.add_argument("params", type=Path, help="a params.pkl written by osim-rl train")
    evaluate.add_argument("--episodes", type=positive_int, default=5)
    evaluate.add_argument("--seed", type=int, default=0, help="episode i is reset with seed+i")
    evaluate.add_argument("--random", action="store_true",
                          help="run uniform random excitations instead, for comparison")
    evaluate.add_argument("--video", type=video_path, default=None, metavar="OUT",
                          help="save the episodes as a video (.mp4 or .gif)")
    add_engine_argument(evaluate, "run on this physics engine instead of the one "
                                  "the snapshot was trained on")
    evaluate.set_defaults(run=_evaluate)
