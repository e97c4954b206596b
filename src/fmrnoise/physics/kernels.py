"""Energy-integral kernels of the zero-frequency noise (docs/theory.md §6, §9).

With F(eps) = tanh(eps / 2T) = 1 - 2 n(eps), the pair kernel of two Fermi steps, one at ``a``
with temperature T1 and one at ``b`` with temperature T2, is

    K(a - b; T1, T2) = ∫ d eps [1 - F_T1(eps - a) F_T2(eps - b)]          [E0],

even in x = a - b and symmetric in (T1, T2). Closed forms: T1 = T2 = T gives 2x coth(x/2T)
(:func:`kernel`), and its excess over equilibrium, E_T(x) = K_T(x) - 4T >= 0, is evaluated
without cancellation by :func:`excess_kernel` (the building block of the excess noise); one
cold step (T2 = 0) gives 4 T1 ln(2 cosh(x/2T1)) (:func:`cold_kernel`). Otherwise the kernel is
computed by quadrature; its row sums are taken row by row, so that a kernel's value does not
depend on the batch it is computed in. The default rule integrates the equivalent
representation

    K(x; T1, T2) = 2 E|x + L1 + L2| = ∫ dy w_Ts(y) C_Tb(x + y),

where L_i are independent logistic variables of scale T_i (density w_T(y) = F_T'(y)/2 =
sech²(y/2T)/4T, the smeared delta of a Fermi step), C_T(z) = 2E|z + L| =
4T ln(2 cosh(z/2T)) is the cold kernel, and Ts <= Tb are the smaller and larger temperature.
(Both sides have second derivative 4 (w_T1 * w_T2)(x) and tend to 2|x| for |x| -> inf.) In the
scaled variable u = y/Ts the integrand is analytic in the strip |Im u| < pi and decays like
e^{-|u|}, so the trapezoidal rule on u in [-38, 38] with step 1/2 (153 nodes) converges
geometrically, to ~1e-15 relative; the rule with step 1 (every other node) gives the error
estimate. The direct rule (``method="direct"``) integrates the defining energy integral with
scipy.integrate.tanhsinh on a finite window split at the steps; it is slower and serves as a
cross-check.

:func:`mixed_excess_kernel` needs 1e-10 (the hot-electron noise of docs/theory.md §12,
where nearly every kernel is a quadrature), and its excess K - 2(T1 + T2) accurate where T1 ~ T2.
With c = x/Tb and r = Ts/Tb, the pairs of nodes +-u of a symmetric rule combine into

    ln cosh((c + r u)/2) + ln cosh((c - r u)/2) = ln[(cosh c + cosh r u)/2],

one logarithm per pair. Subtracting the same rule at r = 1, whose exact value is the closed form
K_Tb(x), leaves

    K(x; Ts, Tb) = K_Tb(x) + 2 Tb sum_j nu_j ln(1 + D_j/(cosh c + cosh u_j)),
    D_j = cosh r u_j - cosh u_j = -2 sinh((1 + r) u_j/2) sinh((1 - r) u_j/2),

with D_j shared by all kernels of one temperature pair. The rule's error now vanishes as r -> 1
(like 1 - r), so near T1 = T2 the excess has the relative accuracy of the (small) difference
T1 - T2 instead of an absolute error ~ 1e-12 K. The nodes are those of the trapezoidal rule in t
with u = A sinh(t/A), A = 6, step 0.6, up to u = 34 (25 pairs): near u = 0 the map is the
identity (the strip of analyticity |Im u| < pi is kept), in the tails it thins the nodes where
the integrand is exponentially small. Measured against the 1e-15 rule: <= 2.1e-12 relative for
all x and 0 < Ts < Tb.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .model import FloatArray

__all__ = ["cold_kernel", "excess_kernel", "kernel", "mixed_excess_kernel", "mixed_kernel",
           "quadrature_kernel"]

#: Beyond |x| > _FAR * T the thermal correction to 2|x| is below e^-700 relative: drop it.
_FAR = 700.0
#: Trapezoidal rule for the logistic average: step, half-width of the u window.
_STEP = 0.5
_HALF_WIDTH = 38.0
#: Half-width of the energy window of the direct rule beyond the outermost step, in max(T).
_WINDOW = 80.0
#: Rows of the (kernel, node) work array evaluated at once.
_CHUNK = 2048
_EPS = np.finfo(float).eps
#: Series of z coth z - 1 = (z cosh z - sinh z)/sinh z for z <= 1: the numerator is
#: z^3 sum_n c_n z^(2n-2) with c_n = 2n/(2n+1)! > 0 (n = 1..10; truncation < 1e-18 relative).
_EXCESS_SERIES = tuple(2 * n / math.factorial(2 * n + 1) for n in range(10, 0, -1))


def _logistic_rule() -> tuple[FloatArray, FloatArray]:
    """Nodes u (n,) and weights (n, 2) of the fine (step 1/2) and coarse (step 1) rules."""
    half = round(_HALF_WIDTH / _STEP)
    if half % 2:
        raise ValueError("the coarse rule needs an even number of half-steps")
    u = np.arange(-half, half + 1) * _STEP
    density = 0.25 / np.cosh(u / 2) ** 2  # the logistic density of unit scale
    fine = density / density.sum()
    coarse = np.zeros_like(density)
    coarse[::2] = density[::2] / density[::2].sum()  # nodes at integer u (half is even)
    return u, np.stack([fine, coarse], axis=-1)


_NODES, _WEIGHTS = _logistic_rule()

#: Paired rule of :func:`mixed_excess_kernel`: scale A and step of the map u = A sinh(t/A),
#: largest node u.
_PAIR_SCALE = 6.0
_PAIR_STEP = 0.6
_PAIR_HALF_WIDTH = 34.0
#: Rows (temperature pairs) of the (row, kernel, node) work array evaluated at once.
_PAIR_CHUNK = 512


def _paired_rule() -> tuple[FloatArray, FloatArray]:
    """Nodes u_j >= 0 (n,) and weights nu_j (n,), sum 1, of the paired logistic rule.

    E[g(L)] over the logistic density sech²(u/2)/4 of an even integrand g is sum_j nu_j g(u_j):
    the trapezoidal rule in t, u = A sinh(t/A), with the pairs +-u_j folded together (the node
    u = 0 counts once, the others twice).
    """
    t_max = _PAIR_SCALE * math.asinh(_PAIR_HALF_WIDTH / _PAIR_SCALE)
    t = np.arange(0.0, t_max, _PAIR_STEP)
    u = _PAIR_SCALE * np.sinh(t / _PAIR_SCALE)
    weight = 0.25 / np.cosh(u / 2) ** 2 * np.cosh(t / _PAIR_SCALE)  # density times du/dt
    weight[1:] *= 2
    return u, weight / weight.sum()


_PAIR_NODES, _PAIR_WEIGHTS = _paired_rule()
_PAIR_COSH = np.cosh(_PAIR_NODES)


def _broadcast(*args: ArrayLike) -> tuple[tuple[int, ...], list[FloatArray]]:
    """Broadcast shape and the arguments as flat float copies."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args))
    return arrays[0].shape, [a.ravel() for a in arrays]


