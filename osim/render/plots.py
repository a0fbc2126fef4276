"""PNG plots: learning curves of training runs and traces of single episodes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def read_progress(csv_path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a training log (``progress.csv``: one row per finished episode)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"no training log at {csv_path}")
    with csv_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"step", "reward"} <= set(rows[0]):
        raise ValueError(f"{csv_path} is not a training log: it needs 'step' and 'reward' columns")
    return {key: np.array([float(r[key]) for r in rows]) for key in (rows[0] if rows else [])}


def plot_learning_curve(csv_path: str | Path, png_path: str | Path, *, window: int = 20,
                        title: str | None = None) -> Path:
    """Episode reward against environment steps, with a running mean over `window` episodes."""
    log = read_progress(csv_path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if log and len(log["step"]):
        steps, rewards = log["step"], log["reward"]
        ax.plot(steps, rewards, ".", color="0.6", markersize=3, label="episode")
        k = max(1, min(window, len(rewards)))
        running = np.convolve(rewards, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], running, color="C0", linewidth=2, label=f"mean of last {k}")
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no finished episode yet", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode reward")
    ax.set_title(title or Path(csv_path).parent.name)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png_path = Path(png_path)
    fig.savefig(png_path)
    plt.close(fig)
    return png_path
