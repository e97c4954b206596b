"""Scale-out: the large study on a local dask.distributed cluster, and a cost model from it.

The same N x N x 2 study as :mod:`benchmarks.pipeline` (its four grid stores, ``snakemake
--cores 2``), run with Dask's threads inside each stage job (the default) and with
``dask: {address: ...}`` pointing to a ``dask.distributed.LocalCluster(n_workers=2,
threads_per_worker=1, processes=True)`` that the benchmark starts (in a process of its own,
importing the workflow copy's ``src``, as the stage jobs do). Each run is cold, in a directory
of its own; the efficiency is the threaded wall time over the cluster's.

The cost model takes, per grid stage, the CPU seconds per chunk on one thread
(:mod:`benchmarks.breakdown`: all of a chunk's work, i.e. its physics, encoding and writing,
cache) and the bytes per point of its store, and extrapolates to 1e9 points on N workers:
``sum over stages of ceil(chunks / N) x seconds per chunk``, plus the fixed start-up (the 16²
run on the cluster: Snakemake's start-up and the four jobs').
"""

from __future__ import annotations

import contextlib
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fmrnoise.pipeline.contract import STAGES

from .breakdown import Split
from .pipeline import Run, _best, run, snapshot, source_env, stage_cell, study_config, walls

#: Starts the cluster, prints its address, and closes it when its standard input closes.
_CLUSTER = """
import sys
from dask.distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=None)
print(cluster.scheduler_address, flush=True)
sys.stdin.read()
cluster.close()
"""
WORKERS = (2, 16, 128)
POINTS = 1e9


