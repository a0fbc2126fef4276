import os
from pathlib import Path

import pytest

import osim  # noqa: F401  (before any test module imports opensim: see osim/engines/opensim/libs.py)
from osim.engines import ENGINES

# Tests never open a visualizer window, whatever the developer's desktop has.
os.environ.pop("DISPLAY", None)

REPO = Path(__file__).resolve().parents[1]
REFERENCE_MODELS = REPO.parent / "shared" / "reference-models"


@pytest.fixture(scope="session")
def arm_osim(tmp_path_factory) -> Path:
    """Our ARM model exported as an .osim file, as a user's model would be."""
    from osim.models import export_model

    return export_model("arm", tmp_path_factory.mktemp("models") / "arm.osim")


@pytest.fixture(params=sorted(ENGINES))
def engine(request) -> str:
    """Each registered engine in turn: tests of behaviour (not of one engine's
    internals) take this, so that a new engine joins them by registering."""
    return request.param
