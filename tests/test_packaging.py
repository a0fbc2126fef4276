"""The conda packaging files agree with pyproject.toml.

`environment.yml` and `conda-recipe/meta.yaml` restate the package's version and
dependency constraints in conda's syntax; these tests keep them in step with
pyproject.toml, without conda and without network: conda match specs are parsed
and evaluated with py-rattler, pip requirements with `packaging`.

Constraints are compared by behaviour, not by text: for every core dependency
the conda spec and the pip specifier must admit exactly the same versions out of
a set of probe versions built around the specifier's boundaries. Probes are
final releases only: PEP 440 and conda order pre-releases differently (pip's
``<2`` excludes ``2.0rc1``, conda's admits it), so no spec can agree on them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

jinja2 = pytest.importorskip("jinja2")
yaml = pytest.importorskip("yaml")
rattler = pytest.importorskip("rattler")
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version as PipVersion  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PYPROJECT_FILE = REPO / "pyproject.toml"
ENV_FILE = REPO / "environment.yml"
RECIPE_DIR = REPO / "conda-recipe"
RECIPE_FILE = RECIPE_DIR / "meta.yaml"

# PyPI name -> conda name, where they differ (none do today).
CONDA_NAME = {}

# Versions tried against every constraint besides those derived from its
# boundaries (see `probe_versions`).
EXTRA_PROBES = ["0.1", "0.29", "1.0", "1.2.3", "1.99", "2.0", "3.9", "3.10", "3.11",
                "3.12", "4.5", "4.6", "4.6.0", "4.6.1", "4.7", "5.0", "100.0"]


# --------------------------------------------------------------------------- helpers


def render_recipe(text: str) -> str:
    """Render the recipe's Jinja the way conda-build would, with a minimal context.

    StrictUndefined: a placeholder this context does not know fails the test
    instead of silently rendering as an empty string.
    """
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(text).render(PYTHON="python", PREFIX="/prefix", SRC_DIR=str(REPO))


def conda_spec(spec: str):
    """Parse a conda match spec strictly (raises on an invalid one)."""
    return rattler.MatchSpec(spec, strict=True)


def conda_name(spec) -> str:
    return spec.name.normalized


def conda_admits(spec):
    """A predicate `version string -> bool` for a conda match spec's version part."""
    if spec.version is None:
        return lambda v: True
    version_spec = rattler.VersionSpec(str(spec.version), strict=True)
    return lambda v: version_spec.matches(rattler.Version(v))


def pip_admits(specifier: SpecifierSet | str):
    specifier = SpecifierSet(str(specifier))
    return lambda v: specifier.contains(v, prereleases=False)


def probe_versions(specifier: SpecifierSet | str) -> list[str]:
    """Final-release versions on and around each boundary of `specifier`."""
    probes = set(EXTRA_PROBES)
    for item in SpecifierSet(str(specifier)):
        release = list(PipVersion(item.version.rstrip(".*")).release)
        for n in range(1, len(release) + 2):
            base = (release + [0] * n)[:n]
            probes.add(".".join(map(str, base)))
            for delta in (-1, 1):
                bumped = base[:-1] + [base[-1] + delta]
                if bumped[-1] >= 0:
                    probes.add(".".join(map(str, bumped)))
            probes.add(".".join(map(str, base + [1])))
            probes.add(".".join(map(str, base + [99])))
    return sorted(probes, key=PipVersion)


def assert_same_versions(expected, actual, specifier, what: str) -> None:
    """`actual` admits exactly the probe versions `expected` admits."""
    probes = probe_versions(specifier)
    differ = [v for v in probes if expected(v) != actual(v)]
    assert not differ, (
        f"{what}: disagrees with pyproject's {str(specifier)!r} on versions {differ} "
        f"(pyproject admits {[v for v in differ if expected(v)]})"
    )
    # The comparison is not vacuous: the probes include admitted and rejected versions
    # whenever the specifier restricts anything.
    if str(specifier):
        assert any(expected(v) for v in probes) and not all(expected(v) for v in probes)


def module_path_exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def project() -> dict:
    with PYPROJECT_FILE.open("rb") as fh:
        return tomllib.load(fh)["project"]


@pytest.fixture(scope="module")
def core_deps(project) -> list[Requirement]:
    deps = [Requirement(d) for d in project["dependencies"]]
    assert deps, "pyproject.toml lists no core dependencies"
    return deps


