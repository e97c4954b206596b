"""Figures: every figure rule on a small config, the data each figure draws, the report."""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.optimize import brentq, minimize_scalar
from workflow_helpers import REPO, planned_jobs, snakemake, write_config

from fmrnoise import Model, steps
from fmrnoise.plots import style

pytestmark = pytest.mark.slow

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: Tiny versions of the default studies; figures share them, fixing the axes they do not draw.
SMALL = {
    "studies": {
        "tiny_line": {"axes": {"omega_d": {"start": -2.0, "step": 0.025, "num": 81},
                               "Omega": {"values": [0.0, 0.02, 0.1, 1.0]},
                               "T": {"values": [0.02, 0.1, 1.0]}}},
        "tiny_fmr": {"model": {"Omega": 0.02},
                     "axes": {"omega_d": {"start": -1.25, "step": 0.005, "num": 101},
                              "T": {"values": [0.02, 0.5]}}},
        "tiny_field": {"model": {"omega_d": -1.0},
                       "axes": {"B0": {"start": 0.8, "step": 0.002, "num": 201},
                                "Omega": {"values": [0.01, 0.04]}}},
        "tiny_drive": {"axes": {"Omega": {"values": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]}}},
        "tiny_bias": {"model": {"T": 0.02}, "quadrature": True,
                      "axes": {"mu_l": {"start": -1.5, "step": 0.3, "num": 11},
                               "T_r": {"values": [0.0, 0.02, 0.3]},
                               "Omega": {"values": [0.0, 0.04]}}},
        "tiny_point": {"model": {"omega_d": -1.0, "mu_l": 0.2}},
        "tiny_magnetic": {"model": MAGNETIC,
                          "axes": {"omega_d": {"start": -1.1, "step": 0.025, "num": 9},
                                   "Omega": {"start": 0.0, "step": 0.02, "num": 5}}},
        "tiny_counting": {"model": {"T": 0.02, "gamma_l_up": 0.7, "gamma_r_up": 0.4,
                                    "gamma_r_down": 0.4, "rho_up": 1.25, "rho_down": 0.55},
                          "axes": {"mu_l": {"start": -1.5, "step": 0.1, "num": 31},
                                   "gamma_l_down": {"values": [0.25, 0.7]},
                                   "Omega": {"values": [0.0, 0.03]}}},
        "tiny_hot": {"dot_relaxation": True,
                     "axes": {"omega_d": {"start": -1.2, "step": 0.02, "num": 21},
                              "Omega": {"values": [0.01, 0.03, 0.049]},
                              "T": {"values": [0.001, 0.01, 0.3]}}},
    },
    "figures": {
        "B0_GHz": 10.0,
        "precession_angle": {"study": "tiny_line"},
        "fmr_line": {"study": "tiny_fmr"},
        "field_swept_fmr": {"study": "tiny_field"},
        "temperature_crossover": {"study": "tiny_line", "omega_d": -1.0, "Omega": 0.02},
        "drive_power": {"study": "tiny_drive"},
        "dot_distribution": {"study": "tiny_bias", "Omega": 0.04, "T_r": 0.02,
                             "values": [0.0, 0.3]},
        "phase_diagram": {"study": "tiny_line", "T": 0.1},
        "phase_diagram_magnetic": {"study": "tiny_magnetic"},
        "magnetic_noise": {"study": "tiny_magnetic"},
        "bias_sweep": {"study": "tiny_bias", "T_r": 0.02},
        "thermal_bias": {"study": "tiny_bias", "mu_l": 0.0},
        "counting_statistics": {"study": "tiny_counting"},
        "energy_relaxation": {"study": "tiny_hot", "Omega": 0.03, "T": 0.01},
    },
}
FIGURES = [name for name, value in SMALL["figures"].items() if isinstance(value, dict)]
TARGETS = [*(f"results/figures/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")),
           *(f"results/figures/{study}/overview.png" for study in SMALL["studies"])]
#: E0/h of the tiny figures (the shared setting B0_GHz with B0 = 1, or B0 an axis): mT per E0.
MT_PER_E0 = 1e3 * 10.0 / (2 * 13.996244936)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> SimpleNamespace:
    """One Snakemake run of every figure rule (and the stores they read) on tiny studies."""
    workdir = tmp_path_factory.mktemp("figures")
    config = write_config(workdir / "small.yaml", SMALL)
    snakemake(workdir, *TARGETS, "--configfile", str(config))
    return SimpleNamespace(workdir=workdir, config=config)


def settings(name: str) -> dict:
    """A figure's settings as its rule passes them: the shared ones, then its own."""
    return {"B0_GHz": SMALL["figures"]["B0_GHz"], **SMALL["figures"][name]}


