"""osim/engine_libs.py: the engine libraries' inline SimTK code binds to their own
optimized copies, and that changes no result. Each case needs a fresh process,
since a library's binding is fixed once it is loaded."""

import os
import subprocess
import sys
import textwrap

import pytest

# Where the process-wide lookup finds two inline SimTK functions the engine calls
# on every derivative evaluation (Transform_<double>::compose, Vec3::operator[]).
WHERE_SYMBOLS_BIND = textwrap.dedent("""
    import ctypes, sys
    {first_import}
    import osim
    from osim import engine_libs

    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                    ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]

    libc = ctypes.CDLL(None)
    libc.dlsym.restype = ctypes.c_void_p
    libc.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
    print(engine_libs.status)
    for symbol in (b"_ZNK5SimTK10Transform_IdE7composeERKS1_", b"_ZNK5SimTK3VecILi3EdLi1EEixEi"):
        address = libc.dlsym(None, symbol)  # None: RTLD_DEFAULT, the global scope
        info = DlInfo()
        print(libc.dladdr(address, ctypes.byref(info)) and info.fname.decode() if address else "unbound")
""")

# Observations and rewards of HUMAN gait under random excitations, hashed.
TRAJECTORY_HASH = textwrap.dedent("""
    import hashlib
    import numpy as np
    import osim
    from osim import engine_libs
    from osim.env import OsimGymEnv

    digest = hashlib.sha256()
    for preset in ("default", "fast"):
        env = OsimGymEnv("Gait", preset=preset)
        observation, _ = env.reset(seed=3)
        rng = np.random.default_rng(1)
        for _ in range(40):
            observation, reward, terminated, _, _ = env.step(rng.uniform(0, 1, env.action_space.shape))
            digest.update(np.asarray(observation, dtype=np.float64).tobytes())
            digest.update(np.float64(reward).tobytes())
    print(engine_libs.status)
    print(digest.hexdigest())
""")


def run_python(code: str, preload: str = "1") -> list[str]:
    env = {**os.environ, "OSIM_RL_PRELOAD": preload}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[:-1]


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the binding problem is the Linux wheel's")


def test_engine_inline_code_binds_to_the_engine_libraries():
    status, *libraries = run_python(WHERE_SYMBOLS_BIND.format(first_import=""))
    assert status == "loaded"
    assert libraries and all(os.path.basename(lib).startswith("libSimTK") for lib in libraries), libraries


def test_without_the_preload_nothing_engine_side_is_global():
    status, *libraries = run_python(WHERE_SYMBOLS_BIND.format(first_import=""), preload="0")
    assert status == "disabled"
    assert libraries == ["unbound", "unbound"]


def test_importing_opensim_first_is_reported_and_still_works():
    status, *_ = run_python(WHERE_SYMBOLS_BIND.format(first_import="import opensim"))
    assert status == "too late"


def test_the_preload_changes_no_result():
    with_preload = run_python(TRAJECTORY_HASH)
    without = run_python(TRAJECTORY_HASH, preload="0")
    assert (with_preload[0], without[0]) == ("loaded", "disabled")
    assert with_preload[1] == without[1]