@pytest.fixture(scope="module")
def recipe() -> dict:
    return yaml.safe_load(render_recipe(RECIPE_FILE.read_text()))


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load(ENV_FILE.read_text())


@pytest.fixture(scope="module")
def run_specs(recipe) -> dict:
    specs = [conda_spec(s) for s in recipe["requirements"]["run"]]
    return {conda_name(s): s for s in specs}


@pytest.fixture(scope="module")
def env_conda_specs(environment) -> dict:
    specs = [conda_spec(d) for d in environment["dependencies"] if isinstance(d, str)]
    return {conda_name(s): s for s in specs}


@pytest.fixture(scope="module")
def env_pip_lines(environment) -> list[str]:
    sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) <= 1, "environment.yml has more than one pip section"
    return sections[0] if sections else []


@pytest.fixture(scope="module")
def env_pip_reqs(env_pip_lines) -> dict:
    reqs = [Requirement(line) for line in env_pip_lines if not line.lstrip().startswith("-")
            and line.strip() not in (".", "./")]
    return {canonicalize_name(r.name): r for r in reqs}


# --------------------------------------------------------------------------- parsing


def test_recipe_renders_and_parses(recipe):
    assert isinstance(recipe, dict)
    for section in ("package", "source", "build", "requirements", "test", "about"):
        assert section in recipe, f"meta.yaml has no {section}: section"
    rendered = render_recipe(RECIPE_FILE.read_text())
    assert "{{" not in rendered and "{%" not in rendered


def test_environment_parses(environment):
    assert isinstance(environment, dict)
    assert isinstance(environment.get("dependencies"), list)


# --------------------------------------------------------------------------- recipe


def test_recipe_name_and_version(recipe, project):
    assert recipe["package"]["name"] == "osim-rl"
    assert canonicalize_name(recipe["package"]["name"]) == canonicalize_name(project["name"])
    # YAML could read an unquoted "3" as int: compare as text.
    assert str(recipe["package"]["version"]) == project["version"]


def test_recipe_builds_noarch_from_the_repo(recipe):
    assert recipe["build"]["noarch"] == "python"
    assert (RECIPE_DIR / recipe["source"]["path"]).resolve() == REPO
    script = recipe["build"]["script"]
    assert re.fullmatch(r"python -m pip install \. --no-deps( -vv)?", script), script


def test_recipe_entry_points_match_pyproject(recipe, project):
    declared = {f"{name} = {target}" for name, target in project.get("scripts", {}).items()}
    listed = {re.sub(r"\s*=\s*", " = ", e.strip()) for e in recipe["build"].get("entry_points", [])}
    assert listed == declared


def test_recipe_host_requirements(recipe):
    host = {conda_name(conda_spec(s)) for s in recipe["requirements"]["host"]}
    assert {"python", "pip", "setuptools"} <= host


def test_recipe_test_section(recipe):
    imports = recipe["test"]["imports"]
    assert {"osim", "osim.engines", "osim.env"} <= set(imports)
    for module in imports:
        assert module_path_exists(module), f"recipe tests import {module}, not in the repo"


def test_recipe_about(recipe, project):
    about = recipe["about"]
    assert about["license"] == "MIT" == project["license"]["text"]
    assert about["home"] and about["summary"]
    assert about["home"] == project["urls"]["Homepage"]


# --------------------------------------------------------------------------- specs


def all_conda_spec_strings() -> list[str]:
    # Runs at collection: a file that does not render or parse must fail this test
    # (and the parsing tests), not abort the whole module.
    try:
        recipe = yaml.safe_load(render_recipe(RECIPE_FILE.read_text()))
        environment = yaml.safe_load(ENV_FILE.read_text())
        recipe["requirements"]["host"], recipe["requirements"]["run"], environment["dependencies"]
    except Exception as exc:  # noqa: BLE001
        return [f"unreadable: {type(exc).__name__}: {exc}"]
    return (
        [f"meta.yaml host: {s}" for s in recipe["requirements"]["host"]]
        + [f"meta.yaml run: {s}" for s in recipe["requirements"]["run"]]
        + [f"environment.yml: {d}" for d in environment["dependencies"] if isinstance(d, str)]
    )


