"""Publication figures from the pipeline's Zarr stores (matplotlib object API, no pyplot state).

Every public figure function takes the xarray Datasets of the stores it draws (its parameters are
named after the stores: ``steady_state``, ``distribution``, ``dot_voltage``, ``noise``) and a
mapping of figure-only settings, and returns a :class:`matplotlib.figure.Figure`. The workflow
rule ``figure_<name>`` calls the function ``<name>``.

Common settings (all optional):

- ``<axis>: value``: fixes a grid axis that the figure does not draw at the nearest grid value
  (default: the axis's first value); e.g. ``Omega: 0.02`` for the FMR-line figure.
- ``B0_GHz``: physical scale B0/h in GHz; adds secondary axes in GHz, mK or µV.

Units follow the stores: energies in E0, temperatures in E0/k_B, noise in e²E0/ħ, currents in
eE0/ħ. The drive frequency is drawn as the co-rotating frequency −ω_d (physics.md §7.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .contract import EXTRA_DIMS
from .distribution import fermi_step

#: Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
GREY = "0.45"
#: Stability code of a stable state in the steady-state store (design.md §3).
STABLE = 0
#: h·1 GHz / k_B in mK, and h·1 GHz in µeV (so µV for a potential, e = 1).
MK_PER_GHZ = 47.99243073366221
UEV_PER_GHZ = 4.135667696923859

DRIVE_LABEL = r"co-rotating drive frequency $-\omega_d$ [$E_0$]"
OMEGA_LABEL = r"drive amplitude $\Omega$ [$E_0$]"
THETA_LABEL = r"polar angle $\theta$"
NOISE_UNIT = r"$e^2E_0/\hbar$"
WIDE, TALL = (7.0, 3.0), (4.6, 5.4)


# --- reading the stores -----------------------------------------------------------------------


def model_parameters(ds: xr.Dataset) -> dict:
    """The resolved scalar model parameters of a store (its ``model`` attribute)."""
    return json.loads(ds.attrs.get("model", "{}"))


def grid_axes(ds: xr.Dataset) -> list[str]:
    """The study's grid axes that ``ds`` spans, in store order."""
    return [str(dim) for dim in ds.dims if dim not in EXTRA_DIMS]


def select(ds: xr.Dataset, keep: Sequence[str], settings: Mapping) -> xr.Dataset:
    """Fix every grid axis not in ``keep`` at ``settings[axis]`` (nearest grid value).

    Without a setting an axis is fixed at its first value. A fixed axis stays as a scalar
    coordinate, so :func:`parameter` still finds its value.
    """
    for axis in grid_axes(ds):
        if axis not in keep:
            value = settings.get(axis, ds[axis].values[0])
            ds = ds.sel({axis: value}, method="nearest")
    return ds


def parameter(ds: xr.Dataset, name: str) -> float | None:
    """Scalar value of a model parameter: a fixed (0-d) coordinate, else the ``model`` attribute.

    Returns None for a parameter that is null (``T_r`` without thermal bias) or still an axis.
    """
    if name in ds.coords and ds[name].ndim == 0:
        return float(ds[name])
    value = model_parameters(ds).get(name)
    return None if value is None or name in ds.dims else float(value)


def stable_branch(steady: xr.Dataset, variable: xr.DataArray) -> xr.DataArray:
    """``variable`` at the lowest-theta stable state of each point (NaN where there is none)."""
    stable = steady.stability == STABLE
    first = stable.argmax("branch")
    return variable.isel(branch=first).where(stable.any("branch"))


def curves(ds: xr.Dataset, axis: str) -> Iterator[tuple[float, xr.Dataset]]:
    """(value, subset) for each value of ``axis`` (one pair if ``axis`` is not a grid axis)."""
    if axis in ds.dims:
        for value in ds[axis].values:
            yield float(value), ds.sel({axis: value})
    else:
        yield parameter(ds, axis), ds


