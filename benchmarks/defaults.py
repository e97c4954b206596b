"""``make run`` of the default studies: cold, with nothing to do, and its floor of job start-ups.

In a scratch copy of the workflow (:func:`benchmarks.pipeline.snapshot`, its ``src`` imported
first), plain ``snakemake --cores 2`` runs the default configuration (config/config.yaml: every
default study, every figure and the overviews; the workflow profile profiles/default as for
``make run``), cold (no results, no chunk cache, no .snakemake), then again with nothing to do.

Most of its jobs are small: their time is mostly the start-up of a job's Python process. The
per-job start-up is measured as the wall time of ``snakemake --cores 2 --force <store>`` (the
one job of the store, its chunks reused from the cache) less that of ``snakemake --cores 2
<store>`` with nothing to do, for a small stage store (results/temperature_crossover/noise.zarr:
17 points) and for a small figure. The floor of a cold run is then jobs x per-job start-up
÷ cores. Target (issue 17): the cold run in ≤ 40 s.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .pipeline import snapshot, source_env, stage_log, timed

TARGET = 40.0
CORES = 2
#: One small job of each kind: a stage store and a figure, for the per-job start-up.
STAGE_JOB = "results/temperature_crossover/noise.zarr"
FIGURE_JOB = "results/figures/temperature_crossover.png"


@dataclass(frozen=True)
class Defaults:
    """The measurements of a default run (seconds)."""

    colds: tuple[float, ...]  # cold runs' walls
    nothing: tuple[float, ...]  # walls of runs with nothing to do
    jobs: dict[str, int]  # rule -> jobs of the cold run (without the rule ``all``)
    stage_startup: float  # per stage job
    figure_startup: float  # per figure job
    stage_times: dict[str, float]  # "study/stage" -> the stage's own time (its log)
    results: Path  # the results directory of the last cold run


NOTE = ("In a scratch copy of the workflow (its src imported first), plain snakemake --cores 2 "
        "with the default configuration (every default study, every figure and the overviews; "
        "the workflow profile profiles/default, as make run), cold (no results, no chunk "
        "cache, no .snakemake), then again with nothing to do. Per-job start-up: the wall time "
        "of snakemake --cores 2 --force <store> (one job, its chunks reused from the cache) "
        "less that of the same command with nothing to do. Target (issue 17): the cold run in "
        f"≤ {TARGET:.0f} s.")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", str(CORES), *args]


def job_counts(log: Path) -> dict[str, int]:
    """Jobs per rule from the "Job stats" table of a Snakemake log (rule ``all`` left out)."""
    text = log.read_text()
    table = text[text.index("Job stats:"):].split("\n\n", 1)[0]
    counts = {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}
    counts.pop("total", None)
    counts.pop("all", None)
    return counts


def _startup(repo: Path, env: dict, target: str, logs: Path, repeats: int) -> float:
    """Wall time of forcing the one job of ``target`` less that of a run with nothing to do."""
    forced = min(timed(_command("--force", target), logs / "forced.log", env, repo)["wall"]
                 for _ in range(repeats))
    idle = min(timed(_command(target), logs / "idle.log", env, repo)["wall"]
               for _ in range(repeats))
    return forced - idle


def measure(root: Path, repeats: int = 1, startup_repeats: int = 3) -> Defaults:
    """Cold runs (``repeats``, each from scratch), runs with nothing to do, per-job start-ups.

    ``root`` is an empty scratch directory: the workflow copy goes to ``root/repo``, where the
    results of the last cold run stay (for :mod:`benchmarks.codecs`).
    """
    repo = snapshot(root / "repo").parent
    env = source_env(repo / "Snakefile")
    colds = []
    for trial in range(repeats):
        for name in ("results", ".snakemake"):
            shutil.rmtree(repo / name, ignore_errors=True)
        colds.append(timed(_command(), root / f"cold-{trial}.log", env, repo)["wall"])
        print(f"  default studies, cold: {colds[-1]:.1f} s", file=sys.stderr, flush=True)
    jobs = job_counts(root / f"cold-{repeats - 1}.log")
    stage_times = {}
    for log in sorted((repo / "results" / "logs").glob("*/*.log")):
        entry = stage_log(log)
        if entry is not None and log.parent.name != "figures":
            stage_times[f"{log.parent.name}/{log.stem}"] = entry[2]
    nothing = tuple(timed(_command(), root / "nothing.log", env, repo)["wall"]
                    for _ in range(startup_repeats))
    stage = _startup(repo, env, STAGE_JOB, root, startup_repeats)
    figure = _startup(repo, env, FIGURE_JOB, root, startup_repeats)
    return Defaults(tuple(colds), nothing, jobs, stage, figure, stage_times, repo / "results")


def cold_results(root: Path) -> Path:
    """A cold default run in a workflow copy under ``root`` (not timed): its results."""
    repo = snapshot(root / "repo").parent
    timed(_command(), root / "cold.log", source_env(repo / "Snakefile"), repo)
    return repo / "results"


def _range(values: tuple[float, ...]) -> str:
    best = f"{min(values):.1f}"
    return best if len(values) < 2 else f"{best} ({min(values):.1f}–{max(values):.1f})"


def table(d: Defaults) -> list[str]:
    """Markdown: the cold run against its target and its floor, the run with nothing to do."""
    cold = min(d.colds)
    n_jobs = sum(d.jobs.values())
    n_figures = sum(c for rule, c in d.jobs.items() if rule.startswith("figure"))
    floor = n_jobs * d.stage_startup / CORES
    mixed = ((n_jobs - n_figures) * d.stage_startup + n_figures * d.figure_startup) / CORES
    own = sum(d.stage_times.values())
    longest = max(d.stage_times, key=d.stage_times.get) if d.stage_times else "–"
    return [
        f"| run of the default studies (`snakemake --cores {CORES}`) | wall [s], best (range) "
        "| jobs | target | met |", "|---|---:|---:|---:|:-:|",
        f"| cold (no results, no cache) | {_range(d.colds)} | {n_jobs} | ≤ {TARGET:.0f} s "
        f"| {'yes' if cold <= TARGET else '**no**'} |",
        f"| again, nothing to do | {_range(d.nothing)} | 0 | – | – |",
        "",
        f"Jobs: {n_jobs} ({', '.join(f'{rule} {c}' for rule, c in d.jobs.items())}; the rule "
        f"`all` left out). Per-job start-up: {d.stage_startup:.2f} s for a stage job "
        f"(`--force {STAGE_JOB}` against the same run with nothing to do), "
        f"{d.figure_startup:.2f} s for a figure job (`{FIGURE_JOB}`). Floor of the cold run: "
        f"{n_jobs} jobs x {d.stage_startup:.2f} s ÷ {CORES} cores = {floor:.1f} s "
        f"({floor / cold:.0%} of it); with the figure jobs' own start-up: {mixed:.1f} s. "
        f"The stage jobs' own times (their logs, without the process start-up): "
        f"{own:.1f} s in all over {len(d.stage_times)} jobs, the longest {longest} "
        f"{d.stage_times.get(longest, 0.0):.1f} s.",
    ]
