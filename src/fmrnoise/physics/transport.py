"""Dot voltage, currents, lead-induced damping and spin-transfer torque (docs/theory.md §5).

Arrays carry trailing axes ``(spin, lead)`` where they are spin- or lead-resolved; every function
broadcasts ``model`` against ``theta`` (which may be complex, for complex-step derivatives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .distribution import Steps, steps
from .model import FloatArray, Model


@dataclass(frozen=True)
class DotVoltage:
    """Dot potentials and currents of one precession state.

    Attributes
    ----------
    V_d_spin : (..., spin) spin-resolved dot potential, mean step position of F_d^sigma [E0].
    V_d : charge-neutral dot voltage sum_sigma rho^sigma V_d^sigma / sum rho [E0].
    current : particle current left -> dot -> right, series formula [e E0/hbar].
    current_left : current from the left lead into the dot, from mu_l, V_d^sigma and the
        pumping term [e E0/hbar].
    current_right : current from the dot into the right lead, likewise [e E0/hbar].
    kirchhoff_residual : current_left - current_right [e E0/hbar], round-off size.
    spin_current : spin-transfer torque current I_s(theta), at phidot = omega_d [E0].
    conductance : (..., spin, lead) junction conductances G_x^sigma = rho^sigma Gamma_x,eff
        [e^2/hbar].
    """

    V_d_spin: FloatArray
    V_d: FloatArray
    current: FloatArray
    current_left: FloatArray
    current_right: FloatArray
    kirchhoff_residual: FloatArray
    spin_current: FloatArray
    conductance: FloatArray


def conductances(model: Model, dist: Steps) -> FloatArray:
    """(..., spin, lead) junction conductances G_x^sigma = rho^sigma Gamma_x,eff [e^2/hbar]."""
    return model.rho[..., :, np.newaxis] * dist.gamma_eff


def _pair_sum(a: np.ndarray) -> np.ndarray:
    """a[..., 0] + a[..., 1]: a sum over a trailing axis of length 2 (np.sum is slow there)."""
    return a[..., 0] + a[..., 1]


def spin_potentials(dist: Steps) -> FloatArray:
    """(..., spin) spin-resolved dot potential V_d^sigma, the mean step position of F_d [E0]."""
    return _pair_sum(dist.lead_weight * dist.mean_lead)


def pumping_conductance(model: Model) -> FloatArray:
    """(..., lead) g_s,x = (rho_up + rho_down)(Gamma_x^up - Gamma_x^down)/4 [e^2/hbar]."""
    gamma = model.gamma
    rho_sum = (model.rho_up + model.rho_down)[..., np.newaxis]
    return rho_sum * (gamma[..., 0] - gamma[..., 1]) / 4


def lead_currents(model: Model, theta: ArrayLike, phidot: ArrayLike,
                  V_d_spin: FloatArray, G: FloatArray) -> FloatArray:
    """(..., lead) current from each lead into the dot (docs/theory.md §5, one lead alone).

    I_x->d = sum_sigma G_x^sigma (mu_x - V_d^sigma) - g_s,x sin^2(theta) phidot.
    """
    mu = model.mu  # (..., lead)
    drive = (G[..., 0, :] * (mu - V_d_spin[..., 0, np.newaxis])
             + G[..., 1, :] * (mu - V_d_spin[..., 1, np.newaxis]))
    pump = pumping_conductance(model) * (np.sin(theta) ** 2 * np.asarray(phidot))[..., np.newaxis]
    return drive - pump


def spin_torque(model: Model, theta: ArrayLike) -> FloatArray:
    """Spin-transfer torque current I_s(theta) [E0], with V_d^sigma taken at phidot = omega_d.

    I_s = sum_x (Gamma_x^up - Gamma_x^down)/4 sum_sigma rho^sigma (mu_x - V_d^sigma(theta)).
    Zero for normal leads. Accepts complex ``theta``.
    """
    return _torque(model, spin_potentials(steps(model, theta, model.omega_d)))


def _torque(model: Model, V_spin: FloatArray) -> FloatArray:
    """I_s from the spin potentials V_d^sigma (..., spin) at phidot = omega_d [E0]."""
    rho_v = model.rho_up * V_spin[..., 0] + model.rho_down * V_spin[..., 1]
    rho = model.rho_up + model.rho_down
    return ((np.asarray(model.gamma_l_up) - model.gamma_l_down) / 4 * (rho * model.mu_l - rho_v)
            + (np.asarray(model.gamma_r_up) - model.gamma_r_down) / 4 * (rho * model.mu_r - rho_v))


def lead_gilbert_damping(model: Model, theta: ArrayLike) -> FloatArray:
    """Damping with the leads' contribution, alpha(theta) = alpha0 + sum_x g~_x(theta)/S.

    g~_x = [sin^2(theta/2)(g_upup + g_downdown) + cos^2(theta/2)(g_updown + g_downup)]/4 with
    g_ss' = rho^s Gamma_x^s'. Accepts complex ``theta``.
    """
    gamma = model.gamma
    rho_up = np.asarray(model.rho_up)[..., np.newaxis]
    rho_down = np.asarray(model.rho_down)[..., np.newaxis]
    parallel = rho_up * gamma[..., 0] + rho_down * gamma[..., 1]
    crossed = rho_up * gamma[..., 1] + rho_down * gamma[..., 0]
    half = np.asarray(theta)[..., np.newaxis] / 2
    g_tilde = (np.sin(half) ** 2 * parallel + np.cos(half) ** 2 * crossed) / 4
    return model.alpha0 + np.sum(g_tilde, axis=-1) / model.total_spin


def acting_damping(model: Model, theta: ArrayLike) -> FloatArray:
    """Gilbert damping alpha(theta) acting on the magnet: alpha0 unless ``lead_damping``."""
    if model.lead_damping:
        return lead_gilbert_damping(model, theta)
    return np.broadcast_to(model.alpha0, np.broadcast_shapes(np.shape(theta),
                                                             np.shape(model.alpha0)))


def acting_spin_torque(model: Model, theta: ArrayLike) -> FloatArray:
    """Spin-transfer torque acting on the magnet: I_s(theta) with ``lead_damping``, else 0."""
    if model.lead_damping:
        return spin_torque(model, theta)
    return np.zeros(np.broadcast_shapes(np.shape(theta), np.shape(model.omega_d)))


def dot_voltage(model: Model, theta: ArrayLike, phidot: ArrayLike) -> DotVoltage:
    """Dot potentials, currents, Kirchhoff residual and spin torque of a precession state.

    Parameters
    ----------
    model : model parameters; arrays broadcast against ``theta``.
    theta : polar angle of the magnetization [rad].
    phidot : lab-frame precession rate [E0].
    """
    dist = steps(model, theta, phidot)
    G = conductances(model, dist)
    V_spin = spin_potentials(dist)
    rho = model.rho
    V_d = (rho[..., 0] * V_spin[..., 0] + rho[..., 1] * V_spin[..., 1]) / _pair_sum(rho)
    mean = dist.mean_lead
    G_l, G_r = G[..., 0], G[..., 1]
    current = _pair_sum(G_l * G_r / (G_l + G_r) * (mean[..., 0] - mean[..., 1]))
    into_dot = lead_currents(model, theta, phidot, V_spin, G)
    I_l, I_r = into_dot[..., 0], -into_dot[..., 1]
    # I_s needs V_d^sigma at phidot = omega_d: reuse them when that is the rate given
    same_rate = phidot is model.omega_d or np.array_equal(phidot, model.omega_d)
    torque = (_torque(model, V_spin) if same_rate else spin_torque(model, theta))
    return DotVoltage(V_d_spin=V_spin, V_d=V_d, current=current, current_left=I_l,
                      current_right=I_r, kirchhoff_residual=I_l - I_r,
                      spin_current=np.broadcast_to(torque, np.shape(V_d)) + 0.0,
                      conductance=G)
