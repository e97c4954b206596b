"""Throughput of the physics kernels and of the pipeline's chunk functions; the baseline ratio.

A "point" of ``steady_states`` is a grid point (all its states); a point of ``noise``,
``cumulants`` and ``hot_electrons`` is one state (theta, phidot) with its parameters. The stage
chunk functions (``fmrnoise.pipeline.stages``) are timed on chunks of the large phase diagram
(16 x 2048 points, and x 2 temperatures for the noise), as the pipeline calls them: their points
are grid points with ``max_states`` = 4 branch slots (two filled for constant kappa).
:func:`noise_stage_table` compares, on such a chunk, the noise stage with C3 against
``fmrnoise.noise`` alone (the stage before C3), and times it with ``dot_relaxation: true``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fmrnoise import Model, cumulants, hot_electrons, noise, steady_states
from fmrnoise.pipeline.stages import distribution as distribution_stage
from fmrnoise.pipeline.stages import dot_voltage as dot_voltage_stage
from fmrnoise.pipeline.stages import noise as noise_stage
from fmrnoise.pipeline.stages import steady_state as steady_state_stage

from . import baseline
from .timing import best_of, fmt_rate, threaded_wall

NORMAL = {"gamma_l_up": 0.3, "gamma_l_down": 0.3, "gamma_r_up": 0.5, "gamma_r_down": 0.5}
MAGNETIC = {"gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: Lead damping with a magnetic left lead and a bias: the R7 parameters of docs/theory.md §8.
LEAD_DAMPING = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.03, "mu_l": 0.2,
                **MAGNETIC}


@dataclass(frozen=True)
class Case:
    """One kernel benchmark: a model over n points, the call, and its target [points/s]."""

    name: str
    model: Model
    run: Callable[[], object]
    points: int
    target: float | None
    floor: Callable[[], object] | None = None  # bare NumPy closed form on the same points
    baseline: Callable[[int], float] | None = None  # per-point baseline value of point i
    values: Callable[[], np.ndarray] | None = None  # fmrnoise values to compare with it


def _phase_points(n: int, rng: np.random.Generator, magnetic: bool = False):
    """omega_d, Omega of n points of the large phase diagram (or of the magnetic one)."""
    if magnetic:
        return rng.uniform(-1.3, -0.7, n), rng.uniform(1e-4, 0.1, n)
    return rng.uniform(-3.0, 1.0, n), rng.uniform(1e-3, 3.0, n)


def _point(model: Model, i: int) -> baseline.Point:
    """The baseline's parameters of point i of a model with 1-d (or scalar) arrays."""
    values = {}
    for name in baseline.Point.__dataclass_fields__:
        value = getattr(model, name)
        if isinstance(value, np.ndarray):
            value = float(value[i]) if value.ndim else float(value)
        values[name] = value
    return baseline.Point(**values)