def _thermal(x: FloatArray, T: FloatArray, cold: bool) -> FloatArray:
    """1-D arrays: kernel 2|x| + thermal part, the latter only where |x| < _FAR T."""
    ax = np.abs(x)
    out = 2 * ax
    hot = ax / _FAR < T  # False for T = 0 and for NaN x (then out stays NaN)
    if np.any(hot):
        t = T[hot]
        y = ax[hot] / t
        if cold:
            term = np.log1p(np.exp(-y))
            out[hot] += 4 * t * term
        else:  # 2|x| coth(y/2); series 4T(1 + y²/12) below y = 1e-4 (error < y⁴/720)
            small = y < 1e-4
            out[hot] = np.where(small, 4 * t * (1 + y * y / 12),
                                out[hot] / np.tanh(np.where(small, 1.0, y / 2)))
    return out


def kernel(x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Equal-temperature kernel K_T(x) = ∫[1 - F(eps - a)F(eps - b)] = 2x coth(x/2T) [E0].

    Parameters
    ----------
    x : step separation a - b [E0].
    T : temperature of both steps, >= 0 [E0/k_B].

    Returns
    -------
    K = 2|x| coth(|x|/2T) (= 2|x| + 4T y/(e^y - 1), y = |x|/T): 4T at x = 0, 2|x| at T = 0,
    within ~1 ulp for all x and T >= 0 (no overflow); broadcast over ``x`` and ``T``.
    """
    shape, (x, T) = _broadcast(x, T)
    return _thermal(x, T, cold=False).reshape(shape)


def _excess(x: FloatArray, T: FloatArray) -> FloatArray:
    """E_T(x) = K_T(x) - 4T = 4T (z coth z - 1), z = |x|/2T, for float arrays (broadcast).

    z <= 1: positive series over sinh z (no cancellation); z > 1: 2|x|/tanh(z) - 4T (loses at
    most a factor 4 to cancellation, at z = 1); T = 0: 2|x|. NaN x gives NaN, without warnings.
    """
    ax = np.abs(x)
    hot = T > 0
    with np.errstate(over="ignore"):  # z = inf where T is tiny: handled by the z > 1 branch
        z = ax / (2 * np.where(hot, T, 1.0))
    zs = np.minimum(z, 1.0)
    w = zs * zs
    series = np.full_like(w, _EXCESS_SERIES[0])
    for c in _EXCESS_SERIES[1:]:
        series *= w
        series += c
    zs = np.where(zs > 0, zs, 1.0)  # z/sinh(z) -> 1 at z = 0, where w = 0
    series *= w
    series *= zs / np.sinh(zs)
    series *= 4 * T
    large = 2 * ax / np.tanh(np.maximum(z, 1.0)) - 4 * T  # tanh(inf) = 1: 2|x| - 4T
    return np.where(hot, np.where(z <= 1.0, series, large), 2 * ax)


def excess_kernel(x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Excess kernel E_T(x) = K_T(x) - 4T = 2x coth(x/2T) - 4T >= 0 [E0], without cancellation.

    The part of the equal-temperature kernel above its equilibrium value K_T(0) = 4T: the
    building block of the excess noise S - S_eq, accurate to a few ulp for all x and T >= 0
    (E ~ x²/3T for |x| << T, where K - 4T would lose everything to cancellation; 2|x| - 4T for
    |x| >> T; 2|x| at T = 0).

    Parameters
    ----------
    x : step separation [E0].
    T : temperature of both steps, >= 0 [E0/k_B].
    """
    x, T = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(T, dtype=float))
    return _excess(x, T)