def stores(run: SimpleNamespace, name: str) -> dict[str, xr.Dataset]:
    """The stores a figure reads, by stage name, as its plotting function receives them."""
    study = SMALL["figures"][name]["study"]
    paths = (run.workdir / "results" / study).glob("*.zarr")
    return {path.stem: xr.open_zarr(path).load() for path in paths}


def draw(run: SimpleNamespace, name: str, *stages: str,
         **changes: object) -> tuple[Figure, dict[str, xr.Dataset]]:
    data = stores(run, name)
    module = importlib.import_module(f"fmrnoise.plots.{name}")
    stages = stages or style_stages(name)
    figure = module.draw(**{s: data[s] for s in stages}, settings={**settings(name), **changes})
    return figure, data


def style_stages(name: str) -> tuple[str, ...]:
    """The stores a figure's draw function reads (its parameters but settings)."""
    module = importlib.import_module(f"fmrnoise.plots.{name}")
    return tuple(p for p in inspect.signature(module.draw).parameters if p != "settings")


def lines(ax) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
            for line in ax.get_children() if isinstance(line, Line2D)]


def drawn(ax, x, y) -> bool:
    """Whether ``ax`` has a line with exactly these data (NaN where ``y`` is NaN)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return any(lx.shape == x.shape and np.array_equal(lx, x) and np.array_equal(ly, y,
                                                                                equal_nan=True)
               for lx, ly in lines(ax))


def stored_points(ax, colour=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The data of the stored values drawn as points (gid "store"), of one colour or all."""
    return [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
            for line in ax.get_lines() if line.get_gid() == "store"
            and (colour is None or line.get_color() == colour)]


def meshes(figure: Figure, count: int = 2) -> list[np.ndarray]:
    """The colour data of the maps in the first ``count`` panels (colour bars excluded)."""
    return [np.ma.filled(np.ma.masked_invalid(artist.get_array()).astype(float), np.nan)
            for ax in figure.axes[:count] for artist in ax.get_children()
            if isinstance(artist, QuadMesh)]


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def numbers(figure: Figure, key: str) -> np.ndarray:
    """The values a figure quotes under ``key``, as floats."""
    return np.array([number(part) for part in figure.numbers[key].split(", ")])


def points_on_closed_forms(figure: Figure) -> int:
    """Check that every set of stored points lies on the closed-form line of its colour (the
    lines pass through the points' abscissae, :func:`fmrnoise.plots.style.dense`); returns
    the number of point sets checked."""
    checked = 0
    for ax in figure.axes:
        forms = [line for line in ax.get_lines() if line.get_gid() == "closed form"]
        for line in ax.get_lines():
            if line.get_gid() != "store":
                continue
            px, py = (np.asarray(v, float) for v in line.get_data())
            keep = np.isfinite(py)
            for form in (f for f in forms if f.get_color() == line.get_color()):
                fx, fy = (np.asarray(v, float) for v in form.get_data())
                index = np.searchsorted(fx, px[keep])
                if np.all(index < fx.size) and np.array_equal(fx[index], px[keep]):
                    np.testing.assert_allclose(fy[index], py[keep], rtol=1e-7, atol=1e-12)
                    checked += 1
    return checked


def sin2_closed_form(B0, omega_d, Omega, alpha0):
    """sin²θ = 1 − u with u = cos²θ from the constant-κ quadratic, as docs/theory.md §3 writes
    it (independent of fmrnoise.plots.style)."""
    b, kappa = B0 + omega_d, alpha0 * omega_d
    c = Omega**2 + b**2 - kappa**2
    return 1 - (-c + np.sqrt(c * c + 4 * kappa**2 * b**2)) / (2 * kappa**2)


def normal_excess(G, sin2, phidot, T):
    """ΔS = G sin²θ [φ̇ coth(φ̇/2T) − 2T] (docs/theory.md §6)."""
    return G * sin2 * (phidot / np.tanh(phidot / (2 * T)) - 2 * T)


def test_every_figure_rule_writes_png_pdf_and_its_caption(run):
    for target in TARGETS:
        path = run.workdir / target
        assert path.stat().st_size > 1000, target
    assert (run.workdir / "results/figures/fmr_line.png").read_bytes()[:4] == b"\x89PNG"
    assert (run.workdir / "results/figures/fmr_line.pdf").read_bytes()[:4] == b"%PDF"
    for name in FIGURES:
        caption = (run.workdir / "results" / "figures" / f"{name}.caption.rst").read_text()
        assert not re.search(r"\{[{%#]|None", caption), (name, caption)


