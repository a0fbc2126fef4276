"""osim/engines/opensim/libs.py: the engine libraries' inline SimTK code binds to their own
optimized copies, and that changes no result, ours or other libraries'. Each
case needs a fresh process, since a library's bindings are fixed once it loads."""

import os
import subprocess
import sys
import textwrap

import pytest


# Which of the engine's symbol lookups the dynamic linker bound into a SWIG
# module (_simbody.so, _simulation.so, ...) rather than into an engine library.
def engine_bindings_into_swig_modules(tmp_path, code: str, preload: str) -> list[str]:
    log = tmp_path / f"bindings-{preload}"
    run_python(code, preload, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=str(log))
    found = []
    for path in tmp_path.glob(f"{log.name}.*"):
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split()
            # "<pid>:  binding file <from> [0] to <to> [0]: normal symbol `<name>'"
            if parts[1:3] == ["binding", "file"] and len(parts) > 7:
                source, target = os.path.basename(parts[3]), os.path.basename(parts[6])
                if source.startswith(("libSimTK", "libosim")) and target.startswith("_"):
                    found.append(f"{source} -> {target}: {parts[-1]}")
    return found


# Observations and rewards of HUMAN gait under random excitations, hashed.
TRAJECTORY_HASH = textwrap.dedent("""
    import hashlib
    import numpy as np
    import osim
    from osim.engines.opensim import libs as engine_libs
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


def run_python(code: str, preload: str = "1", **environment) -> list[str]:
    env = {**os.environ, "OSIM_RL_PRELOAD": preload, **environment}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[:-1]


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the binding problem is the Linux wheel's")


def test_engine_libraries_bind_to_their_own_code(tmp_path):
    assert run_python("import osim; print(osim.engines.opensim.libs.status)") == ["loaded"]
    assert engine_bindings_into_swig_modules(tmp_path, "import osim, opensim", "1") == []


def test_without_the_preload_the_swig_modules_supply_engine_code(tmp_path):
    # What the preload is for: without it, hundreds of such bindings.
    assert len(engine_bindings_into_swig_modules(tmp_path, "import osim, opensim", "0")) > 50


def test_importing_opensim_first_is_reported_and_still_works():
    assert run_python("import opensim, osim; print(osim.engines.opensim.libs.status)") == ["too late"]


def test_other_libraries_numerics_are_untouched():
    # Opening OpenSim RTLD_GLOBAL once made its OpenBLAS serve PyTorch's calls.
    code = textwrap.dedent("""
        import hashlib
        import numpy as np
        import osim, opensim, torch
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(40, 64), torch.nn.Tanh(), torch.nn.Linear(64, 18))
        matrix = np.random.default_rng(0).normal(size=(60, 60))
        out = [net(torch.randn(256, 40)).detach().numpy(), matrix @ matrix, np.linalg.inv(matrix)]
        print(hashlib.sha256(b"".join(a.tobytes() for a in out)).hexdigest())
    """)
    pytest.importorskip("torch")
    assert run_python(code) == run_python(code, preload="0")


def test_the_preload_changes_no_result():
    with_preload = run_python(TRAJECTORY_HASH)
    without = run_python(TRAJECTORY_HASH, preload="0")
    assert (with_preload[0], without[0]) == ("loaded", "disabled")
    assert with_preload[1] == without[1]
