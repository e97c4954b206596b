"""Charge cumulants of the left junction: full counting statistics (docs/theory.md §10).

Without energy relaxation each dot spin sigma and energy eps is an independent node between two
tunnel connectors with occupations f_x = (1 - F_x^sigma)/2 (the rotating-frame mixtures of §4) and
conductances G_x = rho^sigma Gamma_x,eff^sigma. With s = G_l + G_r, g = G_l G_r / s²,
D = f_l - f_r and R = f_l + f_r - 2 f_l f_r, the first three derivatives of its cumulant
generating function are

    k1 = s g D,    k2 = s g (R - 2 g D²),    k3 = s g D (1 - 6 g R + 12 g² D²),

and C_n = sum_sigma ∫ d eps k_n [e^n E0/hbar]: C1 is the current of §5, 2 C2 the noise S of §6.

**Closed form (T_r == T).** In the steps t_a = tanh((eps - a)/2T) of F_x = sum p_a t_a,
D = (F_r - F_l)/2 and R = (1 - F_l F_r)/2: k1 and k2 need integrals of single steps,
∫(t_a - t_b) = 2(b - a), and of pairs, ∫(1 - t_a t_b) = K(a - b), K(x) = 2x coth(x/2T) the
kernel of the noise; k3 also needs triples. Partial fractions, t_a t_b = 1 - (t_a - t_b)
coth((b - a)/2T), give for a <= b <= c

    ∫ [t_a t_b t_c - sign eps] d eps = -2b + K(c - a) [K(b - a) - K(c - b)] / 2(c - a),

and Phi = this + 2(a + b + c)/3 (:func:`_triple`; xi for two coinciding steps,
:func:`_pair_kernels`) is invariant under translation and odd under reflection. Dividing by the
largest separation keeps the divided difference of K free of cancellation; where all three steps
lie within 2 tau T, its Taylor series replaces it. At T = 0 (K = 2|x|, Phi = (4/3)(b - a)
- (4/3)(c - b)) every formula is the exact finite sum over the intervals between the steps,
where the integrand is constant. Per spin, with the step weights (alpha, alpha') and
(beta, beta') of the leads and M = <l> - <r> the difference of their mean step positions, the
linear terms cancel and

    C1 = s g M,    C2 = (s g / 2) [4T + (1 - 2g) E_lr + g (E_ll + E_rr)],
    C3 = s g [(1 - 2g) M + (3g/2) ((3g - 1) Z + 3g W)],

with E = K - 4T the excess kernels of the noise (E_lr = J_lr - 4T of noise.py),
W = [alpha alpha' (alpha - alpha') + beta beta' (beta' - beta)] xi(sigma phidot) from steps
within a lead, and Z, from lead-lead pairs and triples, in :func:`_closed_form`. The
separations within a spin take only the values phidot, V, V + phidot and V - phidot
(V = mu_l - mu_r), so a state needs four pair kernels (E, xi) and two triple kernels, for both
spins; at V = 0, where E is even and xi and Phi are odd, one pair kernel and one triple kernel
(:func:`_unbiased_kernels`).

**Quadrature (T_r != T; everywhere with quadrature=True).** ∫ k2 and ∫ k3 over the window from
80 max(T) below the lowest to 80 max(T) above the highest step (:func:`_quadrature`), split at
every step (the integrand jumps there if its lead is at T = 0) and into panels growing
geometrically away from the steps, each integrated by the 12-point Gauss-Legendre rule: ~1e-15
of the scale of the cumulants. The 8-point rule on the same panels gives the error estimate.
C1 needs no quadrature: ∫D = M at any temperatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import comb, factorial

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .distribution import half_angles, steps
from .model import FloatArray, Model
from .noise import _INPUTS, _flat_inputs
from .transport import conductances

__all__ = ["Cumulants", "cumulants"]


@dataclass(frozen=True)
class Cumulants:
    """Charge cumulants of the left junction per unit time; arrays of the broadcast shape.

    Attributes
    ----------
    C1 : mean current, equal to the current of §5 [e E0/hbar].
    C2 : second cumulant, S/2 of §6 [e² E0/hbar].
    C3 : third cumulant [e³ E0/hbar].
    C3_quadrature : C3 by quadrature of the energy integral (only with ``quadrature=True``)
        [e³ E0/hbar].
    C3_quadrature_error : absolute error estimate of C3_quadrature (only with
        ``quadrature=True``) [e³ E0/hbar].
    """

    C1: FloatArray
    C2: FloatArray
    C3: FloatArray
    C3_quadrature: FloatArray | None = None
    C3_quadrature_error: FloatArray | None = None


def _phi_series(n_max: int) -> tuple[float, ...]:
    """c_n, n = 0..n_max, of z coth z = sum c_n z^(2n): c_n = 4^n B_2n / (2n)!, exactly."""
    bernoulli = [Fraction(1)]
    for m in range(1, 2 * n_max + 1):
        bernoulli.append(-sum(comb(m + 1, k) * bernoulli[k] for k in range(m)) / (m + 1))
    return tuple(float(4**n * bernoulli[2 * n] / factorial(2 * n)) for n in range(n_max + 1))


#: Below |x| = 2 _TAU T a separation is "small": Taylor series instead of divided differences.
_TAU = 0.5
#: Coefficients c_n of z coth z; with |z| <= _TAU, 14 terms reach 1e-18 relative (radius pi).
_C = _phi_series(14)
#: States per block of the closed-form evaluation: its (4, BLOCK) work arrays stay in cache.
BLOCK = 8192
#: Half-width of the quadrature window beyond the outermost steps, in max(T).
_WINDOW = 80.0
#: States per quadrature chunk (work arrays of ~40 panels x 20 nodes per state and spin).
_CHUNK = 128


def _pair_kernels(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Excess kernel E(x) = K(x) - 4T and the triple kernel of two coinciding steps,
    xi(x) = Phi(a, a, b) = K(x) E(x)/2x - 2x/3 for x = a - b [E0].

    K = 2|x| coth(|x|/2T) = 2|x| (1 + 2/(e^(|x|/T) - 1)) from one exponential: 2|x| at T = 0,
    where xi = (4/3) x. For |z| = |x|/2T <= tau, where both formulas cancel, the series
    E = 4T sum_{n>=1} c_n z^(2n) and xi = 4T [2z/3 - (z coth z)'] = 4T sum_{n>=2} (-2n c_n)
    z^(2n-1) = 16 T z³/45 + ... replace them: E is accurate to a few ulp of K, xi of |x| + T.

    Parameters
    ----------
    x : step separations [E0].
    T : temperature, broadcast against ``x`` [E0/k_B].
    """
    T = np.broadcast_to(T, x.shape)
    ax = np.abs(x)
    small = ax <= 2 * _TAU * T  # also x == 0 at T == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # small: replaced
        k = 2 * ax * (1 + 2 / np.expm1(ax / T))
        e = k - 4 * T
        xi = k / (2 * x) * e - 2 * x / 3  # k/2x first: no underflow of k e
    if np.any(small):
        t = T[small]
        z = x[small] / np.where(t > 0, 2 * t, 1.0)
        z2 = z * z
        series_e, series_xi = np.zeros_like(z), np.zeros_like(z)
        for n in range(len(_C) - 1, 0, -1):  # Horner in z²
            series_e = series_e * z2 + _C[n]
            if n > 1:
                series_xi = series_xi * z2 - 2 * n * _C[n]
        e[small] = 4 * t * z2 * series_e
        xi[small] = 4 * t * z * z2 * series_xi
    return e, xi


