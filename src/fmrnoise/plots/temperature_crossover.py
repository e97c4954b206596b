"""Temperature crossover."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    WIDE,
    panel_labels,
    parameter,
    select,
    stable_branch,
    temperature_axis,
)

TITLE = "Temperature crossover"


def draw(steady_state: xr.Dataset, noise: xr.Dataset,
                          settings: Mapping) -> Figure:
    """Noise S and excess noise ΔS against T at resonance, log-log, with their asymptotes.

    S → 4GT at high T and S → G sin²θ|φ̇| at low T, crossing at T* = sin²θ|φ̇|/4;
    ΔS → G sin²θ φ̇²/(6T) at high T (docs/theory.md §6), with φ̇ = ω_d.
    """
    steady = select(steady_state, (), settings)
    data = select(noise, ("T",), settings)
    S, excess = stable_branch(steady, data.S), stable_branch(steady, data.excess_noise)
    s_eq = stable_branch(steady, data.S_eq)
    G = float(stable_branch(steady, data.conductance).mean())
    sin2 = float(np.sin(stable_branch(steady, steady.theta)) ** 2)
    omega_d = parameter(steady, "omega_d")
    phidot = abs(omega_d)
    T = data.T
    figure = Figure(figsize=WIDE, layout="constrained")
    total, extra = figure.subplots(1, 2)
    total.loglog(T, S, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$S$")
    total.loglog(T, s_eq, "--", color=GREY, lw=1, label=r"$4GT$")
    low_t = G * sin2 * phidot
    total.axhline(low_t, color=COLORS[1], ls="--", lw=1,
                  label=r"$G\sin^2\theta\,|\omega_d|$")
    crossover = sin2 * phidot / 4
    total.axvline(crossover, color=GREY, ls=":", lw=0.8)
    total.annotate(r"$T^* = \sin^2\theta\,|\omega_d|/4$", (crossover, 0.9), xytext=(4, 0),
                   textcoords="offset points", xycoords=("data", "axes fraction"),
                   fontsize="small", color=GREY)
    total.set_ylim(low_t / 5, float(S.max()) * 2)
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    extra.loglog(T, excess, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$\Delta S$")
    extra.loglog(T, G * sin2 * phidot**2 / (6 * T), "--", color=COLORS[2], lw=1,
                 label=r"$G\sin^2\theta\,\omega_d^2/6T$")
    extra.axhline(low_t, color=COLORS[1], ls="--", lw=1, label=r"$G\sin^2\theta\,|\omega_d|$")
    extra.axvline(crossover, color=GREY, ls=":", lw=0.8)
    extra.set_ylim(float(excess.min()) / 3, low_t * 3)
    extra.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    for ax in (total, extra):
        ax.set_xlabel(r"temperature $T$ [$E_0/k_B$]")
        ax.legend(fontsize="small", loc="lower right" if ax is total else "lower left")
        temperature_axis(ax, settings, steady)
    panel_labels((total, extra))
    omega = parameter(steady, "Omega")
    figure.suptitle(rf"$\omega_d = {omega_d:g}\,E_0$"
                    + (rf", $\Omega = {omega:g}\,E_0$" if omega is not None else "")
                    + rf": $\theta = {float(stable_branch(steady, steady.theta)):.3g}$",
                    fontsize="medium")
    return figure