def cold_kernel(x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Kernel of a step at temperature T and a step at zero temperature [E0].

    ∫[1 - tanh((eps - x)/2T) sign(eps)] d eps = 4T ln(2 cosh(x/2T))
    = 2|x| + 4T ln(1 + e^(-|x|/T)) (overflow-free form); 2|x| at T = 0.

    Parameters
    ----------
    x : step separation [E0].
    T : temperature of the warm step, >= 0 [E0/k_B].
    """
    shape, (x, T) = _broadcast(x, T)
    return _thermal(x, T, cold=True).reshape(shape)


def _logistic_quadrature(x: FloatArray, t_small: FloatArray,
                         t_big: FloatArray) -> tuple[FloatArray, FloatArray]:
    """1-D arrays: K(x; Ts, Tb) = E_{L_s}[C_Tb(x + L_s)] by the trapezoidal rule, and its error.

    Requires 0 <= Ts <= Tb. Where Tb = 0 or |x| > _FAR Tb the kernel is 2|x| (error 0).
    """
    value = 2 * np.abs(x)
    error = np.zeros_like(x)
    todo = np.flatnonzero(~(np.abs(x) / _FAR > t_big) & (t_big > 0))
    for start in range(0, todo.size, _CHUNK):
        idx = todo[start:start + _CHUNK]
        tb = t_big[idx]
        # a = |x/Tb + (Ts/Tb) u|; C_Tb = Tb f(a), f(a) = 2a + 4 ln(1 + e^-a)
        a = np.multiply.outer(t_small[idx] / tb, _NODES)
        a += (x[idx] / tb)[:, np.newaxis]
        np.abs(a, out=a)
        f = np.negative(a)
        np.exp(f, out=f)
        np.log1p(f, out=f)
        f *= 2
        f += a
        # row by row (not BLAS, whose summation order depends on the number of rows): a kernel's
        # value does not depend on the batch it is computed in
        fine = np.einsum("ij,j->i", f, _WEIGHTS[:, 0]) * (2 * tb)
        coarse = np.einsum("ij,j->i", f, _WEIGHTS[:, 1]) * (2 * tb)
        value[idx] = fine
        # geometric convergence: error(h) ~ error(2h)^2 / |K|, plus a rounding allowance
        diff = fine - coarse
        error[idx] = diff * diff / np.abs(fine) + 16 * _EPS * np.abs(fine)
    return value, error


def _fermi_occupation(e: FloatArray, T: FloatArray) -> FloatArray:
    """1 - n(e) = expit(e/T), with the T = 0 limit heaviside(e) (1/2 at e = 0)."""
    from scipy.special import expit  # here, as tanhsinh: SciPy is slow to import

    hot = T > 0
    z = np.divide(e, T, out=np.zeros(np.broadcast_shapes(e.shape, T.shape)), where=hot)
    return np.where(hot, expit(z), np.heaviside(e, 0.5))


def _energy_integrand(e: FloatArray, x: FloatArray, t1: FloatArray, t2: FloatArray,
                      scale: FloatArray) -> FloatArray:
    """[1 - F_T1(e - x) F_T2(e)] / scale = 2[n1(1 - n2) + n2(1 - n1)] / scale (no cancellation)."""
    up1 = _fermi_occupation(e - x, t1)
    up2 = _fermi_occupation(e, t2)
    return 2 * (up1 * (1 - up2) + up2 * (1 - up1)) / scale


def _direct_quadrature(x: FloatArray, t1: FloatArray,
                       t2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """K by tanh-sinh quadrature of the energy integral on [min - W, min, max, max + W]."""
    from scipy.integrate import tanhsinh  # here: scipy.integrate costs 0.3 s to import

    lo, hi = np.minimum(x, 0.0), np.maximum(x, 0.0)
    t_big = np.maximum(t1, t2)
    window = _WINDOW * t_big
    scale = 2 * np.abs(x) + 4 * np.log(2) * t_big  # a lower bound of K, > 0 unless K = 0
    scale = np.where(scale > 0, scale, 1.0)
    value = np.zeros_like(x)
    error = np.zeros_like(x)
    for a, b in ((lo - window, lo), (lo, hi), (hi, hi + window)):
        res = tanhsinh(_energy_integrand, a, b, args=(x, t1, t2, scale), atol=1e-15, rtol=1e-14)
        value += res.integral
        error += np.abs(res.error)
    return value * scale, error * scale


def quadrature_kernel(x: ArrayLike, T1: ArrayLike, T2: ArrayLike,
                      method: Literal["logistic", "direct"] = "logistic",
                      ) -> tuple[FloatArray, FloatArray]:
    """Pair kernel ∫[1 - tanh((eps - x)/2T1) tanh(eps/2T2)] d eps by quadrature, everywhere.

    Works also where a closed form exists (T1 = T2, or a temperature 0), to cross-check it.

    Parameters
    ----------
    x : step separation [E0].
    T1, T2 : temperatures of the two steps, >= 0 [E0/k_B].
    method : "logistic" (default; trapezoidal rule on the logistic average, module docstring,
        ~1e-15 relative, ~1 µs per kernel) or "direct" (scipy.integrate.tanhsinh on the
        energy integral over a window of ±80 max(T) beyond the steps, split at the steps 0 and
        x; ~50 µs per kernel).

    Returns
    -------
    value : kernel [E0].
    error : the integrator's absolute error estimate [E0] (0 where the integrand is a pure
        step function, T1 = T2 = 0, or the thermal part underflows, |x| > 700 max(T)).
    """
    shape, (x, t1, t2) = _broadcast(x, T1, T2)
    if method == "logistic":
        value, error = _logistic_quadrature(x, np.minimum(t1, t2), np.maximum(t1, t2))
    elif method == "direct":
        value, error = _direct_quadrature(x, t1, t2)
    else:
        raise ValueError(f"method: expected 'logistic' or 'direct', got {method!r}")
    return value.reshape(shape), error.reshape(shape)


def mixed_kernel(x: ArrayLike, T1: ArrayLike, T2: ArrayLike, return_error: bool = False,
                 ) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Pair kernel ∫[1 - tanh((eps - x)/2T1) tanh(eps/2T2)] d eps for any T1, T2 >= 0 [E0].

    Closed form where T1 == T2 (:func:`kernel`) or one temperature is 0 (:func:`cold_kernel`);
    trapezoidal quadrature of the logistic average (module docstring), ~1e-15 relative, where
    both are positive and unequal. Vectorized; broadcasts ``x``, ``T1``, ``T2``.

    Parameters
    ----------
    x : step separation [E0].
    T1, T2 : temperatures of the two steps, >= 0 [E0/k_B].
    return_error : also return the absolute error estimate [E0] (0 at closed-form elements).
    """
    shape, (x, t1, t2) = _broadcast(x, T1, T2)
    value = np.empty_like(x)
    error = np.zeros_like(x)
    t_small, t_big = np.minimum(t1, t2), np.maximum(t1, t2)
    equal = t1 == t2
    cold = (t_small == 0) & ~equal
    quad = ~(equal | cold)
    value[equal] = _thermal(x[equal], t1[equal], cold=False)
    value[cold] = _thermal(x[cold], t_big[cold], cold=True)
    if np.any(quad):
        value[quad], error[quad] = _logistic_quadrature(x[quad], t_small[quad], t_big[quad])
    value, error = value.reshape(shape), error.reshape(shape)
    return (value, error) if return_error else value