def _triple(s: tuple[FloatArray, ...], e: tuple[FloatArray, ...], T: FloatArray) -> FloatArray:
    """Triple kernel Phi of three steps at one temperature T [E0].

    Phi(p1, p2, p3) = ∫ [t_p1 t_p2 t_p3 - sign eps] d eps + 2(p1 + p2 + p3)/3: symmetric,
    invariant under translation, odd under reflection.

    Parameters
    ----------
    s : cyclic separations (p2 - p1, p3 - p2, p1 - p3) of the steps (summing to 0) [E0].
    e : their excess kernels E(s_i) [E0].
    T : temperature [E0/k_B].

    Notes
    -----
    For the pair (s_i, s_i+1) whose sum -s_i+2 is the largest separation (so that their common
    step is the median), with a = s_i and b = s_i+1,

        Phi = -(2/3)(a - b) + K(a + b) [K(a) - K(b)] / 2(a + b),

    i.e. (4/3)(a - b) at T = 0. Where |a + b| <= 2 tau T the divided difference
    [K(a) - K(b)]/2(a + b) = (z_a - z_b) sum_n c_n h_n-1(z_a², z_b²) of z coth z (z = x/2T, h the
    complete homogeneous symmetric polynomials, all terms of one sign) replaces it.
    """
    m1, m2, m3 = (np.abs(v) for v in s)
    first = (m3 >= m1) & (m3 >= m2)
    second = ~first & (m1 >= m2)

    def pick(u: tuple[FloatArray, ...], shift: int) -> FloatArray:
        """u_i+shift for the chosen pair i (cyclic)."""
        return np.where(first, u[shift], np.where(second, u[(shift + 1) % 3], u[(shift + 2) % 3]))

    return _triple_kernel(pick(s, 0), pick(s, 1), -pick(s, 2), pick(e, 0), pick(e, 1),
                          4 * T + pick(e, 2), T)


