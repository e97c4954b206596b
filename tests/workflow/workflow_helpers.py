"""Helpers for the end-to-end workflow tests: run Snakemake as users do, read what it did."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from fmrnoise.pipeline.contract import STAGES

REPO = Path(__file__).resolve().parents[2]


def copy_workflow(destination: Path) -> Path:
    """A copy of the workflow's files (Snakefile, rules, config, sources) to edit in tests."""
    for name in ("Snakefile", "workflow", "config", "src", "profiles", "environment.yml"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination / "Snakefile"


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake_command(workdir: Path, *args: str,
                      snakefile: Path = REPO / "Snakefile") -> list[str]:
    """The Snakemake command line a user would type to run in ``workdir``."""
    return [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir),
            "--cores", "2", *args]


def environment(snakefile: Path) -> dict[str, str]:
    """The environment of a run: a copy of the workflow runs its own copy of the sources."""
    env = dict(os.environ)
    if snakefile.parent != REPO:
        env["PYTHONPATH"] = str(snakefile.parent / "src")
    return env


def snakemake(workdir: Path, *args: str, snakefile: Path = REPO / "Snakefile",
              check: bool = True) -> subprocess.CompletedProcess:
    """Run the Snakemake CLI in ``workdir``, as a user would."""
    command = snakemake_command(workdir, *args, snakefile=snakefile)
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir,
                            env=environment(snakefile))
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def start_snakemake(workdir: Path, *args: str, output: Path,
                    snakefile: Path = REPO / "Snakefile") -> subprocess.Popen:
    """Start the Snakemake CLI in the background, in a session (process group) of its own.

    Like a run started from a terminal, Snakemake and the jobs it spawns share one process
    group, which ``os.killpg`` signals as a whole (what Ctrl-C does with SIGINT). Its stdout
    and stderr go to the file ``output``.
    """
    with output.open("w") as stream:
        return subprocess.Popen(snakemake_command(workdir, *args, snakefile=snakefile),
                                cwd=workdir, stdout=stream, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True,
                                env=environment(snakefile))


def targets(*studies: str) -> list[str]:
    return [f"results/{study}/{stage}.zarr" for study in studies for stage in STAGES]


def planned_jobs(workdir: Path, *args: str, snakefile: Path = REPO / "Snakefile") -> dict:
    """Rules a dry run would execute, with their job counts (empty: nothing to do)."""
    output = snakemake(workdir, "-n", *args, snakefile=snakefile).stdout
    jobs = {}
    table = re.search(r"Job stats:\n(.*?)\n\s*total", output, re.S)
    if table:
        for line in table.group(1).splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                jobs[parts[0]] = int(parts[1])
    return jobs


def chunk_counts(log: Path) -> tuple[int, int]:
    """(computed, reused) chunk counts a stage's log reports."""
    match = re.search(r"computed (\d+) chunks, reused (\d+)", log.read_text())
    assert match, log.read_text()
    return int(match.group(1)), int(match.group(2))
