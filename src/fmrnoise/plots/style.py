"""Publication figures from the pipeline's Zarr stores (matplotlib object API, no pyplot state).

Every public figure function takes the xarray Datasets of the stores it draws (its parameters are
named after the stores: ``steady_state``, ``distribution``, ``dot_voltage``, ``noise``) and a
mapping of figure-only settings, and returns a :class:`CaptionedFigure`: a matplotlib figure that
also records the numbers its caption quotes (computed from the stores while drawing). The workflow
rule ``figure_<name>`` calls the function ``<name>`` and renders those numbers into the caption.

Common settings (all optional):

- ``<axis>: value``: fixes a grid axis that the figure does not draw at the nearest grid value
  (default: the axis's first value); e.g. ``Omega: 0.02`` for the FMR-line figure.
- ``B0_GHz``: physical scale in GHz: B0/h where B0 is fixed, E0/h where B0 is an axis of the
  study (a field sweep); adds axes in GHz, mT, mK, µV or A²/Hz.

Units follow the stores: energies in E0, temperatures in E0/k_B, noise in e²E0/ħ, currents in
eE0/ħ. The drive frequency is drawn as the co-rotating frequency −ω_d (docs/theory.md §7.2).
Every figure states its fixed parameters, with units, in a line above the panels
(:func:`show_parameters`, from the stores' ``model`` attribute). Closed forms are drawn as lines
(``gid`` "closed form") and the stored values on them as points (``gid`` "store").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..physics.codes import Kind, Stability
from ..physics.kernels import excess_kernel
from ..pipeline.contract import EXTRA_DIMS
from ..pipeline.contract import PARAMETERS as PARAMETER_NAMES

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
#: g = 2 electron: γ/2π = 2 μ_B/h in GHz/T (μ_B/h = 13.996 GHz/T, CODATA 2018), and e in C.
GHZ_PER_TESLA = 2 * 13.996244936
ELEMENTARY_CHARGE = 1.602176634e-19


class CaptionedFigure(Figure):
    """A matplotlib figure (constrained layout) that also records the numbers its caption quotes.

    ``numbers`` maps a name to the text of a value computed from the stores while drawing
    (:meth:`quote`); the figure rule renders them into the report's caption, where
    workflow/report/<name>.rst writes ``{{ numbers.<name> }}``. Minus signs are written "−".
    """

    def __init__(self, figsize: tuple[float, float], **kwargs: object) -> None:
        super().__init__(figsize=figsize, layout="constrained", **kwargs)
        self.numbers: dict[str, str] = {}

    def quote(self, name: str, value: float | Sequence[float], digits: int | None = 3) -> str:
        """Record ``value`` (a number, or several: "a, b, c") to ``digits`` significant digits
        (None: as short as exact, for parameters); returns the text, to print the same on the
        figure."""
        values = np.atleast_1d(np.asarray(value, dtype=float))
        text = ", ".join(f"{v:g}".replace("-", "−") if digits is None else significant(v, digits)
                         for v in values)
        self.numbers[name] = text
        return text


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without exponent for 1e−4 ≤ |value| < 1e6,
    with "−" as the minus sign."""
    if not np.isfinite(value) or value == 0:
        return f"{value:g}".replace("-", "−")
    exponent = int(np.floor(np.log10(abs(value))))
    if -4 <= exponent < 6:
        text = f"{value:.{max(digits - 1 - exponent, 0)}f}"
    else:
        text = f"{value:.{digits - 1}e}"
    return text.replace("-", "−")


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


def stable_branch(steady: xr.Dataset, variable: xr.DataArray, n: int = 0) -> xr.DataArray:
    """``variable`` at the lowest-theta stable state of each point, or with ``n`` > 0 at the
    (n+1)-th stable state in ascending θ (NaN where a point has fewer stable states)."""
    stable = steady.stability == STABLE
    if n:
        stable = stable & (stable.cumsum("branch") == n + 1)
    first = stable.argmax("branch")
    return variable.isel(branch=first).where(stable.any("branch"))


