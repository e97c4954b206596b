"""Bias sweep."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..physics.noise import normal_noise_biased
from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    WIDE,
    CaptionedFigure,
    closed_form,
    curves,
    dense,
    microvolt,
    normal_leads,
    panel_labels,
    parameter,
    points,
    secondary_axis,
    select,
    show_parameters,
    source_entries,
    stable_branch,
    stationary_sin2,
)

TITLE = "Bias sweep"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """Noise against the bias V = μ_l − μ_r, for each Ω: features at V = ±φ̇ (φ̇ = ω_d).

    (a) S(V); (b) the change S(V; Ω) − S(V; Ω_min) caused by the precession. Points: the
    stored values; lines: the closed form of normal leads with bias (docs/theory.md §6, kernel
    K_T at the study's temperature, θ of constant κ). Quotes the change at V = 0
    (``change_zero``) and at the largest |V| (``change_far``) for the largest Ω, from the
    stored values.
    """
    bias = "mu_l" if "mu_l" in noise.dims else "mu_r"
    steady = select(steady_state, (bias, "Omega"), settings)
    data = select(noise, (bias, "Omega"), settings)
    S = stable_branch(steady, data.S)
    V = _bias(data, bias)
    S = S.assign_coords(V=V).swap_dims({bias: "V"}).sortby("V")
    figure = CaptionedFigure(WIDE)
    total, change = figure.subplots(1, 2, sharex=True)
    reference = S.isel(Omega=0) if "Omega" in S.dims else S
    lead = normal_leads(data)
    V_line = dense(S.V)
    closed_reference = None
    for colour, (omega, line) in zip(COLORS, curves(S.to_dataset(name="S"), "Omega"),
                                     strict=False):
        label = rf"$\Omega = {omega:g}\,E_0$"
        points(total, line.V, line.S, color=colour, label=label)
        if omega != reference.Omega:
            points(change, line.V, line.S - reference, color=colour, label=label)
        sin2 = stationary_sin2(steady, Omega=omega)
        if sin2 is None or lead is None:
            continue
        closed = normal_noise_biased(lead[0], lead[1], parameter(data, "T"), V_line,
                                     np.arcsin(np.sqrt(sin2)), parameter(steady, "omega_d"))
        closed_form(total, V_line, closed, color=colour)
        if closed_reference is None:
            closed_reference = closed
        else:
            closed_form(change, V_line, closed - closed_reference, color=colour)
    change.axhline(0, color=GREY, lw=0.5)
    phidot = parameter(steady, "omega_d")
    for ax in (total, change):
        if phidot is not None:
            for sign in (-1, 1):
                ax.axvline(sign * abs(phidot), color=GREY, ls=":", lw=0.8, zorder=0)
            ax.annotate(r"$V = \pm\dot\varphi$", (abs(phidot), 0.97), xytext=(3, 0),
                        textcoords="offset points", xycoords=("data", "axes fraction"),
                        va="top", fontsize="small", color=GREY)
        ax.set_xlabel(r"bias $V = \mu_l - \mu_r$ [$E_0/e$]")
        secondary_axis(ax, microvolt(settings, steady), r"$V$ [µV]")
    source_entries(total)
    total.legend(fontsize="small", loc="upper center")
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    if "Omega" in S.dims:
        change.set_ylabel(rf"$S - S_{{\Omega = {float(reference.Omega):g}}}$ [{NOISE_UNIT}]")
        last = S.isel(Omega=-1) - reference
        figure.quote("change_zero", float(last.sel(V=0.0, method="nearest")))
        figure.quote("change_far", float(last.isel(V=int(np.argmax(abs(S.V.values))))))
        change.set_ylim(0, float(last.max()) * 1.15)
    panel_labels((total, change))
    show_parameters(figure, steady, data, settings=settings)
    return figure


def _bias(noise: xr.Dataset, axis: str) -> xr.DataArray:
    """V = μ_l − μ_r along the bias axis [E0/e]."""
    other = "mu_r" if axis == "mu_l" else "mu_l"
    value = parameter(noise, other) or 0.0
    return noise[axis] - value if axis == "mu_l" else value - noise[axis]