def sorted_axis(data: xr.DataArray, axis: str) -> xr.DataArray:
    """``data`` ordered by ascending −``axis`` (for axes drawn as −ω_d)."""
    return data.sortby(-data[axis])


# --- physical units and annotations -----------------------------------------------------------


def ghz_per_energy_unit(settings: Mapping, ds: xr.Dataset) -> float | None:
    """E0/h in GHz from the setting ``B0_GHz`` (B0/h in GHz) and the study's B0, or None."""
    b0_ghz, b0 = settings.get("B0_GHz"), parameter(ds, "B0")
    if b0_ghz is None or not b0:
        return None
    return float(b0_ghz) / b0


def secondary_axis(ax: Axes, factor: float | None, label: str, which: str = "x") -> None:
    """Add a top (``which="x"``) or right axis showing the values times ``factor``."""
    if factor is None:
        return
    functions = (lambda v: v * factor, lambda v: v / factor)
    if which == "x":
        ax.secondary_xaxis("top", functions=functions).set_xlabel(label)
    else:
        ax.secondary_yaxis("right", functions=functions).set_ylabel(label)


def frequency_axis(ax: Axes, settings: Mapping, ds: xr.Dataset) -> None:
    """Secondary x axis of −ω_d/2π in GHz (needs the setting ``B0_GHz``)."""
    secondary_axis(ax, ghz_per_energy_unit(settings, ds), r"$-\omega_d/2\pi$ [GHz]")


def temperature_axis(ax: Axes, settings: Mapping, ds: xr.Dataset, symbol: str = "T") -> None:
    """Secondary x axis of a temperature in mK (needs the setting ``B0_GHz``)."""
    ghz = ghz_per_energy_unit(settings, ds)
    secondary_axis(ax, None if ghz is None else ghz * MK_PER_GHZ, f"${symbol}$ [mK]")


def free_precession(ds: xr.Dataset) -> float | None:
    """Free-precession frequency B0/(1+α₀²) [E0] (the FMR position), or None if not scalar."""
    b0, alpha0 = parameter(ds, "B0"), parameter(ds, "alpha0")
    if b0 is None or alpha0 is None:
        return None
    return b0 / (1 + alpha0**2)


def mark_resonance(ax: Axes, ds: xr.Dataset, text: bool = True) -> None:
    """Dotted vertical line at the free-precession frequency −ω_d = B0/(1+α₀²).

    With ``text`` the line gets a legend label.
    """
    free = free_precession(ds)
    if free is None:
        return
    ax.axvline(free, color=GREY, lw=0.8, ls=":", zorder=0,
               label=r"$B_0/(1+\alpha_0^2)$" if text else None)


def panel_labels(axes: Sequence[Axes]) -> None:
    """Label panels (a), (b), ... above their top-left corners (as left-aligned titles)."""
    for index, ax in enumerate(axes):
        ax.set_title(f"({chr(ord('a') + index)})", loc="left", fontweight="bold",
                     fontsize="medium")


def pi_ticks(ax: Axes) -> None:
    """y ticks at multiples of π/4 on an angle axis [rad]."""
    ax.set_yticks(np.pi * np.arange(5) / 4, ["0", "π/4", "π/2", "3π/4", "π"])
    ax.set_ylim(-0.05, np.pi + 0.05)


# --- 1. precession angle ----------------------------------------------------------------------


