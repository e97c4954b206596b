"""Overview of any study: the states, the noise and the current over its grid.

Drawn for every study without configuration. The first (up to) two grid axes that the settings
do not fix are drawn; every other axis is fixed at ``settings[axis]`` (nearest grid value) or,
by default, at its middle value. A line above the panels names the study and its fixed
parameters:

- no axis (a single point): the states and the values at the stable state, as a table;
- one axis: θ of every branch (stable solid, others dashed), S/S_eq and the current of the
  stable state against it;
- two axes: the same as lines, one per value of the second axis, when it has at most
  ``MAX_LINES`` values; otherwise maps of the number of stable states (with the points
  without a stable state marked) and of the excess noise ΔS/S_eq of the stable state, with
  the fold and Hopf points of the stage ``boundaries`` over them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure

from ..physics.codes import Stability
from .style import (
    COLORS,
    GREY,
    draw_boundaries,
    grid_axes,
    noise_ratio,
    panel_labels,
    show_parameters,
    stable_branch,
)

TITLE = "Overview"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()
#: The stores may be passed opened lazily: the figure reads only what it draws.
LAZY = True
#: A second axis with at most this many values is drawn as lines, a longer one as maps.
MAX_LINES = 6
#: Colours of 0, 1, 2, ... stable states in the maps ("no stable state" stands out).
STATE_COLOURS = (COLORS[1], "0.88", COLORS[0], COLORS[4], COLORS[3])


def drawn_axes(noise: xr.Dataset, settings: Mapping) -> tuple[list[str], dict[str, float]]:
    """The axes the overview draws and the values at which it fixes the others.

    The first two grid axes not named in ``settings`` are drawn; the others are fixed at the
    setting's value or at their middle grid value.
    """
    axes = grid_axes(noise)
    drawn = [axis for axis in axes if axis not in settings][:2]
    fixed = {axis: float(settings[axis]) if axis in settings
             else float(noise[axis].values[noise[axis].size // 2])
             for axis in axes if axis not in drawn}
    return drawn, fixed


def _fix(ds: xr.Dataset, fixed: Mapping[str, float]) -> xr.Dataset:
    """``ds`` at the fixed values of the axes it spans (nearest grid value)."""
    present = {axis: value for axis, value in fixed.items() if axis in ds.dims}
    return ds.sel(present, method="nearest") if present else ds


def draw(steady_state: xr.Dataset, dot_voltage: xr.Dataset, noise: xr.Dataset,
         settings: Mapping, boundaries: xr.Dataset | None = None) -> Figure:
    """The overview figure of a study (module docstring); on maps, the fold and Hopf points of
    ``boundaries`` (the stage of that name, where the study has it) as lines."""
    drawn, fixed = drawn_axes(noise, settings)
    # only the slice and the variables drawn are read (the stores may be opened lazily)
    steady, volt, data = (_fix(ds[names], fixed).load() for ds, names in (
        (steady_state, ["theta", "psi", "stability", "n_stable"]), (dot_voltage, ["current"]),
        (noise, ["S", "S_eq", "excess_noise"])))
    ratio = stable_branch(steady, data.S / data.S_eq)
    current = stable_branch(steady, volt.current)
    if not drawn:
        figure = _point(steady, ratio, current)
    elif len(drawn) == 2 and noise[drawn[1]].size > MAX_LINES:
        figure = _maps(steady, stable_branch(steady, noise_ratio(data)), drawn)
        for ax in figure.axes[:2]:
            draw_boundaries(ax, None if boundaries is None else boundaries.load(), *drawn,
                            fixed)
    else:
        figure = _lines(steady, ratio, current, drawn, float(abs(data.S).max()))
    show_parameters(figure, steady, volt, data, settings=settings,
                    lead=f"study {noise.attrs.get('study', '')}:")
    return figure


def _label(ds: xr.Dataset, axis: str) -> str:
    """An axis label from the coordinate's attributes: long name [units]."""
    attrs = ds[axis].attrs
    return f"{attrs.get('long_name', axis)} [{attrs.get('units', '')}]"


