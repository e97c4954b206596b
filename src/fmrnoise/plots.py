"""Figures from the pipeline's Zarr stores (matplotlib, no pyplot state)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

#: Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def stable_branch(steady: xr.Dataset, variable: xr.DataArray) -> xr.DataArray:
    """``variable`` at the lowest-theta stable state of each point (NaN where none)."""
    stable = steady.stability == 0
    first = stable.argmax("branch")
    return variable.isel(branch=first).where(stable.any("branch"))


def fmr_line(steady: xr.Dataset, noise: xr.Dataset, settings: Mapping) -> Figure:
    """Stationary angle and excess noise against the drive frequency, for each drive amplitude.

    Top: theta of the stable (solid) and unstable (dashed) states. Bottom: excess noise
    Delta S / S_eq of the stable state at the temperature ``settings["T"]``.
    """
    figure = Figure(figsize=(6.4, 6.4), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    T = settings.get("T", float(noise.T[len(noise.T) // 2]))
    x = -steady.omega_d / steady.B0 if "B0" in steady.dims else -steady.omega_d
    for colour, omega in zip(COLORS, steady.Omega.values, strict=False):
        ss = steady.sel(Omega=omega)
        for branch in ss.branch.values:
            slot = ss.sel(branch=branch)
            top.plot(x, slot.theta.where(slot.stability == 0), color=colour, lw=1.5,
                     label=f"Ω = {omega:g}" if branch == 0 else None)
            top.plot(x, slot.theta.where(slot.stability == 1), color=colour, lw=1, ls="--")
        ns = noise.sel(Omega=omega).sel(T=T, method="nearest")
        ratio = stable_branch(ss, ns.excess_noise / ns.S_eq)
        bottom.semilogy(x, ratio.where(ratio > 0), color=colour, label=f"Ω = {omega:g}")
    top.axhline(np.pi / 2, color="grey", lw=0.5)
    top.set_ylabel("θ [rad]")
    top.set_title("Stable (solid) and unstable (dashed) precession states")
    top.legend(fontsize="small")
    bottom.set_xlabel("co-rotating drive frequency −ω_d [E0]")
    bottom.set_ylabel("excess noise ΔS / S_eq")
    bottom.set_title(f"FMR detected by noise, T = {T:g} E0/k_B")
    model = json.loads(steady.attrs["model"])
    if "alpha0" in model and "B0" in model:
        free = model["B0"] / (1 + model["alpha0"] ** 2)
        for axis in (top, bottom):
            axis.axvline(free, color="grey", lw=0.5, ls=":")
        top.annotate("B0/(1+α²)", (free, 0.05), fontsize="small", color="grey")
    return figure


def save(figure: Figure, *paths: str) -> None:
    """Write a figure to each path (format from the suffix)."""
    for path in paths:
        figure.savefig(path, dpi=150)
