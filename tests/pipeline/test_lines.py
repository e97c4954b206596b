"""The line stages in-process: boundaries and sweeps over a small magnetic study, against the
library, independent of the chunking, cached by content."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from fmrnoise import Model, boundaries, noise, steady_states, sweep
from fmrnoise.physics.codes import Kind, SweepStatus
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.lines import run_line_stage
from fmrnoise.pipeline.plan import stage_spec
from fmrnoise.pipeline.runner import run_stage

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
OMEGA_D = {"start": -1.1, "step": 0.01, "num": 21}
OMEGA = {"values": [0.005, 0.08]}


def run(tmp_path, chunks: dict, stages=("boundaries", "sweep"), omega_d=OMEGA_D,
        omega=OMEGA) -> dict[str, xr.Dataset]:
    config = validate({"studies": {"m": {
        "model": MAGNETIC, "axes": {"omega_d": omega_d, "Omega": omega,
                                    "T": {"values": [0.05, 0.1]}},
        "chunks": chunks, "sweep": {"axis": "omega_d"}}}})
    steady = tmp_path / "steady_state.zarr"
    run_stage(stage_spec(config, "m", "steady_state"), steady, tmp_path / "cache", threads=2)
    out = {}
    for stage in stages:
        run_line_stage(stage_spec(config, "m", stage), tmp_path / f"{stage}.zarr",
                       tmp_path / "cache", steady, threads=2,
                       record=tmp_path / f"{stage}.params.json")
        out[stage] = xr.open_zarr(tmp_path / f"{stage}.zarr").load()
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, xr.Dataset]:
    return run(tmp_path_factory.mktemp("lines"), {"omega_d": 8, "Omega": 2})


def grid_model() -> tuple[Model, np.ndarray, np.ndarray]:
    omega_d = OMEGA_D["start"] + OMEGA_D["step"] * np.arange(OMEGA_D["num"])
    omega = np.array(OMEGA["values"])
    return (Model(**MAGNETIC, omega_d=omega_d[:, None], Omega=omega[None, :]), omega_d,
            omega)


def test_boundaries_store_equals_the_library_along_every_axis(stores):
    ds = stores["boundaries"]
    model, omega_d, omega = grid_model()
    states = steady_states(model)
    for axis, name in enumerate(("omega_d", "Omega")):
        found = boundaries(model, states, axis, name)
        mine = ds.isel(point=np.flatnonzero(ds.refined_axis.values == name))
        assert mine.sizes["point"] == found.value.size > 0
        coords = np.column_stack([omega_d[found.index[:, 0]], omega[found.index[:, 1]]])
        coords[:, axis] = found.value
        order = np.lexsort((found.theta, found.kind, coords[:, 1], coords[:, 0]))
        np.testing.assert_array_equal(mine.omega_d.values, coords[order, 0])
        np.testing.assert_array_equal(mine.Omega.values, coords[order, 1])
        np.testing.assert_array_equal(mine.kind.values, found.kind[order])
        np.testing.assert_array_equal(mine.theta.values, found.theta[order])
    assert ds.kind.attrs["flag_values"] == [1, 2, 3]
    assert ds.kind.attrs["flag_meanings"] == "fold hopf degenerate"
    assert ds.omega_d.attrs["units"] == "E0" and ds.theta.attrs["units"] == "rad"
    assert set(np.unique(ds.kind.values)) <= {int(k) for k in Kind}
    assert "T" not in ds  # the steady state's axes only


def test_line_stores_do_not_depend_on_the_chunking(stores, tmp_path):
    other = run(tmp_path, {"omega_d": 3, "Omega": 1, "T": 1})
    for stage in ("boundaries", "sweep"):
        xr.testing.assert_identical(other[stage].drop_attrs(), stores[stage].drop_attrs())


def test_sweep_store_equals_the_library_with_the_noise_of_the_state(stores):
    ds = stores["sweep"]
    assert ds.theta.dims == ("Omega", "T", "direction", "omega_d")
    assert ds.direction.values.tolist() == ["up", "down"]
    assert ds.status.attrs["flag_masks"] == [int(f) for f in SweepStatus]
    model, _, _ = grid_model()
    found = sweep(model, steady_states(model), 0, "omega_d")  # (Omega, direction, omega_d)
    np.testing.assert_array_equal(ds.theta.isel(T=1).values, found.theta)
    np.testing.assert_array_equal(ds.jumped.isel(T=0).values, found.jumped)
    np.testing.assert_array_equal(ds.status.isel(T=0).values, found.status)
    lines = Model(**MAGNETIC, omega_d=ds.omega_d.values,
                  Omega=ds.Omega.values[:, None, None, None],
                  T=ds["T"].values[None, :, None, None])
    S = noise(lines, ds.theta.values, lines.omega_d).S
    np.testing.assert_array_equal(ds.S.values, S)
    limit = (ds.status.values & SweepStatus.LIMIT_CYCLE) > 0
    assert np.all(np.isnan(ds.S.values[limit])) and np.all(np.isfinite(ds.S.values[~limit]))


def test_every_jump_of_the_sweep_store_is_next_to_a_fold_or_hopf_point(stores):
    jumps, points = stores["sweep"].isel(T=0), stores["boundaries"]
    along = points.isel(point=np.flatnonzero((points.refined_axis.values == "omega_d")
                                             & (points.kind.values != Kind.DEGENERATE)))
    step = OMEGA_D["step"]
    assert jumps.jumped.any()
    for omega in jumps.Omega.values:
        line = jumps.sel(Omega=omega)
        where = along.omega_d.values[along.Omega.values == omega]
        for direction in ("up", "down"):
            for x in line.omega_d.values[line.jumped.sel(direction=direction).values]:
                assert np.min(np.abs(where - x)) <= step * (1 + 1e-9), (omega, direction, x)


def test_growing_the_swept_axis_recomputes_other_axes_reuse(tmp_path, caplog):
    run(tmp_path, {"Omega": 1}, stages=("sweep",))
    grown = {**OMEGA_D, "num": 25}
    with caplog.at_level("INFO", logger="fmrnoise"):
        run(tmp_path, {"Omega": 1}, stages=("sweep",),
            omega={"values": [*OMEGA["values"], 0.1]})
        assert "computed 1 chunks, reused 2 of 3" in caplog.text
        caplog.clear()
        run(tmp_path, {"Omega": 1}, stages=("sweep",), omega_d=grown)
        assert "computed 2 chunks, reused 0 of 2" in caplog.text
        assert "axes.omega_d.num: 21 → 25" in caplog.text


def test_growing_an_axis_reuses_the_boundaries_of_chunks_whose_neighbours_stay(tmp_path, caplog):
    # chunks of 8 along omega_d: 21 points are chunks 0-7, 8-15, 16-20; growing to 25 changes
    # the last chunk (and what follows it), not the first two, which read the same next points
    run(tmp_path, {"omega_d": 8, "Omega": 2}, stages=("boundaries",))
    with caplog.at_level("INFO", logger="fmrnoise"):
        grown = run(tmp_path, {"omega_d": 8, "Omega": 2}, stages=("boundaries",),
                    omega_d={**OMEGA_D, "num": 25})
    assert "computed 2 chunks, reused 2 of 4" in caplog.text
    fresh = run(tmp_path / "fresh", {"omega_d": 8, "Omega": 2}, stages=("boundaries",),
                omega_d={**OMEGA_D, "num": 25})
    xr.testing.assert_identical(grown["boundaries"], fresh["boundaries"])
