"""Field-swept FMR in the noise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .style import (
    COLORS,
    TALL,
    THETA_LABEL,
    CaptionedFigure,
    ampere2_per_hz,
    closed_form,
    curves,
    dense,
    half_maximum,
    legend_entry,
    mark_width,
    millitesla,
    normal_excess_noise,
    normal_leads,
    panel_labels,
    parameter,
    peak_position,
    points,
    secondary_axis,
    select,
    show_parameters,
    source_entries,
    stable_branch,
    stationary_sin2,
)

TITLE = "Field-swept FMR in the noise"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ()


def draw(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> CaptionedFigure:
    """θ and excess noise ΔS of the stable state against the static field B0 at a fixed drive
    frequency ω_d, for each Ω: the FMR line as a field-swept experiment records it.

    With the setting ``B0_GHz`` (read as E0/h: B0 is the axis) the field is drawn in mT (g = 2)
    and the noise in A²/Hz (S e²E0/ħ); without it, both in E0 units. Points: the stored values;
    lines: the closed forms of constant κ and normal leads (docs/theory.md §3, §6). Quotes the
    amplitudes (``omegas``), the full width at half maximum of ΔS (``fwhm``), the peak field
    (``peak``) and height (``height``) for each Ω, in the units drawn (``field_unit``,
    ``noise_unit``).
    """
    steady = select(steady_state, ("B0", "Omega"), settings)
    data = select(noise, ("B0", "Omega"), settings)
    field = millitesla(settings, steady) or 1.0
    scale = ampere2_per_hz(settings, steady) or 1.0
    field_unit, noise_unit = ("mT", "A²/Hz") if field != 1.0 else ("E0", "e²E0/ħ")
    theta = stable_branch(steady, steady.theta)
    excess = stable_branch(steady, data.excess_noise) * scale
    exponent = int(np.floor(np.log10(float(excess.max()))))
    figure = CaptionedFigure(TALL)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    x = theta.B0 * field
    lead, line = normal_leads(data), dense(theta.B0)
    found = {"fwhm": [], "peak": [], "height": []}
    styles = ("-", "--", "-.", ":")
    for colour, style, (omega, angle) in zip(COLORS, styles, curves(theta.to_dataset(), "Omega"),
                                             strict=False):
        y = excess.sel(Omega=omega) if "Omega" in excess.dims else excess
        points(top, x, angle.theta, color=colour)
        points(bottom, x, y / 10.0**exponent, color=colour)
        sin2 = stationary_sin2(steady, B0=line, Omega=omega)
        if sin2 is not None and lead is not None:
            closed_form(top, line * field, np.arcsin(np.sqrt(sin2)), color=colour, ls=style)
            closed = normal_excess_noise(lead[0], sin2, parameter(steady, "omega_d"),
                                         parameter(data, "T")) * scale
            closed_form(bottom, line * field, closed / 10.0**exponent, color=colour, ls=style)
        legend_entry(bottom, colour, style, f"{omega:g}")
        width = half_maximum(x, y)
        found["fwhm"].append(np.nan if width is None else width[1] - width[0])
        found["peak"].append(peak_position(x, y))
        found["height"].append(float(y.max()))
        if width is not None:
            mark_width(bottom, *width, float(y.max()) / 2 / 10.0**exponent, colour=colour)
    figure.quote("omegas", excess.Omega if "Omega" in excess.dims else [], digits=None)
    for name, values in found.items():
        figure.quote(name, values, digits=4 if name == "peak" else 3)
    figure.numbers.update(field_unit=field_unit, noise_unit=noise_unit)
    rows = [f"{w} {field_unit} ($\\Omega = {o}$)" for w, o in
            zip(figure.numbers["fwhm"].split(", "), figure.numbers["omegas"].split(", "),
                strict=True)]
    bottom.text(0.98, 0.97, "FWHM\n" + "\n".join(rows), transform=bottom.transAxes, ha="right",
                va="top", fontsize="small")
    top.set_ylabel(THETA_LABEL)
    top.set_ylim(bottom=0)
    bottom.set_ylabel(rf"excess noise $\Delta S$ [$10^{{{exponent}}}$ {noise_unit}]"
                      if exponent else f"excess noise $\\Delta S$ [{noise_unit}]")
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel(f"static field $B_0$ [{field_unit}]")
    source_entries(bottom)
    bottom.legend(title=r"$\Omega$ [$E_0$]", fontsize="small", loc="upper left")
    if field != 1.0:
        secondary_axis(top, 1 / field, r"$B_0$ [$E_0$]")
    panel_labels((top, bottom))
    show_parameters(figure, steady, data, settings=settings)
    return figure
