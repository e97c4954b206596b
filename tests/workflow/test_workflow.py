"""End to end: the Snakemake workflow on small configs in temporary directories."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from workflow_helpers import (
    chunk_counts,
    copy_workflow,
    planned_jobs,
    snakemake,
    targets,
    write_config,
)

from fmrnoise import Model, cumulants, hot_electrons
from fmrnoise.physics.noise import noise
from fmrnoise.physics.steady_state import steady_states
from fmrnoise.physics.transport import dot_voltage
from fmrnoise.pipeline.contract import EXTRA_DIMS, STAGES

R7_MODEL = {"lead_damping": True, "B0": 1.0, "omega_d": -1.0, "Omega": 0.02, "alpha0": 0.03,
            "total_spin": 20.0, "T": 0.1, "mu_r": 0.0, "gamma_l_up": 0.9,
            "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
SMALL = {
    "studies": {
        "r3": {"axes": {"omega_d": {"values": [-1.5, -1.0, -0.5, 1.0]},
                        "Omega": {"values": [0.02]}, "T": {"values": [0.1, 0.2]}},
               "chunks": {"omega_d": 2}},
        "r7": {"model": R7_MODEL, "axes": {"mu_l": {"values": [0.2]}}, "dot_relaxation": True},
    },
    "figures": {"fmr_line": {"study": "r3", "T": 0.1}},
}
FIGURE = "results/figures/fmr_line.png"


pytestmark = pytest.mark.slow

@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> SimpleNamespace:
    """One full run of two small studies with a copy of the workflow (edited by later tests)."""
    root = tmp_path_factory.mktemp("pipeline")
    (root / "repo").mkdir()
    snakefile = copy_workflow(root / "repo")
    workdir = root / "work"
    workdir.mkdir()
    config = write_config(workdir / "small.yaml", SMALL)
    snakemake(workdir, *targets("r3", "r7"), FIGURE, "--configfile", str(config),
              snakefile=snakefile)
    return SimpleNamespace(workdir=workdir, snakefile=snakefile, config=config)


def open_store(workdir: Path, study: str, stage: str) -> xr.Dataset:
    return xr.open_zarr(workdir / "results" / study / f"{stage}.zarr").load()


def stable(steady: xr.Dataset, variable: xr.DataArray) -> xr.DataArray:
    """Values at the (single) stable state of each point."""
    return variable.where(steady.stability == 0).max("branch")


def test_stores_reproduce_r3(pipeline):
    steady = open_store(pipeline.workdir, "r3", "steady_state")
    noise_ds = open_store(pipeline.workdir, "r3", "noise")
    theta = stable(steady, steady.theta).sel(Omega=0.02)
    S = stable(steady, noise_ds.S).sel(Omega=0.02, T=0.1)
    np.testing.assert_allclose(theta, [0.039537519356971973, 0.411516846067488019,
                                       0.0399289395514555656, 0.00999654377492122254],
                               rtol=1e-10)
    np.testing.assert_allclose(S, [0.150761671054024734, 0.198005448238921163,
                                   0.150183319314042202, 0.150029981670310847], rtol=1e-10)
    np.testing.assert_allclose(stable(steady, noise_ds.S_eq).sel(Omega=0.02, T=0.1), 0.15,
                               rtol=1e-12)


def test_stores_reproduce_r7(pipeline):
    steady = open_store(pipeline.workdir, "r7", "steady_state").squeeze()
    volt = open_store(pipeline.workdir, "r7", "dot_voltage").squeeze()
    noise_ds = open_store(pipeline.workdir, "r7", "noise").squeeze()
    filled = steady.stability >= 0
    np.testing.assert_allclose(steady.theta.where(filled, drop=True),
                               [0.3541371681005070106, 2.829512765692788942], rtol=1e-10)
    np.testing.assert_array_equal(steady.stability, [0, 1, -1, -1])
    assert float(steady.alpha[0]) == pytest.approx(0.0564827023057191248, rel=1e-10)
    assert float(steady.spin_current[0]) == pytest.approx(0.0238110051580388187, rel=1e-10)
    assert float(noise_ds.S[0]) == pytest.approx(0.352516316106454722, rel=1e-10)
    assert float(volt.current[0]) == pytest.approx(0.144755979367844747, rel=1e-10)
    np.testing.assert_allclose(volt.V_d_spin[0], [0.131171504409841, 0.0890054179966261],
                               rtol=1e-10)
    assert abs(float(volt.kirchhoff_residual[0])) < 1e-15
    assert float(volt.stationarity_residual[0]) < 1e-12


def test_store_values_equal_the_library(pipeline):
    steady = open_store(pipeline.workdir, "r3", "steady_state")
    noise_ds = open_store(pipeline.workdir, "r3", "noise")
    volt = open_store(pipeline.workdir, "r3", "dot_voltage")
    omega_d = steady.omega_d.values[:, None]
    model = Model(omega_d=omega_d, Omega=0.02)
    expected = steady_states(model)
    np.testing.assert_array_equal(steady.theta.values, expected.theta)
    np.testing.assert_array_equal(steady.stability.values, expected.stability)
    branch = model.per_branch()
    for T in noise_ds.T.values:
        S = noise(branch.replace(T=T), expected.theta, branch.omega_d).S
        np.testing.assert_array_equal(noise_ds.S.sel(T=T).values, S)
    current = dot_voltage(branch, expected.theta, branch.omega_d).current
    np.testing.assert_array_equal(volt.current.values, current)


def test_stores_follow_the_data_contract(pipeline):
    dims = {"steady_state": ("omega_d", "Omega"), "distribution": ("omega_d", "Omega"),
            "dot_voltage": ("omega_d", "Omega"), "noise": ("omega_d", "Omega", "T")}
    for stage in STAGES:
        ds = xr.open_zarr(pipeline.workdir / "results" / "r3" / f"{stage}.zarr")
        axes = tuple(d for d in ds.dims if d not in EXTRA_DIMS)
        assert axes == dims[stage], stage
        for axis in axes:
            assert ds[axis].attrs["units"] and ds[axis].attrs["long_name"]
        for name, var in ds.data_vars.items():
            assert var.attrs["units"] and var.attrs["long_name"], name
            assert var.dims[:len(axes)] == axes
        assert ds.attrs["gauge"].startswith("north pole")
        assert "Blanter" in ds.attrs["noise_convention"]
        assert json.loads(ds.attrs["model"])["B0"] == 1.0
        assert ds.attrs["study"] == "r3" and ds.attrs["fmrnoise_version"]
    steady = xr.open_zarr(pipeline.workdir / "results" / "r3" / "steady_state.zarr")
    assert steady.stability.dtype == np.int8 and steady.status.dtype == np.int8
    assert steady.status.attrs["flag_masks"] == [1, 2, 4]
    theta = steady.theta.values
    assert np.all(np.diff(theta[..., :2], axis=-1) > 0)  # ascending theta in the branch slots
    assert np.all(np.isnan(theta[..., 2:])) and np.all(steady.stability.values[..., 2:] == -1)
    dist = xr.open_zarr(pipeline.workdir / "results" / "r3" / "distribution.zarr")
    assert list(dist.spin.values) == ["up", "down"] and list(dist.step.values) == ["same",
                                                                                   "opposite"]
    assert (pipeline.workdir / FIGURE).stat().st_size > 0


def test_nothing_changed_nothing_runs(pipeline):
    assert planned_jobs(pipeline.workdir, *targets("r3", "r7"), FIGURE, "--configfile",
                        str(pipeline.config), snakefile=pipeline.snakefile) == {}


def _changed(pipeline, edit) -> dict:
    config = copy.deepcopy(SMALL)
    edit(config)
    path = write_config(pipeline.workdir / "changed.yaml", config)
    return planned_jobs(pipeline.workdir, *targets("r3", "r7"), FIGURE, "--configfile",
                        str(path), snakefile=pipeline.snakefile)


def test_dot_relaxation_adds_the_hot_electron_limit_to_the_noise_store(pipeline):
    steady = open_store(pipeline.workdir, "r7", "steady_state")
    noise_ds = open_store(pipeline.workdir, "r7", "noise")
    model = Model(**R7_MODEL, mu_l=0.2).per_branch()
    hot = hot_electrons(model, steady.theta.values, model.omega_d)
    for name in ("T_dot", "S_hot", "excess_noise_hot"):
        np.testing.assert_array_equal(noise_ds[name].values, getattr(hot, name), err_msg=name)
        assert noise_ds[name].attrs["units"] and noise_ds[name].attrs["long_name"]
    assert "T_dot" not in open_store(pipeline.workdir, "r3", "noise")  # off by default


def test_noise_store_holds_the_third_cumulant_of_the_library(pipeline):
    for study, model in (("r7", Model(**R7_MODEL, mu_l=0.2)), ("r3", None)):
        steady = open_store(pipeline.workdir, study, "steady_state")
        noise_ds = open_store(pipeline.workdir, study, "noise")
        if model is None:  # r3: omega_d x Omega x T
            model = Model(omega_d=steady.omega_d.values[:, None, None],
                          Omega=steady.Omega.values[None, :, None],
                          T=noise_ds["T"].values[None, None, :])
            theta = steady.theta.values[:, :, None, :]
        else:
            theta = steady.theta.values
        branch = model.per_branch()
        expected = cumulants(branch, theta, branch.omega_d).C3
        np.testing.assert_array_equal(noise_ds.C3.values, np.broadcast_to(expected,
                                                                           noise_ds.C3.shape))
        assert noise_ds.C3.attrs["units"] == "e^3 E0/hbar"


def test_switching_dot_relaxation_reruns_only_the_noise_stage(pipeline):
    def edit(config):
        config["studies"]["r7"]["dot_relaxation"] = False
    assert _changed(pipeline, edit) == {"noise": 1}


def test_temperature_change_reruns_only_noise(pipeline):
    def edit(config):
        config["studies"]["r7"]["model"]["T"] = 0.2
    assert _changed(pipeline, edit) == {"noise": 1}


def test_drive_change_reruns_every_stage_of_the_study(pipeline):
    def edit(config):
        config["studies"]["r7"]["model"]["Omega"] = 0.03
    assert _changed(pipeline, edit) == {stage: 1 for stage in STAGES}


def test_figure_setting_reruns_only_the_figure(pipeline):
    def edit(config):
        config["figures"]["fmr_line"]["T"] = 0.2
    assert _changed(pipeline, edit) == {"figure_fmr_line": 1}


@pytest.mark.parametrize(("module", "expected"), [
    ("physics/noise.py", {"noise": 2, "figure_fmr_line": 1}),
    ("physics/kernels.py", {"noise": 2, "figure_fmr_line": 1}),
    ("physics/steady_state.py", {**{stage: 2 for stage in STAGES}, "figure_fmr_line": 1}),
    ("pipeline/stages/dot_voltage.py", {"dot_voltage": 2}),
    ("plots/fmr_line.py", {"figure_fmr_line": 1}),
])
def test_source_edit_reruns_the_stages_that_execute_it(pipeline, module, expected):
    """Only the stages whose import closure holds the edited module rerun (and what reads
    their stores); an edit elsewhere leaves a stage alone."""
    path = pipeline.snakefile.parent / "src" / "fmrnoise" / module
    original, stat = path.read_text(), path.stat()
    try:
        path.write_text(original + "\n# an edit\n")
        assert planned_jobs(pipeline.workdir, *targets("r3", "r7"), FIGURE, "--configfile",
                            str(pipeline.config), snakefile=pipeline.snakefile) == expected
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_boundaries_rerun_only_when_the_steady_state_or_their_parameters_change(pipeline):
    target = "results/r3/boundaries.zarr"
    snakemake(pipeline.workdir, target, "--configfile", str(pipeline.config),
              snakefile=pipeline.snakefile)
    assert (pipeline.workdir / target / "zarr.json").is_file()

    def planned(edit) -> dict:
        config = copy.deepcopy(SMALL)
        edit(config)
        path = write_config(pipeline.workdir / "changed.yaml", config)
        return planned_jobs(pipeline.workdir, target, "--configfile", str(path),
                            snakefile=pipeline.snakefile)

    assert planned(lambda c: None) == {}
    assert planned(lambda c: c["studies"]["r3"]["axes"]["T"].update(values=[0.1, 0.3])) == {}
    assert planned(lambda c: c["studies"]["r3"].update(model={"alpha0": 0.04})) == {
        "steady_state": 1, "boundaries": 1}


def test_growing_an_axis_reuses_the_existing_chunks(tmp_path):
    study = {"axes": {"omega_d": {"start": -1.2, "step": 0.05, "num": 8},
                      "T": {"values": [0.1]}}, "chunks": {"omega_d": 4}}
    config = write_config(tmp_path / "grow.yaml", {"studies": {"grow": study}})
    snakemake(tmp_path, *targets("grow"), "--configfile", str(config))
    before = {stage: open_store(tmp_path, "grow", stage) for stage in STAGES}
    logs = tmp_path / "results" / "logs" / "grow"
    assert chunk_counts(logs / "noise.log") == (2, 0)

    study["axes"]["omega_d"]["num"] = 12
    write_config(config, {"studies": {"grow": study}})
    snakemake(tmp_path, *targets("grow"), "--configfile", str(config))
    for stage in STAGES:
        assert chunk_counts(logs / f"{stage}.log") == (1, 2), stage
        after = open_store(tmp_path, "grow", stage).isel(omega_d=slice(0, 8))
        xr.testing.assert_identical(after.drop_attrs(), before[stage].drop_attrs())


def test_dask_cluster_gives_identical_stores(pipeline, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        config = copy.deepcopy(SMALL)
        config["dask"] = {"address": cluster.scheduler_address}
        path = write_config(tmp_path / "cluster.yaml", config)
        snakemake(tmp_path, *targets("r3", "r7"), "--configfile", str(path))
    for study in ("r3", "r7"):
        for stage in STAGES:
            xr.testing.assert_identical(open_store(tmp_path, study, stage),
                                        open_store(pipeline.workdir, study, stage))


@pytest.mark.parametrize(("edit", "key"), [
    (lambda c: c["model"].update(Omega="3e-05"), "model.Omega"),
    (lambda c: c["studies"]["r3"]["axes"]["omega_d"].update(values=[0.0, -1.0]), "omega_d"),
    (lambda c: c["studies"].update(Bad={"axes": {}}), "Bad"),
    (lambda c: c["model"].update(T=-0.1), "model.T"),
    (lambda c: c["studies"]["r3"].update(colour="red"), "colour"),
])
def test_invalid_config_is_rejected_before_any_job_runs(tmp_path, edit, key):
    config = copy.deepcopy(SMALL)
    config["model"] = {}
    edit(config)
    path = write_config(tmp_path / "bad.yaml", config)
    result = snakemake(tmp_path, *targets("r3"), "--configfile", str(path), check=False)
    assert result.returncode != 0
    assert key in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()
