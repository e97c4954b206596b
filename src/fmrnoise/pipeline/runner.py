"""Run one pipeline stage: chunks computed in parallel with Dask, cached, written to Zarr.

The stage specification is a plain dict (what a Snakemake rule passes as ``params``)::

    {"study": "fmr_line", "stage": "noise",
     "model": {"B0": 1.0, ..., "lead_damping": False},   # scalar parameters of the stage
     "axes": {"omega_d": {"start": -2.0, "step": 0.01, "num": 401}},
     "chunks": {"omega_d": 512}, "max_states": 4, "options": {"quadrature": False},
     "variables": {"S": {"dims": ["branch"], "dtype": "float64", ...}, ...},
     "versions": {"numpy": "2.4.6", "scipy": "1.17.1"}}

(``fmrnoise.pipeline.plan.stage_spec`` makes it from a configuration.) The chunks are computed
by the stage's module ``fmrnoise.pipeline.stages.<stage>``.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import numpy as np
from dask.callbacks import Callback

from .. import __version__
from ..physics.model import Model
from . import store
from .cache import ChunkCache, DamagedEntry, chunk_key
from .contract import GAUGE, NOISE_CONVENTION, Variable
from .grid import Grid, axis_values, chunk_label, grid_text
from .logs import OutputError
from .sources import code_hash, stage_module, stage_sources

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageReport:
    """Outcome of a stage run: chunk counts and wall time [s]."""

    stage: str
    n_chunks: int
    computed: int
    reused: int
    seconds: float


def finished(stage: str, outcomes: Sequence[ChunkOutcome], start: float) -> StageReport:
    """The report of a stage whose units of work ended in ``outcomes``, begun at ``start``
    (``time.perf_counter``), and its line in the stage's log."""
    reused = sum(outcome.reused for outcome in outcomes)
    report = StageReport(stage, len(outcomes), len(outcomes) - reused, reused,
                         time.perf_counter() - start)
    log.info("%s: computed %d chunks, reused %d of %d from the cache (%.1f s)", stage,
             report.computed, report.reused, report.n_chunks, report.seconds)
    return report


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to produce one chunk (picklable for dask.distributed)."""

    spec: Mapping
    grid: Grid
    index: tuple[int, ...]
    key: str
    cache_dir: str
    upstream_path: str | None
    upstream_grid: Grid | None
    files: Mapping[str, Path]  # the chunk's file in the store, per variable
    encoders: Mapping[str, store.ChunkEncoder]  # how each variable's chunk file is encoded


def stage_grid(spec: Mapping) -> Grid:
    """The grid of a stage from its specification."""
    return Grid({name: axis_values(axis) for name, axis in spec["axes"].items()},
                dict(spec["chunks"]))


def stage_variables(spec: Mapping) -> dict[str, Variable]:
    """The variables a stage stores, from its specification."""
    return {name: Variable.from_dict(var) for name, var in spec["variables"].items()}


def expected_arrays(spec: Mapping, chunk_shape: tuple[int, ...]) -> dict:
    """Variable name -> (shape, dtype) of one chunk of the stage."""
    return {name: (store.variable_shape(chunk_shape, var, spec["max_states"]), var.dtype)
            for name, var in stage_variables(spec).items()}


def _upstream_arrays(job: ChunkJob, chunk_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Steady-state arrays of the chunk, broadcast over the axes the steady state lacks."""
    names = importlib.import_module(stage_module(job.spec["stage"])).UPSTREAM
    if not names:
        return {}
    up_grid = job.upstream_grid
    region = up_grid.region(job.grid.project(job.index, up_grid.names))
    arrays = store.read_region(job.upstream_path, names, region)
    expand = tuple(slice(None) if n in up_grid.axes else np.newaxis for n in job.grid.names)
    return {name: np.broadcast_to(a[(*expand, ...)], (*chunk_shape, *a.shape[up_grid.ndim:]))
            for name, a in arrays.items()}


