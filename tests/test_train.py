"""Training harness: `osim-rl train/evaluate`, scripts/rllab and snapshots, on the real ARM.

Runs are tiny (50-step episodes, a few hundred steps) so the file stays quick;
benchmarks/learning.py shows that the same code learns.
"""

from __future__ import annotations

import _thread
import csv
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from osim.cli import main as osim_rl
from osim.train import (
    BACKENDS,
    SnapshotError,
    TrainConfig,
    TrainingInterrupted,
    backend_for_algorithm,
    get_backend,
    load_policy,
    load_snapshot,
    make_snapshot,
    save_snapshot,
)

REPO = Path(__file__).resolve().parents[1]
SHORT = ["--env-option", "max_episode_steps=50"]
PPO_SMALL = ["--set", "n_steps=64", "--set", "batch_size=32"]


ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=timeout, env=ENV)


def read_log(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def has_logged_an_episode(out: Path) -> bool:
    csv_path = out / "progress.csv"
    return csv_path.is_file() and csv_path.read_text().count("\n") >= 2  # header and a row


@contextmanager
def ctrl_c_once_logged(out: Path, interrupt=_thread.interrupt_main):
    """Presses Ctrl-C (`interrupt`) once the run writing to `out` has logged an episode."""
    done = threading.Event()

    def watch():
        while not done.is_set():
            if has_logged_an_episode(out):
                interrupt()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory) -> Path:
    """`osim-rl train` of PPO for 200 steps (4 episodes), in a subprocess."""
    out = tmp_path_factory.mktemp("runs") / "arm-ppo"
    result = run("-m", "osim", "train", "--env", "Arm", "--algo", "ppo", "--steps", "200",
                 "--seed", "3", "--out", str(out), "--no-progress", "--engine", "opensim",
                 *SHORT, *PPO_SMALL)
    assert result.returncode == 0, result.stderr
    assert f"params:         {out / 'params.pkl'}" in result.stdout
    assert "(first 10%) ->" in result.stdout
    return out


