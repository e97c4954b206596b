"""Energy relaxation on the dot: the hot-electron limit (docs/theory.md §12).

Fast spin-conserving electron-electron scattering on the dot turns each dot spin sigma into one
Fermi step at mu_sigma = V_d^sigma (the mean step position of F_d^sigma, particle balance is
unchanged) with a temperature T_d shared by both spins, fixed by the balance of rotating-frame
energy:

    T_d² = sum_sigma sum_i W_i [T_i² + (3/pi²)(a_i - mu_sigma)²] / sum_sigma sum_i W_i,

over the steps i of both leads seen by spin sigma (position a_i, temperature T_i of its lead,
weight W_i = rho^sigma x the step's width of docs/theory.md §4). The noise keeps only the
l <-> r symmetric junction formula,

    S_hot = sum_sigma (G_l G_r / G_Sigma²) [G_r J(d, l) + G_l J(d, r)],
    J(d, x) = sum_i p_i K(mu_sigma - a_i; T_d, T_x),

over the two steps of lead x (within-lead weights p_i). Stages 1-3 (states, currents, V_d^sigma)
do not depend on T_d. Units: temperatures in E0/k_B, noise in e²E0/hbar.

Only step separations enter: per spin, the steps sit at 0, sigma phidot (left lead) and
-V, sigma phidot - V (right lead) relative to the left same-spin step, V = mu_l - mu_r, so a
common shift of one spin's steps (the gauge, docs/theory.md §7.3) changes nothing, and the
deviations a_i - mu_sigma are formed from V and phidot without cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .kernels import mixed_excess_kernel
from .model import FloatArray, Model
from .noise import equilibrium_noise, evaluate_states, spin_channels

__all__ = ["HotElectrons", "hot_electrons"]


@dataclass(frozen=True)
class HotElectrons:
    """Dot temperature and noise in the hot-electron limit; arrays of the broadcast shape.

    Attributes
    ----------
    T_dot : dot temperature T_d [E0/k_B].
    S_hot : zero-frequency noise with a thermalized dot [e²E0/hbar].
    excess_noise_hot : S_hot - S_eq, S_eq = 4 G(theta) (T + T_r)/2 the equilibrium reference of
        :func:`fmrnoise.physics.noise.noise` [e²E0/hbar].
    """

    T_dot: FloatArray
    S_hot: FloatArray
    excess_noise_hot: FloatArray


def _hot_block(theta: FloatArray, phidot: FloatArray, mu_l, mu_r, t_l, t_r, rho_up, rho_down,
               g_lu, g_ld, g_ru, g_rd) -> tuple[FloatArray, FloatArray, FloatArray]:
    """T_d, S_hot and S_hot - S_eq of a flat block of states (module docstring).

    Per spin, with o = lambda_l a_bar + lambda_r b_bar the weight of the opposite-spin steps
    (1 - o summed directly), the deviations a_i - mu_sigma are

        left lead:  V lambda_r - sigma phidot o (same),  V lambda_r + sigma phidot (1 - o) (opp.),
        right lead: -V lambda_l - sigma phidot o,        -V lambda_l + sigma phidot (1 - o).

    Every kernel enters as 2(T_d + T_x) + M, M = K - 2(T_d + T_x)
    (:func:`fmrnoise.physics.kernels.mixed_excess_kernel`), so that with P = G_l G_r / G_Sigma,
    M_x = sum_i p_i M_i and T_mean = (T_l + T_r)/2

        S_hot - S_eq = 2 G (T_d - T_mean) + sum_sigma P [lambda_r M_l + lambda_l M_r
                                                         + (T_l - T_r)(lambda_r - lambda_l)],

    where T_d - T_mean = (T_d² - T_mean²)/(T_d + T_mean) is formed from the differences
    T_x² - T_mean² = +-(T_l - T_r)(T_x + T_mean)/2: exactly 0 at equilibrium.
    """
    volt = mu_l - mu_r
    t_mean = (t_l + t_r) / 2
    channels = spin_channels(theta, rho_up, rho_down, g_lu, g_ld, g_ru, g_rd)
    dev = np.empty((*np.shape(theta), 2, 2, 2))  # a_i - mu_sigma: (state, lead, spin, step)
    cond_l = cond_r = variance = 0.0
    for spin, (sigma, ch) in enumerate(zip((1.0, -1.0), channels, strict=True)):
        opposite = sigma * phidot * (ch.lam_l * ch.a_bar + ch.lam_r * ch.b_bar)
        same = sigma * phidot * (ch.lam_l * ch.a + ch.lam_r * ch.b)
        for lead, shift, cond, p_same, p_opp in ((0, volt * ch.lam_r, ch.cond_l, ch.a, ch.a_bar),
                                                 (1, -volt * ch.lam_l, ch.cond_r, ch.b, ch.b_bar)):
            dev[..., lead, spin, 0] = d_same = shift - opposite
            dev[..., lead, spin, 1] = d_opp = shift + same
            # sum_i W_i (a_i - mu_sigma)², W_i = G_x p_i
            variance = variance + cond * (p_same * d_same**2 + p_opp * d_opp**2)
        cond_l, cond_r = cond_l + ch.cond_l, cond_r + ch.cond_r
    total = cond_l + cond_r
    g_l, g_r = cond_l / total, cond_r / total  # the leads' shares of the weight
    joule = 3 / np.pi**2 * variance / total
    mean_square = np.where(t_l == t_r, t_l * t_l, g_l * t_l * t_l + g_r * t_r * t_r)
    t_dot = np.sqrt(mean_square + joule)  # = T exactly at equilibrium
    heating = (t_l - t_r) / 2 * (g_l * (t_l + t_mean) - g_r * (t_r + t_mean)) + joule
    t_sum = t_dot + t_mean
    rise = np.divide(heating, t_sum, out=np.zeros_like(t_sum), where=t_sum > 0)

    # kernels of one lead share the temperature pair (T_d, T_x): rows (state, lead) of 4
    lead_t = np.stack(np.broadcast_arrays(t_l, t_r), axis=-1)[..., np.newaxis]
    m = mixed_excess_kernel(dev.reshape(*dev.shape[:-2], 4), t_dot[..., np.newaxis, np.newaxis],
                            lead_t).reshape(dev.shape)
    conductance = excess = 0.0
    for spin, ch in enumerate(channels):
        m_l = ch.a * m[..., 0, spin, 0] + ch.a_bar * m[..., 0, spin, 1]
        m_r = ch.b * m[..., 1, spin, 0] + ch.b_bar * m[..., 1, spin, 1]
        excess = excess + ch.prefactor * (ch.lam_r * m_l + ch.lam_l * m_r
                                          + (t_l - t_r) * (ch.lam_r - ch.lam_l))
        conductance = conductance + ch.prefactor
    excess = excess + 2 * conductance * rise
    return t_dot, equilibrium_noise(conductance, t_l, t_r) + excess, excess


def hot_electrons(model: Model, theta: ArrayLike, phidot: ArrayLike) -> HotElectrons:
    """Dot temperature and noise of the precession state (theta, phidot) with a thermalized dot.

    Parameters
    ----------
    model : model parameters; arrays broadcast against ``theta`` and ``phidot`` (e.g. use
        ``model.per_branch()`` with theta of shape (n, branch)).
    theta : polar angle of the magnetization [rad]; NaN (empty branch slot) gives NaN.
    phidot : lab-frame precession rate [E0].

    Returns
    -------
    HotElectrons
        T_dot [E0/k_B], S_hot and excess_noise_hot [e²E0/hbar].

    Notes
    -----
    Kernels between T_d and a lead temperature T_x: closed forms where T_d == T_x (exactly at
    equilibrium, and T_d = 0 with cold leads, kernel 2|x|) or T_x = 0 (4 T_d ln 2cosh(x/2T_d));
    otherwise the paired logistic rule of :mod:`fmrnoise.physics.kernels` (<= 2.1e-12 relative,
    its error vanishing with T_d - T_x). The excess S_hot - S_eq is summed from excess kernels
    and T_d - T_mean (see :func:`_hot_block`), with no cancellation of the reference 4 G T_mean:
    it keeps its relative accuracy as drive and bias vanish. The states are evaluated in blocks
    of :data:`fmrnoise.physics.noise.BLOCK`, only where theta is not NaN.
    """
    names = ("T_dot", "S_hot", "excess_noise_hot")
    return HotElectrons(**evaluate_states(model, theta, phidot, _hot_block, names))
