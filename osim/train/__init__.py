"""Training agents on the osim tasks, with interchangeable backends.

``osim-rl train`` and ``scripts/rllab/experiment.py`` call `train`; ``osim-rl
evaluate`` and ``scripts/rllab/visualize.py`` call `load_policy` and `evaluate`.
Each backend lives in its own module, imported only when asked for, so its
library is an optional dependency (a pip extra).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from osim.train.base import (
    Backend,
    EpisodeLogger,
    Learned,
    Learner,
    Policy,
    RandomPolicy,
    Run,
    RunLogger,
    SnapshotError,
    TrainConfig,
    TrainingInterrupted,
    evaluate,
    load_snapshot,
    make_env,
    make_snapshot,
    reward_summary,
    save_snapshot,
    set_torch_threads,
)

# backend name -> "module:Class"
BACKENDS = {
    "sb3": "osim.train.sb3:SB3Backend",
    "keras": "osim.train.keras_ddpg:KerasDDPGBackend",
    "rllib": "osim.train.rllib:RLlibBackend",
}
# backend name -> the pip extra that installs its libraries
EXTRAS = {"sb3": "train", "keras": "keras", "rllib": "ray"}
# algorithm -> backend used when none is named
DEFAULT_BACKENDS = {"DDPG": "sb3", "TD3": "sb3", "SAC": "sb3", "PPO": "sb3", "TRPO": "sb3"}


class BackendUnavailable(ImportError):
    """A backend's optional libraries are not installed."""


def get_backend(name: str) -> Backend:
    """A new instance of backend `name` (a key of `BACKENDS`), importing it only now."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            raise BackendUnavailable(f"the {name} backend is not part of this osim-rl "
                                     f"({module_name} is missing)") from None
        raise BackendUnavailable(
            f"the {name} backend needs {err.name!r}, which is not installed: "
            f"pip install 'osim-rl[{EXTRAS[name]}]'") from None
    return getattr(module, class_name)()


def backend_for_algorithm(algorithm: str) -> str:
    """The backend that trains `algorithm` by default."""
    key = str(algorithm).upper()
    if key not in DEFAULT_BACKENDS:
        raise ValueError(f"no default backend for algorithm {algorithm!r}; name one with "
                         f"--backend ({sorted(BACKENDS)}); defaults exist for "
                         f"{sorted(DEFAULT_BACKENDS)}")
    return DEFAULT_BACKENDS[key]


def choose_backend(algorithm: str, backend: str | None = None,
                   resumed: dict | None = None) -> Backend:
    """Backend `backend`, else the one of the `resumed` snapshot, else `algorithm`'s default."""
    if backend is None:
        backend = resumed["backend"] if resumed is not None else backend_for_algorithm(algorithm)
    return get_backend(backend)


def train(config: TrainConfig, backend: str | None = None) -> Path:
    """Train as `config` says with `backend` (default: the resumed snapshot's, or by
    algorithm); return the path of ``params.pkl``. See `Backend.train`, also for Ctrl-C."""
    resumed = None
    if backend is None and config.resume is not None:
        resumed = load_snapshot(config.resume)
    return choose_backend(config.algorithm, backend, resumed).train(config)


def load_policy(snapshot: str | Path | dict) -> tuple[dict, Policy]:
    """The snapshot (from a ``params.pkl`` path or already loaded) and its policy."""
    if not isinstance(snapshot, dict):
        snapshot = load_snapshot(snapshot)
    return snapshot, get_backend(snapshot["backend"]).load_policy(snapshot)


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKENDS",
    "EXTRAS",
    "Backend",
    "BackendUnavailable",
    "EpisodeLogger",
    "Learned",
    "Learner",
    "Policy",
    "RandomPolicy",
    "Run",
    "RunLogger",
    "SnapshotError",
    "TrainConfig",
    "TrainingInterrupted",
    "backend_for_algorithm",
    "choose_backend",
    "evaluate",
    "get_backend",
    "load_policy",
    "load_snapshot",
    "make_env",
    "make_snapshot",
    "reward_summary",
    "save_snapshot",
    "set_torch_threads",
    "train",
]
