"""Drive power."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    OMEGA_LABEL,
    TALL,
    THETA_LABEL,
    panel_labels,
    parameter,
    select,
    stable_branch,
)

TITLE = "Drive power"


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """θ and excess noise ΔS against the drive amplitude Ω at resonance (log scales).

    ΔS = G sin²θ [φ̇ coth(φ̇/2T) − 2T] grows as Ω² (sin θ = Ω/|κ|) and saturates once θ reaches
    the equator at Ω = |κ| = α|ω_d|.
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
    figure = Figure(figsize=TALL, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.6]})
    top.semilogx(omega, theta, "o-", color=COLORS[0], ms=3.5, lw=1.4)
    top.axhline(np.pi / 2, color=GREY, lw=0.6)
    top.set_yticks([0, np.pi / 4, np.pi / 2], ["0", "π/4", "π/2"])
    top.set_ylabel(THETA_LABEL)
    bottom.loglog(omega, excess, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$\Delta S$")
    grow = omega.where(omega <= kappa, drop=True)
    bottom.loglog(grow, saturation * (grow / kappa) ** 2, "--", color=COLORS[1], lw=1.2,
                  zorder=3, label=r"$\Delta S_\mathrm{sat}\,(\Omega/|\kappa|)^2$")
    bottom.axhline(saturation, color=COLORS[2], ls="--", lw=1,
                   label=r"$\Delta S_\mathrm{sat}$ ($\theta = \pi/2$)")
    bottom.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    bottom.set_xlabel(OMEGA_LABEL)
    bottom.legend(fontsize="small", loc="lower right")
    for ax in (top, bottom):
        ax.axvline(kappa, color=GREY, ls=":", lw=0.8)
    top.annotate(r"$\Omega = |\kappa| = \alpha|\omega_d|$", (kappa, np.pi / 8), xytext=(4, 0),
                 textcoords="offset points", ha="left", fontsize="small", color=GREY)
    bottom.set_ylim(top=saturation * 4)
    T = parameter(data, "T")
    top.set_title(rf"resonance $\omega_d = -B_0$, $T = {T:g}\,E_0/k_B$" if T is not None
                  else r"resonance $\omega_d = -B_0$", fontsize="medium")
    panel_labels((top, bottom))
    return figure