def _triple_kernel(a: FloatArray, b: FloatArray, span: FloatArray, e_a: FloatArray,
                   e_b: FloatArray, k_span: FloatArray, T: FloatArray) -> FloatArray:
    """Phi = -(2/3)(a - b) + K(a + b) [E(a) - E(b)] / 2(a + b) of :func:`_triple` for its
    chosen pair (a, b), span = a + b the largest separation, k_span = K(span) [E0]."""
    T = np.broadcast_to(T, span.shape)
    small = np.abs(span) <= 2 * _TAU * T  # also span == 0 at T == 0
    out = k_span / (2 * np.where(small, 1.0, span)) * (e_a - e_b) - 2 * (a - b) / 3
    if np.any(small):
        a, b, k_span, t = a[small], b[small], k_span[small], T[small]
        two_t = np.where(t > 0, 2 * t, 1.0)
        u, v = (a / two_t) ** 2, (b / two_t) ** 2
        h = v_power = np.ones_like(u)
        series = np.full_like(u, _C[1])
        for c in _C[2:]:  # h_n = u h_n-1 + v^n
            v_power = v_power * v
            h = u * h + v_power
            series += c * h
        out[small] = (a - b) * (k_span * series / two_t - 2 / 3)
    return out


def _state_kernels(phidot: FloatArray, volt: FloatArray, T: FloatArray) -> tuple[FloatArray, ...]:
    """The kernels of a state (:func:`_closed_form`) [E0]: E and xi at the separations phidot,
    V, V + phidot, V - phidot, then Phi_a and Phi_b."""
    e, xi = _pair_kernels(np.stack(np.broadcast_arrays(phidot, volt, volt + phidot,
                                                      volt - phidot)), T)
    e_phi, e_v, e_plus, e_minus = e
    phi_a = _triple((phidot, volt - phidot, -volt), (e_phi, e_minus, e_v), T)
    phi_b = _triple((phidot, volt, -volt - phidot), (e_phi, e_v, e_plus), T)
    return (*e, *xi, phi_a, phi_b)


def _unbiased_kernels(phidot: FloatArray, volt: FloatArray,
                      T: FloatArray) -> tuple[FloatArray, ...]:
    """:func:`_state_kernels` at V = 0, from one pair kernel: E is even, xi and Phi are odd and
    E(0) = xi(0) = 0, so the values are the same (up to the sign of zeros) [E0]."""
    (e_phi,), (xi_phi,) = _pair_kernels(phidot[np.newaxis], T)
    zero = np.zeros_like(phidot)  # Phi_b = Phi(0, phidot, phidot): the pair (phidot, 0)
    phi_b = _triple_kernel(phidot, zero, phidot, e_phi, zero, 4 * T + e_phi, T)
    return e_phi, 0.0, e_phi, e_phi, xi_phi, 0.0, xi_phi, -xi_phi, -phi_b, phi_b


