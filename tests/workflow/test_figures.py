"""Figures: every figure rule on a small config, the data each figure draws, the report."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from workflow_helpers import planned_jobs, snakemake, write_config

from fmrnoise import Model, steps
from fmrnoise.plots import style

pytestmark = pytest.mark.slow

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: Tiny versions of the default studies; figures share them, fixing the axes they do not draw.
SMALL = {
    "studies": {
        "tiny_line": {"axes": {"omega_d": {"start": -2.0, "step": 0.125, "num": 17},
                               "Omega": {"values": [0.0, 0.02, 0.1, 1.0]},
                               "T": {"values": [0.02, 0.1, 1.0]}}},
        "tiny_bias": {"model": {"T": 0.02}, "quadrature": True,
                      "axes": {"mu_l": {"start": -1.5, "step": 0.3, "num": 11},
                               "T_r": {"values": [0.0, 0.02, 0.3]},
                               "Omega": {"values": [0.0, 0.04]}}},
        "tiny_point": {"model": {"omega_d": -1.0, "mu_l": 0.2}},
        "tiny_magnetic": {"model": MAGNETIC,
                          "axes": {"omega_d": {"start": -1.1, "step": 0.025, "num": 9},
                                   "Omega": {"start": 0.0, "step": 0.02, "num": 5}}},
    },
    "figures": {
        "precession_angle": {"study": "tiny_line"},
        "fmr_line": {"study": "tiny_line", "Omega": 0.02},
        "temperature_crossover": {"study": "tiny_line", "omega_d": -1.0, "Omega": 0.02},
        "drive_power": {"study": "tiny_line", "omega_d": -1.0, "T": 0.1},
        "dot_distribution": {"study": "tiny_bias", "Omega": 0.04, "T_r": 0.02,
                             "values": [0.0, 0.3]},
        "phase_diagram": {"study": "tiny_line", "T": 0.1},
        "phase_diagram_magnetic": {"study": "tiny_magnetic"},
        "bias_sweep": {"study": "tiny_bias", "T_r": 0.02},
        "thermal_bias": {"study": "tiny_bias", "mu_l": 0.0},
    },
}
FIGURES = list(SMALL["figures"])
TARGETS = [*(f"results/figures/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")),
           *(f"results/figures/{study}/overview.png" for study in SMALL["studies"])]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> SimpleNamespace:
    """One Snakemake run of every figure rule (and the stores they read) on tiny studies."""
    workdir = tmp_path_factory.mktemp("figures")
    config = write_config(workdir / "small.yaml", SMALL)
    snakemake(workdir, *TARGETS, "--configfile", str(config))
    return SimpleNamespace(workdir=workdir, config=config)


def stores(run: SimpleNamespace, name: str) -> dict[str, xr.Dataset]:
    """The stores a figure reads, by stage name, as its plotting function receives them."""
    study = SMALL["figures"][name]["study"]
    paths = (run.workdir / "results" / study).glob("*.zarr")
    return {path.stem: xr.open_zarr(path).load() for path in paths}


def draw(run: SimpleNamespace, name: str, *stages: str) -> tuple[Figure, dict[str, xr.Dataset]]:
    data = stores(run, name)
    settings = SMALL["figures"][name]
    figure = importlib.import_module(f"fmrnoise.plots.{name}").draw(
        **{s: data[s] for s in stages}, settings=settings)
    return figure, data


def lines(ax) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
            for line in ax.get_children() if isinstance(line, Line2D)]


def drawn(ax, x, y) -> bool:
    """Whether ``ax`` has a line with exactly these data (NaN where ``y`` is NaN)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return any(lx.shape == x.shape and np.array_equal(lx, x) and np.array_equal(ly, y,
                                                                                equal_nan=True)
               for lx, ly in lines(ax))


def meshes(figure: Figure) -> list[np.ndarray]:
    """The colour data of the maps in the two panels (colour bars excluded)."""
    return [np.ma.filled(np.ma.masked_invalid(artist.get_array()).astype(float), np.nan)
            for ax in figure.axes[:2] for artist in ax.get_children()
            if isinstance(artist, QuadMesh)]


