"""Zarr stores: the skeleton fmrnoise writes with Zarr is the one xarray would write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from fmrnoise.pipeline import store
from fmrnoise.pipeline.contract import EXTRA_DIMS, LONG_NAMES, STAGES, UNITS, stage_variables
from fmrnoise.pipeline.grid import Grid

MAX_STATES = 4
GRID = Grid({"omega_d": np.linspace(0.5, 1.5, 7), "Omega": np.array([0.01, 0.02, 0.05]),
             "T": np.array([0.02, 0.1])}, {"omega_d": 4, "Omega": 2, "T": 1})


def _xarray_reference(path: Path, variables: dict) -> None:
    """The same empty store written by ``xarray.Dataset.to_zarr`` (lazy, never computed)."""
    sizes = store.extra_sizes(MAX_STATES)
    coords = {name: xr.Variable(name, values, {"units": UNITS[name], "long_name": LONG_NAMES[name]})
              for name, values in GRID.axes.items()}
    for dim in {d for var in variables.values() for d in var.dims}:
        labels = EXTRA_DIMS[dim]
        values = np.arange(sizes[dim]) if labels is None else np.array(labels, dtype=object)
        coords[dim] = xr.Variable(dim, values, {"long_name": dim})
    data, encoding = {}, {}
    for name, var in variables.items():
        shape = store.variable_shape(GRID.shape, var, MAX_STATES)
        fill = np.nan if var.dtype == "float64" else -1
        data[name] = xr.Variable((*GRID.names, *var.dims),
                                 np.full(shape, fill, var.dtype),
                                 {"units": var.units, "long_name": var.long_name,
                                  **dict(var.attrs)})
        encoding[name] = {"chunks": (*GRID.chunk_shape, *(sizes[d] for d in var.dims)),
                          "chunk_key_encoding": store.CHUNK_KEY_ENCODING,
                          "compressors": [] if store.COMPRESSOR is None else [store.COMPRESSOR]}
        encoding[name]["_FillValue" if var.dtype == "float64" else "fill_value"] = fill
    for name in coords:
        encoding[name] = {"chunk_key_encoding": store.CHUNK_KEY_ENCODING}
    xr.Dataset(data, coords, attrs={"stage": "test"}).chunk().to_zarr(
        path, mode="w", compute=False, zarr_format=3, consolidated=False, encoding=encoding)


def _metadata(path: Path) -> dict[str, dict]:
    return {str(p.relative_to(path).parent): json.loads(p.read_text())
            for p in path.rglob("zarr.json")}


def _coordinate_chunks(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("c*")
            if p.parent.name in GRID.axes or p.parent.name in EXTRA_DIMS}


@pytest.mark.parametrize("stage", STAGES)
def test_skeleton_is_what_xarray_writes(stage, tmp_path):
    variables = stage_variables(stage, {"quadrature": True})
    store.create(tmp_path / "fmrnoise.zarr", GRID, variables, MAX_STATES, {"stage": "test"})
    _xarray_reference(tmp_path / "xarray.zarr", variables)

    assert _metadata(tmp_path / "fmrnoise.zarr") == _metadata(tmp_path / "xarray.zarr")
    assert _coordinate_chunks(tmp_path / "fmrnoise.zarr") == _coordinate_chunks(
        tmp_path / "xarray.zarr")


def test_store_reads_back_with_xarray_units_dims_and_missing_values(tmp_path):
    path = tmp_path / "steady_state.zarr"
    variables = stage_variables("steady_state")
    store.create(path, GRID, variables, MAX_STATES, {"stage": "steady_state"})
    index = (1, 0, 1)
    region = GRID.region(index)
    chunk_shape = tuple(s.stop - s.start for s in region)
    theta = np.full((*chunk_shape, MAX_STATES), np.nan)
    theta[..., 0] = 0.25
    names = ["theta", "n_states"]
    encoders = {name: store.ChunkEncoder.from_encoding(encoding)
                for name, encoding in store.encoding(path, names).items()}
    files = store.chunk_files(path, names, [index])[0]
    store.write_chunk(files, {"theta": theta, "n_states": np.ones(chunk_shape, np.int8)},
                      encoders)
    assert files["theta"] == path / "theta" / "c.1.0.1.0"  # flat chunk keys
    assert files["theta"].is_file()
    store.finalize(path, {"chunk_keys": {}})

    ds = xr.open_zarr(path)
    assert ds.theta.dims == ("omega_d", "Omega", "T", "branch")
    assert ds.theta.attrs["units"] == variables["theta"].units
    assert ds.omega_d.attrs["units"] == UNITS["omega_d"]
    np.testing.assert_array_equal(ds.omega_d.values, GRID.axes["omega_d"])
    np.testing.assert_array_equal(ds.branch.values, np.arange(MAX_STATES))
    assert ds.theta.isel(omega_d=region[0], Omega=region[1], T=region[2],
                         branch=0).values.tolist() == np.full(chunk_shape, 0.25).tolist()
    assert np.isnan(ds.theta.isel(branch=1)).all()  # unwritten: missing
    assert ds.n_states.dtype == np.int8  # integers are not masked into floats
    assert int(ds.n_states.isel(omega_d=0, Omega=0, T=0)) == -1  # never written: -1
    assert int(ds.n_states.isel(omega_d=4, Omega=0, T=1)) == 1


def test_labels_of_extra_dimensions_read_back_as_strings(tmp_path):
    path = tmp_path / "distribution.zarr"
    store.create(path, GRID, stage_variables("distribution"), MAX_STATES, {})
    store.finalize(path, {})
    ds = xr.open_zarr(path)
    for dim in ("spin", "lead", "step"):
        assert ds[dim].values.tolist() == EXTRA_DIMS[dim]
    assert ds.step_weight.sel(spin="up", lead="r", step="opposite").dims == (
        *GRID.names, "branch")


@pytest.mark.parametrize("compressor", [None, {"name": "zstd", "configuration": {"level": 1}},
                                        {"name": "blosc", "configuration": {
                                            "cname": "lz4", "clevel": 5,
                                            "shuffle": "noshuffle"}}])
def test_chunk_files_are_the_bytes_zarr_writes(compressor, tmp_path, monkeypatch):
    """write_chunk encodes without Zarr's array machinery, to the same bytes: every chunk,
    the edge chunks padded with the fill value, each codec the pipeline may use."""
    monkeypatch.setattr(store, "COMPRESSOR", compressor)
    variables = stage_variables("steady_state")
    grid = Grid({"omega_d": np.linspace(-3, 0, 21), "Omega": np.linspace(0, 0.3, 7)},
                {"omega_d": 8, "Omega": 4})
    for name in ("direct", "zarr"):
        store.create(tmp_path / name, grid, variables, MAX_STATES, {})
    encoders = {name: store.ChunkEncoder.from_encoding(encoding) for name, encoding in
                store.encoding(tmp_path / "direct", list(variables)).items()}
    rng = np.random.default_rng(1)
    zarr_group = zarr.open_group(tmp_path / "zarr", mode="r+")
    for index in grid.indices():
        region = grid.region(index)
        shape = tuple(s.stop - s.start for s in region)
        arrays = {name: (rng.random((*shape, MAX_STATES)) if var.dims
                         else rng.integers(-1, 4, shape)).astype(var.dtype)
                  for name, var in variables.items()}
        store.write_chunk(store.chunk_files(tmp_path / "direct", list(arrays), [index])[0],
                          arrays, encoders)
        for name, values in arrays.items():
            zarr_group[name].with_config({"write_empty_chunks": True})[region] = values
    files = sorted(p.relative_to(tmp_path / "direct") for p in (tmp_path / "direct").rglob("c.*"))
    assert len(files) == len(variables) * 3 * 2 + 3  # and the coordinates omega_d, Omega, branch
    for file in files:
        assert (tmp_path / "direct" / file).read_bytes() == (tmp_path / "zarr" / file
                                                            ).read_bytes(), file


@pytest.mark.parametrize("compressor", [None, {"name": "zstd", "configuration": {"level": 1}}])
def test_read_region_reads_what_zarr_reads(compressor, tmp_path, monkeypatch):
    """read_region decodes the chunk files itself: the same values as Zarr's array API over
    regions across chunks and edge chunks, a chunk never written reading as the fill value."""
    monkeypatch.setattr(store, "COMPRESSOR", compressor)
    variables = stage_variables("steady_state")
    path = tmp_path / "steady_state.zarr"
    store.create(path, GRID, variables, MAX_STATES, {})
    group = zarr.open_group(path, mode="r+")
    rng = np.random.default_rng(2)
    for name, var in variables.items():
        shape = store.variable_shape(GRID.shape, var, MAX_STATES)
        values = (rng.random(shape) if var.dtype == "float64"
                  else rng.integers(-1, 4, shape)).astype(var.dtype)
        values[4:] = np.nan if var.dtype == "float64" else -1  # the last omega_d chunk
        group[name][...] = values
    (path / "theta" / "c.0.1.0.0").unlink()
    assert not (path / "n_states" / "c.1.1.1").exists()  # fill values: Zarr wrote no file
    regions = [(slice(0, 7), slice(0, 3), slice(0, 2)), (slice(3, 5), slice(1, 3), slice(1, 2)),
               (slice(5, 7), slice(2, 3), slice(0, 1)), (slice(4, 5), slice(0, 1), slice(0, 2))]
    for region in regions:
        direct = store.read_region(path, list(variables), region)
        for name in variables:
            expected = group[name][region]
            assert direct[name].dtype == expected.dtype and direct[name].flags.writeable
            np.testing.assert_array_equal(direct[name], expected, err_msg=f"{name} {region}")