def compute_chunk(job: ChunkJob) -> dict[str, np.ndarray]:
    """Compute the stage's variables on one chunk (no cache).

    A stage after the steady state is evaluated on the filled branch slots only, as a list of
    states with one slot each; the empty slots hold the fill value (what the physics gives
    them: NaN), at half the cost where half the slots are empty.
    """
    spec = job.spec
    mesh = job.grid.mesh(job.index)
    chunk_shape = tuple(len(c) for c in job.grid.coords(job.index).values())
    upstream = _upstream_arrays(job, chunk_shape)
    stage = importlib.import_module(stage_module(spec["stage"]))
    expected = expected_arrays(spec, chunk_shape)
    if "theta" not in upstream:
        model = Model(**{**spec["model"], **mesh})
        arrays = stage.compute(model, upstream, spec["max_states"], spec["options"])
        return {name: np.broadcast_to(arrays[name], shape).astype(dtype, order="C", copy=False)
                for name, (shape, dtype) in expected.items()}
    theta = upstream["theta"]
    filled = np.flatnonzero(~np.isnan(theta))  # indices into (*chunk, slot), flattened
    points = filled // theta.shape[-1]
    model = Model(**{**spec["model"], **{name: m.take(points) for name, m in mesh.items()}})
    states = {name: a.take(filled)[:, np.newaxis] for name, a in upstream.items()}
    arrays = stage.compute(model, states, 1, spec["options"])
    out = {}
    for name, (shape, dtype) in expected.items():
        out[name] = np.full(shape, job.encoders[name].fill, dtype)
        values = np.broadcast_to(arrays[name], (len(filled), 1, *shape[theta.ndim:]))
        out[name].reshape(theta.size, -1)[filled] = values.reshape(len(filled), -1)
    return out


@dataclass(frozen=True)
class ChunkOutcome:
    """What became of a chunk: reused from the cache, or computed (and why, if its cache
    entry was damaged)."""

    reused: bool
    damaged: str | None = None


def process_chunk(job: ChunkJob) -> ChunkOutcome:
    """Reuse the chunk's encoded files from the cache, or compute, write and cache it."""
    cache = ChunkCache(job.cache_dir)
    stage = job.spec["stage"]
    try:
        sources, damaged = cache.lookup(stage, job.key, job.files.keys()), None
    except DamagedEntry as err:
        sources, damaged = None, str(err)
    if sources is not None:
        store.place(sources, job.files)
        return ChunkOutcome(reused=True)
    store.write_chunk(job.files, compute_chunk(job), job.encoders)
    cache.save(stage, job.key, job.files)
    return ChunkOutcome(reused=False, damaged=damaged)


