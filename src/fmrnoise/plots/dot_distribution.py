"""Dot distribution."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..physics.distribution import fermi_step
from .style import (
    COLORS,
    GREY,
    STABLE,
    CaptionedFigure,
    curves,
    grid_axes,
    panel_labels,
    parameter,
    select,
    show_parameters,
    symbol,
)

TITLE = "Dot distribution"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("panels", "values", "energy")


def lead_temperatures(noise: xr.Dataset, settings: Mapping) -> tuple[float, float]:
    """(T_l, T_r) [E0/k_B] of the study, from the noise store (fixed axes via ``settings``)."""
    data = select(noise, (), settings)
    T = parameter(data, "T")
    T_r = parameter(data, "T_r")
    return T, T if T_r is None else T_r


def occupations(distribution: xr.Dataset, temperatures: tuple[float, float],
                energy: np.ndarray) -> np.ndarray:
    """Dot occupations n_d^σ(ε) = [1 − F_d^σ(ε)]/2 sampled from a store's step lists.

    Parameters
    ----------
    distribution : step lists of one point and branch: step_position, step_weight with dims
        (spin, lead, step), lead_weight with dims (spin, lead).
    temperatures : (T_l, T_r) [E0/k_B].
    energy : (E,) energies [E0].

    Returns
    -------
    (spin, E) occupations.
    """
    position = distribution.step_position.transpose("spin", "lead", "step").values
    weight = distribution.step_weight.transpose("spin", "lead", "step").values
    lead_weight = distribution.lead_weight.transpose("spin", "lead").values
    T = np.asarray(temperatures, dtype=float)[np.newaxis, :, np.newaxis, np.newaxis]
    F = fermi_step(energy - position[..., np.newaxis], T)
    F_dot = np.einsum("sl,slk,slke->se", lead_weight, weight, F)
    return (1 - F_dot) / 2


def draw(steady_state: xr.Dataset, distribution: xr.Dataset, noise: xr.Dataset,
         settings: Mapping) -> CaptionedFigure:
    """Rotating-frame dot occupation n_d^σ(ε) next to the leads' equilibrium Fermi functions.

    One panel per value of the axis ``settings["panels"]`` (default: the study's first grid
    axis, e.g. μ_l: without and with bias), or per value of ``settings["values"]`` along it
    (nearest grid values). The energy window is ``settings["energy"]`` [E0] (default: the steps
    ± 8 T). Quotes θ of each panel's stable state (``theta``) and the precession shifts
    ω∓ = φ̇(1 ∓ cos θ)/2 of the first (``omega_minus``, ``omega_plus``; φ̇ = ω_d).
    """
    panel_axis = settings.get("panels") or (grid_axes(distribution) or [None])[0]
    keep = (panel_axis,) if panel_axis else ()
    dist, steady = select(distribution, keep, settings), select(steady_state, keep, settings)
    temperatures = lead_temperatures(noise, settings)
    if panel_axis and "values" in settings:
        dist = dist.sel({panel_axis: settings["values"]}, method="nearest")
    values = list(curves(dist, panel_axis)) if panel_axis else [(None, dist)]
    energy = _energy_window(dist, temperatures, settings)
    figure = CaptionedFigure((3.3 * len(values) + 0.6, 3.7))
    axes = np.atleast_1d(figure.subplots(1, len(values), sharey=True))
    thetas = []
    for ax, (value, point) in zip(axes, values, strict=True):
        state = steady.sel({panel_axis: value}) if panel_axis in steady.dims else steady
        stable = state.stability == STABLE
        if bool(stable.any()):
            branch = int(stable.argmax("branch"))
            _draw_occupations(ax, point.isel(branch=branch), temperatures, energy)
            thetas.append(float(state.theta.isel(branch=branch)))
            title = rf"$\theta = {thetas[-1]:.3g}$"
        else:
            title = "no stable state"
        if panel_axis:
            title = rf"${symbol(panel_axis)} = {value:g}\,E_0$, " + title
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(r"energy $\varepsilon$ [$E_0$]")
        ax.set_xlim(energy[0], energy[-1])
    axes[0].set_ylabel(r"occupation $n(\varepsilon) = [1 - F(\varepsilon)]/2$")
    axes[0].set_ylim(-0.03, 1.03)
    T_l, T_r = temperatures
    axes[-1].legend(fontsize="small", loc="upper right",
                    title=rf"$T = {T_l:g}\,E_0/k_B$" if T_l == T_r
                    else rf"$T_l, T_r = {T_l:g}, {T_r:g}\,E_0/k_B$", title_fontsize="small")
    panel_labels(axes)
    figure.quote("theta", thetas)
    phidot = parameter(steady, "omega_d")
    if thetas and phidot is not None:
        figure.quote("omega_minus", phidot * (1 - np.cos(thetas[0])) / 2)
        figure.quote("omega_plus", phidot * (1 + np.cos(thetas[0])) / 2)
    show_parameters(figure, steady, dist, select(noise, keep, settings), settings=settings)
    return figure


def _energy_window(dist: xr.Dataset, temperatures: tuple[float, float],
                   settings: Mapping) -> np.ndarray:
    """Energies [E0] at which the distributions are sampled (1201 points)."""
    if "energy" in settings:
        low, high = settings["energy"]
    else:
        margin = 8 * max(temperatures) + 0.1
        low = float(dist.step_position.min()) - margin
        high = float(dist.step_position.max()) + margin
    return np.linspace(low, high, 1201)


def _draw_occupations(ax: Axes, point: xr.Dataset, temperatures: tuple[float, float],
                      energy: np.ndarray) -> None:
    """Dot occupations of both spins and the two leads' Fermi functions at one state."""
    potentials = _lead_potentials(point)
    styles = ("--", ":")
    drawn = set()
    for (lead, mu_x), T_x, style in zip(potentials.items(), temperatures, styles, strict=True):
        key = (round(mu_x, 12), round(T_x, 12))
        if key in drawn:
            continue
        drawn.add(key)
        fermi = (1 - fermi_step(energy - mu_x, T_x)) / 2
        label = rf"Fermi $n_F(\varepsilon - \mu_{lead})$"
        ax.plot(energy, fermi, color=GREY, ls=style, lw=1.1, label=label)
    n = occupations(point, temperatures, energy)
    for colour, spin, sign in zip(COLORS[:2], ("up", "down"), ("↑", "↓"), strict=True):
        index = list(point.spin.values).index(spin)
        ax.plot(energy, n[index], color=colour, lw=1.6, label=rf"dot $n_d^{sign}$")


def _lead_potentials(point: xr.Dataset) -> dict[str, float]:
    """Lead potentials μ_x [E0] recovered from the step lists (mean of the σ = ±1 same steps).

    Same-spin steps sit at μ_x − σω₋, so the mean over σ is μ_x (north-pole gauge).
    """
    same = point.step_position.sel(step="same")
    return {str(lead): float(same.sel(lead=lead).mean("spin")) for lead in point.lead.values}