def _lines(steady: xr.Dataset, ratio: xr.DataArray, current: xr.DataArray,
           drawn: list[str], noise_scale: float) -> Figure:
    """θ of every branch, S/S_eq and current of the stable state against the first axis.

    A current that is zero up to rounding (|I| <= 1e-12 max S, in e = 1 units) is drawn on the
    scale max S/2 of a Schottky current and marked as zero, not magnified into noise.
    """
    x_axis = drawn[0]
    # every quantity over the drawn axes (the steady state and the current may lack some)
    theta, stability, current = (data.broadcast_like(ratio) for data in
                                 (steady.theta, steady.stability, current))
    figure = Figure(figsize=(6.4, 7.0), layout="constrained")
    angle, noise_ax, current_ax = figure.subplots(3, 1, sharex=True)
    x = ratio[x_axis]
    marker = {"marker": "o", "ms": 3} if x.size < 30 else {}
    lines = [({}, None)] if len(drawn) == 1 else [
        ({drawn[1]: value}, f"{drawn[1]} = {value:g}") for value in ratio[drawn[1]].values]
    for colour, (where, label) in zip(COLORS * 4, lines, strict=False):
        for branch in theta.branch.values:
            th = theta.sel(where).sel(branch=branch)
            code = stability.sel(where).sel(branch=branch)
            angle.plot(x, th.where(code == Stability.STABLE), color=colour, lw=1.5,
                       label=label if branch == 0 else None, **marker)
            angle.plot(x, th.where((code >= 0) & (code != Stability.STABLE)), color=colour,
                       lw=0.9, ls="--", **marker)
        noise_ax.plot(x, ratio.sel(where), color=colour, lw=1.5, label=label, **marker)
        current_ax.plot(x, current.sel(where), color=colour, lw=1.5, **marker)
    angle.set_ylabel(r"polar angle $\theta$ [rad]")
    angle.set_ylim(-0.05, np.pi + 0.05)
    angle.set_yticks(np.pi * np.arange(5) / 4, ["0", "π/4", "π/2", "3π/4", "π"])
    angle.plot([], [], color=GREY, lw=1.5, label="stable")
    angle.plot([], [], color=GREY, lw=0.9, ls="--", label="unstable, saddle or marginal")
    angle.legend(fontsize="small", loc="best")
    noise_ax.set_ylabel(r"$S/S_\mathrm{eq}$ (stable state)")
    current_ax.set_ylabel(r"current $I$ [$eE_0/\hbar$] (stable state)")
    if float(abs(current).max()) <= 1e-12 * noise_scale:
        current_ax.set_ylim(-noise_scale / 2, noise_scale / 2)
        current_ax.text(0.02, 0.9, "I = 0 (up to rounding)", transform=current_ax.transAxes,
                        fontsize="small", va="top")
    current_ax.set_xlabel(_label(ratio, x_axis))
    panel_labels((angle, noise_ax, current_ax))
    return figure


def _maps(steady: xr.Dataset, excess: xr.DataArray, drawn: list[str]) -> Figure:
    """Maps of the number of stable states and of ΔS/S_eq of the stable state."""
    x_axis, y_axis = drawn
    excess = excess.transpose(y_axis, x_axis)
    # over the noise grid: the steady state may not span an axis (e.g. T)
    n_stable = steady.n_stable.broadcast_like(excess).transpose(y_axis, x_axis)
    figure = Figure(figsize=(8.0, 3.4), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    x, y = n_stable[x_axis], n_stable[y_axis]
    top = max(int(n_stable.max()), 2)
    mesh = left.pcolormesh(x, y, n_stable, cmap=ListedColormap(STATE_COLOURS[:top + 1]),
                           norm=BoundaryNorm(np.arange(top + 2) - 0.5, top + 1),
                           shading="nearest", rasterized=True)
    bar = figure.colorbar(mesh, ax=left, ticks=np.arange(top + 1))
    bar.ax.set_yticklabels(["no stable state", *(f"{n} stable" for n in range(1, top + 1))],
                           fontsize="small")
    positive = excess.where(excess > 0)
    vmax = float(positive.max()) if bool(positive.notnull().any()) else np.nan
    vmin = max(float(positive.min()), vmax * 1e-6) if np.isfinite(vmax) else np.nan
    if vmax > 10 * vmin:  # logarithmic colours where the values span decades
        mesh = right.pcolormesh(x, y, excess.clip(min=vmin), norm=LogNorm(vmin, vmax),
                                cmap="viridis", shading="nearest", rasterized=True)
    else:
        mesh = right.pcolormesh(x, y, excess, cmap="viridis", shading="nearest",
                                rasterized=True)
    figure.colorbar(mesh, ax=right, label=r"$\Delta S/S_\mathrm{eq}$ (stable state)")
    none = excess.isnull() & (n_stable == 0)
    if bool(none.any()):
        right.contourf(x, y, none.astype(float), levels=[0.5, 1.5], colors="none",
                       hatches=["////"])
    for ax in (left, right):
        ax.set_xlabel(_label(excess, x_axis))
    left.set_ylabel(_label(excess, y_axis))
    panel_labels((left, right))
    return figure


def _point(steady: xr.Dataset, ratio: xr.DataArray, current: xr.DataArray) -> Figure:
    """A single point: its states and the values at the stable state, as a table."""
    figure = Figure(figsize=(6.4, 2.6), layout="constrained")
    ax: Axes = figure.subplots()
    ax.axis("off")
    names = {int(code): code.name.lower() for code in Stability}
    rows = [[f"{float(s.theta):.6g}", f"{float(s.psi):.6g}", names[int(s.stability)]]
            for s in (steady.sel(branch=b) for b in steady.branch.values)
            if int(s.stability) != Stability.EMPTY]
    table = ax.table(cellText=rows, colLabels=["θ [rad]", "ψ [rad]", "stability"],
                     loc="upper center", cellLoc="center")
    table.scale(1, 1.3)
    ax.text(0.5, 0.02, f"stable state: S/S_eq = {float(ratio):.6g}, "
            f"I = {float(current):.6g} eE0/ħ" if bool(np.isfinite(ratio)) else
            "no stable state", transform=ax.transAxes, ha="center", va="bottom")
    return figure

