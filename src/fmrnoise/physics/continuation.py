"""Stationary states continued in a parameter p: folds and Hopf points (docs/theory.md §3, §11).

With H(theta, p) = sin²θ (b²/cos²θ + kappa(θ)²) - Omega², evaluated in x = cot(theta) as in
``steady_state`` (H = (b/x)² + kappa² sin²θ - Omega²), the states are the roots of H in theta,
and at a state

    dH/dtheta = 2 tan(theta) (1 + alpha²) det J.

A fold (two states meet: det J = 0) is a double root of H, i.e. an extremum of H in theta where
H = 0: between two states about to merge H has an extremum whose value m(p) changes sign at the
fold and stays smooth across it (the extremum outlives the states), so :func:`folds` solves
m(p) = 0 in p, with an inner root of det J (dH/dtheta = 0) in theta. A Hopf point is a root in
p of tr J along the continued state theta(p), the root of H in a bracket: :func:`hopf_points`.
Every function works on M independent problems at once (1-d arrays), e.g. the grid intervals
where something changes; the model's own kappa (``lead_damping``: the closed form
:class:`fmrnoise.physics.llg.LeadKappa`; else alpha0 omega_d).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .llg import LeadKappa, jacobian, principal_lag, residual_of
from .model import FloatArray, Model
from .steady_state import positive_root

IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
Vectorized = Callable[[FloatArray, IntArray], FloatArray]

#: A refined point satisfies |F_theta|, |F_psi| <= TOLERANCE s, and |tr J| <= TOLERANCE s
#: (Hopf) or |det J| <= TOLERANCE s² (fold), s = |b| + |kappa| + Omega. Its parameter is
#: located in its bracket [p_a, p_b] (a grid step) to TOLERANCE/20 |p_b - p_a|, within the
#: 1e-10 max(|p|, grid step) of docs/theory.md §11.
TOLERANCE = 1e-9
#: Nodes uniform in theta on which the extremum of H between two merging states is bracketed,
#: plus PAIR_NODES between the two states where they exist.
EXTREMUM_NODES = 33
PAIR_NODES = 9


@dataclass(frozen=True)
class Rows:
    """b, Omega and kappa(theta) of M problems, each at its own parameter value (1-d arrays)."""

    b: FloatArray
    omega: FloatArray
    alpha0: FloatArray
    kappa0: FloatArray  #: alpha0 omega_d: kappa without lead damping
    closed: LeadKappa | None  #: kappa with lead damping

    @classmethod
    def at(cls, model: Model, parameter: str, value: FloatArray) -> Rows:
        """The problems of ``model`` (1-d fields) with ``parameter`` set to ``value``."""
        model = _with(model, **{parameter: value})
        shape = np.shape(value)

        def full(a: ArrayLike) -> FloatArray:
            return np.broadcast_to(a, shape)

        closed = LeadKappa.from_model(model).map(full) if model.lead_damping else None
        return cls(full(model.B0 + model.omega_d), full(model.Omega), full(model.alpha0),
                   full(model.alpha0 * model.omega_d), closed)

    def take(self, k: IntArray | slice, column: bool = False) -> Rows:
        """The problems ``k`` (as a column (M, 1) to broadcast over nodes)."""
        def pick(a: np.ndarray) -> np.ndarray:
            a = a[k]
            return a[:, np.newaxis] if column else a

        return Rows(pick(self.b), pick(self.omega), pick(self.alpha0), pick(self.kappa0),
                    None if self.closed is None else self.closed.map(pick))

    def h(self, x: FloatArray) -> FloatArray:
        """H = (b/x)² + kappa² sin²θ - Omega² at x = cot(theta) != 0 [E0²]."""
        kap = self.kappa0 if self.closed is None else self.closed.at_theta(np.arctan2(1.0, x))
        return (self.b / x) ** 2 + kap**2 / (1.0 + x * x) - self.omega**2

    def jacobian(self, x: FloatArray) -> tuple[FloatArray, ...]:
        """tr J [E0], det J [E0²], kappa and w = b/cos(theta) [E0] at x = cot(theta)
        (0 < |x| < inf), as at a state."""
        q = np.hypot(1.0, x)
        w = self.b * q / x
        if self.closed is None:
            kap, dkap, alpha = self.kappa0, 0.0, self.alpha0
        else:
            theta = np.arctan2(1.0, x)
            c2, s2 = self.closed.half_angles(theta)
            kap, alpha = self.closed(c2, s2), self.closed.damping(c2, s2)
            dkap = self.closed.derivative(theta)
        return (*jacobian(kap, dkap, alpha, 1.0 / q, x / q, w), kap, w)

    def state(self, x: FloatArray) -> dict[str, FloatArray]:
        """theta, psi (from the stationary equations), tr J, det J, the scale
        s = |b| + |kappa| + Omega and the stationarity residual at x = cot(theta)."""
        trace, det, kap, w = self.jacobian(x)
        theta = np.arctan2(1.0, x)
        psi = principal_lag(np.arctan2(-kap, w))
        return {"theta": theta, "psi": psi, "trace": trace, "det": det,
                "scale": np.abs(self.b) + np.abs(kap) + self.omega,
                "residual": residual_of(self.b, self.omega, kap, theta, psi)}


def root(f: Vectorized, lo: FloatArray, hi: FloatArray, xatol: float = 0.0,
         maxiter: int = 100) -> FloatArray:
    """Roots of the vectorized f(x, k) (k: indices of the elements evaluated) in the brackets
    [lo, hi], to xatol + 4 eps |x|; NaN where a bracket is invalid or a value not finite.

    Chandrupatla's method (inverse quadratic interpolation safeguarded by bisection), as
    ``scipy.optimize.elementwise.find_root`` but with a fraction of its overhead per iteration:
    here roots are nested in roots.
    """
    x1, x2 = np.array(lo, dtype=float), np.array(hi, dtype=float)
    every = np.arange(x1.size)
    f1, f2 = f(x1, every), f(x2, every)
    out = np.where(f1 == 0, x1, np.where(f2 == 0, x2, np.nan))
    active = np.flatnonzero((np.sign(f1) * np.sign(f2) < 0) & np.isfinite(f1 + f2))
    x3, f3, t = x1.copy(), f1.copy(), np.full(x1.size, 0.5)
    for _ in range(maxiter):
        if active.size == 0:
            break
        a = active
        xt = x1[a] + t[a] * (x2[a] - x1[a])
        ft = f(xt, a)
        same = np.sign(ft) == np.sign(f1[a])
        x3[a], f3[a] = np.where(same, x1[a], x2[a]), np.where(same, f1[a], f2[a])
        x2[a], f2[a] = np.where(same, x2[a], x1[a]), np.where(same, f2[a], f1[a])
        x1[a], f1[a] = xt, ft
        best = np.abs(f1[a]) < np.abs(f2[a])
        xm, fm = np.where(best, x1[a], x2[a]), np.where(best, f1[a], f2[a])
        tl = (xatol + 4 * np.finfo(float).eps * np.abs(xm)) / np.abs(x2[a] - x1[a])
        stop = (tl > 0.5) | (fm == 0) | ~np.isfinite(ft)
        out[a[stop]] = np.where(np.isfinite(ft[stop]), xm[stop], np.nan)
        with np.errstate(all="ignore"):  # inverse quadratic interpolation where it is safe
            xi = (x1[a] - x2[a]) / (x3[a] - x2[a])
            phi = (f1[a] - f2[a]) / (f3[a] - f2[a])
            quadratic = (1 - np.sqrt(1 - xi) < phi) & (phi < np.sqrt(xi))
            t_next = (f1[a] / (f2[a] - f1[a]) * f3[a] / (f2[a] - f3[a])
                      + (x3[a] - x1[a]) / (x2[a] - x1[a]) * f1[a] / (f3[a] - f1[a])
                      * f2[a] / (f3[a] - f2[a]))
        t[a] = np.clip(np.where(quadratic, t_next, 0.5), tl, 1 - tl)
        active = a[~stop]
    return out


def _parameter_root(f: Vectorized, p_a: FloatArray, p_b: FloatArray) -> FloatArray:
    """Roots of the vectorized f(p, k) between p_a and p_b, as roots in
    t = (p - p_a)/(p_b - p_a) in [0, 1] to 2 (TOLERANCE/40 + 4 eps) in t (the final bracket)."""
    def in_t(t: FloatArray, k: IntArray) -> FloatArray:
        return f(p_a[k] + t * (p_b[k] - p_a[k]), k)

    return p_a + root(in_t, np.zeros(p_a.size), np.ones(p_a.size), TOLERANCE / 40) * (p_b - p_a)


def _with(model: Model, **changes: ArrayLike) -> Model:
    """``model`` with some array fields replaced, without the validation of :class:`Model`
    (run at every iteration of the root finders, on values between grid points that passed
    it)."""
    out = copy.copy(model)
    for name, value in changes.items():
        object.__setattr__(out, name, np.asarray(value, dtype=float))
    return out


def _take(model: Model, k: IntArray) -> Model:
    """The problems ``k`` of a model of 1-d fields."""
    return _with(model, **{f.name: a[k] for f in fields(model)
                           if isinstance(a := getattr(model, f.name), np.ndarray)})


def _extremum(rows: Rows, sign: FloatArray, window: tuple[FloatArray, FloatArray],
              pair: tuple[FloatArray, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Least value of sign H over theta in the window [E0²], and its x = cot(theta).

    Bracketed on EXTREMUM_NODES nodes uniform in theta over the window and PAIR_NODES over
    ``pair`` (the merging states where they exist); a least node inside is refined to the root
    of det J (dH/dtheta = 0) between its neighbours, or, where det J keeps its sign there, to
    the minimum of sign H (Chandrupatla's minimization).
    """
    nodes = [lo[:, np.newaxis] + (hi - lo)[:, np.newaxis] * np.linspace(0.0, 1.0, count)
             for (lo, hi), count in ((window, EXTREMUM_NODES), (pair, PAIR_NODES))]
    x = np.sort(1.0 / np.tan(np.concatenate(nodes, axis=-1)), axis=-1)
    f = sign[:, np.newaxis] * rows.take(slice(None), column=True).h(x)
    k = np.argmin(f, axis=-1)
    value, at = np.take_along_axis(f, k[:, np.newaxis], -1)[:, 0], x[np.arange(k.size), k]
    inner = np.flatnonzero((k > 0) & (k < x.shape[-1] - 1))
    lo, mid, hi = (x[inner, k[inner] + d] for d in (-1, 0, 1))

    def det(z: FloatArray, j: IntArray) -> FloatArray:
        return rows.take(j).jacobian(z)[1]

    flips = np.flatnonzero(np.sign(det(lo, inner)) != np.sign(det(hi, inner)))
    refined = root(lambda z, j: det(z, inner[flips[j]]), lo[flips], hi[flips])
    good = ~np.isnan(refined)
    done = inner[flips[good]]
    at[done] = refined[good]
    value[done] = sign[done] * rows.take(done).h(at[done])
    rest = np.setdiff1d(np.arange(inner.size), flips[good])
    if rest.size:
        from scipy.optimize import elementwise  # here: SciPy is slow to import, rarely needed

        result = elementwise.find_minimum(lambda z, j: sign[j] * rows.take(j).h(z),
                                          (lo[rest], mid[rest], hi[rest]), args=(inner[rest],))
        ok = inner[rest][result.success]
        value[ok], at[ok] = result.f_x[result.success], result.x[result.success]
    return value, at


