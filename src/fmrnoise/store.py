"""Zarr v3 stores of the pipeline, readable with ``xarray.open_zarr`` (design.md §3).

A store is created empty (metadata, coordinates) with Zarr chunks equal to the grid chunks, then
filled chunk by chunk from parallel workers (writes aligned to chunk boundaries are safe), then
finalized with its chunk keys and consolidated metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from .contract import EXTRA_DIMS, LONG_NAMES, UNITS, Variable
from .grid import Grid

_FILL = {"float64": np.nan, "int8": -1}


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
        data = da.full(shape, fill, dtype=var.dtype, chunks=chunks)
        data_vars[name] = xr.Variable((*grid.names, *var.dims), data,
                                      {"units": var.units, "long_name": var.long_name,
                                       **dict(var.attrs)})
        encoding[name] = {"chunks": chunks, "_FillValue": fill if var.dtype == "float64" else None}
    dataset = xr.Dataset(data_vars, coords, attrs=dict(attrs))
    dataset.to_zarr(path, mode="w", compute=False, zarr_format=3, consolidated=False,
                    encoding=encoding)


def write_chunk(path: str | Path, region: tuple[slice, ...],
                arrays: Mapping[str, np.ndarray]) -> None:
    """Write one chunk's arrays into their region (aligned to the Zarr chunks)."""
    group = zarr.open_group(path, mode="r+")
    for name, values in arrays.items():
        group[name][region] = values


def finalize(path: str | Path, attrs: Mapping[str, object]) -> None:
    """Add global attributes and consolidate the metadata."""
    group = zarr.open_group(path, mode="r+")
    group.attrs.update({k: (json.dumps(v) if isinstance(v, dict | list) else v)
                        for k, v in attrs.items()})
    zarr.consolidate_metadata(path)


def read_attr_json(path: str | Path, name: str) -> object:
    """A JSON-encoded global attribute of a store."""
    return json.loads(zarr.open_group(path, mode="r").attrs[name])


def read_region(path: str | Path, names: Sequence[str],
                region: tuple[slice, ...]) -> dict[str, np.ndarray]:
    """Arrays of some variables over a region of the grid axes."""
    group = zarr.open_group(path, mode="r")
    return {name: group[name][region] for name in names}
