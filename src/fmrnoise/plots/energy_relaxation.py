"""Energy relaxation on the dot: the two limits."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib import colormaps

from .style import (
    COLORS,
    DRIVE_LABEL,
    GREY,
    CaptionedFigure,
    closed_form,
    curves,
    mark_resonance,
    normal_leads,
    panel_labels,
    parameter,
    points,
    select,
    show_parameters,
    stable_branch,
    stationary_sin2,
)

TITLE = "Energy relaxation on the dot: the two limits"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()
LIMITS = (("S", "no relaxation", "-"), ("S_hot", "hot electrons", "--"))


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """The noise without energy relaxation on the dot (S) and in the hot-electron limit (S_hot).

    (a) S/S_eq of both limits against −ω_d across the FMR line, at Ω = ``settings["Omega"]``
    and T = ``settings["T"]``; (b) the same against T at resonance (ω_d = −B0), with their
    T → 0 closed forms G sin²θ|φ̇|/4GT and S_hot(T = 0)/4GT (dotted; docs/theory.md §6, §12);
    (c) the dot temperature T_d against the stored θ at resonance (points, one colour per T)
    and its closed form √3|φ̇ sin θ|/2π at T = 0 for normal leads (line). Quotes θ at resonance
    (``theta``), the peak S/S_eq of both limits in (a) (``peak``, ``peak_hot``), S_hot/S at
    resonance at the lowest T (``hot_gain``), and at the largest θ the stored T_d at the lowest
    T (``T_dot``) with the closed form there (``T_dot_closed``).
    """
    b0 = parameter(steady_state, "B0") or 1.0
    resonance = {**settings, "omega_d": -b0}
    steady = select(steady_state, ("omega_d",), settings)
    line = select(noise, ("omega_d",), settings)
    at = select(steady_state, ("Omega",), resonance)
    cold = select(noise, ("Omega", "T"), resonance)
    figure = CaptionedFigure((10.0, 3.6))
    across, warm, dot = figure.subplots(1, 3)
    x = -steady.omega_d
    omega = float(line.Omega)
    for name, label, style in LIMITS:
        ratio = stable_branch(steady, line[name] / line.S_eq)
        across.plot(x, ratio, color=COLORS[0], ls=style, lw=1.4, label=label)
        figure.quote("peak" if name == "S" else "peak_hot", float(ratio.max()))
        here = stable_branch(at, cold[name] / cold.S_eq).sel(Omega=omega)
        warm.plot(here["T"], here, color=COLORS[0], ls=style, lw=1, marker="o", ms=3.5,
                  mfc="none", label=label)
    theta = stable_branch(at, at.theta)
    sin_theta = float(np.sin(theta.sel(Omega=omega)))
    _cold_limits(warm, at.sel(Omega=omega), cold.sel(Omega=omega))
    phidot = abs(b0)
    shades = colormaps["viridis"](np.linspace(0, 0.9, cold["T"].size))
    for colour, (T, values) in zip(shades, curves(cold.T_dot.to_dataset(), "T"), strict=True):
        points(dot, theta, stable_branch(at, values.T_dot), color=colour, label=f"{T:g}")
    grid = np.linspace(0, float(theta.max()) * 1.05, 200)
    closed_form(dot, grid, np.sqrt(3) * phidot * np.sin(grid) / (2 * np.pi), color="k",
                label=r"$\sqrt{3}|\dot\varphi\sin\theta|/2\pi$ ($T = 0$)")
    coldest = stable_branch(at, cold.T_dot.isel(T=0))
    largest = int(np.argmax(theta.values))
    figure.quote("theta", np.arcsin(sin_theta))
    figure.quote("T_dot", float(coldest.isel(Omega=largest)))
    figure.quote("T_dot_closed", np.sqrt(3) * phidot * np.sin(float(theta.max())) / (2 * np.pi))
    gain = stable_branch(at, cold.S_hot / cold.S).sel(Omega=omega).isel(T=0)
    figure.quote("hot_gain", float(gain))
    across.set_xlabel(DRIVE_LABEL.replace("co-rotating drive frequency ", ""))
    across.set_ylabel(r"$S/S_\mathrm{eq}$")
    mark_resonance(across, steady, text=False)
    across.legend(fontsize="small", loc="upper left",
                  title=rf"$\Omega = {omega:g}$, $T = {float(line.T):g}$",
                  title_fontsize="small")
    warm.set_xscale("log")
    warm.set_yscale("log")
    dot.set_yscale("log")
    warm.set_xlabel(r"temperature $T$ [$E_0/k_B$]")
    warm.set_ylabel(r"$S/S_\mathrm{eq}$ at resonance")
    warm.legend(fontsize="x-small", loc="upper right",
                title=rf"$\omega_d = -B_0$, $\Omega = {omega:g}$",
                title_fontsize="x-small")
    dot.set_xlabel(r"polar angle $\theta$ (stable state, $\omega_d = -B_0$)")
    dot.set_ylim(bottom=float(cold.T_dot.min()) / 3)
    warm.set_ylim(bottom=0.5)
    dot.set_ylabel(r"dot temperature $T_d$ [$E_0/k_B$]")
    dot.legend(title=r"$T$ [$E_0/k_B$]", fontsize="x-small", title_fontsize="x-small",
               loc="lower right", ncols=2)
    panel_labels((across, warm, dot))
    show_parameters(figure, steady_state, noise, settings=settings)
    return figure


def _cold_limits(ax, steady: xr.Dataset, noise: xr.Dataset) -> None:
    """The T → 0 limits of S/S_eq at resonance (normal leads, closed forms; 1/T on the plot):
    G sin²θ|φ̇| without relaxation, 4G T_d [c² ln 2cosh(ω₋/2T_d) + s² ln 2cosh(ω₊/2T_d)] with
    T_d = √3|φ̇ sin θ|/2π in the hot-electron limit (docs/theory.md §6, §12)."""
    lead, sin2 = normal_leads(noise), stationary_sin2(steady)
    if lead is None or sin2 is None:
        return
    T = np.geomspace(float(noise.T.min()), float(noise.T.max()), 50)
    S, S_hot = _zero_temperature(lead[0], sin2, parameter(steady, "omega_d"))
    closed_form(ax, T, S / (4 * lead[0] * T), color=GREY, ls=":", lw=1, label="$T \\to 0$")
    closed_form(ax, T, S_hot / (4 * lead[0] * T), color=GREY, ls=":", lw=1)


def _zero_temperature(G: float, sin2: float, phidot: float) -> tuple[float, float]:
    """(S, S_hot) at T = 0 for normal leads at V = 0 (docs/theory.md §6, §12)."""
    cos = np.sqrt(1 - sin2)
    t_d = np.sqrt(3) * abs(phidot) * np.sqrt(sin2) / (2 * np.pi)
    minus, plus = phidot * (1 - cos) / 2, phidot * (1 + cos) / 2
    c2, s2 = (1 + cos) / 2, (1 - cos) / 2
    hot = 4 * G * t_d * (c2 * np.log(2 * np.cosh(minus / (2 * t_d)))
                         + s2 * np.log(2 * np.cosh(plus / (2 * t_d))))
    return G * sin2 * abs(phidot), hot
