"""Hysteresis of a slow sweep: what an experiment sees when it sweeps the drive frequency.

The magnet stays on its branch while the branch exists and is stable, then jumps (stage
``sweep``); up and down sweeps differ inside bistable intervals. The fold and Hopf points of the
stage ``boundaries`` along the swept axis, where branches end or lose stability, are drawn as
ticks.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from ..physics.codes import Kind
from .style import COLORS, GREY, CaptionedFigure, curves, panel_labels, pi_ticks, show_parameters

TITLE = "Hysteresis of a slow sweep"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("lines",)
#: Line styles of the two directions.
STYLES = {"up": "-", "down": "--"}


def draw(sweep: xr.Dataset, boundaries: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """θ and S/S_eq against the swept axis, up and down, for each value of the other axis.

    The sweep store's other axes but one (the first by default, or ``settings["lines"]``)
    are fixed at ``settings[axis]`` or their first value. Quotes the lines (``lines``), the
    swept axis's values where the magnet jumps sweeping up and down (``jumps_up``,
    ``jumps_down``; "none") and the number of points on a limit cycle (``limit_cycles``).
    """
    swept = str(sweep.theta.dims[-1])
    others = [str(d) for d in sweep.theta.dims[:-2]]
    line_axis = settings.get("lines", others[0] if others else None)
    for axis in others:
        if axis != line_axis:
            sweep = sweep.sel({axis: settings.get(axis, sweep[axis].values[0])},
                              method="nearest")
    figure = CaptionedFigure((8.6, 5.6))
    angle, noise_ax = figure.subplots(2, 1, sharex=True)
    x = sweep[swept]
    for colour, (value, line) in zip(COLORS, curves(sweep, line_axis), strict=False):
        for direction, style in STYLES.items():
            data = line.sel(direction=direction)
            angle.plot(x, data.theta, color=colour, ls=style, lw=1.4)
            noise_ax.plot(x, data.S / data.S_eq, color=colour, ls=style, lw=1.4)
            # a jump at point i leaves the state of the point before it in the sweep's order
            before = np.flatnonzero(data.jumped.values) + (-1 if direction == "up" else 1)
            angle.plot(x.values[before], data.theta.values[before], "o", color=colour, ms=5,
                       mfc="none" if direction == "down" else colour)
        _ticks(angle, boundaries, swept, line_axis, value, colour)
    pi_ticks(angle)
    angle.set_ylabel(r"polar angle $\theta$ of the state [rad]")
    noise_ax.set_ylabel(r"$S/S_\mathrm{eq}$")
    noise_ax.set_xlabel(f"{x.attrs.get('long_name', swept)} [{x.attrs.get('units', '')}]")
    handles = [Line2D([], [], color=GREY, ls=style, label=f"sweep {direction}")
               for direction, style in STYLES.items()]
    handles += [Line2D([], [], color=GREY, marker="o", ls="none",
                       label="jump (from here; open: sweeping down)"),
                Line2D([], [], color=GREY, marker="|", ls="none", ms=9,
                       label="fold / Hopf point")]
    if line_axis is not None:
        handles += [Line2D([], [], color=c, label=f"{line_axis} = {v:g}")
                    for c, (v, _) in zip(COLORS, curves(sweep, line_axis), strict=False)]
    angle.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                 frameon=False)
    panel_labels((angle, noise_ax))
    if line_axis is not None:
        figure.quote("lines", sweep[line_axis].values, digits=None)
    for direction in STYLES:
        jumps = x.values[sweep.jumped.sel(direction=direction).any(
            [d for d in sweep.jumped.dims if d not in (swept, "direction")]).values]
        if jumps.size:
            figure.quote(f"jumps_{direction}", jumps, digits=4)
        else:
            figure.numbers[f"jumps_{direction}"] = "none"
    figure.quote("limit_cycles", int(((sweep.status & 1) > 0).sum()), digits=None)
    show_parameters(figure, sweep, settings=settings)
    return figure


def _ticks(ax, boundaries: xr.Dataset, swept: str, line_axis: str | None,
           value: float | None, colour: str) -> None:
    """Ticks at the top of ``ax`` at the fold and Hopf points refined along the swept axis on
    the line ``line_axis = value``."""
    here = (boundaries.refined_axis.values == swept) & np.isin(boundaries.kind.values,
                                                               (Kind.FOLD, Kind.HOPF))
    if line_axis is not None and line_axis in boundaries:
        here &= np.isclose(boundaries[line_axis].values, value, rtol=1e-12, atol=0.0)
    ax.vlines(boundaries[swept].values[here], 0.93, 1.0, transform=ax.get_xaxis_transform(),
              color=colour, lw=1.2)