@contextlib.contextmanager
def local_cluster(env: dict, log: Path) -> Iterator[str]:
    """A LocalCluster of 2 single-threaded worker processes: its scheduler's address."""
    with open(log, "w") as err:
        process = subprocess.Popen([sys.executable, "-c", _CLUSTER], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    try:
        address = process.stdout.readline().strip()
        if not address:
            raise RuntimeError(f"the local Dask cluster did not start: see {log}")
        yield address
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Comparison:
    """Best runs: threaded and on the cluster, at N² and at 16²."""

    threaded: Run
    cluster: Run
    threaded_16: Run
    cluster_16: Run


def compare(n: int, scratch: Path | None, keep: bool, repeats: int = 1) -> Comparison:
    """Cold runs of the N² study, threaded and on a local cluster, alternately (``repeats``
    each; the 16² runs ``repeats + 2`` times each); the least times."""
    root = Path(tempfile.mkdtemp(prefix="fmrnoise-cluster-", dir=scratch))
    snakefile = snapshot(root / "repo")
    found: dict[tuple[str, int], list[Run]] = {}
    try:
        with local_cluster(source_env(snakefile), root / "cluster.log") as address:
            for size in (16, n):
                for trial in range(repeats if size == n else repeats + 2):
                    for mode in ("threaded", "cluster"):
                        config = study_config(size, size)
                        if mode == "cluster":
                            config["dask"] = {"address": address}
                        workdir = root / f"{mode}-{size}-{trial}"
                        found.setdefault((mode, size), []).append(run(
                            workdir, config, f"{size} x {size} x 2, {mode}", snakefile))
                        if not keep:
                            shutil.rmtree(workdir, ignore_errors=True)
                print(f"  {size}²: threaded {walls(_best(found['threaded', size]))} s, "
                      f"cluster {walls(_best(found['cluster', size]))} s", file=sys.stderr,
                      flush=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"  scratch directories kept in {root}", file=sys.stderr)
    return Comparison(*(_best(found[key]) for key in
                        (("threaded", n), ("cluster", n), ("threaded", 16), ("cluster", 16))))


def table(c: Comparison) -> list[str]:
    """Markdown: threaded against the cluster, and the efficiency."""
    rows = ["| scheduler of the stage jobs | wall [s], best (range) | 16² wall [s] "
            "| wall - 16² wall [s] | stage times [s] |", "|---|---:|---:|---:|---|"]
    for name, big, small in (("Dask threads in each job (default), --cores 2", c.threaded,
                              c.threaded_16),
                             ("LocalCluster, 2 worker processes x 1 thread", c.cluster,
                              c.cluster_16)):
        rows.append(f"| {name} | {walls(big)} | {walls(small, 2)} | {big.wall - small.wall:.1f} "
                    f"| {stage_cell(big)} |")
    net_t, net_c = c.threaded.wall - c.threaded_16.wall, c.cluster.wall - c.cluster_16.wall
    rows += ["", f"Efficiency (threaded wall / cluster wall), {c.threaded.label.split(',')[0]}: "
             f"{c.threaded.wall / c.cluster.wall:.2f}; with each one's 16² wall subtracted: "
             f"{net_t / net_c:.2f}. Both cold; the cluster runs the chunks (the stage job sends "
             "them to the scheduler and writes the store's metadata)."]
    return rows


def cost_model(splits: list[Split], startup: float, grid: str) -> tuple[list[str], str]:
    """Markdown rows and a paragraph: 1e9 points on N workers, from the measured chunk costs.

    ``splits``: the cold stage split of :func:`benchmarks.breakdown.measure`; ``startup``: the
    fixed start-up [s] (a 16² run on the cluster).
    """
    grid_stages = [s for s in splits if s.stage in STAGES and s.computed]
    largest = max(s.points for s in grid_stages)  # the noise store: every axis
    rows = [f"Per chunk, from the cold stage split at {grid} (one thread, CPU seconds), and "
            "the stores' bytes:", "",
            "| stage | points per chunk | physics [s/chunk] | encode + write [s/chunk] "
            "| all of a chunk [s/chunk] | bytes per point on disk | points of 1e9 | chunks |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    work, disk, chunks_total = {}, 0.0, 0
    for s in grid_stages:
        per_chunk = s.points / s.computed
        seconds = s.cpu.get("chunk total", 0.0) / s.computed
        points = POINTS * s.points / largest
        chunks = math.ceil(points / per_chunk)
        work[s.stage] = (seconds, chunks)
        disk += s.store_bytes / s.points * points
        chunks_total += chunks
        rows.append(f"| {s.stage} | {per_chunk:.0f} | {s.cpu.get('physics', 0.0) / s.computed:.4f}"
                    f" | {s.cpu.get('write_chunk', 0.0) / s.computed:.4f} | {seconds:.4f} "
                    f"| {s.store_bytes / s.points:.2f} | {points:.3g} | {chunks} |")
    rows += ["", "| workers N | time for 1e9 points [s] | [h] | disk [GB] "
             "| write rate it needs [MB/s] |", "|---:|---:|---:|---:|---:|"]
    serial = sum(seconds * chunks for seconds, chunks in work.values())
    for n in WORKERS:
        busy = sum(seconds * math.ceil(chunks / n) for seconds, chunks in work.values())
        total = busy + startup
        rows.append(f"| {n} | {total:.0f} | {total / 3600:.2f} | {disk / 1e9:.1f} "
                    f"| {disk / busy / 1e6:.0f} |")
    note = (f"Cost model: 1e9 points of a study shaped like the large one (two temperatures: "
            f"the stages without T have half the points), {chunks_total} chunks in all. A chunk "
            f"costs on a worker what it costs on one thread here (all of its work: physics, "
            f"encoding and writing, cache; {serial:.0f} s in all on one worker), N workers run "
            f"N chunks at a time, and the run adds a fixed start-up of {startup:.1f} s (the 16² "
            f"run on the cluster). Not in the model: Dask's per-task overhead and the "
            f"scheduler (the efficiency above measures both on 2 workers), each stage job's "
            f"serial work (creating the store, consolidating its metadata), the file system's "
            f"write rate (last column: the stores' bytes over the time the chunks take; a "
            f"shared file system must sustain it for all workers together) and the chunk "
            f"cache, which costs no disk when it shares the stores' file system (hard links), "
            f"and as much again when not.")
    return rows, note
