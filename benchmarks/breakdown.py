"""Where a stage's time goes: physics, encoding and writing, the cache (a diagnostic).

``python -m benchmarks.breakdown [N]`` (and ``python -m benchmarks --only breakdown``) runs the
four grid stages of the large phase diagram (N x N x 2 points, default 2048) and its
``boundaries`` in-process with ``fmrnoise.pipeline.runner.run_stage`` (``lines.run_line_stage``)
on one thread, first cold, then after growing omega_d by 10 % (the cache reused). It sums the
CPU time of the thread that runs the chunks (``time.thread_time``: robust against other
processes on a shared machine) spent in

- each stage module's ``compute`` (``fmrnoise.pipeline.stages.<stage>``: the physics),
- ``runner.compute_chunk`` (physics plus building the chunk's model, reading the upstream
  chunk: ``runner._upstream_arrays``, for boundaries ``lines._states``, and the final copies),
- ``store.ChunkEncoder.encode`` (encoding) and ``store.write_chunk`` (encoding and writing the
  chunk files),
- ``cache.ChunkCache.lookup`` / ``save``, and ``runner.process_chunk`` (``lines._process`` for
  boundaries: all of a chunk's work).

Target (issue 17): encoding and writing a stage's chunks takes no more CPU time than its
physics, in every stage. It wraps those functions by name, so it follows the pipeline modules
only as far as their names stay; a missing one is reported, not timed.
"""

from __future__ import annotations

import collections
import importlib
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from fmrnoise.pipeline import cache, lines, runner, store
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.contract import STAGES
from fmrnoise.pipeline.plan import stage_spec
from fmrnoise.pipeline.sources import stage_module

from . import machine
from .pipeline import REPO, STUDY, study_config

#: CPU seconds [s] of the calling threads, per label, since the last clear.
TIMES: dict[str, float] = collections.defaultdict(float)
#: The timed functions: (owner, attribute, label); the stage modules' compute are added.
TIMED = [(runner, "process_chunk", "chunk total"), (runner, "compute_chunk", "compute_chunk"),
         (runner, "_upstream_arrays", "read upstream"), (lines, "_states", "read upstream"),
         (store.ChunkEncoder, "encode", "encode"), (store, "write_chunk", "write_chunk"),
         (cache.ChunkCache, "lookup", "cache.lookup"), (cache.ChunkCache, "save", "cache.save"),
         (lines, "_process", "chunk total")]
#: Stages run in-process: the grid stages, then the boundaries of the steady state.
RUN_STAGES = (*STAGES, "boundaries")
#: write_chunk (encode + files) must take no more CPU time than the physics (issue 17).
WRITE_TARGET = 1.0

_instrumented = False


@dataclass(frozen=True)
class Split:
    """One stage run in-process: chunk counts, wall time, CPU seconds per label, store size."""

    stage: str
    computed: int
    reused: int
    wall: float
    cpu: dict[str, float]
    points: int  # grid points of the stage's store
    store_bytes: int

    @property
    def write_ratio(self) -> float | None:
        """CPU time of write_chunk (encode + files) over that of the physics."""
        physics = self.cpu.get("physics", 0.0)
        return self.cpu.get("write_chunk", 0.0) / physics if physics else None


def _timed(owner: object, name: str, label: str) -> None:
    function = getattr(owner, name, None)
    if function is None:
        print(f"(no {getattr(owner, '__name__', owner)}.{name}: not timed)", file=sys.stderr)
        return

    def wrapper(*args, **kwargs):
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[label] += time.thread_time() - start

    setattr(owner, name, wrapper)


def _instrument() -> None:
    """Wrap the pipeline's functions (once per process; they stay wrapped)."""
    global _instrumented
    if _instrumented:
        return
    for owner, name, label in TIMED:
        _timed(owner, name, label)
    for stage in RUN_STAGES:  # looked up on the module by the runners at each chunk
        _timed(importlib.import_module(stage_module(stage)), "compute", "physics")
    _instrumented = True


def _config(n: int, grow: float) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["studies"] = study_config(n, n, grow)["studies"]
    return validate(config)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _run_stage(root: Path, config: dict, stage: str, threads: int) -> tuple[object, float]:
    """Run one stage of the large study in ``root``; its report and wall time [s]."""
    spec = stage_spec(config, STUDY, stage)
    upstream = None if stage == "steady_state" else root / "steady_state.zarr"
    start = time.perf_counter()
    if stage in STAGES:
        report = runner.run_stage(spec, root / f"{stage}.zarr", root / "cache",
                                  upstream=upstream, threads=threads)
    else:
        report = lines.run_line_stage(spec, root / f"{stage}.zarr", root / "cache",
                                      upstream=upstream, threads=threads)
    return report, time.perf_counter() - start