def test_a_figure_setting_reruns_only_that_figure(run):
    config = copy.deepcopy(SMALL)
    config["figures"]["phase_diagram"]["ratio_min"] = 1e-5
    changed = write_config(run.workdir / "changed.yaml", config)
    # params only: the verdict must not depend on source files edited meanwhile
    only_params = ("--rerun-triggers", "params")
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(changed), *only_params) == {
        "figure_phase_diagram": 1}
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(run.config),
                        *only_params) == {}
    config = copy.deepcopy(SMALL)
    config["figures"]["overview"] = {"tiny_line": {"T": 0.02}}  # one study's overview only
    changed = write_config(run.workdir / "changed.yaml", config)
    assert planned_jobs(run.workdir, *TARGETS, "--configfile", str(changed), *only_params) == {
        "figure_overview": 1}


def test_every_number_a_caption_quotes_is_the_figures_own(run):
    """The caption the report shows (the rule's output) holds each number the template quotes
    as the figure computed it from the stores; the template quotes no number the figure lacks."""
    for name in FIGURES:
        figure, _ = draw(run, name)
        template = (REPO / "workflow" / "report" / f"{name}.rst").read_text()
        quoted = set(re.findall(r"numbers\.(\w+)", template))
        assert quoted <= set(figure.numbers), (name, quoted - set(figure.numbers))
        caption = (run.workdir / "results" / "figures" / f"{name}.caption.rst").read_text()
        for key in quoted:
            assert figure.numbers[key] in caption, (name, key, figure.numbers[key])


def test_each_figure_rule_reads_only_its_stores(run):
    """A figure job's inputs: the stores its draw function names, of its own study, its code
    (the module's import closure) and its caption template, nothing else."""
    from fmrnoise.pipeline.sources import figure_sources

    output = snakemake(run.workdir, "-n", *TARGETS, "--configfile", str(run.config),
                       "--forcerun", *(f"figure_{name}" for name in FIGURES)).stdout
    inputs = dict(re.findall(r"rule figure_(\w+):\n\s+input: (.*)\n", output))
    assert set(inputs) == set(FIGURES)
    for name, text in inputs.items():
        study = SMALL["figures"][name]["study"]
        expected = {*(f"results/{study}/{stage}.zarr" for stage in style_stages(name)),
                    *(str(path) for path in figure_sources(name)),
                    str(REPO / "workflow" / "report" / f"{name}.rst")}
        assert set(text.split(", ")) == expected, name


def test_every_figure_states_its_fixed_parameters_with_units(run):
    for name in FIGURES:
        figure, _ = draw(run, name)
        line = figure.get_suptitle()
        assert r"\alpha_0 = " in line and r"\,E_0$" in line, (name, line)
        assert "E_0/h = 10$ GHz" in line, name
        assert not re.search(r"\$S = ", line), name  # S is the noise, the spin is S_tot
    figure, _ = draw(run, "magnetic_noise")
    assert r"S_\mathrm{tot} = 20\,\hbar" in figure.get_suptitle()
    assert r"\Gamma_l^{\uparrow,\downarrow} = 0.9, 0.1\,E_0" in figure.get_suptitle()
    figure, _ = draw(run, "fmr_line")
    assert r"$\Gamma_l = 0.3\,E_0$" in figure.get_suptitle()
    assert r"$\Omega = 0.02\,E_0$" in figure.get_suptitle()


def test_stored_points_lie_on_every_drawn_closed_form(run):
    """Where a figure draws a closed form, the stored values it draws as points lie on it."""
    expected = {"fmr_line": 2, "field_swept_fmr": 4, "temperature_crossover": 2,
                "drive_power": 2, "bias_sweep": 3}
    for name, count in expected.items():
        figure, _ = draw(run, name)
        assert points_on_closed_forms(figure) == count, name


