"""The figures' shared helpers (fmrnoise.plots.style), without running the workflow: closed
forms against the library, unit conversions, the parameter line, the quoted numbers and the
caption templates."""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from workflow_helpers import REPO

from fmrnoise import Model, steady_states
from fmrnoise.physics.model import PARAMETERS
from fmrnoise.plots import FIGURES, SHARED_SETTINGS, figure_options, style


def test_constant_kappa_sin2_equals_the_steady_states():
    omega_d = np.linspace(-3.0, 1.0, 81)
    for omega in (0.0, 0.005, 0.02, 0.05, 0.3, 2.0):
        states = steady_states(Model(omega_d=omega_d, Omega=omega))
        expected = np.sin(states.theta[:, 0]) ** 2
        np.testing.assert_allclose(style.constant_kappa_sin2(1.0, omega_d, omega, 0.05),
                                   expected, rtol=1e-10, atol=1e-15)
    # docs/theory.md §8 R1: at omega_d = -1, Omega = 0.02, cos^2(theta) = 0.84 exactly
    assert style.constant_kappa_sin2(1.0, -1.0, 0.02, 0.05) == pytest.approx(0.16, rel=1e-14)


def test_hopf_amplitude_lies_on_b0_plus_omega_d_sin2_equal_zero():
    omega_d = np.linspace(-3.0, -1.01, 50)
    omega = style.hopf_amplitude(1.0, omega_d, 0.05)
    sin2 = style.constant_kappa_sin2(1.0, omega_d, omega, 0.05)
    np.testing.assert_allclose(1.0 + omega_d * sin2, 0.0, atol=1e-12)
    # it starts at the marginal point Omega = |kappa| = alpha B0 at resonance
    assert style.hopf_amplitude(1.0, -1.0 - 1e-9, 0.05) == pytest.approx(0.05, rel=1e-3)
    assert np.isnan(style.hopf_amplitude(1.0, -0.5, 0.05))


def test_half_maximum_and_peak_of_a_sampled_lorentzian():
    x = np.linspace(0.5, 1.5, 401)
    y = 1 / (1 + ((x - 1.01) / 0.05) ** 2)
    left, right = style.half_maximum(x, y)
    assert right - left == pytest.approx(0.1, abs=1e-5)
    assert style.peak_position(x, y) == pytest.approx(1.01, abs=1e-5)
    assert style.half_maximum(x[:150], y[:150]) is None  # peak not bracketed


def test_quoted_numbers_are_significant_digits_with_true_minus_signs():
    figure = style.CaptionedFigure((3, 2))
    assert figure.quote("a", 0.095779) == "0.0958"
    assert figure.quote("b", [-0.69, 357.24], digits=4) == "−0.6900, 357.2"
    assert figure.quote("c", 3.1e-28) == "3.10e−28"
    assert figure.quote("d", [0.02, 0.1], digits=None) == "0.02, 0.1"
    assert figure.numbers["b"] == "−0.6900, 357.2"


def test_units_of_the_setting_b0_ghz():
    fixed = xr.Dataset(attrs={"model": '{"B0": 2.0}'})
    swept = xr.Dataset(coords={"B0": [0.9, 1.0]}, attrs={"model": "{}"})
    assert style.ghz_per_energy_unit({"B0_GHz": 10.0}, fixed) == 5.0  # B0/h = 10 GHz
    assert style.ghz_per_energy_unit({"B0_GHz": 10.0}, swept) == 10.0  # E0/h itself
    assert style.ghz_per_energy_unit({}, swept) is None
    assert style.millitesla({"B0_GHz": 10.0}, swept) == pytest.approx(357.24, abs=0.01)
    assert style.ampere2_per_hz({"B0_GHz": 10.0}, swept) == pytest.approx(1.6129e-27,
                                                                            rel=1e-4)


def test_parameter_line_names_units_and_tells_the_spin_from_the_noise():
    model = ('{"B0": 1.0, "alpha0": 0.02, "lead_damping": true, "total_spin": 20.0, '
             '"T_r": null, "mu_l": -3.6, "rho_up": 1.5, "rho_down": 0.5, "gamma_l_up": 0.9, '
             '"gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}')
    ds = xr.Dataset(coords={"omega_d": [-1.1, -1.0], "T": 0.1}, attrs={"model": model})
    items = style.parameter_items(style.fixed_parameters(ds))
    assert items == [r"$B_0 = 1\,E_0$", r"$\alpha_0 = 0.02$",
                     r"lead damping ($S_\mathrm{tot} = 20\,\hbar$)", r"$T = 0.1\,E_0/k_B$",
                     r"$\mu_l = -3.6\,E_0$", r"$\rho^{\uparrow,\downarrow} = 1.5, 0.5\,E_0^{-1}$",
                     r"$\Gamma_l^{\uparrow,\downarrow} = 0.9, 0.1\,E_0$",
                     r"$\Gamma_r = 0.6\,E_0$"]
    figure = Figure(figsize=(4, 3))
    text = style.show_parameters(figure, ds, settings={"B0_GHz": 10.0}, lead="study x:")
    assert text.startswith("study x: $B_0") and "\n" in text and text.endswith("= 10$ GHz")


def test_render_caption_refuses_a_number_the_figure_did_not_record():
    assert style.render_caption("w = {{ numbers.w }} at {{ s }}", {"w": "0.1"}, s=2) == \
        "w = 0.1 at 2"
    with pytest.raises(KeyError, match="peak"):
        style.render_caption("{{ numbers.peak }}", {})


def test_every_figure_has_a_caption_template_a_title_and_reads_stores_only():
    from fmrnoise.pipeline.contract import LINE_STAGES, STAGES

    for name in FIGURES:
        module = importlib.import_module(f"fmrnoise.plots.{name}")
        assert module.TITLE and module.draw.__doc__, name
        parameters = [p for p in inspect.signature(module.draw).parameters if p != "settings"]
        assert set(parameters) <= {*STAGES, *LINE_STAGES}, name
        template = (REPO / "workflow" / "report" / f"{name}.rst").read_text()
        assert "Fixed" in template and "Drawn" in template, name
    # the referee's two corrections (issue 16): the line in the phase diagram is the Hopf line,
    # and the FMR line's shape depends on T
    captions = REPO / "workflow" / "report"
    assert "Hopf line" in (captions / "phase_diagram.rst").read_text()
    assert "line is the equator" not in (captions / "phase_diagram.rst").read_text()
    assert "shape depends on T" in (captions / "fmr_line.rst").read_text()


@pytest.mark.parametrize("name", [*FIGURES, "overview"])
def test_every_setting_a_figure_reads_is_one_the_config_accepts(name):
    # the configuration refuses any figure setting but study, the shared ones, the module's
    # OPTIONS and axes of the study: every key the code reads must be among them
    source = inspect.getsource(importlib.import_module(f"fmrnoise.plots.{name}"))
    read = set(re.findall(r"settings(?:\.get\(|\[)\"(\w+)\"", source))
    read |= set(re.findall(r"\"(\w+)\" in settings", source))
    allowed = {"study", *SHARED_SETTINGS, *figure_options(name), *PARAMETERS}
    assert read <= allowed, read - allowed
    assert set(figure_options(name)) <= read, "an option the figure does not read"