def cases(n: int, n_lead: int, n_quad: int, seed: int = 1) -> list[Case]:
    """The kernel benchmarks on n (steady state, noise), n_lead and n_quad points."""
    rng = np.random.default_rng(seed)
    out = []

    # steady states, constant kappa: the phase diagram
    omega_d, omega = _phase_points(n, rng)
    model = Model(omega_d=omega_d, Omega=omega, **NORMAL)
    b, kap = 1.0 + omega_d, 0.05 * omega_d

    def floor_steady(omega: np.ndarray = omega, b: np.ndarray = b,
                     kap: np.ndarray = kap) -> np.ndarray:
        p = omega**2 + b**2 - kap**2
        u = (-p + np.sqrt(p * p + 4 * kap**2 * b**2)) / (2 * kap**2)
        return np.arccos(np.sqrt(u))

    out.append(Case("steady_states, constant kappa", model, lambda m=model: steady_states(m),
                    n, 5e6, floor_steady,
                    lambda i, m=model: max(baseline.stable_states(_point(m, i)), default=np.nan),
                    lambda m=model: steady_states(m).stable_theta))

    # steady states, theta-dependent kappa: lead damping, magnetic lead, bias
    omega_d, omega_lead = _phase_points(n_lead, rng, magnetic=True)
    model = Model(omega_d=omega_d, Omega=omega_lead, **LEAD_DAMPING)
    out.append(Case("steady_states, lead damping (theta-dependent kappa)", model,
                    lambda m=model: steady_states(m), n_lead, 5e5, None,
                    lambda i, m=model: min(baseline.stable_states(_point(m, i)),
                                           default=np.nan),
                    lambda m=model: steady_states(m).stable_theta))
    # ... with every lead parameter varying from point to point (no shared coefficients)
    model = Model(omega_d=omega_d, Omega=omega_lead, lead_damping=True, total_spin=20.0,
                  alpha0=0.03, mu_l=rng.uniform(0.0, 0.3, n_lead),
                  gamma_l_up=rng.uniform(0.6, 1.2, n_lead), gamma_l_down=0.3,
                  gamma_r_up=rng.uniform(0.4, 0.8, n_lead), gamma_r_down=0.6)
    out.append(Case("steady_states, lead damping, per-point lead parameters", model,
                    lambda m=model: steady_states(m), n_lead, 5e5))

    # noise: states (theta, phidot)
    theta = np.arccos(rng.uniform(-1.0, 1.0, n))
    phidot = rng.uniform(-3.0, 1.0, n)
    T = rng.choice([0.02, 0.1], n)
    model = Model(T=T, **NORMAL)
    G = 2.0 * 0.3 * 0.5 / 0.8

    def floor_normal() -> np.ndarray:
        return 4 * G * T + G * np.sin(theta) ** 2 * (phidot / np.tanh(phidot / (2 * T)) - 2 * T)

    out.append(Case("noise, normal leads, V = 0 (closed form)", model,
                    lambda m=model: noise(m, theta, phidot), n, 5e6, floor_normal,
                    lambda i, m=model: baseline.noise(_point(m, i), theta[i], phidot[i]),
                    lambda m=model: noise(m, theta, phidot).S))
    model = Model(T=T, mu_l=rng.uniform(-0.5, 0.5, n), mu_r=0.0, **MAGNETIC)
    volt = np.asarray(model.mu_l)

    def floor_general() -> np.ndarray:  # the four coth kernels a state needs, nothing else
        return sum(x / np.tanh(x / (2 * T)) for x in (phidot, volt, volt + phidot,
                                                      volt - phidot))

    out.append(Case("noise, magnetic lead + bias (general closed form)", model,
                    lambda m=model: noise(m, theta, phidot), n, 5e5, floor_general,
                    lambda i, m=model: baseline.noise(_point(m, i), theta[i], phidot[i]),
                    lambda m=model: noise(m, theta, phidot).S))
    q = slice(0, n_quad)
    model = Model(T=T[q], T_r=0.3, mu_l=volt[q], mu_r=0.0, **MAGNETIC)
    out.append(Case("noise, thermal bias T_r != T (quadrature, 1e-10)", model,
                    lambda m=model: noise(m, theta[q], phidot[q]), n_quad, 2e4, None,
                    lambda i, m=model: baseline.noise(_point(m, i), theta[i], phidot[i]),
                    lambda m=model: noise(m, theta[q], phidot[q]).S))
    out.append(hot_electrons_case(n, rng))
    out.extend(cumulant_cases(n, n_quad, rng))
    return out


def hot_electrons_case(n: int, rng: np.random.Generator) -> Case:
    """hot_electrons (T_d and S_hot) on n random precessing states: magnetic lead and bias.

    With precession T_d != T at nearly every state, so nearly all of a state's 8 kernels are
    quadratures (kernels.mixed_excess_kernel).
    """
    theta = np.arccos(rng.uniform(-1.0, 1.0, n))
    phidot = rng.uniform(-3.0, 1.0, n)
    model = Model(T=rng.choice([0.02, 0.1], n), mu_l=rng.uniform(-0.5, 0.5, n), mu_r=0.0,
                  **MAGNETIC)
    return Case("hot_electrons, magnetic lead + bias (T_d, S_hot; quadrature, 1e-10)", model,
                lambda m=model: hot_electrons(m, theta, phidot), n, 2e5)


