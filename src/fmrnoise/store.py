"""Zarr v3 stores of the pipeline, readable with ``xarray.open_zarr`` (design.md §3).

A store is created empty (metadata, coordinates) with Zarr chunks equal to the grid chunks, then
filled chunk by chunk from parallel workers (writes aligned to chunk boundaries are safe), then
finalized with its chunk keys and consolidated metadata.

All of this happens under a temporary name beside the store (:func:`partial_path`), and only a
finalized store is renamed to its path (:func:`publish`). So a store's path holds a complete
store or nothing: a run that fails (full disk) or is killed half way leaves no store that
``xarray.open_zarr``, Snakemake or a downstream stage could take for complete. (A completion
marker attribute would not do: xarray opens a store without looking at it.) A killed run's
leftover is removed by the next run of the stage (:func:`discard_partials`). Failures to write
are raised as :class:`~fmrnoise.logs.OutputError` naming the path and the reason.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr
import zarr
from zarr.errors import ZarrUserWarning

from .cache import link_or_copy
from .contract import EXTRA_DIMS, LONG_NAMES, UNITS, Variable
from .grid import Grid
from .logs import OutputError

_FILL = {"float64": np.nan, "int8": -1}


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Raise an ``OSError`` inside the block as an :class:`OutputError` (``path`` if unnamed)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        raise OutputError(err.errno, err.strerror or str(err),
                          str(err.filename or path)) from err


def partial_path(path: str | Path) -> Path:
    """A fresh temporary name for the store ``path``, beside it (same file system)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")


def discard_partials(path: str | Path) -> None:
    """Remove what runs of the store ``path`` killed half way left beside it.

    Only one job writes a given store at a time (Snakemake's lock), so every leftover is stale.
    """
    path = Path(path)
    for pattern in (".{}.*.partial", ".{}.*.replaced"):
        for leftover in path.parent.glob(pattern.format(glob.escape(path.name))):
            shutil.rmtree(leftover, ignore_errors=True)


def publish(partial: str | Path, path: str | Path) -> None:
    """Rename the finalized store ``partial`` to ``path``, replacing a store already there."""
    partial, path = Path(partial), Path(path)
    with writing(path):
        if not os.path.lexists(path):
            os.rename(partial, path)
            return
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.replaced")
        os.rename(path, aside)
        os.rename(partial, path)
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside)
        else:
            aside.unlink()


def extra_sizes(max_states: int) -> dict[str, int]:
    """Lengths of the dimensions after the grid axes."""
    return {name: (max_states if labels is None else len(labels))
            for name, labels in EXTRA_DIMS.items()}


def variable_shape(grid_shape: Sequence[int], var: Variable, max_states: int) -> tuple[int, ...]:
    sizes = extra_sizes(max_states)
    return (*grid_shape, *(sizes[d] for d in var.dims))


def create(path: str | Path, grid: Grid, variables: Mapping[str, Variable], max_states: int,
           attrs: Mapping[str, object]) -> None:
    """Create an empty store: coordinates with units, variables chunked like ``grid``."""
    sizes = extra_sizes(max_states)
    coords: dict[str, xr.Variable] = {
        name: xr.Variable(name, values, {"units": UNITS[name], "long_name": LONG_NAMES[name]})
        for name, values in grid.axes.items()
    }
    used = {d for var in variables.values() for d in var.dims}
    for dim, labels in EXTRA_DIMS.items():
        if dim in used:
            values = np.arange(sizes[dim]) if labels is None else np.array(labels)
            coords[dim] = xr.Variable(dim, values, {"long_name": dim})
    data_vars = {}
    encoding = {}
    for name, var in variables.items():
        shape = variable_shape(grid.shape, var, max_states)
        chunks = (*grid.chunk_shape, *(sizes[d] for d in var.dims))
        fill = _FILL[var.dtype]
        data = da.full(shape, fill, dtype=var.dtype, chunks=-1)  # never computed: one task
        data_vars[name] = xr.Variable((*grid.names, *var.dims), data,
                                      {"units": var.units, "long_name": var.long_name,
                                       **dict(var.attrs)})
        encoding[name] = {"chunks": chunks, "_FillValue": fill if var.dtype == "float64" else None}
    dataset = xr.Dataset(data_vars, coords, attrs=dict(attrs))
    with writing(path):
        dataset.to_zarr(path, mode="w", compute=False, zarr_format=3, consolidated=False,
                        encoding=encoding)


def write_chunk(path: str | Path, region: tuple[slice, ...],
                arrays: Mapping[str, np.ndarray]) -> None:
    """Write one chunk's arrays into their region (aligned to the Zarr chunks).

    Every chunk is written, even one that equals the fill value, so that each chunk has its
    file (the unit of the chunk cache).
    """
    with writing(path):
        group = zarr.open_group(path, mode="r+")
        for name, values in arrays.items():
            group[name].with_config({"write_empty_chunks": True})[region] = values


def chunk_files(path: str | Path, names: Sequence[str],
                indices: Sequence[Sequence[int]]) -> list[dict[str, Path]]:
    """File of each variable's chunk, for each grid chunk index (whole along the extra dims)."""
    group = zarr.open_group(path, mode="r")
    arrays = {name: group[name] for name in names}
    return [{name: Path(path) / name / array.metadata.encode_chunk_key(
                (*index, *(0,) * (array.ndim - len(index))))
             for name, array in arrays.items()} for index in indices]


def encoding(path: str | Path, names: Sequence[str]) -> dict[str, dict]:
    """How each variable's chunks are encoded (dtype, chunk shape, codecs, fill value)."""
    group = zarr.open_group(path, mode="r")
    keep = ("data_type", "chunk_grid", "chunk_key_encoding", "codecs", "fill_value")
    return {name: {k: v for k, v in group[name].metadata.to_dict().items() if k in keep}
            for name in names}


def place(sources: Mapping[str, Path], targets: Mapping[str, Path]) -> None:
    """Put encoded chunk files (from the cache) at their place in a store."""
    with writing(next(iter(targets.values()), "")):
        for name, source in sources.items():
            targets[name].parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(source, targets[name])


def finalize(path: str | Path, attrs: Mapping[str, object]) -> None:
    """Add global attributes and consolidate the metadata."""
    with writing(path):
        group = zarr.open_group(path, mode="r+")
        group.attrs.update({k: (json.dumps(v) if isinstance(v, dict | list) else v)
                            for k, v in attrs.items()})
        with warnings.catch_warnings():
            # Consolidated metadata is not yet part of the Zarr v3 spec; xarray reads it.
            warnings.filterwarnings("ignore", category=ZarrUserWarning)
            zarr.consolidate_metadata(path)


def read_attr_json(path: str | Path, name: str) -> object:
    """A JSON-encoded global attribute of a store."""
    return json.loads(zarr.open_group(path, mode="r").attrs[name])


def read_region(path: str | Path, names: Sequence[str],
                region: tuple[slice, ...]) -> dict[str, np.ndarray]:
    """Arrays of some variables over a region of the grid axes."""
    group = zarr.open_group(path, mode="r")
    return {name: group[name][region] for name in names}
