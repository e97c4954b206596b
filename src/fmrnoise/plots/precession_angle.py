"""Precession angle."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from .style import (
    COLORS,
    DRIVE_LABEL,
    GREY,
    STABLE,
    THETA_LABEL,
    CaptionedFigure,
    branch_legend,
    curves,
    frequency_axis,
    mark_resonance,
    parameter,
    pi_ticks,
    select,
    show_parameters,
    stable_branch,
)

TITLE = "Precession angle"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """Stationary polar angle θ against −ω_d, stable (solid) and unstable (dashed), for each Ω.

    Shows the FMR line at −ω_d = B0/(1+α²), the saturation at the equator θ = π/2 and the
    stable state in the lower hemisphere at strong drive. Quotes the amplitudes (``omegas``)
    and θ of the stable state at resonance, ω_d = −B0 (``theta_resonance``).
    """
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    figure = CaptionedFigure((6.4, 4.4))
    ax = figure.subplots()
    x = -steady.omega_d
    for colour, (omega, point) in zip(COLORS, curves(steady, "Omega"), strict=False):
        for branch in point.branch.values:
            slot = point.sel(branch=branch)
            filled = slot.stability >= 0
            ax.plot(x, slot.theta.where(slot.stability == STABLE), color=colour, lw=1.6,
                    label=f"{omega:g}" if branch == 0 else None)
            ax.plot(x, slot.theta.where(filled & (slot.stability != STABLE)), color=colour,
                    lw=0.9, ls="--")
    ax.axhline(np.pi / 2, color=GREY, lw=0.6)
    ax.text(0.99, np.pi / 2, "equator", transform=ax.get_yaxis_transform(), ha="right",
            va="bottom", fontsize="small", color=GREY)
    mark_resonance(ax, steady)
    _annotate_flip(ax, steady)
    pi_ticks(ax)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(DRIVE_LABEL)
    ax.set_ylabel(THETA_LABEL)
    branch_legend(ax, title=r"$\Omega$ [$E_0$]", fontsize="small", loc="center left",
                  bbox_to_anchor=(1.0, 0.5), frameon=False)
    frequency_axis(ax, settings, steady)
    b0 = parameter(steady, "B0")
    if b0 is not None:
        resonance = stable_branch(steady, steady.theta).sel(omega_d=-b0, method="nearest")
        figure.quote("omegas", resonance.Omega if "Omega" in resonance.dims else [], digits=None)
        figure.quote("theta_resonance", resonance)
    show_parameters(figure, steady, settings=settings)
    return figure


def _annotate_flip(ax: Axes, steady: xr.Dataset) -> None:
    """Point at a stable state well inside the lower hemisphere, at the strongest drive."""
    lower = stable_branch(steady, steady.theta) > np.pi / 2 + 0.3
    if "Omega" in lower.dims:
        strongest = np.flatnonzero(lower.any("omega_d").values)
        if strongest.size == 0:
            return
        steady, lower = steady.isel(Omega=strongest[-1]), lower.isel(Omega=strongest[-1])
    points = np.flatnonzero(lower.values)
    if points.size == 0:
        return
    point = steady.isel(omega_d=points[-1])  # the one closest to resonance from below in ω_d
    xy = (float(-point.omega_d), float(stable_branch(point, point.theta)))
    ax.annotate("stable state in the\nlower hemisphere", xy, xytext=(40, -45),
                textcoords="offset points", ha="left", fontsize="small",
                arrowprops={"arrowstyle": "->", "color": GREY, "lw": 0.8})
