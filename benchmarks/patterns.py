"""The excitation pattern every benchmark drives its models with."""

import numpy as np


def excitation_pattern(n_steps: int, n_muscles: int, step_size: float) -> np.ndarray:
    """Smooth, phase-shifted sinusoids in [0.1, 0.5]: every muscle works, nobody falls at once."""
    t = np.arange(n_steps)[:, None] * step_size
    phase = np.arange(n_muscles)[None, :] / n_muscles
    return 0.3 + 0.2 * np.sin(2 * np.pi * (1.5 * t + phase))
