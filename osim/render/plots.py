"""PNG plots: learning curves of training runs, traces of single episodes and
maps of a target-velocity field with the path walked (L2M2019)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, png_path: str | Path) -> Path:
    fig.tight_layout()
    png_path = Path(png_path)
    fig.savefig(png_path)
    plt.close(fig)
    return png_path


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
    return _save(plt, fig, png_path)


def episode_trace(env, policy_fn, seed: int | None = None,
                  max_steps: int | None = None) -> dict[str, Any]:
    """Run one episode of ``policy_fn(observation) -> action`` on a Gymnasium osim
    env (wrapped or not) and record what `plot_episode` draws: ``time`` (s), the
    rotational ``joints`` (deg, by coordinate name), muscle ``activations`` (by
    muscle name) and ``reward_terms`` (by term name), one row per step."""
    base = env.unwrapped
    sim = base.sim
    observation, _ = env.reset(seed=seed)
    joints = [i for i, kind in enumerate(sim.coordinate_types()) if kind == "rotational"]
    rows: dict[str, list] = {"time": [], "joints": [], "activations": []}
    terms: dict[str, list[float]] = {}
    steps = 0
    while max_steps is None or steps < max_steps:
        observation, _, terminated, truncated, info = env.step(policy_fn(observation))
        steps += 1
        rows["time"].append(sim.time)
        rows["joints"].append(np.degrees(sim.coordinate_values()[joints]))
        rows["activations"].append(sim.muscle_activations())
        for name, value in info.get("reward_terms", {}).items():
            terms.setdefault(name, [np.nan] * (steps - 1)).append(float(value))
        for values in terms.values():
            values.extend([np.nan] * (steps - len(values)))
        if terminated or truncated:
            break
    joint_rows = np.array(rows["joints"]).reshape(steps, len(joints))
    activation_rows = np.array(rows["activations"]).reshape(steps, sim.num_muscles)
    return {
        "time": np.array(rows["time"]),
        "joints": {sim.coordinate_names[i]: joint_rows[:, k] for k, i in enumerate(joints)},
        "activations": {n: activation_rows[:, k] for k, n in enumerate(sim.muscle_names)},
        "reward_terms": {n: np.array(v) for n, v in terms.items()},
    }


def plot_episode(trace: dict[str, Any], png_path: str | Path, *, title: str | None = None) -> Path:
    """Three stacked panels over time: joint angles (deg), muscle activations and
    reward terms, from a trace as `episode_trace` returns it."""
    time = np.asarray(trace.get("time", []), dtype=float)
    if time.ndim != 1 or not len(time):
        raise ValueError("the trace has no steps: it needs a non-empty 'time' array")
    panels = (("joints", "joint angle (deg)"), ("activations", "muscle activation"),
              ("reward_terms", "reward term"))
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), dpi=100, sharex=True)
    for ax, (key, label) in zip(axes, panels):
        series = trace.get(key, {})
        for i, (name, values) in enumerate(series.items()):
            values = np.asarray(values, dtype=float)
            if values.shape != time.shape:
                raise ValueError(f"trace[{key!r}][{name!r}] has {values.shape[0] if values.ndim else 0} "
                                 f"values for {len(time)} time steps")
            ax.plot(time, values, label=name, linewidth=1.2,
                    linestyle="-" if i < 10 else "--")  # the colour cycle has ten colours
        if not series:
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                      ncol=1 + len(series) // 12, frameon=False)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_ylim(-0.02, 1.02)
    axes[-1].set_xlabel("time (s)")
    if title:
        axes[0].set_title(title)
    return _save(plt, fig, png_path)


def field_trace(env, policy_fn, seed: int | None = None,
                max_steps: int | None = None) -> dict[str, Any]:
    """Run one episode of ``policy_fn(observation) -> action`` on an env whose
    task has a target-velocity field (`osim.tasks.L2M2019`) and record what
    `plot_field` draws: the pelvis ``path`` ((n, 2), m, the field's map axes:
    x forward, y leftward) from the reset on, and the task's ``field`` map
    (`L2M2019.field_map`) at the end: node coordinates, velocities, sinks."""
    base = env.unwrapped
    if not hasattr(base.task, "field_map"):
        raise ValueError(f"{type(base.task).__name__} has no target-velocity field to plot")
    observation, _ = env.reset(seed=seed)
    path = [base.task.pose(base.sim)[:2]]
    steps = 0
    while max_steps is None or steps < max_steps:
        observation, _, terminated, truncated, _ = env.step(policy_fn(observation))
        steps += 1
        path.append(base.task.pose(base.sim)[:2])
        if terminated or truncated:
            break
    return {"path": np.array(path), "time": steps * base.sim.step_size,
            "field": base.task.field_map()}


def plot_field(trace: dict[str, Any], png_path: str | Path, *, title: str | None = None,
               spacing: float = 1.0, margin: float = 4.0) -> Path:
    """The global target-velocity field as arrows coloured by speed (one per
    ``spacing`` m), its sinks with their target radius, and the pelvis path,
    from a trace as `field_trace` returns it, over the region of the path and
    the sinks plus ``margin`` m. Map axes: x forward, y leftward."""
    field = trace.get("field")
    path = np.asarray(trace.get("path", []), dtype=float).reshape(-1, 2)
    if not field or not len(path):
        raise ValueError("the trace needs a 'field' map and a non-empty 'path'")
    x, y, velocity = (np.asarray(field[k], dtype=float) for k in ("x", "y", "velocity"))
    if velocity.shape != (2, len(x), len(y)):
        raise ValueError(f"field velocity has shape {velocity.shape}, expected "
                         f"(2, {len(x)}, {len(y)}) for its nodes")
    every = max(1, round(spacing / abs(x[1] - x[0]))) if len(x) > 1 else 1
    gx, gy = np.meshgrid(x[::every], y[::every], indexing="ij")
    u, v = velocity[0, ::every, ::every], velocity[1, ::every, ::every]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 7), dpi=100)
    # an arrow is half as long (m) as its speed (m/s) times the spacing: 1.8 m/s, 0.9 spacing
    arrows = ax.quiver(gx, gy, u, v, np.hypot(u, v), cmap="viridis", angles="xy",
                       scale_units="xy", scale=2.0 / spacing, width=0.004)
    fig.colorbar(arrows, ax=ax, shrink=0.8, label="target speed (m/s)")
    for k, sink in enumerate(field.get("sinks", ())):
        ax.add_patch(plt.Circle(tuple(sink), field.get("target_radius", 0.3), fill=False,
                                color="C3", linewidth=2))
        ax.annotate(f"sink {k + 1}", tuple(sink), textcoords="offset points", xytext=(6, 6),
                    color="C3")
    ax.plot(path[:, 0], path[:, 1], color="C1", linewidth=2, label="pelvis path")
    ax.plot(*path[0], "o", color="C1", label="start")
    ax.plot(*path[-1], "x", color="k", markersize=8, label="end")
    # the region walked and targeted, with a margin, within the map
    seen = np.vstack([path, *(np.reshape(s, (1, 2)) for s in field.get("sinks", ()))])
    low = np.maximum(seen.min(axis=0) - margin, [x[0], y[0]])
    high = np.minimum(seen.max(axis=0) + margin, [x[-1], y[-1]])
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("x, forward (m)")
    ax.set_ylabel("y, leftward (m)")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return _save(plt, fig, png_path)
