"""Phase diagram, normal leads."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.colors import LogNorm

from .style import (
    COLORS,
    DRIVE_LABEL,
    GREY,
    OMEGA_LABEL,
    CaptionedFigure,
    cell_edges,
    closed_form,
    draw_boundaries,
    frequency_axis,
    grid_map,
    hopf_amplitude,
    model_parameters,
    noise_ratio,
    panel_labels,
    parameter,
    select,
    show_parameters,
    stable_branch,
)

TITLE = "Phase diagram, normal leads"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("ratio_min",)


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping,
         boundaries: xr.Dataset | None = None) -> CaptionedFigure:
    """(−ω_d, Ω) maps: cos θ of the stable state (its hemisphere) and ΔS/S_eq (log colours).

    Ω is drawn on a logarithmic axis when the study's Ω values are all positive. The colours of
    ΔS/S_eq start at ``settings["ratio_min"]`` (default 1e−6 of the maximum). In (a), black:
    where the stored cos θ changes sign; dashed: the constant-κ Hopf line
    B0 + ω_d sin²θ = 0 (docs/theory.md §3, §11), beyond which the lower state is the stable one;
    dotted: Ω = α₀B0. Quotes the median cos θ just below and above the stored jump across the
    Hopf line (``cos_below``, ``cos_above``) and the smallest stored Ω with a stable state in
    the lower hemisphere (``lower_from``). With the store of the stage ``boundaries``, its
    refined Hopf points (and folds, never seen for constant κ) over (a); quoted: ``hopf``.
    """
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    data = select(noise, ("omega_d", "Omega"), settings)
    cos = grid_map(np.cos(stable_branch(steady, steady.theta)))
    ratio = grid_map(stable_branch(steady, noise_ratio(data)))
    figure = CaptionedFigure((7.6, 3.6))
    left, right = figure.subplots(1, 2, sharey=True)
    x, y = -cos.omega_d, cos.Omega
    log = bool((y > 0).all()) and y.size > 1
    edges = cell_edges(x), cell_edges(y, log=log)
    mesh = left.pcolormesh(*edges, cos, cmap="PuOr_r", vmin=-1, vmax=1, rasterized=True)
    figure.colorbar(mesh, ax=left, label=r"$\cos\theta$ of the stable state")
    left.contour(x, y, cos, levels=[0.0], colors="k", linewidths=0.8)
    _mark_hopf_line(left, steady, x.values)
    found = draw_boundaries(left, boundaries, "omega_d", "Omega", {}, x_sign=-1.0, legend=False)
    figure.quote("hopf", found["hopf"], digits=None)
    vmax = float(ratio.max())
    vmin = float(settings.get("ratio_min", vmax * 1e-6))
    positive = ratio.clip(min=vmin)  # ΔS = 0 (no precession, Ω = 0 or ω_d = 0) at the floor
    mesh = right.pcolormesh(*edges, positive, norm=LogNorm(vmin, vmax), cmap="viridis",
                            rasterized=True)
    bar = figure.colorbar(mesh, ax=right, label=r"excess noise $\Delta S/S_\mathrm{eq}$")
    decades = 10.0 ** np.arange(np.ceil(np.log10(vmin)), np.floor(np.log10(vmax)) + 1)
    bar.add_lines(right.contour(x, y, positive, levels=decades, colors="w", linewidths=0.6))
    below, above = _jump(cos)
    figure.quote("cos_below", below, digits=2)
    figure.quote("cos_above", above, digits=2)
    lower = (cos < -0.1).any("omega_d")
    figure.quote("lower_from", float(y.where(lower, drop=True).min()) if lower.any() else np.nan,
                 digits=2)
    for ax in (left, right):
        if log:
            ax.set_yscale("log")
        ax.set_xlabel(DRIVE_LABEL)
        frequency_axis(ax, settings, steady)
    left.set_ylabel(OMEGA_LABEL)
    left.legend(fontsize="x-small", loc="lower right", framealpha=0.9)
    panel_labels((left, right))
    show_parameters(figure, steady, data, settings=settings)
    return figure


def _mark_hopf_line(ax, steady: xr.Dataset, x: np.ndarray) -> None:
    """The constant-κ Hopf line and the level Ω = α₀B0 (where the closed form applies)."""
    b0, alpha0 = parameter(steady, "B0"), parameter(steady, "alpha0")
    if b0 is None or alpha0 is None or model_parameters(steady).get("lead_damping"):
        return
    line = np.linspace(b0, x.max(), 400)[1:]
    closed_form(ax, line, hopf_amplitude(b0, -line, alpha0), color=COLORS[2], ls="--", lw=1.6,
                label=r"Hopf line $B_0 + \omega_d\sin^2\theta = 0$")
    ax.axhline(alpha0 * b0, color=GREY, ls=":", lw=1, label=r"$\Omega = \alpha_0 B_0$")
    ax.plot([], [], color="k", lw=1, label=r"stored $\cos\theta$ changes sign")


def _jump(cos: xr.DataArray) -> tuple[float, float]:
    """Median cos θ just below and just above a jump across the hemispheres (sign change by
    more than 0.5 between neighbouring Ω of one column), NaN without jumps."""
    values = cos.transpose("Omega", "omega_d").values
    low, high = values[:-1], values[1:]
    jump = (np.sign(low) != np.sign(high)) & (np.abs(high - low) > 0.5)
    if not jump.any():
        return np.nan, np.nan
    return float(np.median(low[jump])), float(np.median(high[jump]))