def _points(config: dict, stage: str) -> int:
    points = 1
    for axis in stage_spec(config, STUDY, stage)["axes"].values():
        points *= axis["num"] if "num" in axis else len(axis["values"])
    return points


def run_all(root: Path, n: int, grow: float, threads: int = 1) -> list[Split]:
    """Run the stages of :data:`RUN_STAGES` in ``root``; their time split."""
    config = _config(n, grow)
    splits = []
    for stage in RUN_STAGES:
        TIMES.clear()
        report, wall = _run_stage(root, config, stage, threads)
        splits.append(Split(stage, report.computed, report.reused, wall, dict(TIMES),
                            _points(config, stage), _size(root / f"{stage}.zarr")))
    return splits


def rows(splits: list[Split]) -> list[str]:
    """Markdown rows of the time split, and the targets."""
    labels = ("physics", "read upstream", "compute_chunk", "encode", "write_chunk",
              "cache.lookup", "cache.save", "chunk total")
    out = ["| stage | chunks computed + reused | stage wall [s] | physics | read upstream "
           "| compute_chunk | encode | write_chunk (encode + files) | cache.lookup | cache.save "
           "| all of the chunks | write_chunk / physics | met (≤ 1) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|"]
    for s in splits:
        cells = " | ".join(f"{s.cpu[k]:.2f}" if k in s.cpu else "–" for k in labels)
        ratio, met = "–", "–"
        if s.stage in STAGES and s.write_ratio is not None:
            ratio = f"{s.write_ratio:.2f}"
            met = "yes" if s.write_ratio <= WRITE_TARGET else "**no**"
        out.append(f"| {s.stage} | {s.computed} + {s.reused} | {s.wall:.2f} | {cells} "
                   f"| {ratio} | {met} |")
    by_stage = {s.stage: s for s in splits}
    if {"steady_state", "boundaries"} <= set(by_stage):
        steady, found = by_stage["steady_state"], by_stage["boundaries"]
        ratio = found.wall / steady.wall
        out += ["", f"boundaries against steady_state, stage wall on one thread: "
                f"{found.wall:.2f} s / {steady.wall:.2f} s = {ratio:.2f} (target ≤ 1: "
                f"{'met' if ratio <= 1 else '**not met**'}); physics (CPU): "
                f"{found.cpu.get('physics', 0.0):.2f} s / {steady.cpu.get('physics', 0.0):.2f}"
                f" s."]
    return out


def in_process_linearity(small: int, large: int, scratch: Path | None = None,
                         repeats: int = 3) -> str:
    """Time per point at large² / at small², the four stages run cold in this process.

    ``runner.run_stage`` with 2 threads, as a Snakemake job runs it, but without starting a
    process per stage; the least time of a 16² run (``repeats`` runs, as for small²; large²
    once) is subtracted.
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


NOTE = ("Stage split (benchmarks/breakdown.py, in-process runner.run_stage and "
        "lines.run_line_stage on one thread): CPU seconds of the thread that runs the chunks; "
        "physics = the stage module's compute (fmrnoise.pipeline.stages.<stage>); read "
        "upstream = reading the chunk's steady state; compute_chunk = physics, read upstream, "
        "building the chunk's model and the final copies; encode = "
        "store.ChunkEncoder.encode, part of write_chunk, which also writes the chunk files; "
        "cache.lookup/save are the chunk cache (verified, hard-linked encoded chunks); all of "
        "the chunks = runner.process_chunk (lines._process). The rest of a stage's wall time "
        "is store creation, finalization and Dask (for boundaries: loading the chunks' results "
        "and writing its store with xarray). Target (issue 17): write_chunk ≤ physics in every "
        "grid stage.")


def measure(n: int, scratch: Path | None = None, grown: bool = True
            ) -> list[tuple[str, list[Split]]]:
    """Cold and (if ``grown``) grown (+10 % omega_d) runs of the stages: (label, splits)."""
    _instrument()
    import xarray  # noqa: F401  (imported by the boundaries stage: not its time here)

    root = Path(tempfile.mkdtemp(prefix="fmrnoise-breakdown-", dir=scratch))
    runs = [("cold", 1.0), *([("omega_d grown by 10 %", 1.1)] if grown else [])]
    try:
        with warnings.catch_warnings():  # zarr's notes on consolidated metadata and str dtypes
            warnings.simplefilter("ignore")
            return [(label, run_all(root, n, grow)) for label, grow in runs]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def tables(n: int, scratch: Path | None = None) -> list[tuple[str, list[str]]]:
    """Cold and grown runs of the stages: (label, Markdown rows)."""
    return [(label, rows(splits)) for label, splits in measure(n, scratch)]


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 2048
    print(machine.header(), "", sep="\n")
    for label, table in tables(n):
        print(f"### {n} x {n} x 2, {label}, one thread (CPU seconds)\n", *table, "", sep="\n",
              flush=True)
    print(NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
