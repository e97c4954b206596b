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
eE0/ħ. The drive frequency is drawn as the co-rotating frequency −ω_d (docs/theory.md §7.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..physics.codes import Kind, Stability
from ..pipeline.contract import EXTRA_DIMS

#: Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
GREY = "0.45"
STABLE = Stability.STABLE
#: h·1 GHz / k_B in mK, and h·1 GHz in µeV (so µV for a potential, e = 1).
MK_PER_GHZ = 47.99243073366221
UEV_PER_GHZ = 4.135667696923859

DRIVE_LABEL = r"co-rotating drive frequency $-\omega_d$ [$E_0$]"
OMEGA_LABEL = r"drive amplitude $\Omega$ [$E_0$]"
THETA_LABEL = r"polar angle $\theta$"
NOISE_UNIT = r"$e^2E_0/\hbar$"
WIDE, TALL = (7.0, 3.0), (4.6, 5.4)


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


def noise_ratio(noise: xr.Dataset) -> xr.DataArray:
    """ΔS/S_eq per branch (dimensionless; independent of the noise normalization)."""
    return noise.excess_noise / noise.S_eq


def grid_map(data: xr.DataArray) -> xr.DataArray:
    """A 2-D map ordered (Omega, omega_d) with −ω_d ascending, as pcolormesh expects."""
    return sorted_axis(data.transpose("Omega", "omega_d"), "omega_d")


def symbol(axis: str) -> str:
    """Math symbol of a model parameter, for titles."""
    symbols = {"mu_l": r"\mu_l", "mu_r": r"\mu_r", "Omega": r"\Omega", "omega_d": r"\omega_d",
               "T": "T", "T_r": "T_r"}
    return symbols.get(axis, axis.replace("_", r"\_"))


def microvolt(settings: Mapping, ds: xr.Dataset) -> float | None:
    """µV per E0/e, from the setting ``B0_GHz``."""
    ghz = ghz_per_energy_unit(settings, ds)
    return None if ghz is None else ghz * UEV_PER_GHZ


def lead_summary(ds: xr.Dataset) -> str:
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


def sweep_panels(total: Axes, change: Axes, x: xr.DataArray, S: xr.DataArray) -> None:
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


def save(figure: Figure, *paths: str) -> None:
    """Write a figure to each path (format from the suffix; PNG at 200 dpi, reproducible PDF)."""
    for path in paths:
        metadata = {"CreationDate": None} if str(path).endswith(".pdf") else {}
        figure.savefig(path, dpi=200, metadata=metadata)


def draw_boundaries(ax: Axes, boundaries: xr.Dataset | None, x: str, y: str,
                    fixed: Mapping[str, float]) -> None:
    """The fold and Hopf points of the boundaries store on a map of ``x`` against ``y``.

    Only the points at the grid values ``fixed`` of the other steady-state axes are drawn
    (folds and Hopf points as small markers, dense enough to read as lines); nothing if the
    map's axes are not both steady-state axes.
    """
    if boundaries is None or x not in boundaries or y not in boundaries:
        return
    here = np.ones(boundaries.sizes["point"], dtype=bool)
    for name, value in fixed.items():
        if name in boundaries and name not in (x, y):
            here &= np.isclose(boundaries[name].values, value, rtol=1e-12, atol=0.0)
    for kind, colour, label in ((Kind.HOPF, "k", "Hopf points"),
                                (Kind.FOLD, COLORS[1], "folds")):
        points = here & (boundaries.kind.values == kind)
        if points.any():
            ax.plot(boundaries[x].values[points], boundaries[y].values[points], ".",
                    color=colour, ms=1.5, label=label)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="upper right", markerscale=4)