def cumulant_cases(n: int, n_quad: int, rng: np.random.Generator) -> list[Case]:
    """C1, C2, C3 of n states with a magnetic lead, bias and precession at T > 0 (the closed
    form), and of n_quad of them with a thermal bias (the quadrature)."""
    theta = np.arccos(rng.uniform(-1.0, 1.0, n))
    phidot = rng.uniform(-3.0, 1.0, n)
    T = rng.choice([0.02, 0.1], n)
    volt = rng.uniform(-0.5, 0.5, n)
    model = Model(T=T, mu_l=volt, mu_r=0.0, **MAGNETIC)
    q = slice(0, n_quad)
    thermal = Model(T=T[q], T_r=0.3, mu_l=volt[q], mu_r=0.0, **MAGNETIC)
    return [Case("cumulants C1-C3, magnetic lead + bias (closed form)", model,
                 lambda m=model: cumulants(m, theta, phidot), n, 2e6),
            Case("cumulants C1-C3, thermal bias T_r != T (quadrature, 1e-10)", thermal,
                 lambda m=thermal: cumulants(m, theta[q], phidot[q]), n_quad, None)]


def kernel_table(items: list[Case], repeat: int) -> list[str]:
    """Markdown rows: kernel, points, 1-core rate (CPU time), wall rate, target, NumPy floor."""
    rows = ["| kernel | points | points/s, 1 core (CPU time) | points/s (wall) | target "
            "| met | bare NumPy closed form, points/s |",
            "|---|---:|---:|---:|---:|:-:|---:|"]
    for case in items:
        timing = best_of(case.run, repeat=repeat)
        cpu, wall = case.points / timing.cpu, case.points / timing.wall
        floor = "–"
        if case.floor is not None:
            floor = fmt_rate(case.points / best_of(case.floor, repeat=repeat).cpu)
        target = "–" if case.target is None else fmt_rate(case.target)
        met = "–" if case.target is None else ("yes" if cpu >= case.target else "**no**")
        rows.append(f"| {case.name} | {case.points} | {fmt_rate(cpu)} | {fmt_rate(wall)} "
                    f"| {target} | {met} | {floor} |")
    return rows


def baseline_table(items: list[Case], n_base: int, repeat: int) -> list[str]:
    """Markdown rows: per-point baseline against fmrnoise on the same points."""
    rows = ["| stage | baseline, s/point (first N points) | fmrnoise, s/point (all points, "
            "1 core) | speed-up | target | met | max rel. difference of the values |",
            "|---|---:|---:|---:|---:|:-:|---:|"]
    targets = {"steady_states": 100.0, "noise": 1000.0}
    for case in items:
        if case.baseline is None:
            continue
        count = min(n_base, case.points)
        expected = np.array([np.nan] * count)
        timing = best_of(lambda count=count, case=case, expected=expected: expected.__setitem__(
            slice(None), [case.baseline(i) for i in range(count)]), repeat=1)
        per_point = timing.cpu / count
        ours = best_of(case.run, repeat=repeat).cpu / case.points
        values = np.asarray(case.values())[:count]
        both = np.isfinite(values) & np.isfinite(expected)
        diff = np.max(np.abs(values[both] - expected[both]) / np.abs(expected[both]),
                      initial=0.0)
        agree = f"{diff:.1e} ({both.sum()} of {count} points)"
        target = targets[case.name.split(",")[0]]
        ratio = per_point / ours
        met = "yes" if ratio >= target else "**no**"
        rows.append(f"| {case.name} | {per_point:.3g} (N = {count}) | {ours:.3g} "
                    f"| {ratio:.3g}x | {target:.0f}x | {met} | {agree} |")
    return rows


def _chunk_inputs():
    """Model and upstream arrays of one chunk of the large phase diagram (16 x 2048 points)."""
    omega_d = -1.2 + 0.001953125 * np.arange(16)
    omega = 0.00146484375 * np.arange(2048)
    grid_w, grid_o = np.meshgrid(omega_d, omega, indexing="ij")
    model = Model(omega_d=grid_w, Omega=grid_o)
    upstream = steady_state_stage.compute(model, {}, 4, {})
    model_t = Model(omega_d=grid_w[..., np.newaxis], Omega=grid_o[..., np.newaxis],
                    T=np.array([0.02, 0.1]))
    theta_t = np.broadcast_to(upstream["theta"][:, :, np.newaxis], (16, 2048, 2, 4))
    return model, upstream, model_t, {"theta": theta_t}


