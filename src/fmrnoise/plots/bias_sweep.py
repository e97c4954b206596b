"""Bias sweep."""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr
from matplotlib.figure import Figure

from .style import (
    GREY,
    NOISE_UNIT,
    WIDE,
    microvolt,
    panel_labels,
    parameter,
    secondary_axis,
    select,
    stable_branch,
    sweep_panels,
)

TITLE = "Bias sweep"


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Noise against the bias V = μ_l − μ_r, for each Ω: features at V = ±φ̇ (φ̇ = ω_d).

    (a) S(V); (b) the change S(V; Ω) − S(V; Ω_min) caused by the precession.
    """
    bias = "mu_l" if "mu_l" in noise.dims else "mu_r"
    steady = select(steady_state, (bias, "Omega"), settings)
    data = select(noise, (bias, "Omega"), settings)
    S = stable_branch(steady, data.S)
    V = _bias(data, bias)
    figure = Figure(figsize=WIDE, layout="constrained")
    total, change = figure.subplots(1, 2, sharex=True)
    sweep_panels(total, change, V, S)
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
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    change.set_ylabel(rf"$S - S_{{\Omega = {float(S.Omega.min()):g}}}$ [{NOISE_UNIT}]"
                      if "Omega" in S.dims else rf"$S$ [{NOISE_UNIT}]")
    panel_labels((total, change))
    return figure


def _bias(noise: xr.Dataset, axis: str) -> xr.DataArray:
    """V = μ_l − μ_r along the bias axis [E0/e]."""
    other = "mu_r" if axis == "mu_l" else "mu_l"
    value = parameter(noise, other) or 0.0
    return noise[axis] - value if axis == "mu_l" else value - noise[axis]