def fano_factors(noise: xr.Dataset, current: xr.DataArray,
                 current_min: float) -> tuple[xr.DataArray, xr.DataArray]:
    """The Fano factors F2 = S/(2|I|) and F3 = C3/I (docs/theory.md §10), NaN where
    |I| < ``current_min`` [eE0/ħ] (their ratios are meaningless where I is small)."""
    large = abs(current) >= current_min
    return ((noise.S / (2 * abs(current))).where(large), (noise.C3 / current).where(large))


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
    """E0/h in GHz from the setting ``B0_GHz``, or None without it.

    Where the study fixes B0, the setting is B0/h (so E0/h = B0_GHz/B0); where B0 is an axis of
    the study (a field sweep), the setting is E0/h itself.
    """
    b0_ghz = settings.get("B0_GHz")
    if b0_ghz is None:
        return None
    b0 = model_parameters(ds).get("B0")
    if b0 is None:
        return float(b0_ghz)
    return float(b0_ghz) / b0 if b0 else None


def millitesla(settings: Mapping, ds: xr.Dataset) -> float | None:
    """mT per E0 of field (g = 2: 1 E0 is (E0/h)/(28.0 GHz/T)), from the setting ``B0_GHz``."""
    ghz = ghz_per_energy_unit(settings, ds)
    return None if ghz is None else 1e3 * ghz / GHZ_PER_TESLA


def ampere2_per_hz(settings: Mapping, ds: xr.Dataset) -> float | None:
    """A²/Hz per e²E0/ħ of noise (e² · 2π E0/h), from the setting ``B0_GHz``."""
    ghz = ghz_per_energy_unit(settings, ds)
    return None if ghz is None else ELEMENTARY_CHARGE**2 * 2 * np.pi * ghz * 1e9


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


def cell_edges(centres: ArrayLike, log: bool = False) -> np.ndarray:
    """Edges of map cells around ascending ``centres``: midpoints, geometric ones with ``log``
    (for a logarithmic axis), the outer edges mirrored."""
    c = np.log(np.asarray(centres, dtype=float)) if log else np.asarray(centres, dtype=float)
    if c.size == 1:
        edges = c + np.array([-0.5, 0.5])
    else:
        middle = (c[1:] + c[:-1]) / 2
        edges = np.concatenate([[2 * c[0] - middle[0]], middle, [2 * c[-1] - middle[-1]]])
    return np.exp(edges) if log else edges


def symbol(axis: str) -> str:
    """Math symbol of a model parameter, for titles."""
    symbols = {"mu_l": r"\mu_l", "mu_r": r"\mu_r", "Omega": r"\Omega", "omega_d": r"\omega_d",
               "T": "T", "T_r": "T_r"}
    return symbols.get(axis, axis.replace("_", r"\_"))


def microvolt(settings: Mapping, ds: xr.Dataset) -> float | None:
    """µV per E0/e, from the setting ``B0_GHz``."""
    ghz = ghz_per_energy_unit(settings, ds)
    return None if ghz is None else ghz * UEV_PER_GHZ


#: Symbol (mathtext) and units of each model parameter in the parameter line, in its order;
#: the spin pairs (ρ↑, ρ↓), (Γ↑, Γ↓) of one lead share an entry.
PARAMETER_SYMBOLS = {
    "B0": ("B_0", "E_0"), "omega_d": (r"\omega_d", "E_0"), "Omega": (r"\Omega", "E_0"),
    "alpha0": (r"\alpha_0", ""), "T": ("T", "E_0/k_B"), "T_r": ("T_r", "E_0/k_B"),
    "mu_l": (r"\mu_l", "E_0"), "mu_r": (r"\mu_r", "E_0"), "rho": (r"\rho", "E_0^{-1}"),
    "gamma_l": (r"\Gamma_l", "E_0"), "gamma_r": (r"\Gamma_r", "E_0"),
}


def fixed_parameters(*datasets: xr.Dataset) -> dict[str, float | bool | None]:
    """The model parameters that ``datasets`` hold fixed: their ``model`` attributes and fixed
    (0-d) axis coordinates, without the axes any of them still spans."""
    values: dict[str, float | bool | None] = {}
    drawn = {str(dim) for ds in datasets for dim in ds.dims}
    for ds in datasets:
        values.update(model_parameters(ds))
        values.update({str(name): float(coord) for name, coord in ds.coords.items()
                       if coord.ndim == 0 and name in PARAMETER_NAMES})
    return {name: value for name, value in values.items() if name not in drawn}


