"""The runner evaluates the stages after the steady state on the filled branch slots only: the
stores hold what the stage's physics gives on every slot, bit for bit."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import xarray as xr

from fmrnoise.physics.model import Model
from fmrnoise.pipeline import runner
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.plan import stage_spec
from fmrnoise.pipeline.sources import stage_module

#: A magnetic left lead with bias and thermal bias (the noise goes through quadrature too) and
#: energy relaxation; two states per point, one at the resonance where Omega = |kappa| = alpha0;
#: chunks with an edge chunk.
CONFIG = {"studies": {"mixed": {
    "model": {"alpha0": 0.02, "mu_l": 0.3, "T_r": 0.15, "gamma_l_down": 0.3},
    "axes": {"omega_d": {"values": [-1.2, -1.05, -1.0, -0.95, -0.8, -0.5]},
             "Omega": {"values": [0.0, 0.02, 0.05]}, "T": {"values": [0.05, 0.1]}},
    "chunks": {"omega_d": 4, "Omega": 2}, "quadrature": True, "dot_relaxation": True}}}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner")
    config = validate(CONFIG)
    upstream = root / "steady_state.zarr"
    runner.run_stage(stage_spec(config, "mixed", "steady_state"), upstream, root / "cache")
    for stage in ("distribution", "dot_voltage", "noise"):
        runner.run_stage(stage_spec(config, "mixed", stage), root / f"{stage}.zarr",
                         root / "cache", upstream=upstream, threads=2)
    return config, root


def test_the_grid_has_points_with_one_and_two_states(stores):
    _, root = stores
    n_states = xr.open_zarr(root / "steady_state.zarr").n_states.values
    assert set(np.unique(n_states)) == {1, 2}


@pytest.mark.parametrize("stage", ["distribution", "dot_voltage", "noise"])
def test_filled_slots_only_gives_the_values_of_every_slot(stage, stores):
    config, root = stores
    spec = stage_spec(config, "mixed", stage)
    stored = xr.open_zarr(root / f"{stage}.zarr").load()
    steady = xr.open_zarr(root / "steady_state.zarr").load()
    grid = runner.stage_grid(spec)
    mesh = np.meshgrid(*grid.axes.values(), indexing="ij")
    model = Model(**{**spec["model"], **dict(zip(grid.names, mesh, strict=True))})
    module = importlib.import_module(stage_module(stage))
    # the steady state over (omega_d, Omega, branch), broadcast over the stage's other axes
    missing = {name: values for name, values in grid.axes.items() if name not in steady.dims}
    upstream = {name: steady[name].expand_dims(missing).transpose(*grid.names, "branch").values
                for name in module.UPSTREAM}
    expected = module.compute(model, upstream, spec["max_states"], spec["options"])
    assert set(expected) == set(stored.data_vars)
    for name, values in expected.items():
        values = np.broadcast_to(values, stored[name].shape)
        assert values.dtype == stored[name].dtype, name
        assert values.tobytes() == stored[name].values.tobytes(), name  # NaN where empty
