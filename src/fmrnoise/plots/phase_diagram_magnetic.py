"""Phase diagram, magnetic lead."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from .style import (
    COLORS,
    DRIVE_LABEL,
    OMEGA_LABEL,
    CaptionedFigure,
    draw_boundaries,
    frequency_axis,
    grid_map,
    panel_labels,
    select,
    show_parameters,
    stable_branch,
)

TITLE = "Phase diagram, magnetic lead"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, dot_voltage: xr.Dataset, settings: Mapping,
         boundaries: xr.Dataset | None = None) -> CaptionedFigure:
    """(−ω_d, Ω) maps with lead damping: number of stable states and the dc current.

    (a) 0 stable states (status flag no_stable_state: the magnet precesses on a limit cycle),
    1, or 2 (bistable). (b) the current I of the lowest-θ stable state; hatched where there
    is no stable state. Quotes the number of grid points (``points``), of bistable ones
    (``bistable``) and of those without a stable state (``no_stable``), and the range of the
    current (``current_min``, ``current_max``). With the store of the stage ``boundaries``,
    its refined Hopf points and folds over (a), where the number of stable states changes;
    quoted: ``hopf``, ``folds``.
    """
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    volt = select(dot_voltage, ("omega_d", "Omega"), settings)
    n_stable = grid_map(steady.n_stable)
    current = grid_map(stable_branch(steady, volt.current))
    figure = CaptionedFigure((7.6, 3.6))
    left, right = figure.subplots(1, 2, sharey=True)
    x, y = -n_stable.omega_d, n_stable.Omega
    top = max(int(n_stable.max()), 2)
    colours = [COLORS[1], "0.88", COLORS[0], COLORS[4], COLORS[3]][:top + 1]
    mesh = left.pcolormesh(x, y, n_stable, cmap=ListedColormap(colours),
                           norm=BoundaryNorm(np.arange(top + 2) - 0.5, top + 1),
                           shading="nearest", rasterized=True)
    bar = figure.colorbar(mesh, ax=left, ticks=np.arange(top + 1))
    names = ["no stable\nstate", "1 stable\nstate", "bistable", "3 stable\nstates",
             "4 stable\nstates"]
    bar.ax.set_yticklabels(names[:top + 1], fontsize="small")
    mesh = right.pcolormesh(x, y, current, cmap="cividis", shading="nearest", rasterized=True)
    figure.colorbar(mesh, ax=right, label=r"dc current $I$ [$eE_0/\hbar$]")
    none = (n_stable == 0).astype(float)
    if bool(none.any()):
        right.contourf(x, y, none, levels=[0.5, 1.5], colors="none", hatches=["////"])
        right.legend(handles=[Patch(facecolor="w", edgecolor="k", hatch="////",
                                    label="no stable state")], fontsize="small",
                     loc="lower right")
    right.contour(x, y, n_stable, levels=np.arange(top) + 0.5, colors="k", linewidths=0.6)
    found = draw_boundaries(left, boundaries, "omega_d", "Omega", {}, x_sign=-1.0)
    figure.quote("hopf", found["hopf"], digits=None)
    figure.quote("folds", found["fold"], digits=None)
    for ax in (left, right):
        ax.set_xlabel(DRIVE_LABEL)
        frequency_axis(ax, settings, steady)
    left.set_ylabel(OMEGA_LABEL)
    figure.quote("points", n_stable.size, digits=None)
    figure.quote("bistable", int((n_stable == 2).sum()), digits=None)
    figure.quote("no_stable", int((n_stable == 0).sum()), digits=None)
    figure.quote("current_min", float(current.min()))
    figure.quote("current_max", float(current.max()))
    panel_labels((left, right))
    show_parameters(figure, steady, volt, settings=settings)
    return figure
