"""Zero-frequency current noise of a precessing magnet (physics.md §6).

Noise convention Blanter–Büttiker, S = ∫dt <{δI(t), δI(0)}> (equilibrium 4GT), with the
prefactor rho^sigma Gamma_l Gamma_r / Gamma_Sigma of physics.md §7.1. Noise in e²E0/hbar,
conductance in e²/hbar, energies in E0.

Per dot spin sigma, with G_x = rho^sigma Gamma_x,eff^sigma and G_Sigma = G_l + G_r,

    S   = sum_sigma (G_l G_r / G_Sigma) {J(d, l) + (G_l/G_r) [J(d, d) - J(d, l)]},
    S_r = sum_sigma (G_l G_r / G_Sigma) {J(d, r) + (G_r/G_l) [J(d, d) - J(d, r)]},

J(A, B) = sum_ij p_i q_j K(a_i - b_j; T_i, T_j) over the steps of the two mixtures. S and S_r
are equal only if the dot weights are the conductance-weighted mix of the lead weights, so
their agreement checks the step lists. Both formulas subtract nearly equal J's when one
junction dominates: their relative rounding error grows like eps max(G_l/G_r, G_r/G_l).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from .distribution import Steps, steps
from .kernels import kernel, mixed_kernel, quadrature_kernel
from .model import FloatArray, Model
from .transport import conductances

__all__ = ["Noise", "noise", "normal_leads_noise", "normal_noise_biased", "normal_noise_unbiased",
           "pair_kernels"]


@dataclass(frozen=True)
class Noise:
    """Zero-frequency noise of a precession state; arrays of the broadcast shape of the inputs.

    Attributes
    ----------
    S : noise of the left junction [e²E0/hbar].
    S_r : noise of the right junction, equal to S (physics check) [e²E0/hbar].
    S_eq : equilibrium reference 4 G(theta) (T + T_r)/2 [e²E0/hbar].
    excess_noise : S - S_eq [e²E0/hbar].
    noise_temperature : S / 4G [E0/k_B].
    conductance : G(theta) = sum_sigma G_l G_r / G_Sigma [e²/hbar].
    S_quadrature : S with every pair kernel by quadrature (only with ``quadrature=True``)
        [e²E0/hbar].
    quadrature_error : the quadrature's error estimate propagated to S_quadrature, absolute
        (only with ``quadrature=True``) [e²E0/hbar].
    """

    S: FloatArray
    S_r: FloatArray
    S_eq: FloatArray
    excess_noise: FloatArray
    noise_temperature: FloatArray
    conductance: FloatArray
    S_quadrature: FloatArray | None = None
    quadrature_error: FloatArray | None = None


def pair_kernels(dist: Steps, quadrature: bool = False) -> tuple[FloatArray, FloatArray]:
    """Kernels between all steps of the dot distribution, and their error estimates.

    Parameters
    ----------
    dist : step lists of one precession state.
    quadrature : compute every kernel by quadrature (:func:`fmrnoise.kernels.quadrature_kernel`)
        instead of closed forms where they exist.

    Returns
    -------
    kernels : (..., spin, 4, 4) K(a_i - a_j; T_i, T_j) over the dot steps (l same, l opposite,
        r same, r opposite) [E0]; symmetric.
    errors : (..., spin, 4, 4) absolute error estimates [E0] (0 for closed forms).
    """
    pos = dist.position  # (..., spin, lead, step)
    temp = dist.temperature[..., np.newaxis, :, np.newaxis, np.newaxis]  # (..., 1, lead, 1, 1)
    t_l, t_r = temp[..., 0, :, :], temp[..., 1, :, :]
    pos_l, pos_r = pos[..., 0, :], pos[..., 1, :]
    x_ll = pos_l[..., :, np.newaxis] - pos_l[..., np.newaxis, :]
    x_rr = pos_r[..., :, np.newaxis] - pos_r[..., np.newaxis, :]
    x_lr = pos_l[..., :, np.newaxis] - pos_r[..., np.newaxis, :]
    if quadrature:
        k_ll, e_ll = quadrature_kernel(x_ll, t_l, t_l)
        k_rr, e_rr = quadrature_kernel(x_rr, t_r, t_r)
        k_lr, e_lr = quadrature_kernel(x_lr, t_l, t_r)
    else:
        k_ll, k_rr = kernel(x_ll, t_l), kernel(x_rr, t_r)
        e_ll = e_rr = np.zeros_like(k_ll)
        k_lr, e_lr = mixed_kernel(x_lr, t_l, t_r, return_error=True)

    def assemble(ll: FloatArray, rr: FloatArray, lr: FloatArray) -> FloatArray:
        ll, rr, lr = np.broadcast_arrays(ll, rr, lr)
        rl = np.swapaxes(lr, -1, -2)  # K is even in x and symmetric in (T1, T2)
        return np.concatenate([np.concatenate([ll, lr], axis=-1),
                               np.concatenate([rl, rr], axis=-1)], axis=-2)

    return assemble(k_ll, k_rr, k_lr), assemble(e_ll, e_rr, e_lr)


def _bilinear(p: FloatArray, k: FloatArray, q: FloatArray) -> FloatArray:
    """sum_ij p_i k_ij q_j over the two trailing step axes."""
    return np.sum(p * np.sum(k * q[..., np.newaxis, :], axis=-1), axis=-1)


def noise(model: Model, theta: ArrayLike, phidot: ArrayLike, quadrature: bool = False) -> Noise:
    """Zero-frequency current noise of the precession state (theta, phidot) (physics.md §6).

    Parameters
    ----------
    model : model parameters; arrays broadcast against ``theta`` and ``phidot`` (e.g. use
        ``model.per_branch()`` with theta of shape (n, branch)).
    theta : polar angle of the magnetization [rad]; NaN (empty branch slot) gives NaN.
    phidot : lab-frame precession rate [E0].
    quadrature : also compute ``S_quadrature`` (every pair kernel by quadrature, even where a
        closed form exists) and ``quadrature_error``.

    Returns
    -------
    Noise
        S, S_r [e²E0/hbar], S_eq, excess noise, noise temperature [E0/k_B], conductance
        [e²/hbar]. Where T_r != T (both > 0) the mixed kernels come from quadrature.
    """
    # broadcast theta to the full grid: distribution.steps sizes the temperature array by the
    # shape of the tunnel widths and theta only
    arrays = [np.asarray(getattr(model, f.name)) for f in fields(model)]
    shape = np.broadcast_shapes(np.shape(theta), np.shape(phidot),
                                *(a.shape for a in arrays if a.dtype.kind == "f"))
    dist = steps(model, np.broadcast_to(np.asarray(theta, dtype=float), shape), phidot)
    G = conductances(model, dist)  # (..., spin, lead)
    g_l, g_r = G[..., 0], G[..., 1]
    prefactor = g_l * g_r / (g_l + g_r)  # (..., spin)
    weight = dist.weight  # (..., spin, lead, step)
    zeros = np.zeros_like(weight[..., 0, :])
    p_l = np.concatenate([weight[..., 0, :], zeros], axis=-1)  # on the 4 dot steps
    p_r = np.concatenate([zeros, weight[..., 1, :]], axis=-1)
    p_d = dist.dot_weight

    def left_and_right(k: FloatArray) -> tuple[FloatArray, FloatArray]:
        j_dl, j_dr, j_dd = _bilinear(p_d, k, p_l), _bilinear(p_d, k, p_r), _bilinear(p_d, k, p_d)
        s_l = prefactor * (j_dl + g_l / g_r * (j_dd - j_dl))
        s_r = prefactor * (j_dr + g_r / g_l * (j_dd - j_dr))
        return np.sum(s_l, axis=-1), np.sum(s_r, axis=-1)

    k, _ = pair_kernels(dist)
    S, S_r = left_and_right(k)
    conductance = np.sum(prefactor, axis=-1)
    t_mean = np.mean(dist.temperature, axis=-1)
    S_eq = 4 * conductance * t_mean
    extra: dict[str, FloatArray] = {}
    if quadrature:
        k_q, err_q = pair_kernels(dist, quadrature=True)
        extra["S_quadrature"] = left_and_right(k_q)[0]
        # S = sum_sigma prefactor p_d^T K q with q = p_l + (G_l/G_r)(p_d - p_l)
        q = p_l + (g_l / g_r)[..., np.newaxis] * (p_d - p_l)
        extra["quadrature_error"] = np.sum(prefactor * _bilinear(np.abs(p_d), err_q, np.abs(q)),
                                           axis=-1)
    return Noise(S=S, S_r=S_r, S_eq=S_eq, excess_noise=S - S_eq,
                 noise_temperature=S / (4 * conductance), conductance=conductance, **extra)


def normal_noise_unbiased(G: ArrayLike, T: ArrayLike, theta: ArrayLike,
                          phidot: ArrayLike) -> FloatArray:
    """Closed form for normal leads at V = 0 and equal temperatures [e²E0/hbar].

    S = 4GT + G sin²theta [phidot coth(phidot/2T) - 2T], with phidot coth(phidot/2T) =
    K_T(phidot)/2 (finite at T = 0 and phidot = 0).

    Parameters
    ----------
    G : conductance sum_sigma rho^sigma Gamma_l Gamma_r / (Gamma_l + Gamma_r) [e²/hbar].
    T : temperature of both leads [E0/k_B].
    theta : polar angle [rad].
    phidot : precession rate [E0].
    """
    sin2 = np.sin(theta) ** 2
    return G * (4 * T + sin2 * (kernel(phidot, T) / 2 - 2 * T))


def normal_noise_biased(G: ArrayLike, p_l: ArrayLike, T: ArrayLike, V: ArrayLike,
                        theta: ArrayLike, phidot: ArrayLike) -> FloatArray:
    """Closed form for normal leads with bias V and equal temperatures [e²E0/hbar].

    S = G {2 p_l p_r J_ll + (p_l² + p_r²) J_lr}, p_r = 1 - p_l, with
    J_ll = 4T + (sin²theta/2)(K(phidot) - 4T) and
    J_lr = (1 - sin²theta/2) K(V) + (sin²theta/4)[K(V + phidot) + K(V - phidot)].

    Parameters
    ----------
    G : conductance [e²/hbar].
    p_l : Gamma_l / (Gamma_l + Gamma_r).
    T : temperature of both leads [E0/k_B].
    V : bias mu_l - mu_r [E0].
    theta : polar angle [rad].
    phidot : precession rate [E0].
    """
    p_l = np.asarray(p_l, dtype=float)
    p_r = 1 - p_l
    half = np.sin(theta) ** 2 / 2
    j_ll = 4 * T + half * (kernel(phidot, T) - 4 * np.asarray(T))
    j_lr = (1 - half) * kernel(V, T) + half / 2 * (kernel(np.add(V, phidot), T)
                                                   + kernel(np.subtract(V, phidot), T))
    return G * (2 * p_l * p_r * j_ll + (p_l**2 + p_r**2) * j_lr)


def normal_leads_noise(model: Model, theta: ArrayLike, phidot: ArrayLike) -> FloatArray:
    """Noise S from the normal-lead closed form (:func:`normal_noise_biased`) [e²E0/hbar].

    Raises ``ValueError`` unless both leads are normal and T_r equals T everywhere.
    """
    if model.magnetic_leads:
        raise ValueError("normal_leads_noise: the leads must be normal (equal spin widths)")
    if np.any(np.asarray(model.T_right) != model.T):
        raise ValueError("normal_leads_noise: needs T_r == T")
    gamma_l, gamma_r = np.asarray(model.gamma_l_up), np.asarray(model.gamma_r_up)
    G = (model.rho_up + model.rho_down) * gamma_l * gamma_r / (gamma_l + gamma_r)
    V = np.asarray(model.mu_l) - model.mu_r
    return normal_noise_biased(G, gamma_l / (gamma_l + gamma_r), model.T, V, theta, phidot)
