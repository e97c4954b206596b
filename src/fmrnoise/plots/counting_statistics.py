"""Counting statistics: Fano factors and the third cumulant."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .style import (
    COLORS,
    GREY,
    CaptionedFigure,
    fano_factors,
    fixed_parameters,
    panel_labels,
    parameter,
    select,
    show_parameters,
    stable_branch,
)

TITLE = "Counting statistics: Fano factors and the third cumulant"
#: The figure's own settings, besides ``study``, the shared ones and the axes it fixes.
OPTIONS: tuple[str, ...] = ("current_min", "zoom")
BIAS_LABEL = r"bias $V = \mu_l - \mu_r$ [$E_0/e$]"


def draw(steady_state: xr.Dataset, dot_voltage: xr.Dataset, noise: xr.Dataset,
         settings: Mapping) -> CaptionedFigure:
    """Fano factors F2 = S/(2|I|), F3 = C3/I against the bias, and C3 near zero bias.

    One line per left-lead width Γ_l↓ (normal where it equals Γ_l↑, else magnetic) and drive
    amplitude Ω (solid with drive, dashed without), at the stable state. (a) F2 and (b) F3,
    blank where |I| < ``settings["current_min"]`` (default 0.1 eE0/ħ), with the double tunnel
    junction's values F2 = (1 + a²)/2 and F3 = (1 + 3a⁴)/4 (normal leads, T = 0, no precession,
    a = (Γ_l − Γ_r)/(Γ_l + Γ_r); docs/theory.md §10) from the store's widths. (c) C3 itself for
    |V| ≤ ``settings["zoom"]`` (default 0.3 E0). Quotes the threshold (``current_min``), a and
    the reference values (``a``, ``F2_ref``, ``F3_ref``), F2 and F3 of normal leads without
    drive at the largest bias (``F2_far``, ``F3_far``), and the current and C3 at V = 0 of the
    magnetic lead with the strongest drive (``I_zero``, ``C3_zero``), from the stores.
    """
    keep = ("mu_l", "gamma_l_down", "Omega")
    steady, volt, data = (select(ds, keep, settings) for ds in (steady_state, dot_voltage, noise))
    current = stable_branch(steady, volt.current)
    V = data.mu_l - (parameter(data, "mu_r") or 0.0)
    current_min = float(settings.get("current_min", 0.1))
    F2, F3 = (stable_branch(steady, f) for f in fano_factors(data, volt.current, current_min))
    C3 = stable_branch(steady, data.C3)
    figure = CaptionedFigure((10.0, 3.6))
    axes = figure.subplots(1, 3)
    zoom = abs(V) <= float(settings.get("zoom", 0.3))
    up = fixed_parameters(data).get("gamma_l_up")
    lines = []
    for index, width in enumerate(np.atleast_1d(data.gamma_l_down.values)):
        kind = "normal" if width == up else "magnetic"
        for omega in np.atleast_1d(data.Omega.values):
            where = {"gamma_l_down": width, "Omega": omega}
            style = {"color": COLORS[index], "ls": "-" if omega > 0 else "--", "lw": 1.3,
                     "label": rf"{kind} ($\Gamma_l^\downarrow = {width:g}$), $\Omega = {omega:g}$"}
            axes[0].plot(V, F2.sel(where), **style)
            axes[1].plot(V, F3.sel(where), **style)
            lines += axes[2].plot(V.where(zoom, drop=True), C3.sel(where).where(zoom, drop=True),
                                  **style)
    a = _asymmetry(data)
    if a is not None:
        references = ((1 + a**2) / 2, (1 + 3 * a**4) / 4)
        for ax, value, label in zip(axes[:2], references, ("(1 + a^2)/2", "(1 + 3a^4)/4"),
                                    strict=True):
            reference = ax.axhline(value, color="k", lw=0.9, ls=":", gid="closed form",
                                   label=rf"${label}$, $a = {a:.3g}$")
            ax.legend(handles=[reference], fontsize="x-small", loc="upper right")
        figure.quote("a", a)
        figure.quote("F2_ref", references[0], digits=4)
        figure.quote("F3_ref", references[1], digits=4)
    _quote_values(figure, V, current, F2, F3, C3, up)
    if "C3_zero" in figure.numbers:
        c3 = float(figure.numbers["C3_zero"].replace("−", "-"))
        axes[2].plot([0.0], [c3], "o", color=GREY, ms=4)
        axes[2].annotate(f"$C_3 = {c3:.3g}$ at $V = 0$:\npumped $I = {figure.numbers['I_zero']}$",
                         (0.0, c3), xytext=(0.55, 0.12), textcoords="axes fraction",
                         fontsize="x-small", color=GREY,
                         arrowprops={"arrowstyle": "->", "color": GREY, "lw": 0.8})
    phidot = parameter(steady, "omega_d")
    for ax in axes[:2]:
        for sign in (-1, 1):
            if phidot is not None:
                ax.axvline(sign * abs(phidot), color=GREY, ls=":", lw=0.8, zorder=0)
    figure.quote("current_min", current_min, digits=None)
    axes[0].set_ylabel(r"$F_2 = S/2|I|$")
    axes[1].set_ylabel(r"$F_3 = C_3/I$")
    axes[2].set_ylabel(r"third cumulant $C_3$ [$e^3E_0/\hbar$]")
    axes[2].axhline(0, color=GREY, lw=0.5)
    axes[2].axvline(0, color=GREY, lw=0.5)
    for ax in axes:
        ax.set_xlabel(BIAS_LABEL)
    axes[2].legend(handles=lines, fontsize="x-small", loc="upper left")
    axes[0].set_title(rf"blank: $|I| < {current_min:g}\,eE_0/\hbar$", fontsize="small",
                      loc="right")
    panel_labels(axes)
    show_parameters(figure, steady, volt, data, settings=settings)
    return figure


def _asymmetry(noise: xr.Dataset) -> float | None:
    """a = (Γ_l − Γ_r)/(Γ_l + Γ_r) of the store's normal leads (the Γ_l↓ axis value equal to
    Γ_l↑), or None without a normal configuration."""
    values = fixed_parameters(noise)
    g_l, g_r = values.get("gamma_l_up"), values.get("gamma_r_up")
    if (g_l is None or g_r is None or g_r != values.get("gamma_r_down")
            or g_l not in np.atleast_1d(noise.gamma_l_down.values)):
        return None
    return (g_l - g_r) / (g_l + g_r)


def _quote_values(figure: CaptionedFigure, V: xr.DataArray, current: xr.DataArray,
                  F2: xr.DataArray, F3: xr.DataArray, C3: xr.DataArray, up: float) -> None:
    """The stored values the caption quotes (see :func:`draw`)."""
    far = int(np.argmax(abs(V.values)))
    normal = {"gamma_l_down": up, "Omega": float(F2.Omega.min())}
    if up in F2.gamma_l_down.values:
        figure.quote("F2_far", float(F2.sel(normal).isel(mu_l=far)), digits=4)
        figure.quote("F3_far", float(F3.sel(normal).isel(mu_l=far)), digits=4)
    widths = [w for w in F2.gamma_l_down.values if w != up]
    if widths:
        zero = {"gamma_l_down": widths[0], "Omega": float(F2.Omega.max())}
        at = int(np.argmin(abs(V.values)))
        figure.quote("I_zero", float(current.sel(zero).isel(mu_l=at)))
        figure.quote("C3_zero", float(C3.sel(zero).isel(mu_l=at)))