def test_report_builds_with_every_figure_and_its_computed_caption(run):
    snakemake(run.workdir, *TARGETS, "--configfile", str(run.config),
              "--report", "report.html")
    report = (run.workdir / "report.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in report, name
    assert "tiny_magnetic" in report
    assert report.count("overview.png") >= len(SMALL["studies"])
    fwhm = (run.workdir / "results/figures/field_swept_fmr.caption.rst").read_text()
    quoted = re.search(r"full width at half maximum\s+([\d., ]+) mT", fwhm).group(1).strip()
    assert quoted in report  # the caption's numbers reach the report


def test_report_reads_the_generated_captions_also_with_another_working_directory(run,
                                                                                 tmp_path):
    """-d <workdir> from elsewhere: the report still finds the captions the jobs wrote."""
    command = [str(Path(sys.executable).parent / "snakemake"), "-s", str(REPO / "Snakefile"),
               "-d", str(run.workdir), *TARGETS, "--configfile", str(run.config),
               "--report", str(tmp_path / "elsewhere.html")]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    caption = (run.workdir / "results/figures/drive_power.caption.rst").read_text()
    kappa = re.search(r"α\\\|ω_d\\\| = ([\d.]+) E0", caption).group(1)
    assert f"= {kappa} E0" in (tmp_path / "elsewhere.html").read_text()


def test_precession_angle_draws_every_stored_state(run):
    figure, data = draw(run, "precession_angle")
    steady = data["steady_state"]
    ax = figure.axes[0]
    for omega in steady.Omega.values:
        for branch in steady.branch.values:
            slot = steady.sel(Omega=omega, branch=branch)
            stable = slot.theta.where(slot.stability == 0)
            other = slot.theta.where(slot.stability > 0)
            assert drawn(ax, -steady.omega_d, stable), (omega, branch)
            assert drawn(ax, -steady.omega_d, other), (omega, branch)
    labels = ax.get_legend_handles_labels()[1]
    assert "stable" in labels and "unstable" in labels
    at_resonance = steady.sel(omega_d=-1.0).theta.where(steady.sel(omega_d=-1.0).stability == 0)
    np.testing.assert_allclose(numbers(figure, "theta_resonance"),
                               at_resonance.min("branch").values, rtol=5e-3)


def test_fmr_line_quotes_widths_and_peaks_of_the_closed_form(run):
    """The widths and peak positions the FMR-line figure computes from the stored grid agree
    with root finding (brentq) and maximization on the closed form, to the printed digits and
    the grid's interpolation error."""
    figure, data = draw(run, "fmr_line")
    noise = data["noise"]
    G = 1.5 * 0.3 * 0.5 / 0.8 + 0.5 * 0.3 * 0.5 / 0.8
    for T, width, peak, height in zip(noise["T"].values, numbers(figure, "fwhm"),
                                      numbers(figure, "peak"), numbers(figure, "height"),
                                      strict=True):
        def ratio(x, T=T):
            return normal_excess(G, sin2_closed_form(1.0, -x, 0.02, 0.05), -x, T) / (4 * G * T)

        best = minimize_scalar(lambda x, ratio=ratio: -ratio(x), bounds=(0.95, 1.05),
                               method="bounded", options={"xatol": 1e-10})
        half = best.fun / -2
        left = brentq(lambda x, ratio=ratio, half=half: ratio(x) - half, 0.8, best.x)
        right = brentq(lambda x, ratio=ratio, half=half: ratio(x) - half, best.x, 1.2)
        assert width == pytest.approx(right - left, abs=5e-4), T
        assert peak == pytest.approx(best.x, abs=2e-4), T
        assert height == pytest.approx(-best.fun, rel=5e-3), T
    stored = (noise.excess_noise / noise.S_eq).isel(branch=0).max("omega_d")
    np.testing.assert_allclose(numbers(figure, "height"), stored.values, rtol=5e-3)


def test_fmr_line_shape_moves_from_the_low_to_the_high_temperature_limit(run):
    """Panel (c): the stored line over its low-T shape is flat at low T and tilts towards the
    drawn high-T shape at high T."""
    figure, _ = draw(run, "fmr_line")
    shape = figure.axes[2]
    high = next(line for line in shape.get_lines() if line.get_gid() == "closed form")
    hx, hy = (np.asarray(v, float) for v in high.get_data())
    cold, warm = [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
                  for line in shape.get_lines()[:2]]
    assert np.nanmax(abs(cold[1] - 1)) < 0.05
    assert np.nanmax(abs(np.interp(warm[0], hx, hy) - warm[1])) < np.nanmax(abs(warm[1] - 1))


def test_field_swept_fwhm_equals_root_finding_on_the_closed_forms(run):
    """The printed full width at half maximum [mT] against brentq on the closed-form θ of
    docs/theory.md §3 and the closed-form noise of §6, not on the stored grid."""
    figure, data = draw(run, "field_swept_fmr")
    noise, steady = data["noise"], data["steady_state"]
    G = 2.0 * 0.3 * 0.5 / 0.8
    assert figure.numbers["field_unit"] == "mT" and figure.numbers["noise_unit"] == "A²/Hz"
    texts = figure.numbers["fwhm"].split(", ")
    for omega, text, peak in zip(noise.Omega.values, texts, numbers(figure, "peak"),
                                 strict=True):
        def excess(B0, omega=omega):
            return normal_excess(G, sin2_closed_form(B0, -1.0, omega, 0.05), -1.0, 0.1)

        half = excess(1.0) / 2  # the peak: b = B0 + omega_d = 0
        left = brentq(lambda b, excess=excess, half=half: excess(b) - half, 0.8, 1.0)
        right = brentq(lambda b, excess=excess, half=half: excess(b) - half, 1.0, 1.2)
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert float(text) == pytest.approx((right - left) * MT_PER_E0,
                                            abs=0.5 * 10.0**-decimals + 0.02), omega
        assert right - left == pytest.approx(2 * np.sqrt(0.05**2 - omega**2 / 2), rel=1e-9)
        assert peak == pytest.approx(MT_PER_E0, abs=0.05)
    scale = (1.602176634e-19) ** 2 * 2 * np.pi * 10e9  # A²/Hz per e²E0/ħ at E0/h = 10 GHz
    stored = noise.excess_noise.where(steady.stability == 0).max("branch").max("B0")
    np.testing.assert_allclose(numbers(figure, "height"), stored.values * scale, rtol=5e-3)
    plain, _ = draw(run, "field_swept_fmr", B0_GHz=None)
    assert plain.numbers["field_unit"] == "E0"
    np.testing.assert_allclose(numbers(plain, "fwhm"), numbers(figure, "fwhm") / MT_PER_E0,
                               rtol=5e-3)


def test_temperature_crossover_quotes_the_stored_theta_and_asymptotes(run):
    figure, data = draw(run, "temperature_crossover")
    steady = data["steady_state"].sel(omega_d=-1.0, Omega=0.02, method="nearest")
    noise = data["noise"].sel(omega_d=-1.0, Omega=0.02, method="nearest")
    pick = steady.stability == 0
    theta = float(steady.theta.where(pick).max())
    G = float(noise.conductance.where(pick).max())
    total = figure.axes[0]
    assert drawn(total, noise["T"], noise.S_eq.where(pick).max("branch"))
    low_t = G * np.sin(theta) ** 2 * 1.0  # G sin^2(theta) |omega_d|, omega_d = -1
    assert any(np.allclose(y, low_t, rtol=1e-14) for _, y in lines(total) if y.size == 2)
    assert numbers(figure, "theta")[0] == pytest.approx(theta, rel=5e-3)
    assert numbers(figure, "low_t")[0] == pytest.approx(low_t, rel=5e-3)
    assert numbers(figure, "crossover")[0] == pytest.approx(np.sin(theta) ** 2 / 4, rel=5e-3)
    (_, y), = stored_points(total)
    np.testing.assert_array_equal(y, noise.S.where(pick).max("branch").values)


def test_drive_power_quotes_kappa_saturation_and_the_omega_squared_law(run):
    figure, data = draw(run, "drive_power")
    steady, noise = data["steady_state"], data["noise"]
    pick = steady.stability == 0
    excess = noise.excess_noise.where(pick).max("branch")
    bottom = figure.axes[1]
    (_, y), = stored_points(bottom)
    np.testing.assert_array_equal(y, excess.values)
    assert numbers(figure, "kappa")[0] == pytest.approx(0.05, rel=5e-3)
    G = 2.0 * 0.3 * 0.5 / 0.8
    saturation = G * (1.0 / np.tanh(1.0 / 0.2) - 0.2)
    assert numbers(figure, "saturation")[0] == pytest.approx(saturation, rel=5e-3)
    assert numbers(figure, "slope")[0] == pytest.approx(2.0, abs=5e-3)


def test_dot_distribution_equals_the_library_sampling_of_the_stored_steps(run):
    figure, data = draw(run, "dot_distribution")
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
    stable_theta = float(steady.theta.where(steady.stability == 0).max())
    np.testing.assert_allclose(numbers(figure, "theta"), stable_theta, rtol=5e-3)
    theta = numbers(figure, "theta")[0]
    assert numbers(figure, "omega_minus")[0] == pytest.approx(-(1 - np.cos(theta)) / 2,
                                                              abs=1e-3)
    assert numbers(figure, "omega_plus")[0] == pytest.approx(-(1 + np.cos(theta)) / 2, abs=1e-3)


def test_phase_diagram_meshes_equal_the_stored_maps_and_the_hopf_line_the_jump(run):
    figure, data = draw(run, "phase_diagram")
    steady, noise = data["steady_state"], data["noise"].sel(T=0.1)
    pick = steady.stability == 0
    order = {"omega_d": steady.omega_d.values[::-1]}
    cos = np.cos(steady.theta.where(pick).max("branch")).sel(order).transpose("Omega", "omega_d")
    ratio = (noise.excess_noise / noise.S_eq).where(pick).max("branch").sel(order)
    ratio = ratio.transpose("Omega", "omega_d")
    cos_mesh, ratio_mesh = meshes(figure)
    np.testing.assert_array_equal(cos_mesh.reshape(cos.shape), cos.values)
    floor = float(ratio.max()) * 1e-6
    np.testing.assert_array_equal(ratio_mesh.reshape(ratio.shape), ratio.clip(min=floor).values)
    # the stored jump of cos(theta) lies between the grid amplitudes around the Hopf line
    hopf = next(line for line in figure.axes[0].get_lines() if line.get_gid() == "closed form")
    hx, hy = (np.asarray(v, float) for v in hopf.get_data())
    values, omegas = cos.values, cos.Omega.values
    jumps = 0
    for column, x in enumerate(-cos.omega_d.values):
        if x <= 1.0 + 1e-9:
            continue
        sign = np.flatnonzero(np.diff(np.sign(values[:, column])) != 0)
        for row in sign:
            if abs(values[row + 1, column] - values[row, column]) > 0.5:
                assert omegas[row] <= np.interp(x, hx, hy) <= omegas[row + 1], x
                jumps += 1
    assert jumps > 0
    low, high = values[:-1], values[1:]
    jump = (np.sign(low) != np.sign(high)) & (abs(high - low) > 0.5)
    assert numbers(figure, "cos_below")[0] == pytest.approx(np.median(low[jump]), abs=5e-3)
    assert numbers(figure, "cos_above")[0] == pytest.approx(np.median(high[jump]), abs=5e-3)
    lower = omegas[(values < -0.1).any(axis=1)].min()
    assert numbers(figure, "lower_from")[0] == pytest.approx(lower, rel=5e-3)


def test_magnetic_phase_diagram_maps_stable_states_and_current(run):
    figure, data = draw(run, "phase_diagram_magnetic")
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
    assert numbers(figure, "points")[0] == n_stable.size
    assert numbers(figure, "bistable")[0] == int((n_stable == 2).sum())
    assert numbers(figure, "no_stable")[0] == int((n_stable == 0).sum())
    assert numbers(figure, "current_min")[0] == pytest.approx(float(current.min()), rel=5e-3)
    assert numbers(figure, "current_max")[0] == pytest.approx(float(current.max()), rel=5e-3)


def test_magnetic_noise_maps_every_stable_state(run):
    figure, data = draw(run, "magnetic_noise")
    steady, volt, noise = data["steady_state"], data["dot_voltage"], data["noise"]
    stable = steady.stability == 0
    rank = stable.cumsum("branch")
    order = {"omega_d": steady.omega_d.values[::-1]}
    maps = meshes(figure, count=6)
    quantities = {"ratio": noise.S / noise.S_eq, "F2": noise.S / (2 * abs(volt.current)),
                  "F3": noise.C3 / volt.current}
    for column, values in enumerate(quantities.values()):
        for row in (0, 1):
            pick = stable & (rank == row + 1)
            expected = values.where(pick).max("branch").sel(order).transpose("Omega", "omega_d")
            np.testing.assert_allclose(maps[3 * row + column].reshape(expected.shape),
                                       expected.values, rtol=1e-12)
    for name, values in quantities.items():
        every = values.where(stable)
        assert numbers(figure, f"{name}_min")[0] == pytest.approx(float(every.min()), rel=5e-3)
        assert numbers(figure, f"{name}_max")[0] == pytest.approx(float(every.max()), rel=5e-3)
    two = (steady.n_stable == 2)
    if bool(two.any()):
        ratio = quantities["ratio"]
        split = abs(ratio.where(stable & (rank == 2)).max("branch")
                    - ratio.where(stable & (rank == 1)).max("branch")).max()
        assert numbers(figure, "ratio_split")[0] == pytest.approx(float(split), rel=5e-3)


def test_bias_sweep_draws_noise_and_its_change_on_the_closed_form(run):
    figure, data = draw(run, "bias_sweep")
    steady, noise = data["steady_state"], data["noise"].sel(T_r=0.02)
    S = noise.S.where(steady.stability == 0).max("branch")
    total, change = figure.axes[:2]
    for omega in noise.Omega.values:
        assert any(np.array_equal(y, S.sel(Omega=omega).values) for _, y in
                   stored_points(total))
    difference = (S.sel(Omega=0.04) - S.sel(Omega=0.0)).values
    assert any(np.array_equal(y, difference) for _, y in stored_points(change))
    assert numbers(figure, "change_zero")[0] == pytest.approx(
        float(difference[np.argmin(abs(noise.mu_l.values))]), rel=5e-3)
    assert numbers(figure, "change_far")[0] == pytest.approx(
        float(difference[np.argmax(abs(noise.mu_l.values))]), rel=5e-3)


def test_thermal_bias_draws_noise_and_quadrature(run):
    figure, data = draw(run, "thermal_bias")
    steady, noise = data["steady_state"], data["noise"].sel(mu_l=0.0, method="nearest")
    pick = steady.stability == 0
    S = noise.S.where(pick).max("branch")
    quadrature = noise.S_quadrature.where(pick).max("branch")
    total = figure.axes[0]
    for omega in noise.Omega.values:
        assert drawn(total, noise.T_r, S.sel(Omega=omega))
        assert drawn(total, noise.T_r, quadrature.sel(Omega=omega))
    np.testing.assert_allclose(quadrature, S, rtol=1e-8)
    assert numbers(figure, "quadrature_deviation")[0] <= 1e-8
    change = S.sel(Omega=0.04) - S.sel(Omega=0.0)
    assert numbers(figure, "change_first")[0] == pytest.approx(float(change[0]), rel=5e-3)
    assert numbers(figure, "change_last")[0] == pytest.approx(float(change[-1]), rel=5e-3)


def test_counting_statistics_references_and_fano_factors(run):
    """The drawn double-tunnel-junction values are those of the library's cumulants at T = 0
    (θ = 0, normal leads); the stored F2 of normal leads without drive follows its finite-T
    closed form 4 p_l p_r T/V + (p_l² + p_r²) coth(V/2T); the quoted C3 and current at V = 0
    are the stored ones."""
    from fmrnoise import cumulants

    figure, data = draw(run, "counting_statistics")
    steady, volt, noise = data["steady_state"], data["dot_voltage"], data["noise"]
    references = [line.get_ydata()[0] for ax in figure.axes[:2] for line in ax.get_lines()
                  if line.get_gid() == "closed form"]
    model = Model(T=0.0, mu_l=1.0, gamma_l_up=0.7, gamma_l_down=0.7, gamma_r_up=0.4,
                  gamma_r_down=0.4, rho_up=1.25, rho_down=0.55)
    exact = cumulants(model, 0.0, -1.0)
    np.testing.assert_allclose(references, [exact.C2 / exact.C1, exact.C3 / exact.C1],
                               rtol=1e-12)
    assert numbers(figure, "F2_ref")[0] == pytest.approx(references[0], rel=1e-3)
    assert numbers(figure, "F3_ref")[0] == pytest.approx(references[1], rel=1e-3)
    assert numbers(figure, "a")[0] == pytest.approx(0.3 / 1.1, rel=5e-3)
    normal = {"gamma_l_down": 0.7, "Omega": 0.0}
    current = volt.current.sel(normal).isel(branch=0)
    S = noise.S.sel(normal).isel(branch=0)
    V = noise.mu_l.values
    far = abs(V) > 0.5
    p_l = 0.7 / 1.1
    closed = np.full(V.shape, np.nan)
    closed[far] = (4 * p_l * (1 - p_l) * 0.02 / abs(V[far])
                   + (p_l**2 + (1 - p_l) ** 2) / np.tanh(abs(V[far]) / 0.04))
    np.testing.assert_allclose((S / (2 * abs(current))).values[far], closed[far], rtol=1e-9)
    drawn_F2 = [y for _, y in lines(figure.axes[0]) if y.size == V.size]
    assert any(np.allclose(y[far], closed[far], rtol=1e-9) for y in drawn_F2)
    assert all(np.isnan(y[abs(V) < 0.1]).all() for y in drawn_F2)  # |I| < 0.1 is blank
    last = int(np.argmax(abs(V)))
    assert numbers(figure, "F2_far")[0] == pytest.approx(float(S[last] / (2 * abs(current[last]))),
                                                         rel=1e-3)
    assert numbers(figure, "F3_far")[0] == pytest.approx(
        float(noise.C3.sel(normal).isel(branch=0)[last] / current[last]), rel=1e-3)
    pumped = {"gamma_l_down": 0.25, "Omega": 0.03, "mu_l": 0.0}
    stable = steady.stability.sel(Omega=0.03) == 0
    assert numbers(figure, "I_zero")[0] == pytest.approx(
        float(volt.current.sel(pumped, method="nearest").where(stable).max()), rel=5e-3)
    assert numbers(figure, "C3_zero")[0] == pytest.approx(
        float(noise.C3.sel(pumped, method="nearest").where(stable).max()), rel=5e-3)
    assert numbers(figure, "C3_zero")[0] != 0


def test_energy_relaxation_dot_temperature_and_its_closed_form(run):
    """(c): the stored T_d at the lowest T lies on the drawn T = 0 closed form (to the lead
    temperature's share, T_d² ≈ T² + T_d(0)²); (b): the drawn T → 0 limits times 4GT are the
    library's noise without relaxation and in the hot-electron limit at T = 0."""
    from fmrnoise import hot_electrons
    from fmrnoise import noise as library_noise

    figure, data = draw(run, "energy_relaxation")
    steady, noise = data["steady_state"].sel(omega_d=-1.0), data["noise"].sel(omega_d=-1.0)
    pick = steady.stability == 0
    theta = steady.theta.where(pick).max("branch")
    dot = figure.axes[2]
    form = next(line for line in dot.get_lines() if line.get_gid() == "closed form")
    fx, fy = (np.asarray(v, float) for v in form.get_data())
    coldest = noise.T_dot.sel(T=0.001).where(pick).max("branch")
    np.testing.assert_allclose(np.sqrt(np.interp(theta, fx, fy) ** 2 + 0.001**2),
                               coldest.values, rtol=2e-3)
    assert numbers(figure, "T_dot")[0] == pytest.approx(float(coldest.max()), rel=5e-3)
    G = 2.0 * 0.3 * 0.5 / 0.8
    sin_theta = 0.03 / 0.05
    model = Model(T=0.0, Omega=0.03)
    limits = [hot_electrons(model, np.arcsin(sin_theta), -1.0).S_hot,
              library_noise(model, np.arcsin(sin_theta), -1.0).S]
    T, *_ = [np.asarray(line.get_xdata(), float) for line in figure.axes[1].get_lines()
             if line.get_gid() == "closed form"]
    drawn_limits = sorted(float(np.asarray(line.get_ydata(), float)[0]) * 4 * G * T[0]
                          for line in figure.axes[1].get_lines()
                          if line.get_gid() == "closed form")
    np.testing.assert_allclose(drawn_limits, sorted(limits), rtol=1e-9)
    line = data["noise"].sel(Omega=0.03, T=0.01)
    across = data["steady_state"].sel(Omega=0.03).stability == 0
    for key, name in (("peak", "S"), ("peak_hot", "S_hot")):
        stored = (line[name] / line.S_eq).where(across).max()
        assert numbers(figure, key)[0] == pytest.approx(float(stored), rel=5e-3)
    assert numbers(figure, "theta")[0] == pytest.approx(np.arcsin(0.6), rel=5e-3)
    assert numbers(figure, "T_dot_closed")[0] == pytest.approx(
        np.sqrt(3) * np.sin(float(theta.max())) / (2 * np.pi), rel=5e-3)
    gain = (noise.S_hot / noise.S).sel(T=0.001, Omega=0.03).where(pick.sel(Omega=0.03))
    assert numbers(figure, "hot_gain")[0] == pytest.approx(float(gain.max()), rel=5e-3)


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
    # no bias, normal leads: the current is zero up to rounding, and drawn as such
    assert np.abs(data["dot_voltage"].current).max() < 1e-15
    assert "I = 0 (up to rounding)" in [text.get_text() for text in current_ax.texts]


def test_overview_of_two_long_axes_draws_maps(run, monkeypatch):
    module = importlib.import_module("fmrnoise.plots.overview")
    monkeypatch.setattr(module, "MAX_LINES", 2)
    figure, data = overview(run, "tiny_magnetic")
    n_stable = data["steady_state"].n_stable.transpose("Omega", "omega_d").values
    assert np.array_equal(meshes(figure)[0], n_stable)


@pytest.mark.parametrize(("study", "fixed", "x_axis", "y_axis"), [
    ("tiny_fmr", {}, "omega_d", "T"),  # T does not change the steady state
    ("tiny_bias", {"Omega": 0.04}, "mu_l", "T_r"),  # neither drawn axis does
])
def test_overview_maps_axes_the_steady_state_does_not_span(run, monkeypatch, study, fixed,
                                                          x_axis, y_axis):
    module = importlib.import_module("fmrnoise.plots.overview")
    monkeypatch.setattr(module, "MAX_LINES", 1)
    figure, data = overview(run, study, **fixed)
    noise = data["noise"].sel(fixed)
    n_stable = data["steady_state"].n_stable.sel(
        {k: v for k, v in fixed.items() if k in data["steady_state"].dims})
    expected = n_stable.broadcast_like(noise.S.isel(branch=0)).transpose(y_axis, x_axis)
    assert np.array_equal(meshes(figure)[0], expected.values)
    assert figure.axes[0].get_xlabel().startswith(noise[x_axis].attrs["long_name"])


def test_overview_of_a_single_point_tabulates_its_states(run):
    figure, data = overview(run, "tiny_point")
    table = next(child for child in figure.axes[0].get_children()
                 if type(child).__name__ == "Table")
    texts = [cell.get_text().get_text() for cell in table.get_celld().values()]
    theta = data["steady_state"].theta.values
    assert f"{theta[0]:.6g}" in texts and "stable" in texts and "unstable" in texts