def _paired_excess(x: FloatArray, t_small: FloatArray, t_big: FloatArray) -> FloatArray:
    """(rows, k) excess K(x; Ts, Tb) - 2(Ts + Tb) by the paired rule (module docstring).

    0 < Ts < Tb, (rows,). E_Tb(x) + 2(Tb - Ts) + 2 Tb sum_j nu_j ln(1 + D_j/(cosh c + cosh u_j));
    cosh c is capped at cosh 700 (no overflow; beyond, the sum vanishes and K = 2|x|).
    """
    out = np.empty_like(x)
    half = _PAIR_NODES / 2
    for start in range(0, x.shape[0], _PAIR_CHUNK):
        rows = slice(start, start + _PAIR_CHUNK)
        ts, tb = t_small[rows, np.newaxis], t_big[rows, np.newaxis]
        shared = np.sinh((1 + ts / tb) * half)
        shared *= np.sinh((tb - ts) / tb * half)
        shared *= -2  # D_j = cosh r u_j - cosh u_j, (rows, nodes)
        work = np.cosh(np.minimum(np.abs(x[rows]) / tb, _FAR))[..., np.newaxis] + _PAIR_COSH
        np.divide(shared[:, np.newaxis, :], work, out=work)
        np.log1p(work, out=work)
        # row by row (see _logistic_quadrature): a kernel does not depend on its batch
        total = np.einsum("ikn,n->ik", work, _PAIR_WEIGHTS)
        out[rows] = _excess(x[rows], tb) + 2 * (tb - ts) + 2 * tb * total
    return out


