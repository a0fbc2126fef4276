"""Any action either raises a ValueError naming the problem, or steps to a finite
observation inside the observation space (or ends the episode with info["sim_error"])."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from osim.env import OsimGymEnv
from osim.tasks import TASKS

_envs: dict[str, OsimGymEnv] = {}


def env_for(name: str) -> OsimGymEnv:
    if name not in _envs:
        _envs[name] = OsimGymEnv(name)
        _envs[name].reset(seed=0)
    return _envs[name]


def actions(size: int):
    finite = st.floats(-10, 10, allow_nan=False)
    anything = st.floats(allow_nan=True, allow_infinity=True, width=64)
    return st.one_of(
        arrays(np.float64, size, elements=finite),
        arrays(np.float32, size, elements=st.floats(0, 1, width=32)),
        arrays(np.float64, size, elements=anything),
        arrays(np.float64, st.integers(0, 2 * size).filter(lambda n: n != size), elements=finite),
        arrays(np.float64, (2, size), elements=finite),
        st.lists(finite, min_size=size, max_size=size),
        st.just(None),
        st.text(max_size=5),
    )


@pytest.mark.parametrize("name", sorted(TASKS))
def test_any_action_is_refused_clearly_or_stepped_safely(name):
    env = env_for(name)
    size = env.action_space.shape[0]

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(action=actions(size))
    def check(action):
        array = None
        try:
            array = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        valid = array is not None and array.shape == (size,) and np.all(np.isfinite(array))
        if not valid:
            with pytest.raises(ValueError, match="shape|NaN|inf|numeric"):
                env.step(action)
            return
        obs, reward, terminated, truncated, info = env.step(action)
        if "sim_error" in info:
            assert terminated
        else:
            assert np.all(np.isfinite(obs)) and np.isfinite(reward)
            assert env.observation_space.contains(obs), env.observation_labels
        if terminated:
            env.reset(seed=1)

    check()
