"""The project's set-up files agree with each other."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# PyPI name -> conda-forge name, where they differ (matplotlib-base avoids the Qt stack).
CONDA_NAMES = {"matplotlib": "matplotlib-base", "dask": "dask"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_lists_the_runtime_dependencies_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAMES.get(_name(r), _name(r)) for r in project["dependencies"]}
    if any("[distributed]" in r for r in project["dependencies"]):
        wanted.add("distributed")
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {_name(d) for d in environment["dependencies"] if isinstance(d, str)}
    assert wanted <= listed, f"missing in environment.yml: {sorted(wanted - listed)}"
    extra = listed - wanted - {"python", "pip"}
    assert not extra, f"not in pyproject.toml: {sorted(extra)}"
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    assert {"conda-forge", "bioconda"} <= set(environment["channels"])
    python = next(d for d in environment["dependencies"] if str(d).startswith("python"))
    assert python == f"python{project['requires-python']}"


def test_readme_opens_with_the_two_setup_commands():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make run" in head and "make test" in head


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
