"""Noise of every stable state, magnetic lead."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.colors import Normalize

from .style import (
    DRIVE_LABEL,
    CaptionedFigure,
    fano_factors,
    frequency_axis,
    grid_map,
    panel_labels,
    select,
    show_parameters,
    stable_branch,
)

TITLE = "Noise of every stable state, magnetic lead"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("current_min",)
#: The quantities of the columns: name, label, colour map.
COLUMNS = (("ratio", r"$S/S_\mathrm{eq}$", "viridis"),
           ("F2", r"$F_2 = S/2|I|$", "magma"),
           ("F3", r"$F_3 = C_3/I$", "cividis"))


def draw(steady_state: xr.Dataset, dot_voltage: xr.Dataset, noise: xr.Dataset,
         settings: Mapping) -> CaptionedFigure:
    """(−ω_d, Ω) maps of S/S_eq and the Fano factors F2 = S/2|I|, F3 = C3/I of every stable state.

    Row 1: the stable state of lowest θ (hatched: no stable state); row 2: the second stable
    state, where the point is bistable (blank elsewhere). One colour scale per column, so that
    the two stable states of a bistable point compare by colour; thin black lines: where the
    number of stable states changes. Fano factors are left blank where
    |I| < ``settings["current_min"]`` (default 1e−3 eE0/ħ). Quotes the ranges of S/S_eq, F2 and
    F3 over all stable states (``<name>_min``, ``<name>_max``) and the largest difference of
    S/S_eq between the two states of a bistable point (``ratio_split``).
    """
    keep = ("omega_d", "Omega")
    steady, volt, data = (select(ds, keep, settings) for ds in (steady_state, dot_voltage, noise))
    F2, F3 = fano_factors(data, volt.current, float(settings.get("current_min", 1e-3)))
    values = {"ratio": data.S / data.S_eq, "F2": F2, "F3": F3}
    n_stable = grid_map(steady.n_stable)
    figure = CaptionedFigure((9.4, 5.6))
    axes = figure.subplots(2, 3, sharex=True, sharey=True)
    x, y = -n_stable.omega_d, n_stable.Omega
    for column, (name, label, cmap) in enumerate(COLUMNS):
        maps = [grid_map(stable_branch(steady, values[name], n)) for n in (0, 1)]
        both = xr.concat(maps, "stable")
        norm = Normalize(float(both.min()), float(both.max()))
        for row, data_map in enumerate(maps):
            ax = axes[row, column]
            mesh = ax.pcolormesh(x, y, data_map, cmap=cmap, norm=norm, shading="nearest",
                                 rasterized=True)
            ax.contour(x, y, n_stable, levels=[0.5, 1.5], colors="k", linewidths=0.5)
            if row == 0 and bool((n_stable == 0).any()):
                ax.contourf(x, y, (n_stable == 0).astype(float), levels=[0.5, 1.5],
                            colors="none", hatches=["////"])
        figure.colorbar(mesh, ax=axes[:, column], location="bottom", shrink=0.9, label=label)
        figure.quote(f"{name}_min", float(both.min()))
        figure.quote(f"{name}_max", float(both.max()))
        if name == "ratio":
            figure.quote("ratio_split", float(abs(maps[1] - maps[0]).max()))
    for ax in axes[1]:
        ax.set_xlabel(DRIVE_LABEL.replace("co-rotating drive frequency ", ""))
    for ax in axes[0]:
        frequency_axis(ax, settings, steady)
    axes[0, 0].set_ylabel("stable state 1 (lowest θ)\n" + r"$\Omega$ [$E_0$]")
    axes[1, 0].set_ylabel("stable state 2 (bistable)\n" + r"$\Omega$ [$E_0$]")
    panel_labels(np.ravel(axes))
    show_parameters(figure, steady, volt, data, settings=settings)
    return figure