def stage_table(repeat: int, chunks_2core: int = 8) -> list[str]:
    """Markdown rows: chunk functions, points/s on 1 core and on 2 (thread pool over chunks)."""
    model, upstream, model_t, upstream_t = _chunk_inputs()
    n = model.omega_d.size
    stages = [("steady_state", lambda: steady_state_stage.compute(model, {}, 4, {}), n),
              ("distribution", lambda: distribution_stage.compute(model, upstream, 4, {}), n),
              ("dot_voltage", lambda: dot_voltage_stage.compute(model, upstream, 4, {}), n),
              ("noise", lambda: noise_stage.compute(model_t, upstream_t, 4, {}),
               model_t.omega_d.size * 2)]
    rows = ["| stage (`fmrnoise.pipeline.stages`) | points per chunk | points/s, 1 core (CPU time) "
            "| points/s, 1 thread (wall) | points/s, 2 threads (wall) "
            "| 2 threads (wall) / 1 core (CPU) |",
            "|---|---:|---:|---:|---:|---:|"]
    for name, run, points in stages:
        one = points / best_of(run, repeat=repeat).cpu
        tasks = [run] * chunks_2core
        total = points * chunks_2core
        wall1 = total / threaded_wall(tasks, 1, repeat=max(1, repeat // 2))
        wall2 = total / threaded_wall(tasks, 2, repeat=max(1, repeat // 2))
        rows.append(f"| {name} | {points} | {fmt_rate(one)} | {fmt_rate(wall1)} "
                    f"| {fmt_rate(wall2)} | {wall2 / one:.2f} |")
    return rows


#: Targets of issue 17 for the noise stage (per core).
C3_COST_TARGET = 2.0  # the stage with C3 at most this many times the noise alone
C3_RATE_TARGET = 2e6  # closed-form C1-C3, states/s
HOT_RATE_TARGET = 2e5  # the stage with dot_relaxation: true, states/s


def noise_stage_table(repeat: int) -> list[str]:
    """Markdown rows: the noise stage's chunk function with C3 (as it is), against
    ``fmrnoise.noise`` alone on the same chunk (the stage before C3), the closed-form cumulants
    alone, and the stage with ``dot_relaxation: true`` (the hot-electron limit).

    The chunk is that of :func:`stage_table` (16 x 2048 x 2 grid points, 4 branch slots); a
    state is a filled branch slot (finite theta) at one temperature.
    """
    _, _, model, upstream = _chunk_inputs()
    theta = upstream["theta"]
    states = int(np.count_nonzero(np.isfinite(theta)))

    def noise_alone() -> dict[str, np.ndarray]:  # what the stage computed before C3
        branch = model.per_branch()
        result = noise(branch, theta, branch.omega_d)
        return {name: getattr(result, name) for name in
                ("S", "S_r", "S_eq", "excess_noise", "noise_temperature", "conductance")}

    def cumulants_alone() -> object:
        branch = model.per_branch()
        return cumulants(branch, theta, branch.omega_d)

    calls = [
        ("fmrnoise.noise alone (the stage before C3)", noise_alone, None),
        ("fmrnoise.cumulants alone (C1-C3, closed form)", cumulants_alone,
         ("rate", C3_RATE_TARGET)),
        ("noise stage, as is (noise + C3)", lambda: noise_stage.compute(model, upstream, 4, {}),
         ("ratio", C3_COST_TARGET)),
        ("noise stage, dot_relaxation: true (+ T_d, S_hot)",
         lambda: noise_stage.compute(model, upstream, 4, {"dot_relaxation": True}),
         ("rate", HOT_RATE_TARGET)),
    ]
    rows = [f"One chunk of the 2048² phase diagram: {theta[..., 0].size} grid points (16 x 2048 "
            f"x 2) x 4 branch slots, {states} states (finite theta).", "",
            "| call | states/s, 1 core (CPU time) | CPU time / that of fmrnoise.noise alone "
            "| target | met |", "|---|---:|---:|---:|:-:|"]
    alone = None
    for name, run, target in calls:
        cpu = best_of(run, repeat=repeat).cpu
        alone = cpu if alone is None else alone
        rate, ratio = states / cpu, cpu / alone
        goal, met = "–", "–"
        if target is not None and target[0] == "rate":
            goal, met = f"≥ {fmt_rate(target[1])} states/s", rate >= target[1]
        elif target is not None:
            goal, met = f"≤ {target[1]:g}x", ratio <= target[1]
        met = met if met == "–" else ("yes" if met else "**no**")
        rows.append(f"| {name} | {fmt_rate(rate)} | {ratio:.2f} | {goal} | {met} |")
    return rows
