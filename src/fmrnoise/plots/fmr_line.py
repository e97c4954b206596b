"""FMR line in the noise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from .style import (
    COLORS,
    DRIVE_LABEL,
    GREY,
    CaptionedFigure,
    closed_form,
    curves,
    dense,
    free_precession,
    frequency_axis,
    half_maximum,
    legend_entry,
    mark_resonance,
    mark_width,
    noise_ratio,
    normal_excess_noise,
    normal_leads,
    panel_labels,
    peak_position,
    points,
    select,
    show_parameters,
    source_entries,
    stable_branch,
    stationary_sin2,
)

TITLE = "FMR line in the noise"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("zoom",)


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """Excess noise ΔS/S_eq of the stable state against −ω_d, for each temperature.

    (a) Full range, logarithmic: the stored values (points) on the closed form of normal leads
    (lines; θ of constant κ, docs/theory.md §3, §6). (b) The stored line near resonance
    normalized to its maximum, in the window ``settings["zoom"]`` (default: ±0.25 B0 around
    the resonance), with its full width at half maximum for each T. (c) Its shape divided by
    the low-T shape sin²θ|ω_d| (both normalized), with the high-T shape sin²θ ω_d² (dashed).
    The drive amplitude is ``settings["Omega"]``. Quotes the temperatures, the widths
    (``fwhm``), the peak positions −ω_d (``peak``) and the peak heights (``height``).
    """
    steady = select(steady_state, ("omega_d",), settings)
    data = select(noise, ("omega_d", "T"), settings)
    ratio = stable_branch(steady, noise_ratio(data)).sortby("omega_d", ascending=False)
    figure = CaptionedFigure((7.6, 4.0))
    grid = figure.add_gridspec(2, 2, width_ratios=[1.45, 1], height_ratios=[1.5, 1])
    full = figure.add_subplot(grid[:, 0])
    zoom = figure.add_subplot(grid[0, 1])
    shape = figure.add_subplot(grid[1, 1], sharex=zoom)
    x = -ratio.omega_d
    free = free_precession(steady) or 1.0
    low, high = settings.get("zoom", [free - 0.25, free + 0.25])
    window = (x >= low) & (x <= high)
    x_near = x.where(window, drop=True)
    lead = normal_leads(data)
    closed_forms = stationary_sin2(steady, omega_d=-x.values) is not None
    found = {"temperatures": [], "fwhm": [], "peak": [], "height": []}
    styles = ("-", "--", "-.", ":") * 2
    for colour, style, (T, line) in zip(COLORS, styles, curves(ratio.to_dataset(name="r"), "T"),
                                        strict=False):
        r = line.r
        points(full, x, r.where(r > 0), target=70, color=colour)
        if closed_forms and lead is not None:
            x_line = dense(x)
            sin2 = stationary_sin2(steady, omega_d=-x_line)
            closed = normal_excess_noise(lead[0], sin2, -x_line, T) / (4 * lead[0] * T)
            closed_form(full, x_line, np.where(closed > 0, closed, np.nan), color=colour,
                        ls=style)
        legend_entry(full, colour, style, f"{T:g}")
        near = r.where(window, drop=True)
        zoom.plot(x_near, near / near.max(), color=colour, ls=style, lw=1.4)
        if closed_forms:
            shape.plot(x_near, near / near.max() / _shape(steady, x_near.values, 1),
                       color=colour, ls=style, lw=1.4)
        width = half_maximum(x_near, near)
        found["temperatures"].append(T)
        found["fwhm"].append(np.nan if width is None else width[1] - width[0])
        found["peak"].append(peak_position(x_near, near))
        found["height"].append(float(near.max()))
    full.set_yscale("log")
    peak = float(ratio.max())
    full.set_ylim(peak * 1e-5, peak * 3)
    full.set_xlim(float(x.min()), float(x.max()))
    full.set_ylabel(r"excess noise $\Delta S/S_\mathrm{eq}$")
    source_entries(full)
    full.legend(title=r"$T$ [$E_0/k_B$]", fontsize="small", loc="upper right")
    zoom.set_ylabel(r"$\Delta S/\Delta S_\mathrm{max}$")
    zoom.set_ylim(0, 1.08)
    figure.quote("temperatures", found.pop("temperatures"), digits=None)
    for name, values in found.items():
        figure.quote(name, values, digits=4 if name == "peak" else 3)
    _mark_widths(zoom, x_near, ratio.where(window, drop=True), figure.numbers)
    if closed_forms:
        _limit_shapes(shape, steady, np.linspace(low, high, 401))
    for ax in (full, zoom, shape):
        mark_resonance(ax, steady, text=False)
    frequency_axis(full, settings, steady)
    frequency_axis(zoom, settings, steady)
    zoom.tick_params(labelbottom=False)
    shape.set_xlim(low, high)
    full.set_xlabel(DRIVE_LABEL)
    shape.set_xlabel(r"$-\omega_d$ [$E_0$]")
    panel_labels((full, zoom, shape))
    show_parameters(figure, steady, data, settings=settings)
    return figure


def _shape(steady: xr.Dataset, x: np.ndarray, power: int) -> np.ndarray:
    """The line shape sin²θ |ω_d|^power at −ω_d = ``x``, normalized to its maximum."""
    shape = stationary_sin2(steady, omega_d=-x) * x**power
    return shape / shape.max()


def _limit_shapes(ax: Axes, steady: xr.Dataset, x: np.ndarray) -> None:
    """The low-T (1) and high-T (sin²θ ω_d² over sin²θ|ω_d|) limits of panel (c)."""
    ax.axhline(1.0, color="k", lw=0.9, ls=":", label=r"$T \to 0$")
    closed_form(ax, x, _shape(steady, x, 2) / _shape(steady, x, 1), color="k", lw=0.9, ls="--",
                label=r"$T \to \infty$")
    ax.set_ylabel("÷ low-T shape")
    ax.legend(fontsize="x-small", loc="upper left", handlelength=1.6)


def _mark_widths(ax: Axes, x: xr.DataArray, ratio: xr.DataArray, numbers: Mapping) -> None:
    """The half-maximum arrow of the first temperature and every width, as text."""
    first = half_maximum(x, ratio.isel(T=0, missing_dims="ignore"))
    if first is not None:
        mark_width(ax, *first, 0.5)
    rows = [f"{w} ($T = {T}$)" for w, T in zip(numbers["fwhm"].split(", "),
                                              numbers["temperatures"].split(", "), strict=True)]
    ax.text(0.98, 0.96, "FWHM [$E_0$]\n" + "\n".join(rows), transform=ax.transAxes,
            ha="right", va="top", fontsize="x-small", color=GREY)
