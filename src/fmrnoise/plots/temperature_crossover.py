"""Temperature crossover."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .style import (
    COLORS,
    GREY,
    NOISE_UNIT,
    WIDE,
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
    temperature_axis,
)

TITLE = "Temperature crossover"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """Noise S and excess noise ΔS against T at resonance, log-log, with their asymptotes.

    The stored values (points) lie on the closed form of normal leads,
    S = 4GT + G sin²θ [φ̇ coth(φ̇/2T) − 2T] with φ̇ = ω_d and θ of constant κ (lines;
    docs/theory.md §3, §6). S → 4GT at high T and S → G sin²θ|φ̇| at low T, crossing at
    T* = sin²θ|φ̇|/4; ΔS → G sin²θ φ̇²/(6T) at high T. Quotes θ of the stable state
    (``theta``), the low-T level G sin²θ|ω_d| (``low_t``) and T* (``crossover``), from the
    stored θ and G.
    """
    steady = select(steady_state, (), settings)
    data = select(noise, ("T",), settings)
    S, excess = stable_branch(steady, data.S), stable_branch(steady, data.excess_noise)
    s_eq = stable_branch(steady, data.S_eq)
    G = float(stable_branch(steady, data.conductance).mean())
    theta = float(stable_branch(steady, steady.theta))
    phidot = abs(parameter(steady, "omega_d"))
    low_t = G * np.sin(theta) ** 2 * phidot
    crossover = np.sin(theta) ** 2 * phidot / 4
    figure = CaptionedFigure(WIDE)
    total, extra = figure.subplots(1, 2)
    T = data.T
    points(total, T, S, color=COLORS[0], label="$S$")
    points(extra, T, excess, color=COLORS[0], label=r"$\Delta S$")
    sin2, lead = stationary_sin2(steady), normal_leads(data)
    if sin2 is not None and lead is not None:
        T_line = logdense(T)
        closed = normal_excess_noise(lead[0], sin2, parameter(steady, "omega_d"), T_line)
        closed_form(total, T_line, 4 * lead[0] * T_line + closed, color=COLORS[0])
        closed_form(extra, T_line, closed, color=COLORS[0])
    total.plot(T, s_eq, "--", color=GREY, lw=1, label=r"$4GT$")
    for ax in (total, extra):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(low_t, color=COLORS[1], ls="--", lw=1, label=r"$G\sin^2\theta\,|\omega_d|$")
        ax.axvline(crossover, color=GREY, ls=":", lw=0.8)
    extra.plot(T, low_t * phidot / (6 * T), "--", color=COLORS[2], lw=1,
               label=r"$G\sin^2\theta\,\omega_d^2/6T$")
    total.annotate(r"$T^* = \sin^2\theta\,|\omega_d|/4$", (crossover, 0.06), xytext=(4, 0),
                   textcoords="offset points", xycoords=("data", "axes fraction"),
                   fontsize="small", color=GREY)
    figure.quote("low_t", low_t)
    figure.quote("crossover", crossover)
    total.set_ylim(low_t / 5, float(S.max()) * 40)
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    extra.set_ylim(float(excess.min()) / 3, low_t * 3)
    extra.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    source_entries(extra)
    for ax in (total, extra):
        ax.set_xlabel(r"temperature $T$ [$E_0/k_B$]")
        temperature_axis(ax, settings, steady)
    total.legend(fontsize="small", loc="upper left", title_fontsize="small",
                 title=rf"stable state: $\theta = {figure.quote('theta', theta)}$")
    extra.legend(fontsize="small", loc="lower left")
    panel_labels((total, extra))
    show_parameters(figure, steady, data, settings=settings)
    return figure
