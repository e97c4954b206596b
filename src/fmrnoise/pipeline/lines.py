"""Run the stages that read the steady state along whole grid lines: boundaries and sweeps.

Both read a study's steady-state store and follow its states from one grid point to the next
along an axis, so their work does not split into the grid's chunks alone:

- ``boundaries`` refines the folds and Hopf points between neighbouring grid points along every
  steady-state axis. Its unit of work is a steady-state chunk, read with one more point along
  the refined axis (the interval to the next chunk); its store is a list of points (dimension
  ``point``), ordered by refined axis, then by the coordinates, whatever the chunking.
- ``sweep`` follows the magnet up and down the swept axis at every value of the other axes. Its
  unit of work is a chunk of those lines, each whole along the swept axis; its store has the
  dimensions (other axes..., direction, swept axis). Growing the swept axis recomputes every
  line; growing another axis reuses the lines already computed.

Each unit's results are cached by content like the chunks of the other stages (the key covers
the stage's parameters, its code, the numeric libraries and the keys of the steady-state chunks
it reads; for boundaries, that of its chunk and the coordinates of the next points), computed in
parallel with Dask, and the store is written with xarray under a temporary name, then renamed
into place (:mod:`fmrnoise.pipeline.store`).
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from zarr.errors import ZarrUserWarning

from .. import __version__
from ..physics.codes import DIRECTIONS
from ..physics.model import Model
from ..physics.steady_state import SteadyStates
from . import store
from .cache import ChunkCache, DamagedEntry, chunk_key
from .contract import LONG_NAMES, UNITS, Variable
from .grid import Grid, chunk_label, grid_text
from .runner import (
    ChunkOutcome,
    StageReport,
    execute,
    finished,
    log_changes,
    remember,
    stage_grid,
)
from .sources import code_hash, stage_module, stage_sources

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineJob:
    """One unit of work of a line stage (picklable for dask.distributed)."""

    spec: Mapping
    index: tuple[int, ...]  # of the unit in the stage's own grid of units
    key: str
    cache_dir: str
    upstream: str
    regions: tuple[tuple[slice, ...], ...]  # steady-state regions it reads (one per axis)


def _states(arrays: Mapping[str, np.ndarray]) -> SteadyStates:
    """Steady states from the arrays of a steady-state store (fields not stored are NaN)."""
    shape = arrays["theta"].shape
    missing = {name: np.full(shape, np.nan) for name in ("alpha", "spin_current", "residual")}
    return SteadyStates(**arrays, **missing)


def _model(spec: Mapping, grid: Grid, region: tuple[slice, ...],
           order: tuple[str, ...] | None = None) -> Model:
    """The model over a region of ``grid`` (its axes in ``order``, default the grid's)."""
    names = order or grid.names
    coords = {name: values[s] for (name, values), s in
              zip(grid.axes.items(), region, strict=True)}
    mesh = np.meshgrid(*(coords[name] for name in names), indexing="ij")
    return Model(**{**spec["model"], **dict(zip(names, mesh, strict=True))})


def _save(cache: ChunkCache, stage: str, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Cache a unit's arrays (one .npy file per array, saved atomically as one entry)."""
    with tempfile.TemporaryDirectory(dir=cache.root) as scratch:
        files = {}
        for name, values in arrays.items():
            files[name] = Path(scratch) / name
            with open(files[name], "wb") as file:
                np.save(file, np.ascontiguousarray(values), allow_pickle=False)
        cache.save(stage, key, files)


def _load(cache: ChunkCache, stage: str, key: str, names: tuple[str, ...]
          ) -> dict[str, np.ndarray] | None:
    files = cache.lookup(stage, key, names)
    return None if files is None else {name: np.load(path) for name, path in files.items()}


def _process(job: LineJob) -> ChunkOutcome:
    """Reuse a unit's cached results, or compute and cache them."""
    cache, stage = ChunkCache(job.cache_dir), job.spec["stage"]
    names = RESULT_NAMES[stage]
    try:
        if cache.lookup(stage, job.key, names) is not None:
            return ChunkOutcome(reused=True)
        damaged = None
    except DamagedEntry as err:
        damaged = str(err)
    _save(cache, stage, job.key, UNITS_OF_WORK[stage](job))
    return ChunkOutcome(reused=False, damaged=damaged)


# --- boundaries -----------------------------------------------------------------------------


def _boundaries_unit(job: LineJob) -> dict[str, np.ndarray]:
    """The bifurcation points of one steady-state chunk, along every axis (grid indices)."""
    spec, compute = job.spec, _module("boundaries").compute
    grid = stage_grid(spec)
    chunk = grid.region(job.index)
    # one read: the chunk and, along each axis, the first point of the next chunk
    union = tuple(slice(min(r[k].start for r in job.regions), max(r[k].stop for r in job.regions))
                  for k in range(grid.ndim))
    arrays = store.read_region(job.upstream, STATE_FIELDS, union)
    found: dict[str, list] = {name: [] for name in RESULT_NAMES["boundaries"]}
    for axis, region in enumerate(job.regions):
        if region[axis].stop - region[axis].start < 2:
            continue
        within = tuple(slice(r.start - u.start, r.stop - u.start)
                       for r, u in zip(region, union, strict=True))
        states = _states({name: values[within] for name, values in arrays.items()})
        result = compute(_model(spec, grid, region), states, axis, grid.names[axis])
        inside = result["index"][:, axis] < chunk[axis].stop - chunk[axis].start
        starts = np.array([s.start for s in region])
        found["axis"].append(np.full(np.count_nonzero(inside), axis, dtype=np.int8))
        found["index"].append(result["index"][inside] + starts)
        for name in ("value", "kind", "theta", "psi"):
            found[name].append(result[name][inside])
    empty = {"axis": np.zeros(0, np.int8), "index": np.zeros((0, grid.ndim), np.int64),
             "value": np.zeros(0), "kind": np.zeros(0, np.int8), "theta": np.zeros(0),
             "psi": np.zeros(0)}
    return {name: np.concatenate(parts) if parts else empty[name]
            for name, parts in found.items()}


def _boundaries_jobs(spec: Mapping, cache_dir: str, upstream: str, up_keys: Mapping,
                     code: str) -> list[LineJob]:
    """One job per steady-state chunk, read with the next point along each axis.

    The key holds the key of the steady-state chunk and the coordinates of the next points (the
    steady state at a point depends only on its parameters, which that key covers): a chunk
    whose neighbours keep their first points is reused when an axis grows.
    """
    grid = stage_grid(spec)
    jobs = []
    for index in grid.indices():
        chunk = grid.region(index)
        regions, following = [], {}
        for axis, (name, values) in enumerate(grid.axes.items()):
            extended = list(chunk)
            stop = min(chunk[axis].stop + 1, grid.shape[axis])
            extended[axis] = slice(chunk[axis].start, stop)
            regions.append(tuple(extended))
            following[name] = float(values[stop - 1]) if stop > chunk[axis].stop else None
        key = chunk_key(stage="boundaries", model=spec["model"], coords=grid.coords(index),
                        code=code, versions=spec["versions"],
                        upstream=up_keys[chunk_label(index)], following=following)
        jobs.append(LineJob(spec, index, key, cache_dir, upstream, tuple(regions)))
    return jobs


def _boundaries_dataset(spec: Mapping, results: list[dict[str, np.ndarray]]) -> object:
    """The boundaries store as an xarray Dataset: one entry per point, sorted."""
    import xarray as xr

    grid = stage_grid(spec)
    found = {name: np.concatenate([r[name] for r in results]) for name in results[0]}
    coords = np.column_stack([grid.axes[name][found["index"][:, k]]
                              for k, name in enumerate(grid.names)]) if len(found["axis"]) \
        else np.zeros((0, grid.ndim))
    rows = np.arange(len(found["axis"]))
    coords[rows, found["axis"]] = found["value"]
    order = np.lexsort((found["theta"], found["kind"], *coords.T[::-1], found["axis"]))
    variables = {name: Variable.from_dict(v) for name, v in spec["variables"].items()}
    data = {name: ("point", coords[order, k], {"units": UNITS[name],
                                               "long_name": LONG_NAMES[name]})
            for k, name in enumerate(grid.names)}
    axis_names = np.array(grid.names, dtype=object)[found["axis"][order]]
    values = {"kind": found["kind"][order], "theta": found["theta"][order],
              "psi": found["psi"][order], "refined_axis": axis_names.astype(object)}
    for name, var in variables.items():
        data[name] = ("point", values[name], _attributes(var))
    return xr.Dataset(data)


# --- sweep ----------------------------------------------------------------------------------


def _sweep_layout(spec: Mapping) -> tuple[Grid, str, tuple[str, ...]]:
    """The grid of lines (every axis but the swept one, chunked as the spec says), the swept
    axis, and the steady-state axes."""
    swept, steady = spec["options"]["sweep"], tuple(spec["options"]["steady_axes"])
    grid = stage_grid(spec)
    lines = Grid({name: values for name, values in grid.axes.items() if name != swept},
                 {name: size for name, size in grid.chunks.items() if name != swept})
    return lines, swept, steady


def _sweep_unit(job: LineJob) -> dict[str, np.ndarray]:
    """The sweeps of one chunk of lines, with the noise and current of the state."""
    spec, compute = job.spec, _module("sweep").compute
    grid = stage_grid(spec)
    lines, swept, steady = _sweep_layout(spec)
    (steady_region,) = job.regions
    up_names = tuple(name for name in grid.names if name in steady)
    up_grid = Grid({name: grid.axes[name] for name in up_names}, {})
    model = _model(spec, up_grid, steady_region)
    # the block of the sweep store: the lines' region, a direction axis, the swept axis
    line_region = lines.region(job.index)
    order = (*lines.names, swept)
    full = dict(zip(lines.names, line_region, strict=True)) | {
        swept: slice(0, len(grid.axes[swept]))}
    block = _model(spec, grid, tuple(full[name] for name in grid.names), order)
    block = block.map_arrays(lambda a: a[..., np.newaxis, :] if a.ndim else a)
    expand = tuple(k for k, name in enumerate(lines.names) if name not in steady)
    states = _states(store.read_region(job.upstream, STATE_FIELDS, steady_region))
    return compute(model, states, up_names.index(swept), swept, block, expand)


def _sweep_jobs(spec: Mapping, cache_dir: str, upstream: str, up_keys: Mapping, code: str,
                up_grid: Grid) -> list[LineJob]:
    grid = stage_grid(spec)
    lines, swept, _ = _sweep_layout(spec)
    jobs = []
    for index in lines.indices():
        where = dict(zip(lines.names, lines.region(index), strict=True))
        region = tuple(where.get(name, slice(0, n)) for name, n in
                       zip(up_grid.names, up_grid.shape, strict=True))
        up_index = [range(s.start // c, -(-s.stop // c)) for s, c in
                    zip(region, up_grid.chunk_shape, strict=True)]
        touched = sorted(up_keys[chunk_label(i)] for i in itertools.product(*up_index))
        key = chunk_key(stage="sweep", model=spec["model"], coords=lines.coords(index),
                        swept=grid.axes[swept], code=code, versions=spec["versions"],
                        upstream=touched)
        jobs.append(LineJob(spec, index, key, cache_dir, upstream, (region,)))
    return jobs


def _sweep_dataset(spec: Mapping, jobs: list[LineJob],
                   results: list[dict[str, np.ndarray]]) -> object:
    """The sweep store as an xarray Dataset over (other axes..., direction, swept axis)."""
    import xarray as xr

    grid = stage_grid(spec)
    lines, swept, _ = _sweep_layout(spec)
    variables = {name: Variable.from_dict(v) for name, v in spec["variables"].items()}
    shape = (*lines.shape, len(DIRECTIONS), len(grid.axes[swept]))
    arrays = {name: np.empty(shape, dtype=np.dtype(var.dtype)) for name, var in
              variables.items()}
    for job, result in zip(jobs, results, strict=True):
        region = lines.region(job.index)
        for name in arrays:
            arrays[name][region] = result[name]
    dims = (*lines.names, "direction", swept)
    coords = {name: (name, values, {"units": UNITS[name], "long_name": LONG_NAMES[name]})
              for name, values in (*lines.axes.items(), (swept, grid.axes[swept]))}
    coords["direction"] = ("direction", np.array(DIRECTIONS, dtype=object),
                           {"long_name": "direction of the sweep"})
    return xr.Dataset({name: (dims, arrays[name], _attributes(var))
                       for name, var in variables.items()}, coords)


# --- common ---------------------------------------------------------------------------------

#: The steady-state variables a line stage reads (the fields of SteadyStates that are stored).
STATE_FIELDS = ("theta", "psi", "trace", "det", "stability", "n_states", "n_stable", "status")
RESULT_NAMES = {"boundaries": ("axis", "index", "value", "kind", "theta", "psi"),
                "sweep": ("theta", "psi", "S", "S_eq", "current", "status", "jumped")}
UNITS_OF_WORK = {"boundaries": _boundaries_unit, "sweep": _sweep_unit}


def _module(stage: str):
    return importlib.import_module(stage_module(stage))


def _attributes(var: Variable) -> dict:
    return {"units": var.units, "long_name": var.long_name, **dict(var.attrs)}


def run_line_stage(spec: Mapping, output: str | Path, cache_dir: str | Path,
                   upstream: str | Path, threads: int = 1, dask_address: str | None = None,
                   record: str | Path | None = None) -> StageReport:
    """Compute a line stage (``boundaries`` or ``sweep``) and write its store.

    Parameters and failures as :func:`fmrnoise.pipeline.runner.run_stage`; ``upstream`` is the
    study's steady-state store.
    """
    start = time.perf_counter()
    stage = spec["stage"]
    output, cache_dir = Path(output).resolve(), Path(cache_dir).resolve()
    upstream = str(Path(upstream).resolve())
    up_grid = stage_grid(store.read_attr_json(upstream, "stage_spec"))
    up_keys = store.read_attr_json(upstream, "chunk_keys")
    code = code_hash(stage_sources(stage))
    if stage == "boundaries":
        jobs = _boundaries_jobs(spec, str(cache_dir), upstream, up_keys, code)
        what = grid_text(spec["axes"])
    else:
        jobs = _sweep_jobs(spec, str(cache_dir), upstream, up_keys, code, up_grid)
        what = f"{math.prod(_sweep_layout(spec)[0].shape)} lines along {spec['options']['sweep']}"
    store.discard_partials(output)
    log.info("%s of study %s: %s in %d chunks", stage, spec["study"], what, len(jobs))
    log_changes(record, spec)
    partial = store.partial_path(output)
    try:
        (cache_dir / stage).mkdir(parents=True, exist_ok=True)
        outcomes = execute(_process, jobs, threads, dask_address)
        cache = ChunkCache(cache_dir)
        results = [_load(cache, stage, job.key, RESULT_NAMES[stage]) for job in jobs]
        dataset = (_boundaries_dataset(spec, results) if stage == "boundaries"
                   else _sweep_dataset(spec, jobs, results))
        dataset.attrs = {"study": spec["study"], "stage": stage,
                         "fmrnoise_version": __version__,
                         **{k: json.dumps(spec[k]) for k in ("model", "axes")},
                         "stage_spec": json.dumps(dict(spec))}
        with store.writing(output), warnings.catch_warnings():
            # consolidated metadata is not yet part of the Zarr v3 spec; xarray reads it
            warnings.filterwarnings("ignore", category=ZarrUserWarning)
            dataset.to_zarr(partial, zarr_format=3, consolidated=True, mode="w-")
        store.publish(partial, output)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    remember(record, spec)
    return finished(stage, outcomes, start)