def parameter_items(values: Mapping[str, float | bool | None]) -> list[str]:
    """One mathtext item per fixed parameter, with units (e.g. ``$B_0 = 1\\,E_0$``).

    ``T_r`` null (= T) is left out, ``lead_damping`` true shows the total spin S_tot; a lead
    with equal spin widths shows one Γ, a magnetic one both (Γ^↑, Γ^↓).
    """
    def item(symbol: str, text: str, units: str) -> str:
        return rf"${symbol} = {text}" + (rf"\,{units}$" if units else "$")

    items = []
    for key, (symbol, units) in PARAMETER_SYMBOLS.items():
        if key in ("rho", "gamma_l", "gamma_r"):
            up, down = values.get(f"{key}_up"), values.get(f"{key}_down")
            if up is not None and down is not None and up != down:
                items.append(item(rf"{symbol}^{{\uparrow,\downarrow}}", f"{up:g}, {down:g}",
                                  units))
            elif up is not None or down is not None:
                spin = "" if up == down else (r"^\uparrow" if up is not None else r"^\downarrow")
                items.append(item(symbol + spin, f"{up if up is not None else down:g}", units))
        elif values.get(key) is not None:
            items.append(item(symbol, f"{values[key]:g}", units))
        if key == "alpha0" and values.get("lead_damping"):
            spin = values.get("total_spin")
            items.append("lead damping" + (rf" ($S_\mathrm{{tot}} = {spin:g}\,\hbar$)"
                                           if spin is not None else ""))
    return items


def show_parameters(figure: Figure, *datasets: xr.Dataset, settings: Mapping | None = None,
                    lead: str = "") -> str:
    """Write the fixed parameters of ``datasets`` (:func:`fixed_parameters`) with units in a
    line above the panels (wrapped to the figure's width); ``lead`` precedes them. With the
    setting ``B0_GHz`` the line ends with the scale E0/h in GHz. Returns the text."""
    items = parameter_items(fixed_parameters(*datasets))
    ghz = ghz_per_energy_unit(settings or {}, datasets[0]) if datasets else None
    if ghz is not None:
        items.append(rf"$E_0/h = {ghz:g}$ GHz")
    width = figure.get_figwidth() * 15  # visible characters per line at fontsize "small"
    lines, line = [], f"{lead} " if lead else ""
    for entry in items:
        if line and _visible_length(line + entry) > width:
            lines.append(line.rstrip(", "))
            line = ""
        line += entry + ", "
    text = "\n".join([*lines, line.rstrip(", ")])
    figure.suptitle(text, fontsize="small")
    return text


def _visible_length(text: str) -> int:
    """Characters of ``text`` as printed (mathtext markup roughly removed)."""
    bare = re.sub(r"\\(mathrm|,)|[${}^_]", "", text)
    return len(re.sub(r"\\[a-zA-Z]+", "x", bare))


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


# --- closed forms (docs/theory.md §3, §6) and what a figure quotes ------------------------------