def folds(model: Model, parameter: str, p_e: FloatArray, p_n: FloatArray, sign: FloatArray,
          window: tuple[FloatArray, FloatArray],
          pair: tuple[FloatArray, FloatArray]) -> tuple[FloatArray, dict[str, FloatArray],
                                                         BoolArray]:
    """Folds of M problems: at p_e two states sit at theta = pair (and sign H < 0 between
    them), at p_n they are gone, and no other state enters the theta window around them.

    Returns the parameter of each fold, the state there (:meth:`Rows.state`) and whether it
    passed the check (TOLERANCE).
    """
    def extremum(p: FloatArray, j: IntArray) -> FloatArray:
        rows = Rows.at(_take(model, j), parameter, p)
        return _extremum(rows, sign[j], (window[0][j], window[1][j]),
                         (pair[0][j], pair[1][j]))[0]

    p = _parameter_root(extremum, p_e, p_n)
    found = ~np.isnan(p)
    rows = Rows.at(model, parameter, np.where(found, p, p_e))
    state = rows.state(_extremum(rows, sign, window, pair)[1])
    ok = (found & (state["residual"] <= TOLERANCE)
          & (np.abs(state["det"]) <= TOLERANCE * state["scale"] ** 2))
    return p, state, ok


def hopf_points(model: Model, parameter: str, p_a: FloatArray, p_b: FloatArray,
                window: tuple[FloatArray, FloatArray]) -> tuple[FloatArray,
                                                                dict[str, FloatArray], BoolArray]:
    """Hopf points of M problems: between p_a and p_b the state that is the only root of H in
    the theta window changes the sign of tr J.

    Returns the parameter of each Hopf point, the state there (:meth:`Rows.state`) and whether
    it passed the check (TOLERANCE, and det J > 0).
    """
    x_lo, x_hi = 1.0 / np.tan(window[1]), 1.0 / np.tan(window[0])

    def state_x(rows: Rows, j: IntArray) -> FloatArray:
        if rows.closed is None:  # constant kappa: the closed form, x or -x by hemisphere
            return np.sign(x_hi[j]) * positive_root(rows.b, rows.kappa0, rows.omega)
        return root(lambda z, k: rows.take(k).h(z), x_lo[j], x_hi[j])

    def trace(p: FloatArray, j: IntArray) -> FloatArray:
        rows = Rows.at(_take(model, j), parameter, p)
        return rows.jacobian(state_x(rows, j))[0]

    p = _parameter_root(trace, p_a, p_b)
    found = ~np.isnan(p)
    rows = Rows.at(model, parameter, np.where(found, p, p_a))
    state = rows.state(state_x(rows, np.arange(p.size)))
    ok = (found & (state["residual"] <= TOLERANCE) & (state["det"] > 0)
          & (np.abs(state["trace"]) <= TOLERANCE * state["scale"]))
    return p, state, ok
