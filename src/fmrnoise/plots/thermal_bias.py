"""Thermal bias."""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    CaptionedFigure,
    curves,
    panel_labels,
    parameter,
    select,
    show_parameters,
    stable_branch,
    sweep_panels,
    temperature_axis,
)

TITLE = "Thermal bias"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """Noise against the right lead's temperature T_r at fixed T, for each Ω.

    (a) S(T_r), with the quadrature values as markers when the study stored them and the
    reference 4G T̄; (b) the change S(T_r; Ω) − S(T_r; Ω_min) caused by the precession. Quotes
    that change at the smallest and the largest T_r for the largest Ω (``change_first``,
    ``change_last``) and the largest relative difference between the quadrature and the closed
    form (``quadrature_deviation``), from the stored values.
    """
    steady = select(steady_state, ("Omega",), settings)
    data = select(noise, ("T_r", "Omega"), settings)
    S = stable_branch(steady, data.S)
    figure = CaptionedFigure((7.0, 3.3))
    total, change = figure.subplots(1, 2, sharex=True)
    sweep_panels(total, change, data.T_r, S)
    if "S_quadrature" in data:
        quadrature = stable_branch(steady, data.S_quadrature)
        step = max(1, data.T_r.size // 10)
        for colour, (_, line) in zip(COLORS, curves(quadrature.to_dataset(name="q"), "Omega"),
                                     strict=False):
            total.plot(data.T_r[::step], line.q[::step], "o", color=colour, ms=4, mfc="none")
        total.plot([], [], "o", color=GREY, mfc="none", label="quadrature")
        figure.quote("quadrature_deviation", float(abs(quadrature / S - 1).max()), digits=1)
    reference = stable_branch(steady, data.S_eq)
    total.plot(data.T_r, reference.isel(Omega=0) if "Omega" in reference.dims else reference,
               color=GREY, ls="--", lw=1, label=r"$4G\bar T$, $\Omega = 0$")
    total.legend(fontsize="small", loc="lower right")
    T = parameter(data, "T")
    for ax in (total, change):
        if T is not None:
            ax.axvline(T, color=GREY, ls=":", lw=0.8, zorder=0)
            ax.annotate(r"$T_r = T$", (T, 0.03), xytext=(3, 0), textcoords="offset points",
                        xycoords=("data", "axes fraction"), fontsize="small", color=GREY)
        ax.set_xlabel(r"right-lead temperature $T_r$ [$E_0/k_B$]")
        temperature_axis(ax, settings, steady, "T_r")
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    change.set_ylabel(rf"$S - S_{{\Omega = {float(S.Omega.min()):g}}}$ [{NOISE_UNIT}]"
                      if "Omega" in S.dims else rf"$S$ [{NOISE_UNIT}]")
    if "Omega" in S.dims:
        last = S.isel(Omega=-1) - S.isel(Omega=0)
        figure.quote("change_first", float(last.isel(T_r=0)))
        figure.quote("change_last", float(last.isel(T_r=-1)))
    panel_labels((total, change))
    show_parameters(figure, steady, data, settings=settings)
    return figure