def constant_kappa_sin2(B0: ArrayLike, omega_d: ArrayLike, Omega: ArrayLike,
                        alpha0: ArrayLike) -> np.ndarray:
    """sin²θ of the stationary states for constant κ = α₀ω_d (docs/theory.md §3).

    With b = B0 + ω_d and s = sin²θ, the stationary condition reads
    κ²s² − (b² + κ² + Ω²)s + Ω² = 0; its root s ≤ 1 is written without cancellation,
    s = 2Ω²/(A + √(A² − 4κ²Ω²)), A = b² + κ² + Ω² (κ = 0: Ω²/(b² + Ω²); b = 0: Ω²/max(κ², Ω²)),
    clipped to [0, 1] against rounding.
    """
    b2 = np.square(np.add(B0, omega_d))
    kappa2 = np.square(np.multiply(alpha0, omega_d))
    omega2 = np.square(Omega)
    a = b2 + kappa2 + omega2
    root = np.sqrt(np.maximum(a * a - 4 * kappa2 * omega2, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.where(omega2 > 0, 2 * omega2 / (a + root), 0.0), 0.0, 1.0)


def hopf_amplitude(B0: ArrayLike, omega_d: ArrayLike, alpha0: ArrayLike) -> np.ndarray:
    """Ω on the constant-κ Hopf line B0 + ω_d sin²θ = 0 (docs/theory.md §3, §11), for ω_d < −B0
    (NaN elsewhere): with s = −B0/ω_d the stationary condition gives
    Ω² = s [b² + κ²(1 − s)]/(1 − s). Beyond it (larger Ω) the lower state is the stable one."""
    omega_d = np.asarray(omega_d, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(omega_d < -np.asarray(B0), -np.asarray(B0) / omega_d, np.nan)
        b2 = np.square(np.add(B0, omega_d))
        kappa2 = np.square(np.multiply(alpha0, omega_d))
        return np.sqrt(s * (b2 + kappa2 * (1 - s)) / (1 - s))


def normal_excess_noise(G: ArrayLike, sin2: ArrayLike, phidot: ArrayLike,
                        T: ArrayLike) -> np.ndarray:
    """Excess noise of normal leads at V = 0, ΔS = G sin²θ [φ̇ coth(φ̇/2T) − 2T] [e²E0/ħ]
    (docs/theory.md §6), as G sin²θ E_T(φ̇)/2 with the excess kernel E_T (no cancellation)."""
    return np.multiply(G, sin2) * excess_kernel(phidot, T) / 2


def normal_leads(noise: xr.Dataset) -> tuple[float, float] | None:
    """(G, p_l) where the closed forms of docs/theory.md §6 apply, else None: normal leads
    with fixed widths and densities of states, a fixed T_r equal to T (or null), no lead
    damping. Then G = (ρ↑ + ρ↓)Γ_lΓ_r/(Γ_l + Γ_r) [e²/ħ] and p_l = Γ_l/(Γ_l + Γ_r)."""
    values = fixed_parameters(noise)
    names = ("rho_up", "rho_down", "gamma_l_up", "gamma_l_down", "gamma_r_up", "gamma_r_down")
    if (any(values.get(name) is None for name in names) or values.get("lead_damping")
            or "T_r" not in values or values["T_r"] not in (None, values.get("T"))):
        return None
    g_l, g_r = values["gamma_l_up"], values["gamma_r_up"]
    if g_l != values["gamma_l_down"] or g_r != values["gamma_r_down"]:
        return None
    return (values["rho_up"] + values["rho_down"]) * g_l * g_r / (g_l + g_r), g_l / (g_l + g_r)


def dense(x: ArrayLike, num: int = 801) -> np.ndarray:
    """A dense grid over the range of ``x`` that contains every value of ``x`` (closed-form
    lines pass exactly through the abscissae of the stored points)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return np.union1d(np.linspace(x.min(), x.max(), num), x)


def logdense(x: ArrayLike, per_decade: int = 60) -> np.ndarray:
    """:func:`dense` on a logarithmic axis (positive ``x``)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    low, high = np.log10(x.min()), np.log10(x.max())
    return np.union1d(np.logspace(low, high, max(int((high - low) * per_decade), 2)), x)


def closed_form(ax: Axes, x: ArrayLike, y: ArrayLike, **style: object) -> None:
    """Draw a closed form as a line (``gid`` "closed form", drawn below the stored points)."""
    ax.plot(x, y, **{"lw": 1.3, "zorder": 2, **style}, gid="closed form")


def points(ax: Axes, x: xr.DataArray | np.ndarray, y: xr.DataArray | np.ndarray,
           target: int = 60, **style: object) -> None:
    """Draw stored values as points (``gid`` "store"), at most about ``target`` of them (every
    k-th grid point, so that the markers stay apart)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    step = max(1, int(np.ceil(x.size / target)))
    ax.plot(x[::step], y[::step], **{"ls": "none", "marker": "o", "ms": 3.2, "mfc": "none",
                                     "mew": 0.9, "zorder": 3, **style}, gid="store")


def half_maximum(x: ArrayLike, y: ArrayLike) -> tuple[float, float] | None:
    """The abscissae where a single peak ``y(x)`` crosses half its maximum (linear interpolation
    between grid points), or None when the peak is not bracketed inside the data."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    if y.size < 3:
        return None
    order = np.argsort(x)
    x, y = x[order], y[order]
    half = y.max() / 2
    above = np.flatnonzero(y >= half)
    if above[0] == 0 or above[-1] == y.size - 1:
        return None
    i, j = above[0], above[-1]
    left = x[i - 1] + (half - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1])
    right = x[j] + (half - y[j]) * (x[j + 1] - x[j]) / (y[j + 1] - y[j])
    return float(left), float(right)


def peak_position(x: ArrayLike, y: ArrayLike) -> float:
    """Position of the maximum of ``y(x)``: the vertex of the parabola through the largest
    value and its two neighbours (the grid value at an edge)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    i = int(np.nanargmax(y))
    if i == 0 or i == y.size - 1:
        return float(x[i])
    (x0, x1, x2), (y0, y1, y2) = x[i - 1:i + 2], y[i - 1:i + 2]
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denominator
    return float(-b / (2 * a))


def stationary_sin2(ds: xr.Dataset, **axes: ArrayLike) -> np.ndarray | None:
    """sin²θ of the stationary states by the closed form of constant κ
    (:func:`constant_kappa_sin2`) at the store's fixed B0, Omega, omega_d and alpha0, with
    ``axes`` giving those it sweeps (arrays); None with lead damping, or when one is missing."""
    if model_parameters(ds).get("lead_damping"):
        return None
    values = {name: axes[name] if name in axes else parameter(ds, name)
              for name in ("B0", "omega_d", "Omega", "alpha0")}
    if any(value is None for value in values.values()):
        return None
    return constant_kappa_sin2(**values)


def legend_entry(ax: Axes, colour: str, style: str, label: str) -> None:
    """A legend entry showing a closed-form line with a stored point on it."""
    ax.plot([], [], color=colour, ls=style, lw=1.3, marker="o", ms=3.2, mfc="none", mew=0.9,
            label=label)


def source_entries(ax: Axes) -> None:
    """Legend entries that tell closed-form lines from the pipeline's points."""
    ax.plot([], [], color=GREY, lw=1.3, label="closed form")
    ax.plot([], [], color=GREY, ls="none", marker="o", ms=3.2, mfc="none", mew=0.9,
            label="pipeline")


def mark_width(ax: Axes, left: float, right: float, height: float, text: str = "",
               colour: str = GREY) -> None:
    """A double arrow from ``left`` to ``right`` at ``height``, with ``text`` to its right."""
    ax.annotate("", (left, height), (right, height),
                arrowprops={"arrowstyle": "<->", "color": colour, "lw": 0.8})
    if text:
        ax.annotate(text, (right, height), xytext=(5, 0), textcoords="offset points",
                    va="center", fontsize="small", color=colour)


def branch_legend(ax: Axes, **legend: object) -> None:
    """Legend entries for the line styles of stable (solid) and other (dashed) states."""
    ax.plot([], [], color=GREY, lw=1.6, label="stable")
    ax.plot([], [], color=GREY, lw=0.9, ls="--", label="unstable")
    ax.legend(**legend)


def render_caption(template: str, numbers: Mapping[str, str], **context: object) -> str:
    """A caption template (workflow/report/<name>.rst, Jinja) rendered with the numbers a figure
    quotes (``{{ numbers.<name> }}``) and ``context`` (the rule's ``snakemake`` object).

    Raises KeyError naming a number the template quotes but the figure did not record.
    """
    import jinja2

    missing = sorted(set(re.findall(r"numbers\.(\w+)", template)) - set(numbers))
    if missing:
        raise KeyError(f"the caption quotes numbers the figure did not record: {missing}")
    return jinja2.Environment().from_string(template).render(numbers=numbers, **context)


def save(figure: Figure, *paths: str) -> None:
    """Write a figure to each path (format from the suffix; PNG at 200 dpi, reproducible PDF)."""
    for path in paths:
        metadata = {"CreationDate": None} if str(path).endswith(".pdf") else {}
        figure.savefig(path, dpi=200, metadata=metadata)


def draw_boundaries(ax: Axes, boundaries: xr.Dataset | None, x: str, y: str,
                    fixed: Mapping[str, float], x_sign: float = 1.0,
                    legend: bool = True) -> dict[str, int]:
    """The fold and Hopf points of the boundaries store on a map of ``x`` against ``y``.

    Only the points at the grid values ``fixed`` of the other steady-state axes are drawn
    (folds and Hopf points as small markers, dense enough to read as lines), at ``x_sign``
    times their ``x`` (−1: a map against −ω_d); nothing if the map's axes are not both
    steady-state axes. Returns how many points of each kind were drawn.
    """
    drawn = {"hopf": 0, "fold": 0}
    if boundaries is None or x not in boundaries or y not in boundaries:
        return drawn
    here = np.ones(boundaries.sizes["point"], dtype=bool)
    for name, value in fixed.items():
        if name in boundaries and name not in (x, y):
            here &= np.isclose(boundaries[name].values, value, rtol=1e-12, atol=0.0)
    for kind, colour, label in ((Kind.HOPF, "k", "Hopf points"),
                                (Kind.FOLD, COLORS[3], "folds")):
        points = here & (boundaries.kind.values == kind)
        drawn[kind.name.lower()] = int(points.sum())
        if points.any():
            ax.plot(x_sign * boundaries[x].values[points], boundaries[y].values[points], ".",
                    color=colour, ms=1.5, label=f"{label} (stage boundaries)")
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="x-small", loc="upper right", markerscale=4, framealpha=0.9)
    return drawn
