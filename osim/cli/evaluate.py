"""``osim-rl evaluate``: run a trained policy (a params.pkl) or a controller and print its episode rewards."""

from __future__ import annotations

import argparse
from pathlib import Path

from osim.cli.args import add_engine_argument, make_policy, policy_name, positive_int
from osim.cli.train import env_name, fail, parse_settings


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

    if (args.params is None) == (args.policy is None):
        args.parser.error("give either a params.pkl or --policy (a controller)")
    if args.policy is not None:
        if args.env is None:
            args.parser.error("--policy needs --env")
        if args.random:
            args.parser.error("--random compares with a snapshot's policy; use --policy random")
        env, label = args.env, f"{args.policy} policy"
        env_kwargs = parse_settings(args.env_options, args.parser, "--env-option")

        def policy(made_env):  # the controller is built on the env it drives
            return make_policy(args.policy, made_env, args.seed)
    else:
        if args.env is not None or args.env_options:
            args.parser.error("--env and --env-option go with --policy; a snapshot has its own")
        try:
            snapshot = load_snapshot(args.params)
            env, env_kwargs = snapshot["env"], dict(snapshot["env_kwargs"])
            if args.random:
                made = make_env(env, env_kwargs)
                policy, label = RandomPolicy(made.action_space.shape[0], seed=args.seed), "random"
                made.close()
            else:
                policy = get_backend(snapshot["backend"]).load_policy(snapshot)
                label = f"{snapshot['algorithm']} ({snapshot['backend']}, "
                label += f"{snapshot['steps_done']} steps)"
        except (SnapshotError, BackendUnavailable) as err:
            return fail(str(err))
        label += " policy"
    if args.engine is not None:  # e.g. trained on one engine, checked on another
        env_kwargs["engine"] = args.engine
    engine = env_kwargs.get("engine", DEFAULT_ENGINE)
    print(f"{env} on {engine}: {label}, {args.episodes} episode(s) from seed {args.seed}",
          flush=True)
    try:
        rewards = evaluate(policy, env, env_kwargs, args.episodes, args.seed, video=args.video)
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
    evaluate.add_argument("params", type=Path, nargs="?", default=None,
                          help="a params.pkl written by osim-rl train (or give --policy)")
    evaluate.add_argument("--policy", type=policy_name, default=None,
                          help="instead of a snapshot: random, zero or MODULE:FACTORY with "
                               "FACTORY(env) -> policy(observation) -> action, e.g. "
                               "osim.control:reflex")
    evaluate.add_argument("--env", type=env_name, default=None, help="task (with --policy)")
    evaluate.add_argument("--env-option", dest="env_options", action="append", default=[],
                          metavar="KEY=VALUE", help="env option (with --policy), e.g. "
                                                    "init_pose=walking, max_episode_steps=1000")
    evaluate.add_argument("--episodes", type=positive_int, default=5)
    evaluate.add_argument("--seed", type=int, default=0, help="episode i is reset with seed+i")
    evaluate.add_argument("--random", action="store_true",
                          help="run uniform random excitations instead, for comparison")
    evaluate.add_argument("--video", type=video_path, default=None, metavar="OUT",
                          help="save the episodes as a video (.mp4 or .gif)")
    add_engine_argument(evaluate, "run on this physics engine instead of the one "
                                  "the snapshot was trained on")
    evaluate.set_defaults(run=_evaluate, parser=evaluate)