def mixed_excess_kernel(x: ArrayLike, T1: ArrayLike, T2: ArrayLike) -> FloatArray:
    """Excess K(x; T1, T2) - 2(T1 + T2) of the pair kernel over 4 T_mean [E0], to 1e-10.

    Closed forms where T1 == T2 (:func:`excess_kernel`) or one temperature is 0
    (:func:`cold_kernel` - 2T); elsewhere the paired rule of the module docstring (<= 2.1e-12
    relative to K, ~150 ns per kernel), whose error vanishes as T1 -> T2 (~1e-11 |T1 - T2|).
    Broadcasts ``x``, ``T1``, ``T2``; temperatures constant along the last axis of ``x`` are
    shared by its kernels (one set of D_j per row).

    Parameters
    ----------
    x : step separation [E0].
    T1, T2 : temperatures of the two steps, >= 0 [E0/k_B].
    """
    x, T1, T2 = (np.asarray(a, dtype=float) for a in (x, T1, T2))
    shape = np.broadcast_shapes(x.shape, T1.shape, T2.shape)
    shared = shape and np.broadcast_shapes(T1.shape, T2.shape)[-1:] in ((), (1,))
    row_shape = (*shape[:-1], 1) if shared else shape  # one temperature pair per row
    t1 = np.broadcast_to(T1, row_shape).reshape(-1)
    t2 = np.broadcast_to(T2, row_shape).reshape(-1)
    xs = np.broadcast_to(x, shape).reshape(t1.size, -1)
    t_small, t_big = np.minimum(t1, t2), np.maximum(t1, t2)
    equal = t1 == t2
    cold = (t_small == 0) & ~equal
    quad = ~(equal | cold)
    out = np.empty(xs.shape)
    out[equal] = _excess(xs[equal], t1[equal, np.newaxis])
    out[cold] = (_thermal(xs[cold].ravel(), np.repeat(t_big[cold], xs.shape[1]), cold=True)
                 .reshape(-1, xs.shape[1]) - 2 * t_big[cold, np.newaxis])
    if np.any(quad):
        out[quad] = _paired_excess(xs[quad], t_small[quad], t_big[quad])
    return out.reshape(shape)
