"""The documentation cannot rot: every command and Python block of README.md and
config/README.md runs as written, in a copy of the repository, in a plain shell.

The blocks of a page run in document order in one copy, as a reader who copies them one by one
would run them (the README's `make run` makes the stores its later blocks open):

- a ``sh`` block runs in ``bash -e`` (without ``.venv`` on the PATH: the README says how to
  get the tools there); a ``python`` block with the copy's ``.venv/bin/python``;
- a block after ``<!-- file: NAME -->`` is written to the file NAME;
- a ``text`` block after ``<!-- output ... -->`` must equal what the block before printed;
- a block after ``<!-- not run: REASON -->`` is skipped, and so is a line of a block that runs
  an exempt command (:data:`EXEMPT`: the test suite itself, the benchmarks, conda and SLURM).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from workflow_helpers import REPO

pytestmark = pytest.mark.slow

PAGES = ("README.md", "config/README.md")
#: Commands the documentation shows but the tests do not run (the README says so).
EXEMPT = re.compile(r"(make (test|test-fast|bench)\b|conda |.*slurm|.*--extra cluster)")
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    """A fenced block of a page, with the HTML comment just before it (if any)."""

    page: str
    line: int
    lang: str
    code: str
    note: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.lang})"


def blocks(page: str) -> list[Block]:
    text = (REPO / page).read_text()
    return [Block(page, text.count("\n", 0, m.start()) + 1, m["lang"], m["code"],
                  m["note"] or "") for m in BLOCK.finditer(text)]


def plain_environment(copy: Path) -> dict[str, str]:
    """A reader's shell: no virtual environment active, not inside make (under `make test` a
    nested make would announce its directories); the copy runs its own sources."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONHOME", "MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if ".venv" not in p)
    env["PYTHONPATH"] = str(copy / "src")
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository's files (tracked ones, as in a fresh clone) and its .venv."""
    root = tmp_path_factory.mktemp("clone") / "fmrnoise"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    (root / ".venv").symlink_to(REPO / ".venv")
    return root


def run(block: Block, copy: Path) -> str:
    """Run a block in the copy; return what it printed."""
    if block.lang == "python":
        command = [str(copy / ".venv" / "bin" / "python"), "-c", block.code]
    else:
        lines = [line for line in block.code.splitlines() if not EXEMPT.match(line)]
        command = ["bash", "-e", "-c", "\n".join(lines)]
    result = subprocess.run(command, cwd=copy, env=plain_environment(copy), text=True,
                            capture_output=True, timeout=900)
    assert result.returncode == 0, (f"{block} failed ({result.returncode}):\n{block.code}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def test_every_command_and_python_block_of_the_documentation_runs_as_written(copy):
    ran, compared = [], 0
    for page in PAGES:
        printed = None
        for block in blocks(page):
            if block.note.startswith("not run:"):
                continue
            if block.note.startswith("file:"):
                (copy / block.note.removeprefix("file:").strip()).write_text(block.code)
            elif block.note.startswith("output"):
                assert printed == block.code, f"{block}: the output shown differs"
                compared += 1
            elif block.lang in ("sh", "bash", "python"):
                printed = run(block, copy)
                ran.append(str(block))
    assert compared >= 2 and len(ran) >= 5, ran
    # what the README's commands made: every default store and figure, the user's study alone
    import yaml

    from fmrnoise.pipeline.contract import STAGES
    from fmrnoise.plots import FIGURES

    defaults = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for study in defaults["studies"]:
        for stage in STAGES:
            assert (copy / "results" / study / f"{stage}.zarr" / "zarr.json").is_file()
        assert (copy / "results" / "figures" / study / "overview.pdf").stat().st_size > 0
    for figure in FIGURES:
        assert (copy / "results" / "figures" / f"{figure}.png").stat().st_size > 0
        assert (copy / "results" / "figures" / f"{figure}.caption.rst").stat().st_size > 0
    # the README shows the field-swept figure as make run draws it (docs/images/, committed)
    from matplotlib.image import imread

    shown = imread(copy / "docs" / "images" / "field_swept_fmr.png")
    drawn = imread(copy / "results" / "figures" / "field_swept_fmr.png")
    assert shown.shape == drawn.shape and (shown == drawn).all(), (
        "docs/images/field_swept_fmr.png differs from the figure make run draws: copy "
        "results/figures/field_swept_fmr.png there")
    assert (copy / "results" / "report.html").stat().st_size > 0
    assert (copy / "results" / "figures" / "my_line" / "overview.png").stat().st_size > 0
    assert (copy / "elsewhere" / "results" / "my_line" / "noise.zarr").is_dir()


def test_the_exempt_blocks_are_the_suite_itself_benchmarks_conda_and_slurm():
    exempt = [block for page in PAGES for block in blocks(page)
              if block.note.startswith("not run:")]
    for block in exempt:
        commands = [line.split("#")[0].strip() for line in block.code.splitlines()]
        for command in filter(None, commands):
            assert EXEMPT.match(command), f"{block}: {command!r} is not exempt"


def test_a_user_study_alone_runs_and_a_dry_run_lists_no_default_study(tmp_path, copy):
    """A dry run with the user's file plans only the user's study, also when it is named like
    a default study and has only values axes; the run computes it and its overview alone."""
    (tmp_path / "fmr_line.yaml").write_text(
        "studies:\n  fmr_line:\n    axes:\n      T: {values: [0.1, 0.2]}\n")

    def snakemake(*args: str) -> subprocess.CompletedProcess:
        command = [str(copy / ".venv" / "bin" / "snakemake"), "-s", str(copy / "Snakefile"),
                   *args, "--configfile", "fmr_line.yaml"]
        result = subprocess.run(command, cwd=tmp_path, env=plain_environment(copy),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result

    dry = snakemake("-n")
    plan = re.search(r"fmrnoise plan: .*?\n(?=\S|\Z)", dry.stderr + "\n", re.S).group(0)
    assert "  fmr_line: T 2 = 2 points" in plan
    assert not re.search(r"phase_diagram|bias_sweep|thermal_bias|precession", dry.stdout + plan)
    snakemake()
    made = sorted(str(p.relative_to(tmp_path / "results")) for p in
                  (tmp_path / "results").glob("**/*") if p.suffix in (".zarr", ".png"))
    assert made == ["figures/fmr_line/overview.png", "fmr_line/distribution.zarr",
                    "fmr_line/dot_voltage.zarr", "fmr_line/noise.zarr",
                    "fmr_line/steady_state.zarr"]


def test_the_tutorial_notebook_runs(copy):
    """examples/tutorial.ipynb, executed as a reader would (from examples/, in a copy)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(copy / "examples" / "tutorial.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells)  # committed without outputs
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(copy / "src"))
        patch.setenv("MPLBACKEND", "Agg")
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(copy / "examples")}}
                                ).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", ()))
    assert "noise         computed 1 chunk(s), reused 3" in printed
    assert "axes.omega_d.num: 96 → 128" in printed
    assert (copy / "examples" / "tutorial-work" / "results" / "figures" / "tutorial"
            / "overview.png").is_file()