def _closed_form(theta: FloatArray, phidot: FloatArray, mu_l, mu_r, T, rho_up, rho_down, g_lu,
                 g_ld, g_ru, g_rd) -> tuple[FloatArray, FloatArray, FloatArray]:
    """C1, C2, C3 of flat 1-D blocks of states with T_r == T (module docstring).

    Per dot spin sigma the steps are l/r same (mu_x - sigma omega_-) and l/r opposite
    (mu_x + sigma omega_+), with lead weights (alpha, alpha'), (beta, beta'). Lead-lead pairs:
    same-same and opposite-opposite at V, l same - r opposite at V - sigma phidot (weight
    alpha beta'), l opposite - r same at V + sigma phidot (alpha' beta). Up to translation and
    reflection, the triples of two steps of one lead and one of the other are
    {0, sigma phidot, V} (Phi_a: those with l same and r opposite) and
    {0, sigma phidot, V + sigma phidot} (Phi_b: those with l opposite and r same), and

        Z = [alpha beta (alpha + beta) + alpha' beta' (alpha' + beta')] xi(V)
            + alpha beta' [(alpha + beta') xi(V - sigma phidot) - 2 (alpha' + beta) Phi_a]
            + alpha' beta [(alpha' + beta) xi(V + sigma phidot) - 2 (alpha + beta') Phi_b].

    Spin down sees the mirror images: V -+ phidot swap, and so do Phi_a and Phi_b.
    """
    ch2, sh2 = half_angles(theta)
    volt = mu_l - mu_r
    kernels = _state_kernels if np.any(volt) else _unbiased_kernels
    e_phi, e_v, e_plus, e_minus, xi_phi, xi_v, xi_plus, xi_minus, phi_a, phi_b = kernels(
        phidot, volt, T)

    c1 = c2 = c3 = 0.0
    for (rho, l_same, l_opp, r_same, r_opp, w, xi_w, (e_so, xi_so, phi_so),
         (e_os, xi_os, phi_os)) in (
            (rho_up, g_lu, g_ld, g_ru, g_rd, phidot, xi_phi, (e_minus, xi_minus, phi_a),
             (e_plus, xi_plus, phi_b)),
            (rho_down, g_ld, g_lu, g_rd, g_ru, -phidot, -xi_phi, (e_plus, xi_plus, phi_b),
             (e_minus, xi_minus, phi_a))):
        wl_s, wl_o = ch2 * l_same, sh2 * l_opp
        wr_s, wr_o = ch2 * r_same, sh2 * r_opp
        gam_l, gam_r = wl_s + wl_o, wr_s + wr_o  # Gamma_x,eff
        a, a_bar = wl_s / gam_l, wl_o / gam_l  # step weights within the leads
        b, b_bar = wr_s / gam_r, wr_o / gam_r
        gam_sum = gam_l + gam_r
        g = gam_l * gam_r / gam_sum**2  # G_l G_r / s²
        sg = rho * g * gam_sum  # G_l G_r / s
        mean = volt + (a_bar - b_bar) * w  # <l> - <r>
        p_ss, p_oo, p_so, p_os = a * b, a_bar * b_bar, a * b_bar, a_bar * b
        u, v = a + b_bar, a_bar + b
        aa, bb = a * a_bar, b * b_bar
        e_lr = (p_ss + p_oo) * e_v + p_so * e_so + p_os * e_os
        z = ((p_ss * (a + b) + p_oo * (a_bar + b_bar)) * xi_v
             + p_so * (u * xi_so - 2 * v * phi_so) + p_os * (v * xi_os - 2 * u * phi_os))
        within = (aa * (a - a_bar) + bb * (b_bar - b)) * xi_w
        c1 = c1 + sg * mean
        c2 = c2 + sg / 2 * (4 * T + (1 - 2 * g) * e_lr + 2 * g * (aa + bb) * e_phi)
        c3 = c3 + sg * ((1 - 2 * g) * mean + 1.5 * g * ((3 * g - 1) * z + 3 * g * within))
    return c1, c2, c3