def precession_angle(steady_state: xr.Dataset, settings: Mapping) -> Figure:
    """Stationary polar angle θ against −ω_d, stable (solid) and unstable (dashed), for each Ω.

    Shows the FMR line at −ω_d = B0/(1+α²), the saturation at the equator θ = π/2 and the
    stable state in the lower hemisphere at strong drive.
    """
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = figure.subplots()
    x = -steady.omega_d
    for colour, (omega, point) in zip(COLORS, curves(steady, "Omega"), strict=False):
        for branch in point.branch.values:
            slot = point.sel(branch=branch)
            filled = slot.stability >= 0
            ax.plot(x, slot.theta.where(slot.stability == STABLE), color=colour, lw=1.6,
                    label=f"{omega:g}" if branch == 0 else None)
            ax.plot(x, slot.theta.where(filled & (slot.stability != STABLE)), color=colour,
                    lw=0.9, ls="--")
    ax.axhline(np.pi / 2, color=GREY, lw=0.6)
    ax.text(0.99, np.pi / 2, "equator", transform=ax.get_yaxis_transform(), ha="right",
            va="bottom", fontsize="small", color=GREY)
    mark_resonance(ax, steady)
    _annotate_flip(ax, steady)
    pi_ticks(ax)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(DRIVE_LABEL)
    ax.set_ylabel(THETA_LABEL)
    ax.legend(title=r"$\Omega$ [$E_0$]", fontsize="small", loc="center left",
              bbox_to_anchor=(1.0, 0.5), frameon=False)
    frequency_axis(ax, settings, steady)
    return figure


def _annotate_flip(ax: Axes, steady: xr.Dataset) -> None:
    """Point at a stable state well inside the lower hemisphere, at the strongest drive."""
    lower = stable_branch(steady, steady.theta) > np.pi / 2 + 0.3
    if "Omega" in lower.dims:
        strongest = np.flatnonzero(lower.any("omega_d").values)
        if strongest.size == 0:
            return
        steady, lower = steady.isel(Omega=strongest[-1]), lower.isel(Omega=strongest[-1])
    points = np.flatnonzero(lower.values)
    if points.size == 0:
        return
    point = steady.isel(omega_d=points[-1])  # the one closest to resonance from below in ω_d
    xy = (float(-point.omega_d), float(stable_branch(point, point.theta)))
    ax.annotate("stable state in the\nlower hemisphere", xy, xytext=(40, -45),
                textcoords="offset points", ha="left", fontsize="small",
                arrowprops={"arrowstyle": "->", "color": GREY, "lw": 0.8})


# --- 2. FMR line detected by noise ------------------------------------------------------------


