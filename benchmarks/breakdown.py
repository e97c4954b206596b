"""Where a stage's time goes: physics, cache reads and writes, Zarr writes (a diagnostic).

``python -m benchmarks.breakdown [N]`` (and ``python -m benchmarks --only breakdown``) runs the
four stages of the large phase diagram (N x N x 2 points, default 2048) in-process with
``fmrnoise.pipeline.runner.run_stage`` on one thread,
first cold, then after growing omega_d by 10 % (the cache reused), and sums the wall time
spent in the stage's chunk function (the physics), in ``runner.compute_chunk`` (physics plus
assembling the chunk), in ``ChunkCache.lookup`` / ``ChunkCache.save`` and in
``store.write_chunk``. It wraps those functions by name, so it follows the pipeline modules only
as far as their names stay.
"""

from __future__ import annotations

import collections
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import yaml

from fmrnoise.pipeline import cache, runner, stages, store
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.contract import STAGES
from fmrnoise.pipeline.plan import stage_spec

from . import machine
from .pipeline import REPO, STUDY, study_config

TIMES: dict[str, float] = collections.defaultdict(float)


def _timed(owner: object, name: str, label: str) -> None:
    function = getattr(owner, name, None)
    if function is None:
        print(f"(no {owner.__name__ if hasattr(owner, '__name__') else owner}.{name}: "
              f"not timed)", file=sys.stderr)
        return

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[label] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def _instrument() -> None:
    _timed(runner, "compute_chunk", "compute_chunk")
    _timed(cache.ChunkCache, "lookup", "cache.lookup")
    _timed(cache.ChunkCache, "save", "cache.save")
    _timed(store, "write_chunk", "zarr write_chunk")
    for stage, function in list(stages.CHUNK_FUNCTIONS.items()):
        def physics(*args, function=function, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                TIMES["physics"] += time.perf_counter() - start
        stages.CHUNK_FUNCTIONS[stage] = physics
    runner.CHUNK_FUNCTIONS = stages.CHUNK_FUNCTIONS


def _config(n: int, grow: float) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["studies"] = study_config(n, n, grow)["studies"]
    return validate(config)


def _run_stage(root: Path, config: dict, stage: str, threads: int) -> tuple[object, float]:
    """Run one stage of the large study in ``root``; its report and wall time [s]."""
    spec = stage_spec(config, STUDY, stage)
    start = time.perf_counter()
    report = runner.run_stage(spec, root / f"{stage}.zarr", root / "cache",
                              upstream=None if stage == "steady_state"
                              else root / "steady_state.zarr", threads=threads)
    return report, time.perf_counter() - start


def run_all(root: Path, n: int, grow: float, threads: int) -> list[str]:
    """Run the four stages; Markdown rows of the time split."""
    config = _config(n, grow)
    rows = []
    for stage in STAGES:
        TIMES.clear()
        report, wall = _run_stage(root, config, stage, threads)
        cells = [TIMES[k] for k in ("physics", "compute_chunk", "cache.lookup", "cache.save",
                                    "zarr write_chunk")]
        rows.append(f"| {stage} | {report.computed} + {report.reused} | {wall:.1f} | "
                    + " | ".join(f"{c:.1f}" for c in cells) + " |")
    return rows


def in_process_linearity(small: int, large: int, scratch: Path | None = None,
                         repeats: int = 3) -> str:
    """Time per point at large² / at small², the four stages run cold in this process.

    ``runner.run_stage`` with 2 threads, as a Snakemake job runs it, but without starting a
    process per stage; the least time of a 16² run (``repeats`` runs, as for small²; large²
    once) is subtracted. Call it before :func:`tables`, which wraps the pipeline functions.
    """
    def seconds(n: int) -> float:
        root = Path(tempfile.mkdtemp(prefix="fmrnoise-linearity-", dir=scratch))
        try:
            config = _config(n, 1.0)
            return sum(_run_stage(root, config, stage, threads=2)[1] for stage in STAGES)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = {n: min(seconds(n) for _ in range(1 if n == large else repeats))
                for n in (16, small, large)}
    per_point = {n: (best[n] - best[16]) / (2 * n * n) for n in (small, large)}
    return (f"The same four stages in one process (runner.run_stage, 2 threads; no process "
            f"start-up): {best[16]:.2f} s at 16², {best[small]:.2f} s at {small}², "
            f"{best[large]:.1f} s at {large}²; time per point at {large}² / at {small}², that "
            f"of 16² subtracted: {per_point[large] / per_point[small]:.2f}.")


NOTE = ("Stage split (benchmarks/breakdown.py, in-process runner.run_stage on one thread): "
        "physics = the chunk function of fmrnoise.pipeline.stages; compute_chunk adds building the "
        "chunk's model and its final copies; cache.lookup/save and store.write_chunk are the "
        "chunk cache (verified, hard-linked encoded chunks) and the Zarr writes. The rest of a "
        "stage's wall time is store creation, finalization and Dask.")


def tables(n: int, scratch: Path | None = None) -> list[tuple[str, list[str]]]:
    """Cold and grown (+10 % omega_d) runs of the four stages: (label, Markdown rows)."""
    _instrument()
    root = Path(tempfile.mkdtemp(prefix="fmrnoise-breakdown-", dir=scratch))
    header = ["| stage | chunks computed + reused | stage wall [s] | physics [s] "
              "| compute_chunk [s] | cache.lookup [s] | cache.save [s] | store.write_chunk [s] |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    try:
        with warnings.catch_warnings():  # zarr's notes on consolidated metadata and str dtypes
            warnings.simplefilter("ignore")
            return [(label, [*header, *run_all(root, n, grow, threads=1)])
                    for label, grow in (("cold", 1.0), ("omega_d grown by 10 %", 1.1))]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 2048
    print(machine.header(), "", sep="\n")
    for label, rows in tables(n):
        print(f"### {n} x {n} x 2, {label}, one thread\n", *rows, "", sep="\n", flush=True)
    print(NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
