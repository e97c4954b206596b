"""Zero-frequency current noise of a precessing magnet (docs/theory.md §6).

Noise convention Blanter–Büttiker, S = ∫dt <{δI(t), δI(0)}> (equilibrium 4GT), with the
prefactor rho^sigma Gamma_l Gamma_r / Gamma_Sigma of docs/theory.md §7.1. Noise in e²E0/hbar,
conductance in e²/hbar, energies in E0.

Per dot spin sigma, with G_x = rho^sigma Gamma_x,eff^sigma and G_Sigma = G_l + G_r,

    S   = sum_sigma (G_l G_r / G_Sigma) {J(d, l) + (G_l/G_r) [J(d, d) - J(d, l)]},
    S_r = sum_sigma (G_l G_r / G_Sigma) {J(d, r) + (G_r/G_l) [J(d, d) - J(d, r)]},

J(A, B) = sum_ij p_i q_j K(a_i - b_j; T_i, T_j) over the steps of the two mixtures. S and S_r
are equal only if the dot weights are the conductance-weighted mix of the lead weights, so
their agreement checks the step lists. Written as above, both formulas subtract nearly equal J's
when one junction dominates (rounding error ~ eps max(G_l/G_r, G_r/G_l)); :func:`noise`
evaluates them in an equivalent form without that amplification (see its Notes).

The step separations of a state take only four values, phidot, V, V + phidot and V - phidot
(V = mu_l - mu_r), so a state needs four kernels (three quadratures where T_r != T), not 32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .distribution import Steps, half_angles, steps
from .kernels import excess_kernel, mixed_kernel, quadrature_kernel
from .model import FloatArray, Model, numbers
from .transport import conductances

__all__ = ["Noise", "SpinChannel", "equilibrium_noise", "evaluate_states", "noise",
           "normal_leads_noise", "normal_noise_biased", "normal_noise_unbiased", "pair_kernels",
           "spin_channels"]


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


def pair_kernels(dist: Steps) -> tuple[FloatArray, FloatArray]:
    """Kernels between all steps of the dot distribution by quadrature, and their errors.

    Every kernel is computed by :func:`fmrnoise.physics.kernels.quadrature_kernel` (the closed forms
    are evaluated blockwise by :func:`noise`, without this matrix).

    Parameters
    ----------
    dist : step lists of one precession state.

    Returns
    -------
    kernels : (..., spin, 4, 4) K(a_i - a_j; T_i, T_j) over the dot steps (l same, l opposite,
        r same, r opposite) [E0]; symmetric.
    errors : (..., spin, 4, 4) absolute error estimates [E0].
    """
    pos = dist.position  # (..., spin, lead, step)
    temp = dist.temperature[..., np.newaxis, :, np.newaxis, np.newaxis]  # (..., 1, lead, 1, 1)
    t_l, t_r = temp[..., 0, :, :], temp[..., 1, :, :]
    pos_l, pos_r = pos[..., 0, :], pos[..., 1, :]
    x_ll = pos_l[..., :, np.newaxis] - pos_l[..., np.newaxis, :]
    x_rr = pos_r[..., :, np.newaxis] - pos_r[..., np.newaxis, :]
    x_lr = pos_l[..., :, np.newaxis] - pos_r[..., np.newaxis, :]
    k_ll, e_ll = quadrature_kernel(x_ll, t_l, t_l)
    k_rr, e_rr = quadrature_kernel(x_rr, t_r, t_r)
    k_lr, e_lr = quadrature_kernel(x_lr, t_l, t_r)

    def assemble(ll: FloatArray, rr: FloatArray, lr: FloatArray) -> FloatArray:
        ll, rr, lr = np.broadcast_arrays(ll, rr, lr)
        rl = np.swapaxes(lr, -1, -2)  # K is even in x and symmetric in (T1, T2)
        return np.concatenate([np.concatenate([ll, lr], axis=-1),
                               np.concatenate([rl, rr], axis=-1)], axis=-2)

    return assemble(k_ll, k_rr, k_lr), assemble(e_ll, e_rr, e_lr)


def _bilinear(p: FloatArray, k: FloatArray, q: FloatArray) -> FloatArray:
    """sum_ij p_i k_ij q_j over the two trailing step axes."""
    return np.sum(p * np.sum(k * q[..., np.newaxis, :], axis=-1), axis=-1)


#: Elements (states) per block of the closed-form evaluation: the work arrays of a block stay
#: in the CPU cache.
BLOCK = 16384
#: Inputs of the closed-form evaluation, in the order of :func:`_closed_form`.
_INPUTS = ("mu_l", "mu_r", "T", "T_right", "rho_up", "rho_down", "gamma_l_up", "gamma_l_down",
           "gamma_r_up", "gamma_r_down")


@dataclass(frozen=True)
class SpinChannel:
    """Weights of one dot spin sigma in the noise formulas, for a flat block of states.

    Attributes
    ----------
    a, a_bar : weights of the same- and opposite-spin steps within the left lead, summing to 1.
    b, b_bar : the same within the right lead.
    lam_l, lam_r : lead weights of the dot, Gamma_x,eff / Gamma_Sigma.
    cond_l, cond_r : junction conductances G_x = rho Gamma_x,eff [e²/hbar].
    prefactor : G_l G_r / G_Sigma, this spin's part of the conductance G(theta) [e²/hbar].
    """

    a: FloatArray
    a_bar: FloatArray
    b: FloatArray
    b_bar: FloatArray
    lam_l: FloatArray
    lam_r: FloatArray
    cond_l: FloatArray
    cond_r: FloatArray
    prefactor: FloatArray


def spin_channels(theta: FloatArray, rho_up, rho_down, g_lu, g_ld, g_ru,
                  g_rd) -> tuple[SpinChannel, SpinChannel]:
    """Weights of the dot spins (up, down), docs/theory.md §4 (``g_lu``: Gamma_l^up).

    Dot spin sigma sees the lead widths Gamma_x^sigma (same spin, weight cos²(theta/2)) and
    Gamma_x^-sigma (opposite spin, weight sin²(theta/2)).
    """
    ch2, sh2 = half_angles(theta)
    channels = []
    for rho, l_same, l_opp, r_same, r_opp in ((rho_up, g_lu, g_ld, g_ru, g_rd),
                                             (rho_down, g_ld, g_lu, g_rd, g_ru)):
        wl_s, wl_o = ch2 * l_same, sh2 * l_opp
        wr_s, wr_o = ch2 * r_same, sh2 * r_opp
        gam_l, gam_r = wl_s + wl_o, wr_s + wr_o  # Gamma_x,eff
        gam_sum = gam_l + gam_r
        cond_l, cond_r = rho * gam_l, rho * gam_r
        channels.append(SpinChannel(
            a=wl_s / gam_l, a_bar=wl_o / gam_l, b=wr_s / gam_r, b_bar=wr_o / gam_r,
            lam_l=gam_l / gam_sum, lam_r=gam_r / gam_sum, cond_l=cond_l, cond_r=cond_r,
            prefactor=cond_l * cond_r / (cond_l + cond_r)))
    return channels[0], channels[1]


def equilibrium_noise(conductance: ArrayLike, T: ArrayLike, T_r: ArrayLike) -> FloatArray:
    """Reference S_eq = 4 G(theta) (T + T_r)/2 [e²E0/hbar] (docs/theory.md §6).

    Parameters
    ----------
    conductance : G(theta) = sum_sigma G_l G_r / G_Sigma [e²/hbar].
    T, T_r : lead temperatures [E0/k_B].
    """
    return 4 * np.asarray(conductance) * ((np.asarray(T) + T_r) / 2)


def _lead_mix_kernels(x: FloatArray, t_l: FloatArray, t_r: FloatArray, equal: bool,
                      t_mean: FloatArray) -> FloatArray:
    """K_lr(x; T_l, T_r) - 4 T_mean for the steps of different leads [E0].

    ``equal``: T_l == T_r everywhere (excess kernel, no cancellation); otherwise the closed forms
    or the quadrature of :func:`fmrnoise.physics.kernels.mixed_kernel` where T_l != T_r.
    """
    if equal:
        return excess_kernel(x, t_l)
    x, t_l, t_r, t_mean = np.broadcast_arrays(x, t_l, t_r, t_mean)
    out = np.empty(x.shape)
    same = t_l == t_r
    out[same] = excess_kernel(x[same], t_l[same])
    other = ~same
    out[other] = mixed_kernel(x[other], t_l[other], t_r[other]) - 4 * t_mean[other]
    return out


def _closed_form(theta: FloatArray, phidot: FloatArray, mu_l, mu_r, t_l, t_r, rho_up, rho_down,
                 g_lu, g_ld, g_ru, g_rd) -> tuple[FloatArray, ...]:
    """Noise of flat 1-D blocks of states from the kernels of the four distinct separations.

    Per dot spin sigma the steps are l/r same (mu_x - sigma omega_-) and l/r opposite
    (mu_x + sigma omega_+); their separations are only phidot (within a lead), V (same-same and
    opposite-opposite), V - sigma phidot (l same - r opposite) and V + sigma phidot (l opposite
    - r same), V = mu_l - mu_r. With lead step weights (a, 1 - a), (b, 1 - b), dot lead weights
    lambda_x = Gamma_x,eff/Gamma_Sigma and every kernel written as 4 T_mean + E:

        J_ll - 4T_mean = 2(T_l - T_r) + 2 a(1-a) E_l(phidot),   (likewise J_rr)
        J_lr - 4T_mean = (ab + (1-a)(1-b)) E_lr(V) + a(1-b) E_lr(V - sigma phidot)
                         + (1-a) b E_lr(V + sigma phidot),
        J(d, x) = lambda_l J_lx + lambda_r J_rx.

    Returns S, S_r, S_eq, excess noise (left junction), noise temperature, conductance.
    """
    volt = mu_l - mu_r
    equal_t = bool(np.all(t_l == t_r))
    t_mean = (t_l + t_r) / 2 if not equal_t else t_l
    # excess kernels E = K - 4 T_mean: within a lead at phidot, between the leads at V, V +- phidot
    if equal_t:
        e_l = e_r = excess_kernel(phidot, t_l)
        t_diff = 0.0
    else:
        e_l, e_r = excess_kernel(phidot, t_l), excess_kernel(phidot, t_r)
        t_diff = 2 * (t_l - t_r)
    unbiased = not np.any(volt)
    if unbiased and equal_t:
        e_v, e_plus, e_minus = 0.0, e_l, e_l
    elif unbiased:
        e_v = _lead_mix_kernels(np.zeros_like(phidot), t_l, t_r, False, t_mean)
        e_plus = e_minus = _lead_mix_kernels(phidot, t_l, t_r, False, t_mean)
    else:
        e_v = _lead_mix_kernels(volt, t_l, t_r, equal_t, t_mean)
        e_plus = _lead_mix_kernels(volt + phidot, t_l, t_r, equal_t, t_mean)
        e_minus = _lead_mix_kernels(volt - phidot, t_l, t_r, equal_t, t_mean)

    conductance = excess_l = excess_r = 0.0
    channels = spin_channels(theta, rho_up, rho_down, g_lu, g_ld, g_ru, g_rd)
    for ch, e_lsro, e_lors in zip(channels, (e_minus, e_plus), (e_plus, e_minus), strict=True):
        a, a_bar, b, b_bar, lam_l, lam_r = ch.a, ch.a_bar, ch.b, ch.b_bar, ch.lam_l, ch.lam_r
        j_ll = t_diff + 2 * a * a_bar * e_l
        j_rr = 2 * b * b_bar * e_r - t_diff
        j_lr = (a * b + a_bar * b_bar) * e_v + a * b_bar * e_lsro + a_bar * b * e_lors
        j_dl = lam_l * j_ll + lam_r * j_lr
        j_dr = lam_l * j_lr + lam_r * j_rr
        # junction formulas with J(d,d) - J(d,x) = lambda_xbar [J(d,xbar) - J(d,x)]
        excess_l = excess_l + ch.prefactor * (j_dl + ch.cond_l * lam_r / ch.cond_r * (j_dr - j_dl))
        excess_r = excess_r + ch.prefactor * (j_dr + ch.cond_r * lam_l / ch.cond_l * (j_dl - j_dr))
        conductance = conductance + ch.prefactor
    S_eq = equilibrium_noise(conductance, t_l, t_r)
    S = S_eq + excess_l
    return S, S_eq + excess_r, S_eq, excess_l, S / (4 * conductance), conductance


def _flat_inputs(model: Model, theta: ArrayLike, phidot: ArrayLike
                 ) -> tuple[tuple[int, ...], NDArray[np.intp] | None, list]:
    """Broadcast shape, flat indices of the states to evaluate (theta not NaN; None: all) and
    the flat inputs.

    Scalars stay 0-d; arrays are broadcast to the grid, flattened and restricted to the states.
    """
    values = [numbers("theta", theta), numbers("phidot", phidot),
              *(np.asarray(getattr(model, name), dtype=float) if name != "T_right"
                else np.asarray(model.T_right, dtype=float) for name in _INPUTS)]
    shape = np.broadcast_shapes(*(v.shape for v in values),
                                *(np.shape(getattr(model, f.name)) for f in fields(model)
                                  if isinstance(getattr(model, f.name), np.ndarray)))
    theta_b = np.broadcast_to(values[0], shape)
    mask = ~np.isnan(theta_b)
    index = None if mask.all() else np.flatnonzero(mask)
    return shape, index, [_gather(v, shape, index) for v in values]


def _gather(value: FloatArray, shape: tuple[int, ...],
            index: NDArray[np.intp] | None) -> FloatArray:
    """``value`` broadcast to ``shape``, flattened, at the flat ``index`` (None: everywhere).

    0-d for a single value; an array constant along trailing axes (e.g. a per-point parameter
    against a branch axis, shape (n, 1) against (n, branch)) is gathered without materializing
    the broadcast.
    """
    if value.size == 1:
        return value.reshape(())
    full = (1,) * (len(shape) - value.ndim) + value.shape
    lead = len(shape)
    while lead > 0 and full[lead - 1] == 1:
        lead -= 1
    if full[:lead] == shape[:lead]:  # broadcast along the trailing axes only
        repeat = int(np.prod(shape[lead:], dtype=np.int64))
        source = value.reshape(-1)
        if index is None:
            return np.repeat(source, repeat) if repeat > 1 else source
        return source.take(index // repeat if repeat > 1 else index)
    flat = np.broadcast_to(value, shape).reshape(-1)
    return flat if index is None else flat.take(index)


def noise(model: Model, theta: ArrayLike, phidot: ArrayLike, quadrature: bool = False) -> Noise:
    """Zero-frequency current noise of the precession state (theta, phidot) (docs/theory.md §6).

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

    Notes
    -----
    S and S_r are the left- and right-junction formulas of docs/theory.md §6,
    S = sum_sigma P {J(d,l) + (G_l/G_r)[J(d,d) - J(d,l)]} and its mirror image, with the dot's
    step weights p_d = (lambda_l p_l, lambda_r p_r) from the step list. Since
    p_d - p_l = lambda_r (p_r - p_l), J(d,d) - J(d,l) = lambda_r [J(d,r) - J(d,l)] exactly, so

        S   = sum_sigma P {J(d,l) + (G_l lambda_r / G_r) [J(d,r) - J(d,l)]},
        S_r = sum_sigma P {J(d,r) + (G_r lambda_l / G_l) [J(d,l) - J(d,r)]}.

    The multipliers lie in [0, 1] (they are lambda_l and lambda_r when the dot mixes the leads by
    conductance): neither formula amplifies rounding, and both are accurate to a few ulp for any
    ratio of the widths (the textbook form multiplies the rounding of J(d,d) - J(d,l) by
    G_l/G_r). S = S_r holds iff G_l lambda_r/G_r + G_r lambda_l/G_l = 1, i.e. iff the dot's
    lead weights are G_x/G_Sigma (or G_l = G_r): the check ties the dot distribution to the
    conductances. Every kernel enters as 4 T_mean + E with E computed directly (the excess
    kernel :func:`fmrnoise.physics.kernels.excess_kernel` at equal temperatures), so the excess
    noise S - S_eq is accurate even where it is far below S (slow precession, high T), and >= 0 at
    T_r = T. The states are evaluated in blocks of :data:`BLOCK`, only where theta is not NaN.
    """
    names = ("S", "S_r", "S_eq", "excess_noise", "noise_temperature", "conductance")

    def evaluate(theta: FloatArray, phidot: FloatArray, *inputs: FloatArray
                 ) -> tuple[FloatArray, ...]:
        values = _closed_form(theta, phidot, *inputs)
        return values + _quadrature_noise(theta, phidot, inputs) if quadrature else values

    if quadrature:
        names += ("S_quadrature", "quadrature_error")
    return Noise(**evaluate_states(model, theta, phidot, evaluate, names))


def evaluate_states(model: Model, theta: ArrayLike, phidot: ArrayLike,
                    evaluate: Callable[..., tuple[FloatArray, ...]],
                    names: tuple[str, ...]) -> dict[str, FloatArray]:
    """Outputs of a per-state function on the broadcast grid of ``model``, ``theta``, ``phidot``.

    ``evaluate(theta, phidot, *inputs)`` gets flat blocks of at most :data:`BLOCK` states (the
    states where theta is not NaN) and the parameters named in :data:`_INPUTS` (0-d where
    uniform, else flat blocks), and returns one array (or scalar) per name.

    Returns
    -------
    dict
        name -> array of the broadcast shape, NaN where theta is NaN (empty branch slots).
    """
    shape, index, (theta_f, phidot_f, *inputs) = _flat_inputs(model, theta, phidot)
    size = int(np.prod(shape, dtype=np.int64))
    n = size if index is None else index.size
    # one buffer for all outputs: one large allocation costs fewer page faults than several
    out = np.empty((len(names), n))
    theta_f, phidot_f = np.broadcast_to(theta_f, (n,)), np.broadcast_to(phidot_f, (n,))
    for start in range(0, n, BLOCK):
        block = slice(start, start + BLOCK)
        args = [a if a.ndim == 0 else a[block] for a in inputs]
        for row, value in zip(out, evaluate(theta_f[block], phidot_f[block], *args),
                              strict=True):
            row[block] = value
    if index is not None:
        grid = np.full((len(names), size), np.nan)  # NaN in the empty slots
        grid[:, index] = out
        out = grid
    return {name: values.reshape(shape) for name, values in zip(names, out, strict=True)}


def _quadrature_noise(theta: FloatArray, phidot: FloatArray,
                      inputs: tuple[FloatArray, ...]) -> tuple[FloatArray, FloatArray]:
    """S with every pair kernel by quadrature, from the step list, and its error estimate."""
    sub = Model(mu_l=inputs[0], mu_r=inputs[1], T=inputs[2], T_r=inputs[3], rho_up=inputs[4],
                rho_down=inputs[5], gamma_l_up=inputs[6], gamma_l_down=inputs[7],
                gamma_r_up=inputs[8], gamma_r_down=inputs[9])
    dist = steps(sub, np.broadcast_to(theta, theta.shape), phidot)
    G = conductances(sub, dist)  # (..., spin, lead)
    g_l, g_r = G[..., 0], G[..., 1]
    prefactor = g_l * g_r / (g_l + g_r)  # (..., spin)
    lam_r = dist.lead_weight[..., 1]
    weight = dist.weight  # (..., spin, lead, step)
    zeros = np.zeros_like(weight[..., 0, :])
    p_l = np.concatenate([weight[..., 0, :], zeros], axis=-1)  # on the 4 dot steps
    p_r = np.concatenate([zeros, weight[..., 1, :]], axis=-1)
    p_d = dist.dot_weight
    k, err = pair_kernels(dist)
    # S = sum_sigma P p_d^T K q, q = p_l + m (p_r - p_l), m = G_l lambda_r / G_r in [0, 1]
    m = (g_l * lam_r / g_r)[..., np.newaxis]
    q = p_l + m * (p_r - p_l)
    value = np.sum(prefactor * _bilinear(p_d, k, q), axis=-1)
    error = np.sum(prefactor * _bilinear(np.abs(p_d), err, np.abs(q)), axis=-1)
    return value, error


def normal_noise_unbiased(G: ArrayLike, T: ArrayLike, theta: ArrayLike,
                          phidot: ArrayLike) -> FloatArray:
    """Closed form for normal leads at V = 0 and equal temperatures [e²E0/hbar].

    S = 4GT + G sin²theta [phidot coth(phidot/2T) - 2T], with phidot coth(phidot/2T) - 2T =
    E_T(phidot)/2, the excess kernel (finite at T = 0 and phidot = 0, no cancellation).

    Parameters
    ----------
    G : conductance sum_sigma rho^sigma Gamma_l Gamma_r / (Gamma_l + Gamma_r) [e²/hbar].
    T : temperature of both leads [E0/k_B].
    theta : polar angle [rad].
    phidot : precession rate [E0].
    """
    sin2 = np.sin(theta) ** 2
    return G * (4 * np.asarray(T) + sin2 * excess_kernel(phidot, T) / 2)


def normal_noise_biased(G: ArrayLike, p_l: ArrayLike, T: ArrayLike, V: ArrayLike,
                        theta: ArrayLike, phidot: ArrayLike) -> FloatArray:
    """Closed form for normal leads with bias V and equal temperatures [e²E0/hbar].

    S = G {2 p_l p_r J_ll + (p_l² + p_r²) J_lr}, p_r = 1 - p_l, with
    J_ll = 4T + (sin²theta/2)(K(phidot) - 4T) and
    J_lr = (1 - sin²theta/2) K(V) + (sin²theta/4)[K(V + phidot) + K(V - phidot)];
    evaluated as 4GT plus excess kernels E = K - 4T
    (:func:`fmrnoise.physics.kernels.excess_kernel`).

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
    j_ll = half * excess_kernel(phidot, T)
    j_lr = (1 - half) * excess_kernel(V, T) + half / 2 * (
        excess_kernel(np.add(V, phidot), T) + excess_kernel(np.subtract(V, phidot), T))
    return G * (4 * np.asarray(T) + 2 * p_l * p_r * j_ll + (p_l**2 + p_r**2) * j_lr)


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