def fmr_line(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Excess noise ΔS/S_eq of the stable state against −ω_d, for each temperature.

    (a) full range, logarithmic; (b) the line near resonance, normalized to its maximum, in the
    window ``settings["zoom"]`` (default: ±0.25 B0 around the resonance). The drive amplitude is
    ``settings["Omega"]``.
    """
    steady = select(steady_state, ("omega_d",), settings)
    ratio = stable_branch(steady, _noise_ratio(select(noise, ("omega_d", "T"), settings)))
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


def _noise_ratio(noise: xr.Dataset) -> xr.DataArray:
    """ΔS/S_eq per branch (dimensionless; independent of the noise normalization)."""
    return noise.excess_noise / noise.S_eq


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


# --- 3. temperature crossover -----------------------------------------------------------------


def temperature_crossover(steady_state: xr.Dataset, noise: xr.Dataset,
                          settings: Mapping) -> Figure:
    """Noise S and excess noise ΔS against T at resonance, log-log, with their asymptotes.

    S → 4GT at high T and S → G sin²θ|φ̇| at low T, crossing at T* = sin²θ|φ̇|/4;
    ΔS → G sin²θ φ̇²/(6T) at high T (physics.md §6), with φ̇ = ω_d.
    """
    steady = select(steady_state, (), settings)
    data = select(noise, ("T",), settings)
    S, excess = stable_branch(steady, data.S), stable_branch(steady, data.excess_noise)
    s_eq = stable_branch(steady, data.S_eq)
    G = float(stable_branch(steady, data.conductance).mean())
    sin2 = float(np.sin(stable_branch(steady, steady.theta)) ** 2)
    omega_d = parameter(steady, "omega_d")
    phidot = abs(omega_d)
    T = data.T
    figure = Figure(figsize=WIDE, layout="constrained")
    total, extra = figure.subplots(1, 2)
    total.loglog(T, S, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$S$")
    total.loglog(T, s_eq, "--", color=GREY, lw=1, label=r"$4GT$")
    low_t = G * sin2 * phidot
    total.axhline(low_t, color=COLORS[1], ls="--", lw=1,
                  label=r"$G\sin^2\theta\,|\omega_d|$")
    crossover = sin2 * phidot / 4
    total.axvline(crossover, color=GREY, ls=":", lw=0.8)
    total.annotate(r"$T^* = \sin^2\theta\,|\omega_d|/4$", (crossover, 0.9), xytext=(4, 0),
                   textcoords="offset points", xycoords=("data", "axes fraction"),
                   fontsize="small", color=GREY)
    total.set_ylim(low_t / 5, float(S.max()) * 2)
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    extra.loglog(T, excess, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$\Delta S$")
    extra.loglog(T, G * sin2 * phidot**2 / (6 * T), "--", color=COLORS[2], lw=1,
                 label=r"$G\sin^2\theta\,\omega_d^2/6T$")
    extra.axhline(low_t, color=COLORS[1], ls="--", lw=1, label=r"$G\sin^2\theta\,|\omega_d|$")
    extra.axvline(crossover, color=GREY, ls=":", lw=0.8)
    extra.set_ylim(float(excess.min()) / 3, low_t * 3)
    extra.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    for ax in (total, extra):
        ax.set_xlabel(r"temperature $T$ [$E_0/k_B$]")
        ax.legend(fontsize="small", loc="lower right" if ax is total else "lower left")
        temperature_axis(ax, settings, steady)
    panel_labels((total, extra))
    omega = parameter(steady, "Omega")
    figure.suptitle(rf"$\omega_d = {omega_d:g}\,E_0$"
                    + (rf", $\Omega = {omega:g}\,E_0$" if omega is not None else "")
                    + rf": $\theta = {float(stable_branch(steady, steady.theta)):.3g}$",
                    fontsize="medium")
    return figure


# --- 4. drive power ---------------------------------------------------------------------------


def drive_power(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """θ and excess noise ΔS against the drive amplitude Ω at resonance (log scales).

    ΔS = G sin²θ [φ̇ coth(φ̇/2T) − 2T] grows as Ω² (sin θ = Ω/|κ|) and saturates once θ reaches
    the equator at Ω = |κ| = α|ω_d|.
    """
    steady = select(steady_state, ("Omega",), settings)
    data = select(noise, ("Omega",), settings)
    omega = steady.Omega.where(steady.Omega > 0, drop=True)
    steady, data = steady.sel(Omega=omega), data.sel(Omega=omega)
    theta = stable_branch(steady, steady.theta)
    excess = stable_branch(steady, data.excess_noise)
    kappa = float(abs(stable_branch(steady, steady.alpha) * parameter(steady, "omega_d")).mean())
    sin2 = np.sin(theta) ** 2
    saturation = float((excess / sin2).where(sin2 > 0).median())
    figure = Figure(figsize=TALL, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.6]})
    top.semilogx(omega, theta, "o-", color=COLORS[0], ms=3.5, lw=1.4)
    top.axhline(np.pi / 2, color=GREY, lw=0.6)
    top.set_yticks([0, np.pi / 4, np.pi / 2], ["0", "π/4", "π/2"])
    top.set_ylabel(THETA_LABEL)
    bottom.loglog(omega, excess, "o-", color=COLORS[0], ms=3.5, lw=1.4, label=r"$\Delta S$")
    grow = omega.where(omega <= kappa, drop=True)
    bottom.loglog(grow, saturation * (grow / kappa) ** 2, "--", color=COLORS[1], lw=1.2,
                  zorder=3, label=r"$\Delta S_\mathrm{sat}\,(\Omega/|\kappa|)^2$")
    bottom.axhline(saturation, color=COLORS[2], ls="--", lw=1,
                   label=r"$\Delta S_\mathrm{sat}$ ($\theta = \pi/2$)")
    bottom.set_ylabel(rf"excess noise $\Delta S$ [{NOISE_UNIT}]")
    bottom.set_xlabel(OMEGA_LABEL)
    bottom.legend(fontsize="small", loc="lower right")
    for ax in (top, bottom):
        ax.axvline(kappa, color=GREY, ls=":", lw=0.8)
    top.annotate(r"$\Omega = |\kappa| = \alpha|\omega_d|$", (kappa, np.pi / 8), xytext=(4, 0),
                 textcoords="offset points", ha="left", fontsize="small", color=GREY)
    bottom.set_ylim(top=saturation * 4)
    T = parameter(data, "T")
    top.set_title(rf"resonance $\omega_d = -B_0$, $T = {T:g}\,E_0/k_B$" if T is not None
                  else r"resonance $\omega_d = -B_0$", fontsize="medium")
    panel_labels((top, bottom))
    return figure


# --- 5. rotating-frame distribution -----------------------------------------------------------


def lead_temperatures(noise: xr.Dataset, settings: Mapping) -> tuple[float, float]:
    """(T_l, T_r) [E0/k_B] of the study, from the noise store (fixed axes via ``settings``)."""
    data = select(noise, (), settings)
    T = parameter(data, "T")
    T_r = parameter(data, "T_r")
    return T, T if T_r is None else T_r


def occupations(distribution: xr.Dataset, temperatures: tuple[float, float],
                energy: np.ndarray) -> np.ndarray:
    """Dot occupations n_d^σ(ε) = [1 − F_d^σ(ε)]/2 sampled from a store's step lists.

    Parameters
    ----------
    distribution : step lists of one point and branch: step_position, step_weight with dims
        (spin, lead, step), lead_weight with dims (spin, lead).
    temperatures : (T_l, T_r) [E0/k_B].
    energy : (E,) energies [E0].

    Returns
    -------
    (spin, E) occupations.
    """
    position = distribution.step_position.transpose("spin", "lead", "step").values
    weight = distribution.step_weight.transpose("spin", "lead", "step").values
    lead_weight = distribution.lead_weight.transpose("spin", "lead").values
    T = np.asarray(temperatures, dtype=float)[np.newaxis, :, np.newaxis, np.newaxis]
    F = fermi_step(energy - position[..., np.newaxis], T)
    F_dot = np.einsum("sl,slk,slke->se", lead_weight, weight, F)
    return (1 - F_dot) / 2


def dot_distribution(steady_state: xr.Dataset, distribution: xr.Dataset, noise: xr.Dataset,
                     settings: Mapping) -> Figure:
    """Rotating-frame dot occupation n_d^σ(ε) next to the leads' equilibrium Fermi functions.

    One panel per value of the axis ``settings["panels"]`` (default: the study's first grid
    axis, e.g. μ_l: without and with bias), or per value of ``settings["values"]`` along it
    (nearest grid values). The energy window is ``settings["energy"]`` [E0] (default: the steps
    ± 8 T).
    """
    panel_axis = settings.get("panels") or (grid_axes(distribution) or [None])[0]
    keep = (panel_axis,) if panel_axis else ()
    dist, steady = select(distribution, keep, settings), select(steady_state, keep, settings)
    temperatures = lead_temperatures(noise, settings)
    if panel_axis and "values" in settings:
        dist = dist.sel({panel_axis: settings["values"]}, method="nearest")
    values = list(curves(dist, panel_axis)) if panel_axis else [(None, dist)]
    energy = _energy_window(dist, temperatures, settings)
    figure = Figure(figsize=(3.3 * len(values) + 0.6, 3.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(values), sharey=True))
    for ax, (value, point) in zip(axes, values, strict=True):
        state = steady.sel({panel_axis: value}) if panel_axis in steady.dims else steady
        stable = state.stability == STABLE
        if bool(stable.any()):
            branch = int(stable.argmax("branch"))
            _draw_occupations(ax, point.isel(branch=branch), temperatures, energy)
            title = rf"$\theta = {float(state.theta.isel(branch=branch)):.3g}$"
        else:
            title = "no stable state"
        if panel_axis:
            title = rf"${_symbol(panel_axis)} = {value:g}\,E_0$, " + title
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(r"energy $\varepsilon$ [$E_0$]")
        ax.set_xlim(energy[0], energy[-1])
    axes[0].set_ylabel(r"occupation $n(\varepsilon) = [1 - F(\varepsilon)]/2$")
    axes[0].set_ylim(-0.03, 1.03)
    T_l, T_r = temperatures
    axes[-1].legend(fontsize="small", loc="upper right",
                    title=rf"$T = {T_l:g}\,E_0/k_B$" if T_l == T_r
                    else rf"$T_l, T_r = {T_l:g}, {T_r:g}\,E_0/k_B$", title_fontsize="small")
    panel_labels(axes)
    return figure


def _symbol(axis: str) -> str:
    """Math symbol of a model parameter, for titles."""
    symbols = {"mu_l": r"\mu_l", "mu_r": r"\mu_r", "Omega": r"\Omega", "omega_d": r"\omega_d",
               "T": "T", "T_r": "T_r"}
    return symbols.get(axis, axis.replace("_", r"\_"))


def _energy_window(dist: xr.Dataset, temperatures: tuple[float, float],
                   settings: Mapping) -> np.ndarray:
    """Energies [E0] at which the distributions are sampled (1201 points)."""
    if "energy" in settings:
        low, high = settings["energy"]
    else:
        margin = 8 * max(temperatures) + 0.1
        low = float(dist.step_position.min()) - margin
        high = float(dist.step_position.max()) + margin
    return np.linspace(low, high, 1201)


def _draw_occupations(ax: Axes, point: xr.Dataset, temperatures: tuple[float, float],
                      energy: np.ndarray) -> None:
    """Dot occupations of both spins and the two leads' Fermi functions at one state."""
    potentials = _lead_potentials(point)
    styles = ("--", ":")
    drawn = set()
    for (lead, mu_x), T_x, style in zip(potentials.items(), temperatures, styles, strict=True):
        key = (round(mu_x, 12), round(T_x, 12))
        if key in drawn:
            continue
        drawn.add(key)
        fermi = (1 - fermi_step(energy - mu_x, T_x)) / 2
        label = rf"Fermi $n_F(\varepsilon - \mu_{lead})$"
        ax.plot(energy, fermi, color=GREY, ls=style, lw=1.1, label=label)
    n = occupations(point, temperatures, energy)
    for colour, spin, sign in zip(COLORS[:2], ("up", "down"), ("↑", "↓"), strict=True):
        index = list(point.spin.values).index(spin)
        ax.plot(energy, n[index], color=colour, lw=1.6, label=rf"dot $n_d^{sign}$")


def _lead_potentials(point: xr.Dataset) -> dict[str, float]:
    """Lead potentials μ_x [E0] recovered from the step lists (mean of the σ = ±1 same steps).

    Same-spin steps sit at μ_x − σω₋, so the mean over σ is μ_x (north-pole gauge).
    """
    same = point.step_position.sel(step="same")
    return {str(lead): float(same.sel(lead=lead).mean("spin")) for lead in point.lead.values}


# --- 6. phase diagram, normal leads -----------------------------------------------------------


def phase_diagram(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """(−ω_d, Ω) maps: cos θ of the stable state (its hemisphere) and ΔS/S_eq (log colours)."""
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    data = select(noise, ("omega_d", "Omega"), settings)
    cos = _map(np.cos(stable_branch(steady, steady.theta)))
    ratio = _map(stable_branch(steady, _noise_ratio(data)))
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


def _map(data: xr.DataArray) -> xr.DataArray:
    """A 2-D map ordered (Omega, omega_d) with −ω_d ascending, as pcolormesh expects."""
    return sorted_axis(data.transpose("Omega", "omega_d"), "omega_d")


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


# --- 7. phase diagram, magnetic lead ----------------------------------------------------------


def phase_diagram_magnetic(steady_state: xr.Dataset, dot_voltage: xr.Dataset,
                           settings: Mapping) -> Figure:
    """(−ω_d, Ω) maps with lead damping: number of stable states and the dc current.

    (a) 0 stable states (status flag no_stable_state: the magnet precesses on a limit cycle),
    1, or 2 (bistable). (b) the current I of the lowest-θ stable state; hatched where there
    is no stable state.
    """
    steady = select(steady_state, ("omega_d", "Omega"), settings)
    volt = select(dot_voltage, ("omega_d", "Omega"), settings)
    n_stable = _map(steady.n_stable)
    current = _map(stable_branch(steady, volt.current))
    figure = Figure(figsize=(7.6, 3.3), layout="constrained")
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
    for ax in (left, right):
        ax.set_xlabel(DRIVE_LABEL)
        frequency_axis(ax, settings, steady)
    left.set_ylabel(OMEGA_LABEL)
    panel_labels((left, right))
    figure.suptitle(_lead_summary(steady), fontsize="small")
    return figure


def _lead_summary(ds: xr.Dataset) -> str:
    """One line with the lead and bias parameters of a store, for titles."""
    model = model_parameters(ds)
    parts = []
    if "gamma_l_up" in model and "gamma_l_down" in model:
        parts.append(rf"$\Gamma_l^{{\uparrow,\downarrow}} = {model['gamma_l_up']:g},"
                     rf" {model['gamma_l_down']:g}$")
    if "gamma_r_up" in model and "gamma_r_down" in model:
        parts.append(rf"$\Gamma_r^{{\uparrow,\downarrow}} = {model['gamma_r_up']:g},"
                     rf" {model['gamma_r_down']:g}$")
    for key, symbol in (("mu_l", r"\mu_l"), ("mu_r", r"\mu_r"), ("alpha0", r"\alpha_0"),
                        ("total_spin", r"\mathrm{spin}\ S"), ("T", "T")):
        if key in model:
            parts.append(rf"${symbol} = {model[key]:g}$")
    return ", ".join(parts)


# --- 8. bias sweep ----------------------------------------------------------------------------


def bias_sweep(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Noise against the bias V = μ_l − μ_r, for each Ω: features at V = ±φ̇ (φ̇ = ω_d).

    (a) S(V); (b) the change S(V; Ω) − S(V; Ω_min) caused by the precession.
    """
    bias = "mu_l" if "mu_l" in noise.dims else "mu_r"
    steady = select(steady_state, (bias, "Omega"), settings)
    data = select(noise, (bias, "Omega"), settings)
    S = stable_branch(steady, data.S)
    V = _bias(data, bias)
    figure = Figure(figsize=WIDE, layout="constrained")
    total, change = figure.subplots(1, 2, sharex=True)
    _sweep(total, change, V, S)
    phidot = parameter(steady, "omega_d")
    for ax in (total, change):
        if phidot is not None:
            for sign in (-1, 1):
                ax.axvline(sign * abs(phidot), color=GREY, ls=":", lw=0.8, zorder=0)
            ax.annotate(r"$V = \pm\dot\varphi$", (abs(phidot), 0.97), xytext=(3, 0),
                        textcoords="offset points", xycoords=("data", "axes fraction"),
                        va="top", fontsize="small", color=GREY)
        ax.set_xlabel(r"bias $V = \mu_l - \mu_r$ [$E_0/e$]")
        secondary_axis(ax, _microvolt(settings, steady), r"$V$ [µV]")
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    change.set_ylabel(rf"$S - S_{{\Omega = {float(S.Omega.min()):g}}}$ [{NOISE_UNIT}]"
                      if "Omega" in S.dims else rf"$S$ [{NOISE_UNIT}]")
    panel_labels((total, change))
    return figure


def _bias(noise: xr.Dataset, axis: str) -> xr.DataArray:
    """V = μ_l − μ_r along the bias axis [E0/e]."""
    other = "mu_r" if axis == "mu_l" else "mu_l"
    value = parameter(noise, other) or 0.0
    return noise[axis] - value if axis == "mu_l" else value - noise[axis]


def _microvolt(settings: Mapping, ds: xr.Dataset) -> float | None:
    """µV per E0/e, from the setting ``B0_GHz``."""
    ghz = ghz_per_energy_unit(settings, ds)
    return None if ghz is None else ghz * UEV_PER_GHZ


def _sweep(total: Axes, change: Axes, x: xr.DataArray, S: xr.DataArray) -> None:
    """S(x) for each Ω on ``total``; S − S(Ω_min) for the other Ω on ``change``."""
    if "Omega" not in S.dims:
        total.plot(x, S, color=COLORS[0], lw=1.4)
        return
    reference = S.isel(Omega=0)
    for index, (colour, omega) in enumerate(zip(COLORS, S.Omega.values, strict=False)):
        label = rf"$\Omega = {omega:g}\,E_0$"
        total.plot(x, S.sel(Omega=omega), color=colour, lw=1.4, label=label)
        if index > 0:
            change.plot(x, S.sel(Omega=omega) - reference, color=colour, lw=1.4, label=label)
    change.axhline(0, color=GREY, lw=0.5)
    change.set_ylim(top=float((S - reference).max()) * 1.15)
    total.legend(fontsize="small", loc="upper center")


# --- 9. thermal bias --------------------------------------------------------------------------


def thermal_bias(steady_state: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Noise against the right lead's temperature T_r at fixed T, for each Ω.

    (a) S(T_r), with the quadrature values as markers when the study stored them and the
    reference 4G T̄; (b) the change S(T_r; Ω) − S(T_r; Ω_min) caused by the precession.
    """
    steady = select(steady_state, ("Omega",), settings)
    data = select(noise, ("T_r", "Omega"), settings)
    S = stable_branch(steady, data.S)
    figure = Figure(figsize=WIDE, layout="constrained")
    total, change = figure.subplots(1, 2, sharex=True)
    _sweep(total, change, data.T_r, S)
    if "S_quadrature" in data:
        quadrature = stable_branch(steady, data.S_quadrature)
        step = max(1, data.T_r.size // 10)
        for colour, (_, line) in zip(COLORS, curves(quadrature.to_dataset(name="q"), "Omega"),
                                     strict=False):
            total.plot(data.T_r[::step], line.q[::step], "o", color=colour, ms=4, mfc="none")
        total.plot([], [], "o", color=GREY, mfc="none", label="quadrature")
    reference = stable_branch(steady, data.S_eq)
    total.plot(data.T_r, reference.isel(Omega=0) if "Omega" in reference.dims else reference,
               color=GREY, ls="--", lw=1, label=r"$4G\bar T$, $\Omega = 0$")
    total.legend(fontsize="small", loc="lower right")
    T = parameter(data, "T")
    for ax in (total, change):
        if T is not None:
            ax.axvline(T, color=GREY, ls=":", lw=0.8, zorder=0)
            ax.annotate(r"$T_r = T$", (T, 0.03), xytext=(3, 0), textcoords="offset points",
                        xycoords=("data", "axes fraction"), fontsize="small", color=GREY)
        ax.set_xlabel(r"right-lead temperature $T_r$ [$E_0/k_B$]")
        temperature_axis(ax, settings, steady, "T_r")
    total.set_ylabel(rf"noise $S$ [{NOISE_UNIT}]")
    change.set_ylabel(rf"$S - S_{{\Omega = {float(S.Omega.min()):g}}}$ [{NOISE_UNIT}]"
                      if "Omega" in S.dims else rf"$S$ [{NOISE_UNIT}]")
    panel_labels((total, change))
    return figure


# --- output -----------------------------------------------------------------------------------


def save(figure: Figure, *paths: str) -> None:
    """Write a figure to each path (format from the suffix; PNG at 200 dpi, reproducible PDF)."""
    for path in paths:
        metadata = {"CreationDate": None} if str(path).endswith(".pdf") else {}
        figure.savefig(path, dpi=200, metadata=metadata)