@pytest.mark.parametrize("where_spec", all_conda_spec_strings())
def test_conda_specs_are_valid_match_specs(where_spec):
    where, spec = where_spec.split(": ", 1)
    if where == "unreadable":
        pytest.fail(f"packaging files do not parse: {spec}")
    conda_spec(spec)  # raises if invalid
    if where.startswith("meta.yaml"):
        # conda-build splits recipe requirements on whitespace: "name", "name version"
        # or "name version build", with the name standing alone.
        assert re.fullmatch(r"[a-z0-9_.\-]+( \S+){0,2}", spec), f"not 'name version' form: {spec!r}"


def test_match_spec_validation_can_fail():
    for bad in ("gymnasium >=1.0 <2 x", "numpy >>1", "opensim==4.6.*.x"):
        with pytest.raises(Exception):
            conda_spec(bad)


def test_recipe_run_requirements_match_core_deps(core_deps, run_specs):
    for req in core_deps:
        name = CONDA_NAME.get(canonicalize_name(req.name), canonicalize_name(req.name))
        assert name in run_specs, f"{req.name} missing from meta.yaml run requirements"
        assert_same_versions(pip_admits(req.specifier), conda_admits(run_specs[name]),
                             req.specifier, f"meta.yaml run {run_specs[name]}")


def test_environment_has_core_deps(core_deps, env_conda_specs, env_pip_reqs):
    for req in core_deps:
        key = canonicalize_name(req.name)
        conda = env_conda_specs.get(CONDA_NAME.get(key, key))
        pip = env_pip_reqs.get(key)
        assert conda is not None or pip is not None, f"{req.name} missing from environment.yml"
        if conda is not None:
            assert_same_versions(pip_admits(req.specifier), conda_admits(conda),
                                 req.specifier, f"environment.yml {conda}")
        if pip is not None:
            assert_same_versions(pip_admits(req.specifier), pip_admits(pip.specifier),
                                 req.specifier, f"environment.yml pip {pip}")


def test_environment_opensim_from_pip(env_pip_reqs, core_deps):
    (opensim,) = [r for r in core_deps if canonicalize_name(r.name) == "opensim"]
    assert "opensim" in env_pip_reqs
    assert env_pip_reqs["opensim"].specifier == opensim.specifier


def test_environment_installs_the_package(env_pip_lines, env_conda_specs):
    targets = {re.sub(r"^-e\s+|^--editable\s+", "", line.strip()) for line in env_pip_lines}
    assert targets & {".", "./"}, "environment.yml's pip section does not install this repo"
    assert "pip" in env_conda_specs, "environment.yml has a pip section but no pip dependency"


# --------------------------------------------------------------------------- python


def test_environment_name_and_python(environment, env_conda_specs, project):
    assert environment["name"] == "opensim-rl"
    python = conda_admits(env_conda_specs["python"])
    assert python("3.11") and python("3.11.0") and python("3.11.9")
    assert not python("3.10.14") and not python("3.12.0") and not python("3.1")
    # ...and pyproject accepts that Python.
    assert SpecifierSet(project["requires-python"]).contains("3.11.0")


@pytest.mark.parametrize("section", ["host", "run"])
def test_recipe_python_bound_matches_requires_python(recipe, project, section):
    requires_python = SpecifierSet(project["requires-python"])
    specs = [conda_spec(s) for s in recipe["requirements"][section]]
    (python,) = [s for s in specs if conda_name(s) == "python"]
    assert_same_versions(pip_admits(requires_python), conda_admits(python), requires_python,
                         f"meta.yaml {section} {python}")


# --------------------------------------------------------------------------- self-checks


@pytest.mark.parametrize(
    ("pip_spec", "conda_version", "same"),
    [
        ("==4.6", "==4.6", True),
        ("==4.6", "4.6.*", False),  # conda's 4.6.* admits 4.6.1, pip's ==4.6 does not
        (">=1.0,<2", ">=1.0,<2", True),
        (">=1.0,<2", ">=1.0,<3", False),
        (">=1.0,<2", ">=1.1,<2", False),
        (">=1.24", ">=1.24", True),
        (">=1.24", ">1.24", False),
        (">=3.10", ">=3.1", False),
    ],
)
def test_comparison_detects_differences(pip_spec, conda_version, same):
    conda = conda_spec(f"pkg {conda_version}")
    probes = probe_versions(pip_spec)
    agree = all(pip_admits(pip_spec)(v) == conda_admits(conda)(v) for v in probes)
    assert agree is same
