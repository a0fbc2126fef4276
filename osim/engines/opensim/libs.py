"""Open OpenSim's engine libraries so that they run their own optimized code.

The PyPI ``opensim`` wheel compiles its SWIG modules (``_simbody.so``,
``_simulation.so``, ...) without optimization and exports from them every
inline SimTK template they instantiate (``Vec3`` and ``Rotation`` arithmetic,
``Transform`` composition, ...). Python opens an extension module with
RTLD_LOCAL, together with the engine libraries it needs, and the dynamic
linker binds the engine's calls to those functions to the first copy in that
group: the unoptimized one in ``_simbody.so``. Opening each engine library
first, on its own, binds it to its own optimized copies before any SWIG module
exists: 10-30% less CPU time per step, bit-identical results
(``tests/test_engine_libs.py`` checks the bindings and the trajectory).

They are opened RTLD_LOCAL, not RTLD_GLOBAL: a global OpenSim would also make
its bundled OpenBLAS global and take over other libraries' BLAS calls (it
changed PyTorch's results).

This must run before anything imports ``opensim``; ``import osim`` does it
first thing. Set ``OSIM_RL_PRELOAD=0`` to skip it (to measure the difference).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

# In dependency order, so each one finds the ones before it already open.
ENGINE_LIBRARIES = (
    "libSimTKcommon",
    "libSimTKmath",
    "libSimTKsimbody",
    "libosimLepton",
    "libosimCommon",
    "libosimSimulation",
    "libosimActuators",
    "libosimAnalyses",
    "libosimTools",
    "libosimExampleComponents",
    "libosimMoco",
)

#: What `preload_engine_libraries` did: "loaded", "disabled", "too late"
#: (opensim was imported first), "not needed" (not Linux), "not found" or
#: "failed: <reason>".
status = "not run"


def preload_engine_libraries() -> str:
    """Open the engine libraries, each on its own (RTLD_LOCAL), unless that is pointless or off.

    Never raises: the only cost of not doing it is speed.
    """
    global status
    if os.environ.get("OSIM_RL_PRELOAD", "1") == "0":
        status = "disabled"
    elif "opensim" in sys.modules or not sys.platform.startswith("linux"):
        status = "too late" if "opensim" in sys.modules else "not needed"
    else:
        status = _load()
    return status


def _load() -> str:
    try:
        spec = importlib.util.find_spec("opensim")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return "not found"
    folder = Path(next(iter(spec.submodule_search_locations)))
    try:
        for stem in ENGINE_LIBRARIES:
            # The versioned name (libSimTKcommon.so.3.9) is the one the SWIG
            # modules ask for; the bare .so is the fallback.
            candidates = sorted(folder.glob(f"{stem}.so*"), key=lambda p: (-len(p.name), p.name))
            if not candidates:
                return "not found"
            ctypes.CDLL(str(candidates[0]), mode=ctypes.RTLD_LOCAL)
    except OSError as err:
        return f"failed: {err}"
    return "loaded"
