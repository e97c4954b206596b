"""Phase diagram, normal leads."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .style import (
    DRIVE_LABEL,
    OMEGA_LABEL,
    frequency_axis,
    grid_map,
    noise_ratio,
    panel_labels,
    select,
    stable_branch,
)

TITLE = "Phase diagram, normal leads"


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """(−ω_d, Ω) maps: cos θ of the stable state (its hemisphere) and ΔS/S_eq (log colours)."""
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    data = select(noise, ("omega_d", "Omega"), settings)
    cos = grid_map(np.cos(stable_branch(steady, steady.theta)))
    ratio = grid_map(stable_branch(steady, noise_ratio(data)))
    figure = Figure(figsize=(7.6, 3.3), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    x, y = -cos.omega_d, cos.Omega
    mesh = left.pcolormesh(x, y, cos, cmap="PuOr_r", vmin=-1, vmax=1, shading="nearest",
                           rasterized=True)
    figure.colorbar(mesh, ax=left, label=r"$\cos\theta$ of the stable state")
    left.contour(x, y, cos, levels=[0.0], colors="k", linewidths=1.0)
    _label_region(left, cos > 0.3, "upper\nhemisphere")
    _label_region(left, cos < -0.3, "lower\nhemisphere", colour="w")
    vmax = float(ratio.max())
    vmin = float(settings.get("ratio_min", vmax * 1e-4))
    positive = ratio.clip(min=vmin)  # ΔS = 0 (no precession, Ω = 0 or ω_d = 0) at the floor
    mesh = right.pcolormesh(x, y, positive, norm=LogNorm(vmin, vmax),
                            cmap="viridis", shading="nearest", rasterized=True)
    bar = figure.colorbar(mesh, ax=right, label=r"excess noise $\Delta S/S_\mathrm{eq}$")
    decades = 10.0 ** np.arange(np.ceil(np.log10(vmin)), np.floor(np.log10(vmax)) + 1)
    bar.add_lines(right.contour(x, y, positive, levels=decades, colors="w", linewidths=0.6))
    for ax in (left, right):
        ax.set_xlabel(DRIVE_LABEL)
        frequency_axis(ax, settings, steady)
    left.set_ylabel(OMEGA_LABEL)
    panel_labels((left, right))
    return figure


def _label_region(ax: Axes, region: xr.DataArray, text: str, colour: str = "k") -> None:
    """Write ``text`` at the median point of a region of a (Omega, omega_d) map, if inside."""
    if not bool(region.any()):
        return
    points = region.stack(p=("Omega", "omega_d"))
    points = points.where(points, drop=True)
    omega_d, omega = float(np.median(points.omega_d)), float(np.median(points.Omega))
    if bool(region.sel(omega_d=omega_d, Omega=omega, method="nearest")):
        ax.text(-omega_d, omega, text, ha="center", va="center", fontsize="small",
                color=colour)