def test_every_figure_rule_writes_png_and_pdf(run):
    for target in TARGETS:
        path = run.workdir / target
        assert path.stat().st_size > 1000, target
    assert (run.workdir / "results/figures/fmr_line.png").read_bytes()[:4] == b"\x89PNG"
    assert (run.workdir / "results/figures/fmr_line.pdf").read_bytes()[:4] == b"%PDF"


def test_a_figure_setting_reruns_only_that_figure(run):
    config = copy.deepcopy(SMALL)
    config["figures"]["drive_power"]["T"] = 1.0
    changed = write_config(run.workdir / "changed.yaml", config)
    # params only: the verdict must not depend on source files edited meanwhile
    only_params = ("--rerun-triggers", "params")
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(changed), *only_params) == {
        "figure_drive_power": 1}
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(run.config),
                        *only_params) == {}
    config = copy.deepcopy(SMALL)
    config["figures"]["overview"] = {"tiny_line": {"T": 0.02}}  # one study's overview only
    changed = write_config(run.workdir / "changed.yaml", config)
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(changed), *only_params) == {
        "figure_overview": 1}


def test_report_builds_with_every_figure(run):
    snakemake(run.workdir, *TARGETS, "--configfile", str(run.config),
              "--report", "report.html")
    report = (run.workdir / "report.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in report, name
    assert "tiny_magnetic" in report
    assert report.count("overview.png") >= len(SMALL["studies"])


def test_precession_angle_draws_every_stored_state(run):
    figure, data = draw(run, "precession_angle", "steady_state")
    steady = data["steady_state"]
    ax = figure.axes[0]
    for omega in steady.Omega.values:
        for branch in steady.branch.values:
            slot = steady.sel(Omega=omega, branch=branch)
            stable = slot.theta.where(slot.stability == 0)
            other = slot.theta.where(slot.stability > 0)
            assert drawn(ax, -steady.omega_d, stable), (omega, branch)
            assert drawn(ax, -steady.omega_d, other), (omega, branch)


def test_fmr_line_draws_the_stored_excess_noise_ratio(run):
    figure, data = draw(run, "fmr_line", "steady_state", "noise")
    steady = data["steady_state"].sel(Omega=0.02)
    noise = data["noise"].sel(Omega=0.02)
    assert (steady.stability == 0).sum("branch").min() == 1
    for T in noise.T.values:
        ratio = (noise.excess_noise / noise.S_eq).sel(T=T).where(steady.stability == 0).max(
            "branch")
        assert drawn(figure.axes[0], -steady.omega_d, ratio.where(ratio > 0)), T


def test_temperature_crossover_draws_noise_and_asymptotes(run):
    figure, data = draw(run, "temperature_crossover", "steady_state", "noise")
    steady = data["steady_state"].sel(omega_d=-1.0, Omega=0.02, method="nearest")
    noise = data["noise"].sel(omega_d=-1.0, Omega=0.02, method="nearest")
    pick = steady.stability == 0
    S = noise.S.where(pick).max("branch")
    theta = float(steady.theta.where(pick).max())
    G = float(noise.conductance.where(pick).max())
    total, excess = figure.axes[:2]
    assert drawn(total, noise.T, S)
    assert drawn(total, noise.T, noise.S_eq.where(pick).max("branch"))
    assert drawn(excess, noise.T, noise.excess_noise.where(pick).max("branch"))
    low_t = G * np.sin(theta) ** 2 * 1.0  # G sin^2(theta) |omega_d|, omega_d = -1
    assert any(np.allclose(y, low_t, rtol=1e-14) for _, y in lines(total) if y.size == 2)


def test_drive_power_draws_theta_and_excess_noise(run):
    figure, data = draw(run, "drive_power", "steady_state", "noise")
    resonance = {"omega_d": -1.0, "Omega": [0.02, 0.1, 1.0]}  # Omega = 0 is off the log axis
    steady = data["steady_state"].sel(resonance, method="nearest")
    noise = data["noise"].sel(resonance, method="nearest").sel(T=0.1)
    pick = steady.stability == 0
    top, bottom = figure.axes[:2]
    assert drawn(top, steady.Omega, steady.theta.where(pick).max("branch"))
    assert drawn(bottom, steady.Omega, noise.excess_noise.where(pick).max("branch"))


def test_dot_distribution_equals_the_library_sampling_of_the_stored_steps(run):
    figure, data = draw(run, "dot_distribution", "steady_state", "distribution", "noise")
    steady = data["steady_state"].sel(Omega=0.04)
    assert len(figure.axes) == 2
    for ax, mu_l in zip(figure.axes, (0.0, 0.3), strict=True):
        point = steady.sel(mu_l=mu_l, method="nearest") if "mu_l" in steady.dims else steady
        branch = int((point.stability == 0).argmax("branch"))
        theta = float(point.theta[branch])
        energy = lines(ax)[-1][0]
        model = Model(mu_l=float(data["distribution"].mu_l.sel(mu_l=mu_l, method="nearest")),
                      T=0.02, Omega=0.04)
        _, dot = steps(model, theta, -1.0).sample(energy)
        for spin in range(2):
            expected = (1 - dot[spin]) / 2
            assert any(np.allclose(y, expected, rtol=0, atol=1e-13) for _, y in lines(ax))
        n_up = next(y for _, y in lines(ax)[-2:-1])
        assert n_up[0] == pytest.approx(1.0) and n_up[-1] == pytest.approx(0.0, abs=1e-12)


def test_phase_diagram_meshes_equal_the_stored_maps(run):
    figure, data = draw(run, "phase_diagram", "steady_state", "noise")
    steady, noise = data["steady_state"], data["noise"].sel(T=0.1)
    pick = steady.stability == 0
    order = {"omega_d": steady.omega_d.values[::-1]}
    cos = np.cos(steady.theta.where(pick).max("branch")).sel(order).transpose("Omega", "omega_d")
    ratio = (noise.excess_noise / noise.S_eq).where(pick).max("branch").sel(order)
    ratio = ratio.transpose("Omega", "omega_d")
    cos_mesh, ratio_mesh = meshes(figure)
    np.testing.assert_array_equal(cos_mesh.reshape(cos.shape), cos.values)
    floor = float(ratio.max()) * 1e-4
    np.testing.assert_array_equal(ratio_mesh.reshape(ratio.shape), ratio.clip(min=floor).values)


def test_magnetic_phase_diagram_maps_stable_states_and_current(run):
    figure, data = draw(run, "phase_diagram_magnetic", "steady_state", "dot_voltage")
    steady, volt = data["steady_state"], data["dot_voltage"]
    order = {"omega_d": steady.omega_d.values[::-1]}
    n_stable = steady.n_stable.sel(order).transpose("Omega", "omega_d")
    pick = steady.stability == 0
    first = pick.argmax("branch")
    current = volt.current.isel(branch=first).where(pick.any("branch")).sel(order)
    counts, currents = meshes(figure)
    np.testing.assert_array_equal(counts.reshape(n_stable.shape), n_stable.values)
    np.testing.assert_array_equal(currents.reshape(n_stable.shape),
                                  current.transpose("Omega", "omega_d").values)
    assert ((steady.status & 1) == 1).equals(steady.n_stable == 0)


def test_bias_sweep_draws_noise_and_its_change(run):
    figure, data = draw(run, "bias_sweep", "steady_state", "noise")
    steady, noise = data["steady_state"], data["noise"].sel(T_r=0.02)
    S = noise.S.where(steady.stability == 0).max("branch")
    V = noise.mu_l  # mu_r = 0
    total, change = figure.axes[:2]
    for omega in noise.Omega.values:
        assert drawn(total, V, S.sel(Omega=omega))
    assert drawn(change, V, S.sel(Omega=0.04) - S.sel(Omega=0.0))


def test_thermal_bias_draws_noise_and_quadrature(run):
    figure, data = draw(run, "thermal_bias", "steady_state", "noise")
    steady, noise = data["steady_state"], data["noise"].sel(mu_l=0.0, method="nearest")
    pick = steady.stability == 0
    S = noise.S.where(pick).max("branch")
    quadrature = noise.S_quadrature.where(pick).max("branch")
    total = figure.axes[0]
    for omega in noise.Omega.values:
        assert drawn(total, noise.T_r, S.sel(Omega=omega))
        assert drawn(total, noise.T_r, quadrature.sel(Omega=omega))
    np.testing.assert_allclose(quadrature, S, rtol=1e-8)


def test_select_fixes_undrawn_axes_at_the_setting():
    ds = xr.Dataset({"S": (("T", "Omega"), np.arange(6.0).reshape(3, 2))},
                    coords={"T": [0.1, 0.2, 0.3], "Omega": [0.0, 0.5]},
                    attrs={"model": '{"B0": 2.0, "T_r": null}'})
    chosen = style.select(ds, ("Omega",), {"T": 0.21})
    assert chosen.S.dims == ("Omega",) and style.parameter(chosen, "T") == 0.2
    assert style.parameter(chosen, "B0") == 2.0 and style.parameter(chosen, "T_r") is None
    assert style.select(ds, ("Omega",), {}).T == 0.1
    assert style.ghz_per_energy_unit({"B0_GHz": 10.0}, ds) == 5.0


def test_save_writes_each_format(tmp_path: Path):
    figure = Figure()
    figure.subplots().plot([0, 1], [1, 0])
    style.save(figure, str(tmp_path / "a.png"), str(tmp_path / "a.pdf"))
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"


def overview(run: SimpleNamespace, study: str, **settings: object) -> tuple[Figure, dict]:
    paths = (run.workdir / "results" / study).glob("*.zarr")
    data = {path.stem: xr.open_zarr(path).load() for path in paths}
    module = importlib.import_module("fmrnoise.plots.overview")
    return module.draw(data["steady_state"], data["dot_voltage"], data["noise"],
                       settings), data


def test_overview_of_three_axes_draws_lines_through_the_middle_slice(run):
    figure, data = overview(run, "tiny_line")
    angle, noise_ax, current_ax = figure.axes[:3]
    noise = data["noise"].sel(T=0.1)  # the middle of three temperatures
    steady = data["steady_state"]
    stable = steady.stability == 0
    for omega in steady.Omega.values:
        here = stable.sel(Omega=omega)
        first = here.argmax("branch")  # the lowest-theta stable slot

        def at_stable(values: xr.DataArray, first=first, here=here) -> xr.DataArray:
            return values.isel(branch=first).where(here.any("branch"))

        ratio = (noise.S / noise.S_eq).sel(Omega=omega)
        assert drawn(noise_ax, steady.omega_d, at_stable(ratio))
        assert drawn(current_ax, steady.omega_d,
                     at_stable(data["dot_voltage"].current.sel(Omega=omega)))
        slot = steady.sel(Omega=omega, branch=1)
        assert drawn(angle, steady.omega_d, slot.theta.where(slot.stability == 1))
    assert "T = 0.1" in figure.get_suptitle()


def test_overview_of_two_long_axes_draws_maps(run, monkeypatch):
    module = importlib.import_module("fmrnoise.plots.overview")
    monkeypatch.setattr(module, "MAX_LINES", 2)
    figure, data = overview(run, "tiny_magnetic")
    n_stable = data["steady_state"].n_stable.transpose("Omega", "omega_d").values
    assert np.array_equal(meshes(figure)[0], n_stable)


def test_overview_of_a_single_point_tabulates_its_states(run):
    figure, data = overview(run, "tiny_point")
    table = next(child for child in figure.axes[0].get_children()
                 if type(child).__name__ == "Table")
    texts = [cell.get_text().get_text() for cell in table.get_celld().values()]
    theta = data["steady_state"].theta.values
    assert f"{theta[0]:.6g}" in texts and "stable" in texts and "unstable" in texts