def _rates(eps: FloatArray, position: FloatArray, weight: FloatArray, beta_l: FloatArray,
           beta_r: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    """k2/(s g) and k3/(s g) at energies ``eps`` (broadcast against the parameters).

    position, weight : (4, ...) the steps (l same, l opposite, r same, r opposite) and their
    weights within the leads; beta_x = 1/T_x (1/tiny at T = 0). D = f_l (1 - f_r)
    - f_r (1 - f_l) and R = f_l (1 - f_r) + f_r (1 - f_l), from occupations 1/(e^y + 1) and
    holes e^y/(e^y + 1), each to full relative precision: no cancellation in the tails, where
    R and D are exponentially small.
    """
    full, empty = [], []
    for a, w, beta in zip(position, weight, (beta_l, beta_l, beta_r, beta_r), strict=True):
        with np.errstate(over="ignore"):  # y = ±inf at T = 0
            y = (eps - a) * beta
        boltzmann = np.exp(np.clip(y, -700.0, 700.0))  # clipped: changes only values < 1e-304
        occupied = w / (1 + boltzmann)
        full.append(occupied)
        empty.append(occupied * boltzmann)
    forward = (full[0] + full[1]) * (empty[2] + empty[3])  # f_l (1 - f_r)
    backward = (full[2] + full[3]) * (empty[0] + empty[1])  # f_r (1 - f_l)
    d, r = forward - backward, forward + backward
    return r - 2 * g * d * d, d * (1 - 6 * g * r + 12 * g * g * d * d)


def _panels(anchor: FloatArray, length: FloatArray,
            tau: FloatArray) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Geometric panels of the half-intervals [anchor, anchor -+ length], (..., 8) arrays whose
    last axis alternates going down and going up.

    Panels [0, tau], [tau, 2 tau], [2 tau, 4 tau], ... from the anchor (one panel where
    tau = inf), the last one cut at ``length``. Returns each panel's flat half-interval index,
    centre and half-width.
    """
    length, tau = length.ravel(), tau.ravel()
    count = 1 + np.ceil(np.log2(np.maximum(length / tau, 1.0))).astype(np.intp)
    owner = np.repeat(np.arange(length.size), count)
    i = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
    t = tau[owner]
    lower = np.where(i > 0, t * np.exp2(i - 1), 0.0)
    upper = np.where(i == count[owner] - 1, length[owner], t * np.exp2(i))
    direction = np.where(owner % 2, 1.0, -1.0)
    return owner, anchor.ravel()[owner] + direction * (lower + upper) / 2, (upper - lower) / 2


def _gauss_rules() -> tuple[FloatArray, FloatArray]:
    """Nodes (20,) on [-1, 1] and weights (20, 2) of the 12-point (value) and the 8-point
    (error estimate) Gauss-Legendre rules."""
    (x12, w12), (x8, w8) = (np.polynomial.legendre.leggauss(n) for n in (12, 8))
    weights = np.zeros((20, 2))
    weights[:12, 0], weights[12:, 1] = w12, w8
    return np.concatenate([x12, x8]), weights


_NODES, _WEIGHTS = _gauss_rules()
#: Stands in for T = 0 in 1/T: a step sharp on every scale of the quadrature.
_TINY = np.finfo(float).tiny


def _quadrature(theta: FloatArray, phidot: FloatArray,
                inputs: list) -> tuple[FloatArray, FloatArray, FloatArray]:
    """C2, C3 and the absolute error estimate of C3 by quadrature, for flat 1-D states.

    Per state and spin the window [lowest step - 80 T_max, highest step + 80 T_max] is split
    at the four steps, the intervals between steps at their midpoints, and each piece into
    panels growing geometrically from its step (:func:`_panels`), from the local scale tau =
    min over warm steps s of max(|s - step|, T_s) (cold steps only make jumps, at the
    breakpoints). Every pole of the integrand (at s ± i pi T_s (2k + 1)) then lies at least a
    panel length away from a panel, and each panel's 12-point Gauss-Legendre value is good to
    ~(3 + √8)^-24 of its integrand scale. The 8-point value, ~(3 + √8)^-16, gives the error
    estimate, |G12 - G8| summed over panels: an upper bound.
    """
    n = theta.size
    out = np.zeros((3, n))
    for start in range(0, n, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        values = {"T_r" if name == "T_right" else name: value if value.ndim == 0
                  else value[chunk] for name, value in zip(_INPUTS, inputs, strict=True)}
        # potentials relative to mu_r (a common shift changes nothing): steps without the
        # rounding of large potentials
        values["mu_l"], values["mu_r"] = values["mu_l"] - values["mu_r"], 0.0
        sub = Model(**values)
        dist = steps(sub, theta[chunk], phidot[chunk])
        # per (state, spin) element: conductances, steps, their temperatures
        G = conductances(sub, dist).reshape(-1, 2)
        sg = G[:, 0] * G[:, 1] / (G[:, 0] + G[:, 1])
        position = dist.dot_position.reshape(-1, 4)
        temp = np.repeat(dist.temperature, 2, axis=0)  # (element, lead)
        order = np.argsort(position, axis=-1)
        ordered = np.take_along_axis(position, order, axis=-1)
        warm = np.take_along_axis(np.repeat(temp, 2, axis=-1), order, axis=-1)[:, np.newaxis, :]
        reach = np.maximum(np.abs(ordered[..., np.newaxis] - ordered[:, np.newaxis, :]), warm)
        tau = np.min(np.where(warm > 0, reach, np.inf), axis=-1)  # (element, step)
        window = _WINDOW * np.max(temp, axis=-1, keepdims=True)
        length = np.concatenate([window, np.repeat(np.diff(ordered, axis=-1) / 2, 2, axis=-1),
                                 window], axis=-1)
        owner, centre, half = _panels(np.repeat(ordered, 2, axis=-1), length,
                                      np.repeat(tau, 2, axis=-1))
        element = owner // 8
        beta = 1 / np.maximum(temp, _TINY)  # 1/T, sharp steps at T = 0
        k2, k3 = (np.einsum("pn,nr->pr", k, _WEIGHTS) * (half * sg[element])[:, np.newaxis]
                  for k in _rates(centre[:, np.newaxis] + half[:, np.newaxis] * _NODES,
                                  position.T[:, element, np.newaxis],
                                  dist.weight.reshape(-1, 4).T[:, element, np.newaxis],
                                  beta[element, :1], beta[element, 1:],
                                  (sg / (G[:, 0] + G[:, 1]))[element, np.newaxis]))
        state = element // 2
        for row, values in enumerate((k2[:, 0], k3[:, 0], np.abs(k3[:, 0] - k3[:, 1]))):
            out[row, chunk] = np.bincount(state, weights=values, minlength=len(sg) // 2)
    return out[0], out[1], out[2]


def _unflatten(values: FloatArray, shape: tuple[int, ...],
               index: NDArray[np.intp] | None) -> FloatArray:
    """Flat values of the evaluated states onto the grid, NaN in the empty slots."""
    if index is None:
        return values.reshape(shape)
    full = np.full(int(np.prod(shape, dtype=np.int64)), np.nan)
    full[index] = values
    return full.reshape(shape)


def cumulants(model: Model, theta: ArrayLike, phidot: ArrayLike,
              quadrature: bool = False) -> Cumulants:
    """Charge cumulants C1, C2, C3 of the precession state (theta, phidot) (docs/theory.md §10).

    Parameters
    ----------
    model : model parameters; arrays broadcast against ``theta`` and ``phidot`` (e.g. use
        ``model.per_branch()`` with theta of shape (n, branch)).
    theta : polar angle of the magnetization [rad]; NaN (empty branch slot) gives NaN.
    phidot : lab-frame precession rate [E0].
    quadrature : also compute ``C3_quadrature`` (the energy integral by quadrature, even where
        the closed form holds) and its error estimate ``C3_quadrature_error``.

    Returns
    -------
    Cumulants
        C1 [e E0/hbar], C2 [e² E0/hbar], C3 [e³ E0/hbar]: closed forms where T_r == T (any
        T >= 0), C2 and C3 by quadrature where T_r != T; C1 closed everywhere.

    Notes
    -----
    The closed forms (module docstring) are evaluated in blocks of :data:`BLOCK` states, only
    where theta is not NaN. Every kernel is an excess kernel, a divided difference by the
    largest separation of its steps or a Taylor series, so C1, C2, C3 are accurate to a few ulp
    of G (|V| + |phidot| + T), G = sum_sigma G_l G_r / G_Sigma, for all separations and
    temperatures, T = 0 included; the quadrature agrees to ~1e-15 of that scale.
    """
    shape, index, (theta_f, phidot_f, *inputs) = _flat_inputs(model, theta, phidot)
    n = int(np.prod(shape, dtype=np.int64)) if index is None else index.size
    theta_f, phidot_f = np.broadcast_to(theta_f, (n,)), np.broadcast_to(phidot_f, (n,))
    out = np.empty((3, n))
    closed_inputs = inputs[:3] + inputs[4:]  # without T_r: thermal-bias states are redone below
    for start in range(0, n, BLOCK):
        block = slice(start, start + BLOCK)
        args = [a if a.ndim == 0 else a[block] for a in closed_inputs]
        out[:, block] = _closed_form(theta_f[block], phidot_f[block], *args)
    thermal = np.broadcast_to(inputs[2] != inputs[3], (n,))  # C2, C3 by quadrature there
    extra = {}
    if quadrature or np.any(thermal):
        where = np.flatnonzero(np.ones(n, dtype=bool) if quadrature else thermal)
        c2, c3, error = _quadrature(theta_f[where], phidot_f[where],
                                    [a if a.ndim == 0 else a[where] for a in inputs])
        hot = thermal[where]
        out[1:, where[hot]] = c2[hot], c3[hot]
        if quadrature:
            extra = {"C3_quadrature": c3, "C3_quadrature_error": error}
    return Cumulants(*(_unflatten(v, shape, index) for v in out),
                     **{k: _unflatten(v, shape, index) for k, v in extra.items()})
