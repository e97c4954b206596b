"""Drive power."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    OMEGA_LABEL,
    TALL,
    THETA_LABEL,
    CaptionedFigure,
    closed_form,
    logdense,
    normal_excess_noise,
    normal_leads,
    panel_labels,
    parameter,
    points,
    select,
    show_parameters,
    source_entries,
    stable_branch,
    stationary_sin2,
)

TITLE = "Drive power"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """θ and excess noise ΔS against the drive amplitude Ω at resonance (log scales).

    ΔS = G sin²θ [φ̇ coth(φ̇/2T) − 2T] grows as Ω² (sin θ = Ω/|κ|) and saturates once θ reaches
    the equator at Ω = |κ| = α|ω_d|. Points: the stored values; lines: the closed forms of
    constant κ and normal leads (docs/theory.md §3, §6). Quotes |κ| (``kappa``), the saturated
    excess noise (``saturation``) and the log-log slope of ΔS(Ω) below |κ|/2 (``slope``), from
    the stored values.
    """
    steady = select(steady_state, ("Omega",), settings)
    data = select(noise, ("Omega",), settings)
    omega = steady.Omega.where(steady.Omega > 0, drop=True)
    steady, data = steady.sel(Omega=omega), data.sel(Omega=omega)
    theta = stable_branch(steady, steady.theta)
    excess = stable_branch(steady, data.excess_noise)
    kappa = float(abs(stable_branch(steady, steady.alpha) * parameter(steady, "omega_d")).mean())
    sin2 = np.sin(theta) ** 2
    saturation = float((excess / sin2).where(sin2 > 0).median())
    weak = omega < kappa / 2
    slope = np.polyfit(np.log(omega[weak]), np.log(excess[weak]), 1)[0] if weak.sum() > 1 \
        else np.nan
    figure = CaptionedFigure(TALL)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.6]})
    points(top, omega, theta, color=COLORS[0])
    points(bottom, omega, excess, color=COLORS[0])
    line = logdense(omega)
    sin2_line, lead = stationary_sin2(steady, Omega=line), normal_leads(data)
    if sin2_line is not None and lead is not None:
        closed_form(top, line, np.arcsin(np.sqrt(sin2_line)), color=COLORS[0])
        closed_form(bottom, line, normal_excess_noise(lead[0], sin2_line,
                                                      parameter(steady, "omega_d"),
                                                      parameter(data, "T")), color=COLORS[0])
    top.set_xscale("log")
    top.axhline(np.pi / 2, color=GREY, lw=0.6)
    top.set_yticks([0, np.pi / 4, np.pi / 2], ["0", "π/4", "π/2"])
    top.set_ylabel(THETA_LABEL)
    bottom.set_yscale("log")
    grow = line[line <= kappa]
    bottom.plot(grow, saturation * (grow / kappa) ** 2, "--", color=COLORS[1], lw=1.2,
                zorder=4, label=r"$\Delta S_\mathrm{sat}\,(\Omega/|\kappa|)^2$")
    bottom.axhline(saturation, color=COLORS[2], ls="--", lw=1, zorder=1,
                   label=r"$\Delta S_\mathrm{sat}$ ($\theta = \pi/2$)")
    bottom.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    bottom.set_xlabel(OMEGA_LABEL)
    source_entries(bottom)
    bottom.legend(fontsize="small", loc="lower right")
    for ax in (top, bottom):
        ax.axvline(kappa, color=GREY, ls=":", lw=0.8)
    top.annotate(r"$\Omega = |\kappa| = \alpha|\omega_d|$", (kappa, np.pi / 8), xytext=(4, 0),
                 textcoords="offset points", ha="left", fontsize="small", color=GREY)
    bottom.set_ylim(top=saturation * 4)
    figure.quote("kappa", kappa)
    figure.quote("saturation", saturation)
    figure.quote("slope", slope)
    panel_labels((top, bottom))
    show_parameters(figure, steady, data, settings=settings)
    return figure
