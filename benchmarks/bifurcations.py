"""Bifurcations and sweeps (docs/theory.md §11): ``boundaries`` against ``steady_states`` on the
same grid, seconds per jump of ``sweep``, and that a sweep line without jumps integrates nothing.

Grids: the magnetic phase diagram (``phase_diagram_magnetic`` of config/config.yaml: lead
damping, a strongly polarized left lead, bias) and the normal-lead phase diagram
(``phase_diagram``: constant kappa), at the given sizes.
"""

from __future__ import annotations

import time

import numpy as np

from fmrnoise import Kind, Model, boundaries, steady_states, sweep

from .timing import best_of

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}


def magnetic(n_omega_d: int, n_omega: int) -> Model:
    """The magnetic phase diagram: omega_d in [-1.15, -0.9], Omega in [0, 0.1]."""
    return Model(omega_d=np.linspace(-1.15, -0.9, n_omega_d)[:, np.newaxis],
                 Omega=np.linspace(0.0, 0.1, n_omega), **MAGNETIC)


def normal(n_omega_d: int, n_omega: int) -> Model:
    """The normal-lead phase diagram: omega_d in [-3, 1], Omega in [0, 3]."""
    return Model(omega_d=np.linspace(-3.0, 1.0, n_omega_d)[:, np.newaxis],
                 Omega=np.linspace(0.0, 3.0, n_omega))


def boundaries_table(grids: list[tuple[str, Model]], repeat: int) -> list[str]:
    """Markdown rows: boundaries along each axis against steady_states on the same grid."""
    rows = ["| grid | points | steady_states, s | axis | boundaries, s | ratio | folds | Hopf "
            "| degenerate |", "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for name, model in grids:
        states = steady_states(model)
        solve = best_of(lambda model=model: steady_states(model), repeat).cpu
        for axis, parameter in ((0, "omega_d"), (1, "Omega")):
            found = boundaries(model, states, axis, parameter)
            seconds = best_of(lambda model=model, states=states, axis=axis, p=parameter:
                              boundaries(model, states, axis, p), repeat).cpu
            kinds = [int(np.count_nonzero(found.kind == kind)) for kind in Kind]
            rows.append(f"| {name} | {states.n_states.size} | {solve:.3g} | {parameter} "
                        f"| {seconds:.3g} | {seconds / solve:.2f} | "
                        + " | ".join(map(str, kinds)) + " |")
    return rows


def sweep_table(n_points: int, omegas: list[float]) -> list[str]:
    """Markdown rows: sweeps of omega_d across the magnetic phase diagram (jumps, limit
    cycles) and of a constant-kappa line without a bifurcation (no jump)."""
    rows = ["| sweep of omega_d | lines x points | integrations | jumps | limit-cycle points "
            "| integration s | s per integration | integration s per jump | sweep s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cases = [("magnetic, Omega = " + ", ".join(map(str, omegas)),
              Model(omega_d=np.linspace(-1.15, -0.9, n_points) + 0.001,
                    Omega=np.array(omegas)[:, np.newaxis], **MAGNETIC)),
             ("constant kappa, omega_d in [-1.3, -0.7], Omega = 0.02 (no bifurcation)",
              Model(omega_d=np.linspace(-1.3, -0.7, n_points), Omega=np.array([[0.02]])))]
    for name, model in cases:
        states = steady_states(model)
        start = time.perf_counter()
        result = sweep(model, states, 1, "omega_d")
        total = time.perf_counter() - start
        jumps = int(np.count_nonzero(result.jumped))
        cycles = int(np.count_nonzero(result.slot < 0))
        count, seconds = result.n_integrations, result.integration_seconds
        per = f"{seconds / count:.3g}" if count else "–"
        per_jump = f"{seconds / jumps:.3g}" if jumps else "–"
        rows.append(f"| {name} | {result.slot.shape[0]} x {n_points} | {count} | {jumps} "
                    f"| {cycles} | {seconds:.3g} | {per} | {per_jump} | {total:.3g} |")
    return rows


NOTE = ("boundaries: best CPU time of this thread over the repeats, along each axis, against "
        "steady_states on the same grid (the refinement runs only where neighbouring points "
        "differ). sweep: wall time of one run, both directions; an integration runs the "
        "rotating-frame equations (DOP853) until a stable fixed point is reached or for "
        "50/min|tr J| (a limit cycle, also continued at every point of it), so the "
        "integration time per jump includes the limit-cycle points; the constant-kappa line "
        "has no bifurcation and must need no integration.")