def test_train_writes_snapshot_log_and_curve(ppo_run):
    snapshot = load_snapshot(ppo_run / "params.pkl")
    assert snapshot["format"] == "osim-rl-snapshot/1"
    assert (snapshot["backend"], snapshot["algorithm"], snapshot["env"]) == ("sb3", "PPO", "Arm")
    assert snapshot["steps_done"] >= 200
    assert snapshot["hyperparams"]["n_steps"] == 64
    assert snapshot["env_kwargs"] == {"max_episode_steps": 50, "engine": "opensim"}
    assert set(snapshot["obs_norm"]) == {"mean", "var", "count"}
    assert snapshot["obs_norm"]["mean"].shape == (16,)
    assert isinstance(snapshot["policy"], bytes)
    rows = read_log(ppo_run / "progress.csv")
    assert list(rows[0]) == ["step", "episode", "reward", "length", "time"]
    assert [int(r["step"]) for r in rows] == [50, 100, 150, 200, 250][:len(rows)]
    assert len(rows) == len(snapshot["log"]) >= 4
    # every ARM step earns 1 - squared distance to the target, so 50 steps earn (0, 50]
    assert all(0 < float(r["reward"]) <= 50 for r in rows)
    png = (ppo_run / "learning_curve.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert not [p for p in ppo_run.iterdir() if p.name.startswith(".")]  # no temp files left


def test_evaluate_loads_what_training_wrote(ppo_run):
    result = run("-m", "osim", "evaluate", str(ppo_run / "params.pkl"), "--episodes", "2",
                 "--seed", "7", "--engine", "opensim")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Arm on opensim: PPO (sb3, ")
    rewards = [float(line.rsplit(" ", 1)[1]) for line in result.stdout.splitlines()
               if line.startswith("episode ")]
    assert len(rewards) == 2 and all(0 < r <= 50 for r in rewards)
    assert f"mean over 2 episodes: {np.mean(rewards):.3f}" in result.stdout
    # the policy acts deterministically: the same episodes in-process give the same totals
    from osim.train import evaluate

    _, policy = load_policy(ppo_run / "params.pkl")
    assert evaluate(policy, "Arm", {"max_episode_steps": 50}, 1, 8) == pytest.approx(
        rewards[1:], abs=1e-3)


def test_evaluate_random_policy_and_video(ppo_run, tmp_path, capsys):
    assert osim_rl(["evaluate", str(ppo_run / "params.pkl"), "--episodes", "1", "--random"]) == 0
    assert "random policy" in capsys.readouterr().out
    from osim.train import evaluate

    _, policy = load_policy(ppo_run / "params.pkl")
    video = tmp_path / "arm.gif"
    rewards = evaluate(policy, "Arm", {"max_episode_steps": 10}, 1, 0, video=video)
    assert len(rewards) == 1 and 0 < rewards[0] <= 10
    assert video.read_bytes().startswith(b"GIF8")
    with pytest.raises(SystemExit) as exit_info:
        osim_rl(["evaluate", str(ppo_run / "params.pkl"), "--video", str(tmp_path / "a.avi")])
    assert exit_info.value.code == 2 and "unsupported video format" in capsys.readouterr().err


def test_same_seed_repeats_first_episodes(ppo_run, tmp_path):
    """Training in-process with the CLI run's seed and settings repeats its first episodes;
    another seed does not."""
    rewards = {}
    for seed in (3, 4):
        config = TrainConfig(env="osim/Arm-v0", algorithm="PPO", steps=50, seed=seed,
                             out=tmp_path / str(seed), env_kwargs={"max_episode_steps": 50},
                             hyperparams={"n_steps": 64, "batch_size": 32}, progress=False)
        rewards[seed] = [r["reward"] for r in load_snapshot(
            get_backend("sb3").train(config))["log"][:1]]
    cli = [float(r["reward"]) for r in read_log(ppo_run / "progress.csv")[:1]]
    assert rewards[3] == pytest.approx(cli, abs=1e-5)
    assert rewards[4] != pytest.approx(cli, abs=1e-3)


def test_resume_continues_steps_and_log(ppo_run, tmp_path):
    before = load_snapshot(ppo_run / "params.pkl")
    out = tmp_path / "resumed"
    result = run("-m", "osim", "train", "--resume", str(ppo_run / "params.pkl"), "--steps",
                 "50", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    after = load_snapshot(out / "params.pkl")
    assert (after["algorithm"], after["env"], after["env_kwargs"]) == (
        "PPO", "Arm", {"max_episode_steps": 50, "engine": "opensim"})
    assert after["steps_done"] >= before["steps_done"] + 50
    assert after["log"][:len(before["log"])] == before["log"]
    assert len(after["log"]) > len(before["log"])
    rows = read_log(out / "progress.csv")
    assert int(rows[-1]["step"]) > int(rows[len(before["log"]) - 1]["step"])
    # the normaliser kept learning from where it was
    assert after["obs_norm"]["count"] > before["obs_norm"]["count"]


# algorithm and hyperparameters of a tiny run of each backend
TINY_RUNS = {
    "sb3": ("PPO", {"n_steps": 64, "batch_size": 32}),
    "keras": ("DDPG", {"warmup_steps_critic": 32, "warmup_steps_actor": 32}),
    "rllib": ("PPO", {"train_batch_size_per_learner": 100, "minibatch_size": 50,
                      "num_epochs": 1, "obs_norm_warmup_steps": 100}),
}


@pytest.mark.parametrize("backend", sorted(TINY_RUNS))
def test_ctrl_c_saves_what_was_learnt(backend, tmp_path, capfd):
    """Every backend, interrupted while learning: the three files cover the steps done,
    one line says so, and the interrupt goes on as `TrainingInterrupted`."""
    pytest.importorskip(BACKENDS[backend].split(":")[0])
    algorithm, hyperparams = TINY_RUNS[backend]
    out = tmp_path / "run"
    config = TrainConfig(env="Arm", algorithm=algorithm, steps=1_000_000, out=out,
                         env_kwargs={"max_episode_steps": 20}, hyperparams=hyperparams,
                         progress=False)
    with ctrl_c_once_logged(out), pytest.raises(TrainingInterrupted) as stopped:
        get_backend(backend).train(config)
    assert isinstance(stopped.value, KeyboardInterrupt)
    message = f"interrupted: snapshot of {stopped.value.steps_done} steps saved to {out / 'params.pkl'}"
    assert str(stopped.value) == message
    assert capfd.readouterr().err.splitlines().count(message) == 1
    snapshot, policy = load_policy(stopped.value.params_path)
    assert 20 <= snapshot["steps_done"] == stopped.value.steps_done < config.steps
    assert snapshot["log"] and len(read_log(out / "progress.csv")) == len(snapshot["log"])
    assert (out / "learning_curve.png").read_bytes().startswith(b"\x89PNG")
    action = policy.act(np.zeros(16))
    assert action.shape == (6,) and np.all((action >= 0) & (action <= 1))


def test_cli_exits_130_on_ctrl_c_with_the_snapshot_saved(tmp_path):
    out = tmp_path / "run"
    train = subprocess.Popen(
        [sys.executable, "-m", "osim", "train", "--steps", "1000000", "--out", str(out),
         "--no-progress", "--env-option", "max_episode_steps=20", *PPO_SMALL],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with ctrl_c_once_logged(out, interrupt=lambda: train.send_signal(signal.SIGINT)):
            _, stderr = train.communicate(timeout=300)
    finally:
        train.kill()
    steps = load_snapshot(out / "params.pkl")["steps_done"]
    assert train.returncode == 130
    assert stderr.strip() == f"interrupted: snapshot of {steps} steps saved to {out / 'params.pkl'}"


def test_rllab_experiment_selects_algorithm_and_visualize_runs_it(ppo_run, tmp_path):
    out = tmp_path / "arm-ddpg"
    result = run("scripts/rllab/experiment.py", "-e", "Arm", "-a", "DDPG", "--steps", "100",
                 "--out", str(out), "--no-progress", "--env-option=max_episode_steps=50",
                 "--set", "learning_starts=50")
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {"params.pkl", "progress.csv",
                                                "learning_curve.png"}
    snapshot, policy = load_policy(out / "params.pkl")
    assert snapshot["algorithm"] == "DDPG"
    assert snapshot["hyperparams"]["net_arch"] == {"pi": [32, 32, 32], "qf": [64, 64, 64]}
    assert type(policy.model).__name__ == "DDPG"
    # the 2017 experiment's two learning rates: 1e-4 for the actor, 1e-3 for the critic
    assert policy.model.actor.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert policy.model.critic.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert type(load_policy(ppo_run / "params.pkl")[1].model).__name__ == "PPO"
    action = policy.act(np.zeros(16))
    assert action.shape == (6,) and np.all((action >= 0) & (action <= 1))

    shown = run("scripts/rllab/visualize.py", "-p", str(out / "params.pkl"), "--episodes", "1")
    assert shown.returncode == 0, shown.stderr
    assert "episode 1: total reward" in shown.stdout


def test_scripts_reject_bad_flags_and_missing_snapshots(tmp_path):
    bad_algo = run("scripts/rllab/experiment.py", "-e", "Arm", "-a", "A3C")
    assert bad_algo.returncode == 2 and "invalid choice" in bad_algo.stderr
    missing = run("scripts/rllab/visualize.py", "-p", str(tmp_path / "nope.pkl"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"osim-rl: error: no snapshot at {tmp_path / 'nope.pkl'}"


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "positive integer"),
    (["--env", "Armm"], "unknown env"),
    (["--algo", "A3C"], "no default backend"),
    (["--backend", "sb3", "--algo", "A3C"], "no algorithm 'A3C'"),
    (["--set", "n_steps"], "KEY=VALUE"),
    (["--set", "bogus_rate=1"], "unknown PPO hyperparameters ['bogus_rate']"),
    (["--env-option", "bogus=1"], "bad env options"),
    (["--address", "ray://head:10001"], "the sb3 backend has no option 'address'; its options: none"),
    (["--engine", "bullet"], "invalid choice: 'bullet'"),
])
def test_train_rejects_bad_input_without_output(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        osim_rl(["train", "--out", str(out), "--no-progress", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_snapshots_give_clear_errors(tmp_path, capsys):
    good = make_snapshot(backend="sb3", algorithm="PPO", env="Arm", env_kwargs={}, seed=0,
                         steps_done=0, hyperparams={}, policy=b"", obs_norm=None, log=[])
    path = save_snapshot(tmp_path / "params.pkl", good)
    assert load_snapshot(path) == good
    assert [p.name for p in tmp_path.iterdir()] == ["params.pkl"]

    (tmp_path / "truncated.pkl").write_bytes(path.read_bytes()[:40])
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"format": "something-else"}))
    (tmp_path / "text.pkl").write_text("not a pickle")
    for name, message in [("truncated.pkl", "not a readable snapshot"),
                          ("text.pkl", "not a readable snapshot"),
                          ("other.pkl", "not an osim-rl snapshot"),
                          ("missing.pkl", "no snapshot at")]:
        with pytest.raises(SnapshotError, match=message):
            load_snapshot(tmp_path / name)
        assert osim_rl(["evaluate", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="lacks"):
        save_snapshot(tmp_path / "bad.pkl", {"format": "osim-rl-snapshot/1"})
    assert not (tmp_path / "bad.pkl").exists()


def test_backend_registry():
    assert set(BACKENDS) == {"sb3", "keras", "rllib"}
    assert {backend_for_algorithm(a) for a in ("ddpg", "TD3", "SAC", "PPO", "TRPO")} == {"sb3"}
    with pytest.raises(ValueError, match="choose one of"):
        get_backend("tensorforce")
    backend = get_backend("sb3")
    assert set(backend.algorithms) == {"DDPG", "TD3", "SAC", "PPO", "TRPO"}
    assert backend.algorithms["TRPO"]["n_steps"] == 4000
    assert backend.algorithms["TRPO"]["target_kl"] == 0.01
    assert backend.algorithms["DDPG"]["reward_scale"] == 0.01


@pytest.mark.parametrize("backend", sorted(TINY_RUNS))
def test_every_backend_trains_on_mujoco_and_evaluates_on_opensim(backend, tmp_path):
    """Train fast on one engine, verify on the other: the snapshot records the
    engine it learnt on, and evaluation takes any."""
    pytest.importorskip(BACKENDS[backend].split(":")[0])
    from osim.train import evaluate

    algorithm, hyperparams = TINY_RUNS[backend]
    config = TrainConfig(env="Arm", algorithm=algorithm, steps=100, out=tmp_path / "run",
                         env_kwargs={"max_episode_steps": 20, "engine": "mujoco"},
                         hyperparams=hyperparams, progress=False)
    get_backend(backend).train(config)
    snapshot, policy = load_policy(tmp_path / "run" / "params.pkl")
    assert snapshot["env_kwargs"]["engine"] == "mujoco" and snapshot["steps_done"] >= 100
    on_opensim = evaluate(policy, "Arm", {"max_episode_steps": 20, "engine": "opensim"}, 1, 5)
    on_mujoco = evaluate(policy, "Arm", {"max_episode_steps": 20, "engine": "mujoco"}, 1, 5)
    assert all(0 < r <= 20 for r in on_opensim + on_mujoco)
