"""An installed wheel works on its own: the schema ships inside the package, and the sources
that key a stage's chunks are the installed files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import REPO

pytestmark = pytest.mark.slow

UV = Path(sys.executable).parent / "uv"
CHECK = """
import fmrnoise
from fmrnoise.pipeline.config import ConfigError, validate
from fmrnoise.pipeline.sources import ROOT, stage_sources

config = validate({"studies": {"s": {"axes": {"T": {"values": [0.1, 0.2]}}}}})
print(config["studies"]["s"]["chunks"], config["model"]["Omega"])
try:
    validate({"studies": {"s": {"axes": {"T": {"values": [0.1, -0.2]}}}}})
except ConfigError as err:
    print(err)
print(ROOT == __import__("pathlib").Path(fmrnoise.__file__).parent,
      all(p.is_relative_to(ROOT) for p in stage_sources("noise")))
"""


def test_a_wheel_installed_into_a_fresh_environment_validates_a_config(tmp_path):
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([str(UV), "build", "--wheel", "-o", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True, env=env)
    (wheel,) = (tmp_path / "dist").glob("fmrnoise-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   env=env)
    subprocess.run([str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                    str(wheel)], check=True, env=env)
    result = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK], cwd=tmp_path,
                            capture_output=True, text=True, env={**env, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "{'T': 2} 0.02", "studies.s.axes.T.values[1]: must be >= 0, got -0.2", "True True"]
    assert "site-packages" in subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import fmrnoise; print(fmrnoise.__file__)"],
        capture_output=True, text=True, cwd=tmp_path).stdout
