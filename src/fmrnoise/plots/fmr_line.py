"""FMR line in the noise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import (
    COLORS,
    DRIVE_LABEL,
    GREY,
    WIDE,
    curves,
    free_precession,
    frequency_axis,
    mark_resonance,
    noise_ratio,
    panel_labels,
    parameter,
    select,
    stable_branch,
)

TITLE = "FMR line in the noise"


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Excess noise ΔS/S_eq of the stable state against −ω_d, for each temperature.

    (a) full range, logarithmic; (b) the line near resonance, normalized to its maximum, in the
    window ``settings["zoom"]`` (default: ±0.25 B0 around the resonance). The drive amplitude is
    ``settings["Omega"]``.
    """
    steady = select(steady_state, ("omega_d",), settings)
    ratio = stable_branch(steady, noise_ratio(select(noise, ("omega_d", "T"), settings)))
    figure = Figure(figsize=WIDE, layout="constrained")
    full, zoom = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
    x = -ratio.omega_d
    free = free_precession(steady) or 1.0
    low, high = settings.get("zoom", [free - 0.25, free + 0.25])
    window = (x >= low) & (x <= high)
    styles = ("-", "--", "-.", ":") * 2
    lines = zip(COLORS, styles, curves(ratio.to_dataset(name="r"), "T"), strict=False)
    for colour, style, (T, line) in lines:
        r = line.r
        full.plot(x, r.where(r > 0), color=colour, ls=style, lw=1.4, label=f"{T:g}")
        zoom.plot(x.where(window, drop=True), r.where(window, drop=True) / r.max(),
                  color=colour, ls=style, lw=1.4)
    full.set_yscale("log")
    peak = float(ratio.max())
    full.set_ylim(peak * 1e-5, peak * 3)
    full.set_xlim(float(x.min()), float(x.max()))
    full.set_ylabel(r"excess noise $\Delta S/S_\mathrm{eq}$")
    full.legend(title=r"$T$ [$E_0/k_B$]", fontsize="small", loc="upper left")
    zoom.set_ylabel(r"$\Delta S/\Delta S_\mathrm{max}$")
    zoom.set_xlim(low, high)
    zoom.set_ylim(0, 1.08)
    omega = parameter(steady, "Omega")
    if omega is not None:
        full.text(0.98, 0.97, rf"$\Omega = {omega:g}\,E_0$", transform=full.transAxes,
                  ha="right", va="top")
    first = ratio.isel(T=0) if "T" in ratio.dims else ratio
    _annotate_width(zoom, x.where(window, drop=True), first.where(window, drop=True),
                    f"T = {float(first['T']):g}" if "T" in first.coords else "")
    for ax in (full, zoom):
        mark_resonance(ax, steady, text=False)
        frequency_axis(ax, settings, steady)
    full.set_xlabel(DRIVE_LABEL)
    zoom.set_xlabel(r"$-\omega_d$ [$E_0$]")
    panel_labels((full, zoom))
    return figure


def _annotate_width(ax: Axes, x: xr.DataArray, y: xr.DataArray, note: str = "") -> None:
    """Mark the full width at half maximum of a single peak ``y(x)`` (``note``: which curve)."""
    values, xs = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    if not np.any(np.isfinite(values)) or values.size < 3:
        return
    half = np.nanmax(values) / 2
    above = np.flatnonzero(values >= half)
    if above[0] == 0 or above[-1] == values.size - 1:
        return
    left = np.interp(half, values[above[0] - 1:above[0] + 1], xs[above[0] - 1:above[0] + 1])
    right = np.interp(half, values[above[-1]:above[-1] + 2][::-1],
                      xs[above[-1]:above[-1] + 2][::-1])
    left, right = sorted((left, right))
    ax.annotate("", (left, 0.5), (right, 0.5),
                arrowprops={"arrowstyle": "<->", "color": GREY, "lw": 0.8})
    ax.annotate(f"FWHM\n{right - left:.3g}" + (f"\n({note})" if note else ""), (right, 0.5),
                xytext=(6, 0),
                textcoords="offset points", va="center", fontsize="small", color=GREY)
