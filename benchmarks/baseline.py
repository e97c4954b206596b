"""A per-point baseline, written as a physicist would in a notebook.

One grid point at a time, in plain Python floats: ``scipy.optimize.brentq`` for the stationary
angle theta (docs/theory.md §3) and ``scipy.integrate.quad`` for the noise integral
S = sum_sigma G_l G_r [G_r J(d,l) + G_l J(d,r)] / G_Sigma², J(d,x) = ∫[1 - F_d F_x] d eps
(docs/theory.md §4, §6). It shares no code with fmrnoise, so its values also cross-check fmrnoise.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from scipy.integrate import quad
from scipy.optimize import brentq


@dataclass(frozen=True)
class Point:
    """Parameters of one point (docs/theory.md §2); T_r None means T."""

    B0: float = 1.0
    Omega: float = 0.02
    omega_d: float = -1.0
    alpha0: float = 0.05
    total_spin: float = 100.0
    lead_damping: bool = False
    T: float = 0.1
    T_r: float | None = None
    mu_l: float = 0.0
    mu_r: float = 0.0
    rho_up: float = 1.5
    rho_down: float = 0.5
    gamma_l_up: float = 0.3
    gamma_l_down: float = 0.3
    gamma_r_up: float = 0.5
    gamma_r_down: float = 0.5


def kappa(p: Point, theta: float) -> float:
    """kappa(theta) = alpha(theta) omega_d - I_s(theta)/S, by the formulas of docs/theory.md §5."""
    if not p.lead_damping:
        return p.alpha0 * p.omega_d
    c2, s2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2
    rho = {1: p.rho_up, -1: p.rho_down}
    gam = {("l", 1): p.gamma_l_up, ("l", -1): p.gamma_l_down,
           ("r", 1): p.gamma_r_up, ("r", -1): p.gamma_r_down}
    mu = {"l": p.mu_l, "r": p.mu_r}
    alpha = p.alpha0
    for x in ("l", "r"):
        g = {(s, t): rho[s] * gam[x, t] for s in (1, -1) for t in (1, -1)}
        alpha += (s2 * (g[1, 1] + g[-1, -1]) + c2 * (g[1, -1] + g[-1, 1])) / 4 / p.total_spin
    w_minus, w_plus = p.omega_d * s2, p.omega_d * c2
    v = {}
    for sigma in (1, -1):
        num = den = 0.0
        for x in ("l", "r"):
            same, opp = c2 * gam[x, sigma], s2 * gam[x, -sigma]
            num += same * (mu[x] - sigma * w_minus) + opp * (mu[x] + sigma * w_plus)
            den += same + opp
        v[sigma] = num / den
    torque = sum((gam[x, 1] - gam[x, -1]) / 4 * sum(rho[s] * (mu[x] - v[s]) for s in (1, -1))
                 for x in ("l", "r"))
    return alpha * p.omega_d - torque / p.total_spin


def _alpha(p: Point, theta: float) -> float:
    if not p.lead_damping:
        return p.alpha0
    c2, s2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2
    par = (p.rho_up * p.gamma_l_up + p.rho_down * p.gamma_l_down
           + p.rho_up * p.gamma_r_up + p.rho_down * p.gamma_r_down)
    cross = (p.rho_up * p.gamma_l_down + p.rho_down * p.gamma_l_up
             + p.rho_up * p.gamma_r_down + p.rho_down * p.gamma_r_up)
    return p.alpha0 + (s2 * par + c2 * cross) / 4 / p.total_spin


def stable_states(p: Point, n_grid: int = 400) -> list[float]:
    """Angles theta of the stable stationary states of one point (Omega > 0, b != 0).

    Constant kappa: brentq on each hemisphere. theta-dependent kappa: sign changes of
    h(theta) = sin²theta (b² + kappa² cos²theta) - Omega² cos²theta on a uniform theta grid,
    each refined with brentq. Stability from the Jacobian of docs/theory.md §3, kappa' by a central
    difference.
    """
    b = p.B0 + p.omega_d

    def h(theta: float) -> float:
        s, c = math.sin(theta), math.cos(theta)
        return s * s * (b * b + kappa(p, theta) ** 2 * c * c) - p.Omega**2 * c * c

    if p.lead_damping:
        grid = [math.pi * (i + 0.5) / n_grid for i in range(n_grid)]
        values = [h(t) for t in grid]
        brackets = [(grid[i], grid[i + 1]) for i in range(n_grid - 1)
                    if (values[i] > 0) != (values[i + 1] > 0)]
    else:
        brackets = [(0.0, math.pi / 2), (math.pi / 2, math.pi)]
    stable = []
    for lo, hi in brackets:
        theta = brentq(h, lo, hi, xtol=1e-15, rtol=4 * sys.float_info.epsilon)
        kap = kappa(p, theta)
        psi = math.atan2(-kap * math.sin(theta) / p.Omega,
                         b * math.sin(theta) / (p.Omega * math.cos(theta)))
        dk = (kappa(p, theta + 1e-6) - kappa(p, theta - 1e-6)) / 2e-6
        alpha = _alpha(p, theta)
        s, c = math.sin(theta), math.cos(theta)
        w = p.Omega * math.cos(psi) / s
        trace = (dk * s + 2 * kap * c - 2 * alpha * w) / (1 + alpha**2)
        det = (kap * dk * s * c + kap**2 * c * c + w * w) / (1 + alpha**2)
        if det > 0 and trace < 0:
            stable.append(theta)
    return stable


def noise(p: Point, theta: float, phidot: float, rel: float = 1e-10) -> float:
    """S of one state by quad: sum_sigma G_l G_r [G_r J(d,l) + G_l J(d,r)] / G_Sigma²."""
    c2, s2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2
    w_minus, w_plus = phidot * s2, phidot * c2
    temps = {"l": p.T, "r": p.T if p.T_r is None else p.T_r}
    mu = {"l": p.mu_l, "r": p.mu_r}
    gam = {("l", 1): p.gamma_l_up, ("l", -1): p.gamma_l_down,
           ("r", 1): p.gamma_r_up, ("r", -1): p.gamma_r_down}
    rho = {1: p.rho_up, -1: p.rho_down}

    def fermi(e: float, t: float) -> float:
        return math.tanh(e / (2 * t)) if t > 0 else math.copysign(1.0, e) if e else 0.0

    total = 0.0
    for sigma in (1, -1):
        steps, eff = {}, {}
        for x in ("l", "r"):
            same, opp = c2 * gam[x, sigma], s2 * gam[x, -sigma]
            eff[x] = same + opp
            steps[x] = [(mu[x] - sigma * w_minus, same / eff[x], temps[x]),
                        (mu[x] + sigma * w_plus, opp / eff[x], temps[x])]
        g = {x: rho[sigma] * eff[x] for x in ("l", "r")}
        g_sum = g["l"] + g["r"]

        def f_lead(e: float, x: str, steps: dict = steps) -> float:
            return sum(w * fermi(e - a, t) for a, w, t in steps[x])

        def f_dot(e: float, g: dict = g, g_sum: float = g_sum, f_lead=f_lead) -> float:
            return (g["l"] * f_lead(e, "l") + g["r"] * f_lead(e, "r")) / g_sum

        positions = [a for x in ("l", "r") for a, _, _ in steps[x]]
        window = 40 * max(temps.values())
        lo, hi = min(positions) - window, max(positions) + window
        j = {}
        for x in ("l", "r"):
            j[x] = quad(lambda e, x=x, f_dot=f_dot, f_lead=f_lead: 1 - f_dot(e) * f_lead(e, x),
                        lo, hi, points=sorted(set(positions)), epsabs=0.0, epsrel=rel,
                        limit=400)[0]
        total += g["l"] * g["r"] * (g["r"] * j["l"] + g["l"] * j["r"]) / g_sum**2
    return total