class _Progress(Callback):
    """Logs how many chunks are done, about every tenth of the stage, and the damaged cache
    entries (here, in the stage's process: also when the chunks ran on a Dask cluster).

    Called with each chunk's outcome; as a Dask callback, it calls itself for local schedulers.
    """

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total, self.done, self.step = total, 0, max(1, total // 10)

    def __call__(self, outcome: ChunkOutcome) -> None:
        if outcome.damaged:
            log.warning("%s: recomputing", outcome.damaged)
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            log.info("chunks done: %d of %d", self.done, self.total)

    def _posttask(self, key, result, dsk, state, id) -> None:
        if isinstance(result, ChunkOutcome):
            self(result)


def execute(process: Callable[[Any], ChunkOutcome], jobs: Sequence[Any], threads: int,
            dask_address: str | None) -> list[ChunkOutcome]:
    """Run ``process(job)`` for every job (each with an ``index``): Dask threads in this
    process, or the dask.distributed scheduler at ``dask_address``; log the progress."""
    # traverse=False: a job holds no Dask collections, and walking its grid costs time.
    tasks = [dask.delayed(process)(dask.delayed(job, traverse=False),
                                   dask_key_name=f"chunk-{chunk_label(job.index)}")
             for job in jobs]
    progress = _Progress(len(jobs))
    if dask_address:
        from dask.distributed import Client, as_completed

        with Client(dask_address) as client:
            futures = client.compute(tasks)
            for future in as_completed(futures):
                progress(future.result())
            return client.gather(futures)
    # An own pool, shut down (waiting for the chunks in flight) before the caller cleans up
    # after a failure or an interrupt, so that no worker writes into a removed store.
    with ThreadPoolExecutor(threads) as pool, progress:
        return list(dask.compute(*tasks, scheduler="threads", pool=pool))


def run_stage(spec: Mapping, output: str | Path, cache_dir: str | Path,
              upstream: str | Path | None = None, threads: int = 1,
              dask_address: str | None = None, record: str | Path | None = None
              ) -> StageReport:
    """Compute a stage over its grid and write its Zarr store.

    Parameters
    ----------
    spec : stage specification (module docstring).
    output : path of the Zarr store to write.
    cache_dir : root of the chunk cache (shared by all studies).
    upstream : the study's steady-state store, for the stages after it.
    threads : Dask workers (threads) inside this process.
    dask_address : a dask.distributed scheduler to send the chunks to instead.
    record : a JSON file that keeps the specification of the last successful run (beside the
        stage's log): a rerun logs which of its keys changed, and their old and new values.

    Returns
    -------
    StageReport
        Chunk counts (computed, reused from the cache) and wall time.

    Raises
    ------
    OutputError
        If the store or the cache cannot be written (full disk, path below a regular file,
        read-only location). ``output`` is then left as it was: a store appears at ``output``
        only once complete, so a failed or killed run never leaves one that looks complete.
    """
    start = time.perf_counter()
    stage = spec["stage"]
    # Absolute paths: dask.distributed workers may run in another directory.
    output, cache_dir = Path(output).resolve(), Path(cache_dir).resolve()
    upstream = None if upstream is None else Path(upstream).resolve()
    grid = stage_grid(spec)
    up_grid, up_keys = None, {}
    if upstream is not None:
        up_grid = stage_grid(store.read_attr_json(upstream, "stage_spec"))
        up_keys = store.read_attr_json(upstream, "chunk_keys")
    code = code_hash(stage_sources(stage))
    # The store is written under a temporary name and renamed when complete (see store).
    store.discard_partials(output)
    stale = ChunkCache(cache_dir).discard_stale(stage)
    if stale:
        log.info("removed %d temporary cache entries left by killed runs", stale)
    partial = store.partial_path(output)
    variables = stage_variables(spec)
    attrs = {"study": spec["study"], "stage": stage, "fmrnoise_version": __version__,
             "noise_convention": NOISE_CONVENTION, "gauge": GAUGE}
    try:
        store.create(partial, grid, variables, spec["max_states"], attrs)
        encoding = store.encoding(partial, list(variables))
        encoders = {name: store.ChunkEncoder.from_encoding(enc) for name, enc in encoding.items()}
        indices = list(grid.indices())
        files = store.chunk_files(partial, list(variables), indices)
        jobs = []
        for index, chunk_files in zip(indices, files, strict=True):
            up_label = chunk_label(grid.project(index, up_grid.names)) if up_grid else None
            key = chunk_key(stage=stage, model=spec["model"], max_states=spec["max_states"],
                            options=spec["options"], versions=spec["versions"],
                            coords=grid.coords(index), code=code, encoding=encoding,
                            upstream=up_keys.get(up_label))
            jobs.append(ChunkJob(spec, grid, index, key, str(cache_dir),
                                 None if upstream is None else str(upstream), up_grid,
                                 chunk_files, encoders))
        log.info("%s of study %s: %s in %d chunks of %s", stage, spec["study"],
                 grid_text(spec["axes"]), len(jobs), grid.chunk_shape)
        log_changes(record, spec)
        outcomes = execute(process_chunk, jobs, threads, dask_address)
        store.finalize(partial, {
            "model": spec["model"], "axes": spec["axes"], "stage_spec": dict(spec),
            "chunk_keys": {chunk_label(job.index): job.key for job in jobs}})
        store.publish(partial, output)
    except BaseException as err:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(err, OutputError) and str(err.filename).startswith(str(partial)):
            raise OutputError(err.errno, err.strerror, str(output)) from err  # the user's name
        raise
    remember(record, spec)
    return finished(stage, outcomes, start)


def spec_changes(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    """What differs between two stage specifications, one ``key: old → new`` per leaf.

    A stage's log names these when the stage reruns because its parameters changed (Snakemake
    removes the old store before the job: the previous specification is kept beside the log).
    A mapping that appears or disappears as a whole is named, not expanded.
    """
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        name = f"{prefix}{key}"
        if key not in new:
            lines.append(f"{name}: removed")
        elif key not in old:
            lines.append(f"{name}: added" if isinstance(new[key], Mapping)
                         else f"{name}: added, {new[key]!r}")
        elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
            lines.extend(spec_changes(old[key], new[key], f"{name}."))
        elif old[key] != new[key]:
            lines.append(f"{name}: {old[key]!r} → {new[key]!r}")
    return lines


def remember(record: str | Path | None, spec: Mapping) -> None:
    """Keep the specification of a successful run in ``record`` (a JSON file), if given."""
    if record is not None:
        with store.writing(record):
            Path(record).write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n")


def log_changes(record: str | Path | None, spec: Mapping) -> None:
    """Log how ``spec`` differs from the one of the last successful run, kept in ``record``."""
    try:
        previous = json.loads(Path(record).read_text()) if record is not None else None
    except (OSError, ValueError):
        previous = None
    if previous is None:
        return
    changes = spec_changes(previous, json.loads(json.dumps(spec)))
    if changes:
        log.info("parameters changed since the last run: %s", "; ".join(changes))
