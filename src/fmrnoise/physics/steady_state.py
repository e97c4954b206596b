"""Stationary precession states of the driven magnet and their stability (docs/theory.md §3).

In the frame rotating with the drive a stationary state (theta, psi) satisfies
Omega sin(psi) = -kappa sin(theta) and Omega cos(theta) cos(psi) = b sin(theta), with
b = B0 + omega_d and kappa(theta) = alpha(theta) omega_d - I_s(theta)/S. In the variable
x = cot(theta) (x > 0: upper hemisphere, x = 0: equator, x = +-inf: poles) the states are the
roots of

    h(x) = (b/x)^2 + kappa(theta(x))^2 / (1 + x^2) - Omega^2,

which resolves the states near the poles and near the equator to full relative precision. A
constant kappa gives a quadratic in x^2 (closed form); a theta-dependent kappa (lead-induced damping
and torque, or a user-supplied damping law) is bracketed on a grid and refined by Chandrupatla's
method (the operations of ``scipy.optimize.elementwise.find_root``, without its overhead). With
lead damping the signs of h on the grid come mostly from a tabulated polynomial (one matrix
product per block of points, see the section below). Everything is vectorized over the grid of the
model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from .codes import Stability, Status
from .llg import (
    DampingLaw,
    LeadKappa,
    damping,
    jacobian,
    kappa,
    kappa_derivative,
    kappa_of,
    principal_lag,
    residual_of,
    torque,
)
from .model import FloatArray, Model

Int8Array = NDArray[np.int8]



EMPTY, STABLE, UNSTABLE, SADDLE, MARGINAL = Stability
NO_STABLE_STATE, TRUNCATED_STATES, RESIDUAL_ABOVE_TOLERANCE = Status

#: A found state whose stationarity residual (dimensionless, see
#: ``llg.stationarity_residual``) exceeds this sets RESIDUAL_ABOVE_TOLERANCE.
RESIDUAL_TOLERANCE = 1e-8
#: Relative tolerance of the marginal classification: |det| <= tol s^2, or det > 0 and
#: |tr| <= tol s, with s = |b| + |kappa| + Omega.
MARGINAL_TOLERANCE = 1e-12

#: A drive Omega <= OMEGA_FLOOR (|b| + |kappa|) is treated as Omega = 0 (states at the poles,
#: exact to a residual of Omega/s); it keeps x = cot(theta) ~ s/Omega finite.
OMEGA_FLOOR = 1e-150
#: The bracketing solver treats |b| <= B_FLOOR (Omega + |kappa|) as exact resonance b = 0 (the
#: near-equator roots |x| ~ |b|/Omega would leave the floating-point range).
B_FLOOR = 1e-280

#: Bracketing grid of the theta-dependent solver, per hemisphere and sorted by construction:
#: N_LOG_NODES nodes logarithmic in |x| from x_min (<= 1e-14, below the near-resonance roots)
#: up to the smallest |x| of the theta grid, N_THETA_NODES/2 nodes uniform in theta, and
#: N_LOG_NODES nodes logarithmic in |x| from the largest |x| of the theta grid up to x_max
#: (beyond the near-pole roots). The theta grid is finer than the log grids where they would
#: overlap, so merging them would add nothing.
N_THETA_NODES = 256
N_LOG_NODES = 24
#: Points x nodes evaluated at once by the bracketing solver (the work arrays stay in cache).
BLOCK_SIZE = 2**16
#: Points whose signs of h the tabulated lead-damping bracketing takes at once, and points
#: whose coefficients it prepares at once (the work arrays stay in the CPU cache).
TABLE_BLOCK = 256
TABLE_CHUNK = 2048
#: Relative margin of the tabulated signs of h (lead damping): a node's sign is taken from the
#: tabulated polynomial only where that exceeds TABLE_MARGIN times a bound of the magnitudes that
#: enter; the round-off of both evaluations stays below 1e-13 of that bound.
TABLE_MARGIN = 1e-10
#: Brackets refined at once (the work arrays of the root finder stay in the CPU cache), and the
#: number left in a block below which they finish with those of the other blocks.
REFINE_BLOCK = 8192
REFINE_TAIL = 512
#: Filled slots whose Jacobian, stability and residual are evaluated at once.
ASSEMBLE_BLOCK = 8192
#: Points per block of the constant-kappa closed form (its work arrays stay in the CPU cache).
CLOSED_FORM_BLOCK = 8192


@dataclass(frozen=True)
class SteadyStates:
    """Stationary states of every grid point, in branch slots ordered by ascending theta.

    Arrays have shape ``(*grid, max_states)`` unless noted; empty slots hold NaN (stability -1).
    Ties in theta (the equator pair at b = 0) are ordered by ascending psi.

    Attributes
    ----------
    theta : polar angle of m [rad].
    psi : lag of m behind the in-plane drive field, in (-pi, pi] [rad]; 0 at the poles.
    trace : trace of the rotating-frame Jacobian [E0].
    det : determinant of the rotating-frame Jacobian [E0^2].
    alpha : Gilbert damping alpha(theta) acting on the magnet [dimensionless].
    spin_current : spin-transfer torque current I_s(theta) acting on the magnet [E0]; 0 unless
        ``lead_damping`` (and 0 with a user-supplied damping law).
    residual : stationarity residual of the state (``llg.stationarity_residual``; with
        ``lead_damping`` kappa from its closed form :class:`fmrnoise.physics.llg.LeadKappa`)
        [dimensionless].
    stability : int8 code: -1 empty, 0 stable, 1 unstable, 2 saddle, 3 marginal.
    n_states : ``(*grid)`` int8, number of filled slots.
    n_stable : ``(*grid)`` int8, number of slots with stability 0.
    status : ``(*grid)`` int8 bit flags: 1 no stable state, 2 more states than slots (the
        first ``max_states`` by theta are kept), 4 a residual above ``RESIDUAL_TOLERANCE``.
    """

    theta: FloatArray
    psi: FloatArray
    trace: FloatArray
    det: FloatArray
    alpha: FloatArray
    spin_current: FloatArray
    residual: FloatArray
    stability: Int8Array
    n_states: Int8Array
    n_stable: Int8Array
    status: Int8Array

    @property
    def stable_slot(self) -> NDArray[np.intp]:
        """``(*grid)`` index of the lowest-theta stable slot, -1 where there is none."""
        stable = self.stability == STABLE
        return np.where(np.any(stable, axis=-1), np.argmax(stable, axis=-1), -1)

    def _stable(self, values: FloatArray) -> FloatArray:
        slot = self.stable_slot
        picked = np.take_along_axis(values, np.maximum(slot, 0)[..., np.newaxis], axis=-1)
        return np.where(slot >= 0, picked[..., 0], np.nan)

    @property
    def stable_theta(self) -> FloatArray:
        """``(*grid)`` theta of the lowest-theta stable state, NaN where none [rad]."""
        return self._stable(self.theta)

    @property
    def stable_psi(self) -> FloatArray:
        """``(*grid)`` psi of the lowest-theta stable state, NaN where none [rad]."""
        return self._stable(self.psi)


def steady_states(model: Model, max_states: int = 4,
                  damping_law: DampingLaw | None = None) -> SteadyStates:
    """Stationary precession states, their Jacobians and stability, at every grid point.

    Parameters
    ----------
    model : model parameters; the grid is the broadcast shape of all its array fields.
    max_states : number of branch slots.
    damping_law : optional vectorized damping law alpha(theta) [dimensionless] that replaces
        the model's (then I_s = 0, docs/theory.md §8 R6). It must accept complex theta (complex-step
        derivative).

    Returns
    -------
    SteadyStates
        Arrays of shape ``(*grid, max_states)`` (per slot) or ``(*grid)`` (per point).

    Notes
    -----
    Constant kappa (no ``lead_damping``, no ``damping_law``): closed form, exactly two states
    (one at b = 0, Omega = |kappa|), evaluated in blocks of ``CLOSED_FORM_BLOCK`` points.
    Otherwise the roots of h are bracketed, per hemisphere, on ``N_THETA_NODES``/2 nodes uniform
    in theta, extended by ``N_LOG_NODES`` nodes logarithmic in |x| towards the equator (down to
    below the near-resonance roots |x| ~ |b|/Omega) and as many towards the pole (beyond the
    near-pole roots |x| ~ max|kappa|/Omega, the poles' kappa included), then refined to
    round-off by Chandrupatla's method (SciPy's ``elementwise.find_root``, operation for
    operation); two roots closer than a grid cell (a state pair about to merge) can be missed.
    With ``lead_damping``, kappa, alpha and I_s come from their closed form in cos²(theta/2)
    (:class:`fmrnoise.physics.llg.LeadKappa`, the algebra of docs/theory.md §5), a few operations
    per node instead of the step lists; ``llg.stationarity_residual`` (the step-list path) checks
    the states independently, as the dot-voltage stage does. kappa' = d kappa/d theta enters the
    Jacobian by complex step. With ``lead_damping`` the signs of h on the theta nodes come from a
    table: D² h (D kappa's positive denominator) is a sum of 14 fixed functions of the node with
    per-point coefficients, one matrix product per block of points, and its sign is taken where
    it exceeds a bound of its round-off by far; h is computed node by node elsewhere (and at
    every node of the points whose log grids do not sit at their clipped ends), so the brackets
    and roots are those of the node-by-node evaluation, bit for bit (docs/theory.md §3).
    """
    if not 1 <= max_states <= np.iinfo(np.int8).max:
        raise ValueError(f"max_states: must be in [1, 127], got {max_states!r}")
    shape = np.broadcast_shapes(*(np.shape(getattr(model, f.name)) for f in fields(model)
                                  if isinstance(getattr(model, f.name), np.ndarray)))
    flat = model.map_arrays(lambda a: np.broadcast_to(a, shape).reshape(-1))
    theta_dependent = model.lead_damping or damping_law is not None
    if theta_dependent:
        closed = None
        if damping_law is None and model.lead_damping:  # coefficients of scalars stay 0-d
            closed = LeadKappa.from_model(model).map(
                lambda a: a.reshape(()) if a.size == 1 else np.broadcast_to(a, shape).reshape(-1))
        x, psi = _bracketed_candidates(flat, damping_law, closed)
        states = _assemble(flat, damping_law, x, psi, max_states, theta_dependent, closed)
    else:
        states = _constant_kappa_states(flat, max_states)
    return SteadyStates(**{name: value.reshape((*shape, *value.shape[1:]))
                           for name, value in states.items()})


# --- constant kappa: closed form --------------------------------------------------------------


def _constant_kappa_states(flat: Model, max_states: int) -> dict[str, np.ndarray]:
    """Slots of every point for constant kappa = alpha0 omega_d (I_s = 0), blockwise.

    The regular points (Omega > 0 and not the exact-resonance equator pair) have exactly two
    states, x and -x (x = cot theta > 0 from :func:`positive_root`), with equal det and
    opposite traces, already in slot order: they are evaluated here directly, in blocks of
    ``CLOSED_FORM_BLOCK`` points. The poles (Omega = 0) and the equator pairs go through the
    general assembly (:func:`_assemble`).
    """
    n = flat.B0.size
    b_all = np.broadcast_to(flat.B0 + flat.omega_d, (n,))
    kap_all = np.broadcast_to(kappa(flat, 0.0), (n,))
    omega_all = np.broadcast_to(flat.Omega, (n,))
    alpha_all = np.broadcast_to(flat.alpha0, (n,))
    slots = min(max_states, 2)
    names = ("theta", "psi", "trace", "det", "alpha", "spin_current", "residual")
    # one buffer for all float outputs: a single large allocation (huge pages where the kernel
    # allows them) costs far fewer page faults than seven; every element is written below
    out = dict(zip(names, np.empty((len(names), n, max_states)), strict=True))
    out["stability"] = np.full((n, max_states), EMPTY, dtype=np.int8)
    for name, value in zip(("n_states", "n_stable", "status"), np.zeros((3, n), dtype=np.int8),
                           strict=True):
        out[name] = value

    special = []
    for start in range(0, n, CLOSED_FORM_BLOCK):
        block = slice(start, min(start + CLOSED_FORM_BLOCK, n))
        b, kap, omega = b_all[block], kap_all[block], omega_all[block]
        alpha = alpha_all[block]
        pole = omega <= OMEGA_FLOOR * (np.abs(b) + np.abs(kap))
        regular = ~pole & ~((b == 0) & (omega >= np.abs(kap)))
        if not regular.all():
            special.append(start + np.flatnonzero(~regular))
            b, kap, omega = (np.where(regular, v, 1.0) for v in (b, kap, omega))
        x = positive_root(b, kap, omega)
        q = np.sqrt(1.0 + x * x)  # x < 1/OMEGA_FLOOR: no overflow
        cos = x / q
        w = b * q / x  # b / cos(theta) of the upper state; -w for the lower one
        norm = 1 + alpha**2
        trace = (2 * kap * cos - 2 * alpha * w) / norm  # of the upper state; the lower: -trace
        det = ((kap * cos) ** 2 + w**2) / norm
        scale = np.abs(b) + np.abs(kap) + omega
        n_stable = 0
        flagged = False
        for slot, sign in enumerate((1.0, -1.0)[:slots]):
            theta = np.arctan2(1.0, sign * x)
            psi = np.arctan2(-kap, sign * w)
            psi = principal_lag(psi)
            residual = residual_of(b, omega, kap, theta, psi)
            stability = _classify(sign * trace, det, scale)
            out["theta"][block, slot] = theta
            out["psi"][block, slot] = psi
            out["trace"][block, slot] = sign * trace
            out["det"][block, slot] = det
            out["alpha"][block, slot] = alpha
            out["spin_current"][block, slot] = 0.0
            out["residual"][block, slot] = residual
            out["stability"][block, slot] = stability
            n_stable = n_stable + (stability == STABLE)
            flagged = flagged | (residual > RESIDUAL_TOLERANCE)
        for name in names:
            out[name][block, slots:] = np.nan  # the empty slots
        out["n_states"][block] = slots
        out["n_stable"][block] = n_stable
        status = np.where(flagged, RESIDUAL_ABOVE_TOLERANCE, 0).astype(np.int8)
        status |= (n_stable == 0).view(np.int8) * np.int8(NO_STABLE_STATE)
        if slots < 2:
            status |= TRUNCATED_STATES
        out["status"][block] = status

    if special:
        idx = np.concatenate(special)
        sub = flat.map_arrays(lambda a: np.broadcast_to(a, (n,))[idx])
        x, psi = _constant_kappa_candidates(sub)
        for name, value in _assemble(sub, None, x, psi, max_states, False).items():
            out[name][idx] = value
    return out


def _constant_kappa_candidates(flat: Model) -> tuple[FloatArray, FloatArray]:
    """(N, 2) x = cot(theta) and psi of the special points for constant kappa = alpha0 omega_d.

    The special points are those :func:`_constant_kappa_states` does not evaluate directly:
    the poles (Omega = 0, x = +-inf) and the exact-resonance equator pairs (x = 0). Missing
    states are NaN in ``x``.
    """
    b = flat.B0 + flat.omega_d
    omega = flat.Omega
    kap = np.broadcast_to(kappa(flat, 0.0), b.shape)
    x = np.full((b.size, 2), np.nan)
    psi = np.full((b.size, 2), np.nan)
    pole = omega <= OMEGA_FLOOR * (np.abs(b) + np.abs(kap))
    x[pole] = (np.inf, -np.inf)
    psi[pole] = 0.0
    x[~pole], psi[~pole] = _equator_states(kap[~pole], omega[~pole])
    return x, psi


def positive_root(b: FloatArray, kap: FloatArray, omega: FloatArray) -> FloatArray:
    """x = sqrt(y) > 0, y the positive root of Omega^2 y^2 + (Omega^2 - b^2 - kappa^2) y - b^2.

    Cancellation-free; requires Omega > 0 and not (b = 0 and Omega >= |kappa|).
    """
    scale = np.abs(b) + np.abs(kap) + omega
    b, kap, omega = b / scale, kap / scale, omega / scale
    p = b**2 + kap**2 - omega**2
    q = 2 * omega * b
    # r = hypot(p, q), rescaled by max(|p|, |q|) against underflow (np.hypot is not vectorized)
    m = np.maximum(np.abs(p), np.abs(q))
    m = np.where(m > 0, m, 1.0)
    r = m * np.sqrt((p / m) ** 2 + (q / m) ** 2)
    upper = p >= 0  # y = (p + r) / (2 Omega^2)
    safe_gap = np.where(upper, 1.0, r - p)  # r - p > 0 where p < 0
    return np.where(upper, np.sqrt(p + r) / (np.sqrt(2) * omega),
                    np.sqrt(2) * np.abs(b) / np.sqrt(safe_gap))


def _equator_states(kap: FloatArray, omega: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(M, 2) x = 0 and psi of the equator states at b = 0, Omega >= |kappa(pi/2)|.

    sin(psi) = -kappa/Omega with both signs of cos(psi); one merged state when Omega = |kappa|.
    """
    cos_psi = np.sqrt((omega - np.abs(kap)) * (omega + np.abs(kap)))
    psi = np.stack([np.arctan2(-kap, cos_psi), np.arctan2(-kap, -cos_psi)], axis=-1)
    psi[cos_psi == 0, 1] = np.nan
    x = np.where(np.isnan(psi), np.nan, 0.0)
    return x, psi


def _regular_psi(b: FloatArray, kap: FloatArray, x: FloatArray) -> FloatArray:
    """psi = atan2(-kappa, b / cos(theta)) of a state with 0 < |x| < inf [rad]."""
    return np.arctan2(-kap, b * np.hypot(1.0, x) / x)


# --- theta-dependent kappa: bracketing ----------------------------------------------------------


def _half_angles(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """cos²(theta/2), sin²(theta/2) and sin²(theta) of x = cot(theta), to full relative precision.

    The smaller half-angle square is 1/(2q(q + |x|)), q = sqrt(1 + x²) (no cancellation near the
    poles); |x| > 1e154 gives the pole values.
    """
    with np.errstate(over="ignore"):
        q = np.sqrt(1.0 + x * x)
        small = 1.0 / (2.0 * q * (q + np.abs(x)))
        sin2 = 1.0 / (q * q)
    big = 1.0 - small
    upper = x >= 0
    return np.where(upper, big, small), np.where(upper, small, big), sin2


class _Kappa:
    """kappa(theta) of a subset of points, on angles given by x = cot(theta) or on the theta grid.

    With ``lead_damping`` (and no damping law) the closed form
    :class:`fmrnoise.physics.llg.LeadKappa`; otherwise :func:`fmrnoise.physics.llg.kappa` of the
    model (or of the damping law).
    """

    def __init__(self, flat: Model, law: DampingLaw | None,
                 closed: LeadKappa | None) -> None:
        self.flat, self.law, self.closed = flat, law, closed

    def rows(self, points: NDArray[np.intp], column: bool = False) -> _Kappa:
        """The same for the points ``points`` (as a column (M, 1) to broadcast over nodes)."""
        def pick(a: np.ndarray) -> np.ndarray:
            if a.ndim == 0:
                return a
            a = np.broadcast_to(a, self.flat.B0.shape)[points]
            return a[:, np.newaxis] if column else a

        if self.closed is not None:
            return _Kappa(self.flat, None, self.closed.map(pick))
        return _Kappa(self.flat.map_arrays(pick), self.law, None)

    def at_x(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(kappa, sin²(theta)) at x = cot(theta)."""
        c2, s2, sin2 = _half_angles(x)
        if self.closed is not None:
            return self.closed(c2, s2), sin2
        return kappa(self.flat, np.arctan2(1.0, x), self.law), sin2

    def at_theta(self, theta: FloatArray, c2: FloatArray, s2: FloatArray) -> FloatArray:
        """kappa at the angles theta, with their half-angle squares."""
        if self.closed is not None:
            return self.closed(c2, s2)
        return kappa(self.flat, theta, self.law)


def _theta_grid() -> tuple[FloatArray, ...]:
    """theta, x = cot(theta), cos²(theta/2), sin²(theta/2), sin²(theta) of the theta nodes of the
    upper hemisphere, in increasing x."""
    half = N_THETA_NODES // 2
    theta = np.pi * (np.arange(half)[::-1] + 0.5) / N_THETA_NODES
    return (theta, np.cos(theta) / np.sin(theta), np.cos(theta / 2) ** 2,
            np.sin(theta / 2) ** 2, np.sin(theta) ** 2)


_THETA_GRID = _theta_grid()


def _h(x: FloatArray, b: FloatArray, omega: FloatArray, kap: FloatArray, sin2: FloatArray,
       scale: FloatArray) -> FloatArray:
    """h(x)/scale^2 = [(b/x)^2 + kappa^2 sin^2(theta) - Omega^2]/scale^2, x = cot(theta) != 0.

    ``scale`` > 0 [E0] keeps the squares in range.
    """
    k = kap / scale
    return (b / scale / x) ** 2 + k * k * sin2 - (omega / scale) ** 2


def _setup(flat: Model, law: DampingLaw | None,
           closed: LeadKappa | None) -> tuple[_Kappa, FloatArray, FloatArray, FloatArray,
                                               FloatArray, NDArray[np.bool_]]:
    """kappa's evaluator, b (0 below B_FLOOR), Omega, the scale of h, kappa at the poles and the
    equator (N, 3), and where Omega is below OMEGA_FLOOR (states at the poles) of the N points of
    ``flat``, for :func:`_brackets`."""
    n = flat.B0.size
    b = np.broadcast_to(flat.B0 + flat.omega_d, (n,))
    omega = np.broadcast_to(flat.Omega, (n,))
    ends = np.array([0.0, np.pi / 2, np.pi])
    kap_ends = (kappa(flat.per_branch(), ends, law) if closed is None
                else closed.map(lambda a: a[..., np.newaxis]).at_theta(ends))
    kap_ends = np.broadcast_to(kap_ends, (n, 3))
    kap_scale = _max_abs(kap_ends)
    pole = omega <= OMEGA_FLOOR * (np.abs(b) + kap_scale)
    b = np.where(np.abs(b) <= B_FLOOR * (omega + kap_scale), 0.0, b)
    scale = np.abs(b) + omega + kap_scale
    return _Kappa(flat, law, closed), b, omega, scale, kap_ends, pole


def _max_abs(a: FloatArray) -> FloatArray:
    """``np.max(np.abs(a), axis=-1)`` of a (N, 3) array, column by column (faster)."""
    return np.maximum(np.maximum(np.abs(a[:, 0]), np.abs(a[:, 1])), np.abs(a[:, 2]))


def _bracketed_candidates(flat: Model, law: DampingLaw | None,
                          closed: LeadKappa | None) -> tuple[FloatArray, FloatArray]:
    """(N, K) x = cot(theta) and psi of the states for a theta-dependent kappa (NaN: none).

    ``closed``: the closed form of kappa with lead damping (else kappa of the model or law).
    """
    n = flat.B0.size
    evaluator, b, omega, scale, kap_ends, pole = _setup(flat, law, closed)
    kap_scale = _max_abs(kap_ends)
    active = np.flatnonzero(~pole)

    idx, x_left, x_right = _brackets(evaluator, b, omega, scale, kap_scale, active)
    if not np.all(idx[1:] >= idx[:-1]):  # by point (each point's brackets are in ascending x)
        order = np.argsort(idx, kind="stable")
        idx, x_left, x_right = idx[order], x_left[order], x_right[order]
    x_root, kap_root = _refine(evaluator, b, omega, scale, idx, x_left, x_right)
    keep = _deduplicate(idx, x_root)
    idx, x_root = idx[keep], x_root[keep]
    kap_root = (evaluator.rows(idx).at_x(x_root)[0] if kap_root is None else kap_root[keep])
    psi_root = _regular_psi(b[idx], kap_root, x_root)

    # Exact resonance: equator states where |kappa(pi/2)| <= Omega.
    kap_eq = kap_ends[:, 1]
    equator = np.flatnonzero(~pole & (b == 0) & (omega >= np.abs(kap_eq)))
    x_eq, psi_eq = _equator_states(kap_eq[equator], omega[equator])
    keep = ~np.isnan(x_eq)
    poles = np.flatnonzero(pole)
    extra = (np.concatenate([np.repeat(equator, 2)[keep.ravel()], np.repeat(poles, 2)]),
             np.concatenate([x_eq[keep], np.tile([np.inf, -np.inf], poles.size)]),
             np.concatenate([psi_eq[keep], np.zeros(2 * poles.size)]))
    return _scatter(n, (idx, x_root, psi_root), extra)


def _brackets(evaluator: _Kappa, b: FloatArray, omega: FloatArray, scale: FloatArray,
              kap_ends: FloatArray, active: NDArray[np.intp],
              tabulate: bool = True) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Brackets of the roots of h of the points ``active`` (Omega > 0, ascending): point indices,
    x_left and x_right of each bracket, by point and in ascending x.

    With lead damping (and ``tabulate``) the signs of h come from the tabulated polynomial
    (:func:`_table_rows`, :func:`_table_brackets`) wherever it is certain; the other points and
    nodes, and every point of a damping law, are evaluated node by node (:func:`_bracket_block`).
    The brackets are the same either way, bit for bit.
    """
    brackets, later = [], []
    if evaluator.closed is not None and tabulate:
        slow, unsure = [], []
        for chunk in (active[i:i + TABLE_CHUNK] for i in range(0, active.size, TABLE_CHUNK)):
            coef, equator, tabulated = _table_rows(evaluator.rows(chunk).closed, b[chunk],
                                                   omega[chunk], scale[chunk])
            points, coef, equator = chunk[tabulated], coef[:, tabulated], equator[tabulated]
            for i in range(0, points.size, TABLE_BLOCK):
                block = slice(i, i + TABLE_BLOCK)
                found, uncertain = _table_brackets(points[block], coef[:, block],
                                                   equator[block])
                brackets.append(found)
                if uncertain.size:  # these wait for one evaluation of all uncertain nodes
                    uncertain += i
                    unsure.append((points[uncertain], coef[:, uncertain], equator[uncertain]))
            slow.append(chunk[~tabulated])
        if unsure:
            points, coef, equator = (np.concatenate([u[j] for u in unsure], axis=-1)
                                     for j in range(3))
            later += [_table_resolve(evaluator, b, omega, scale, points[i:i + TABLE_BLOCK],
                                     coef[:, i:i + TABLE_BLOCK], equator[i:i + TABLE_BLOCK])
                      for i in range(0, points.size, TABLE_BLOCK)]
        active = np.concatenate([np.zeros(0, dtype=np.intp), *slow])
    block = max(1, BLOCK_SIZE // (N_THETA_NODES + 4 * N_LOG_NODES))
    later += [_bracket_block(evaluator, b, omega, scale, kap_ends, active[i:i + block])
              for i in range(0, active.size, block)]

    def joined(parts: list) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
        return tuple(np.concatenate([np.zeros(0, dtype=dtype), *(f[j] for f in parts)])
                     for j, dtype in enumerate((np.intp, float, float)))

    idx, x_left, x_right = joined(brackets)
    if later:  # merged in by point (these points have no other brackets)
        late_idx, late_left, late_right = joined(later)
        order = np.argsort(late_idx, kind="stable")
        at = np.searchsorted(idx, late_idx[order])
        idx, x_left, x_right = (np.insert(a, at, c[order]) for a, c in
                                ((idx, late_idx), (x_left, late_left), (x_right, late_right)))
    return idx, x_left, x_right


def _log_nodes(start: FloatArray, stop: FloatArray, count: int, from_start: bool) -> FloatArray:
    """(M, count) nodes logarithmic from per-row ``start`` to ``stop`` (M, 1): [start, stop) if
    ``from_start``, else (start, stop]."""
    t = (np.arange(count) + (0.0 if from_start else 1.0)) / count
    log_start = np.log(start)
    return np.exp(log_start + t * (np.log(stop) - log_start))


def _bracket_block(evaluator: _Kappa, b_flat: FloatArray, omega_flat: FloatArray,
                   scale_flat: FloatArray, kap_ends: FloatArray,
                   points: NDArray[np.intp]) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Brackets of the roots of h for the given points (Omega > 0): point indices, x_left and
    x_right of each bracket (one hemisphere each).

    ``kap_ends``: max |kappa| at the poles and the equator, which with the theta grid's
    maximum sets the range of the log grids (a near-pole root sits at |x| ~ |kappa(pole)|/Omega,
    and kappa can change by orders of magnitude between a pole and the first theta node).
    """
    kap_rows = evaluator.rows(points, column=True)  # coefficients (M, 1)
    b = b_flat[points, np.newaxis]
    omega = omega_flat[points, np.newaxis]
    scale = scale_flat[points, np.newaxis]

    # theta grid: upper hemisphere (increasing x) and its mirror image (theta -> pi - theta)
    theta, x_theta, c2, s2, sin2 = _THETA_GRID
    kap_up = kap_rows.at_theta(theta, c2, s2)
    kap_down = kap_rows.at_theta(np.pi - theta[::-1], s2[::-1], c2[::-1])
    kap_max = np.maximum(np.max(np.abs(kap_up), axis=-1, keepdims=True),
                         np.max(np.abs(kap_down), axis=-1, keepdims=True))
    kap_max = np.maximum(kap_max, kap_ends[points, np.newaxis])
    h_up = _h(x_theta, b, omega, kap_up, sin2, scale)
    h_down = _h(-x_theta[::-1], b, omega, kap_down, sin2[::-1], scale)

    # log grids in |x|: h > 0 at x_min (b != 0), h < 0 at x_max
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x_min = np.where(b != 0, np.abs(b) / (10 * (omega + kap_max)), 1.0)
        x_max = 10 * (np.abs(b) + kap_max) / omega
    x_min = np.clip(x_min, 1e-300, 1e-14)
    x_max = np.clip(x_max, 10 * x_theta[-1], 1e300)
    near_equator = _log_nodes(x_min, x_theta[0], N_LOG_NODES, from_start=True)
    near_pole = _log_nodes(x_theta[-1], x_max, N_LOG_NODES, from_start=False)
    x_log = np.concatenate([-near_pole[:, ::-1], -near_equator[:, ::-1], near_equator,
                            near_pole], axis=-1)
    kap_log, sin2_log = kap_rows.at_x(x_log)
    h_log = _h(x_log, b, omega, kap_log, sin2_log, scale)

    m, k = N_LOG_NODES, N_THETA_NODES // 2
    shape = (points.size, k)
    x_nodes = np.concatenate([x_log[:, :m], np.broadcast_to(-x_theta[::-1], shape),
                              x_log[:, m:3 * m], np.broadcast_to(x_theta, shape),
                              x_log[:, 3 * m:]], axis=-1)
    h_nodes = np.concatenate([h_log[:, :m], h_down, h_log[:, m:3 * m], h_up, h_log[:, 3 * m:]],
                             axis=-1)

    positive = h_nodes > 0
    finite = np.isfinite(h_nodes)
    change = (positive[:, 1:] != positive[:, :-1]) & finite[:, 1:] & finite[:, :-1]
    change[:, x_nodes.shape[-1] // 2 - 1] = False  # lower | upper hemisphere
    row, col = np.nonzero(change)
    return points[row], x_nodes[row, col], x_nodes[row, col + 1]


# --- lead damping: signs of h from a tabulated polynomial ---------------------------------------
#
# With lead damping kappa is rational in c² = cos²(theta/2), s² = sin²(theta/2) (docs/theory.md §5,
# llg.LeadKappa): kappa = N/D, N a cubic and D = D_up D_down a quadratic form in (c², s²) with
# positive coefficients. On a node, D² h = D² (b²/x² - Omega²) + N² sin²(theta) is therefore a
# sum of 14 fixed functions of the node (c²^i s²^(4-i)/x² and c²^i s²^(8-i), with c² + s² = 1 and
# sin² = 4 c² s²) with per-point coefficients: one matrix product (BLAS) evaluates it on the
# theta nodes of a block of points. The round-off of that product, and that of h as
# :func:`_bracket_block` computes it, stay far below TABLE_MARGIN times a bound of the magnitudes
# that enter (b²/x², Omega², kappa² sin² with kappa's terms made absolute); where |D² h| exceeds
# it, both have the same sign; on the other nodes h is computed as there. The log grids need no
# evaluation where they sit at their clipped ends (x_min = 1e-14, x_max = 10 x_theta[-1]), which a
# bound of max|kappa| (the convex hull of the coefficients of N and D) certifies for most points
# (the others go through :func:`_bracket_block`): h < 0 on the near-pole nodes by that bound, and
# h > 0 on the near-equator nodes where |b| > Omega x_theta[0]. The brackets, hence the roots, are
# those of :func:`_bracket_block`, bit for bit.


#: Binomial coefficients C(4, i): (c² + s²)^4 = sum_i C(4, i) c²^i s²^(4 - i).
_BINOM4 = (1.0, 4.0, 6.0, 4.0, 1.0)


@functools.cache
def _node_table() -> tuple[FloatArray, ...]:
    """x, c², s², sin²(theta) of the bracketing nodes of a point whose log grids sit at their
    clipped ends (the values of :func:`_bracket_block`, bit for bit), and the (14, theta nodes)
    table of the functions of the node that make up D² h."""
    _, x_theta, c2, s2, sin2 = _THETA_GRID
    m = N_LOG_NODES
    x_min = np.clip(np.array([[1e-14]]), 1e-300, 1e-14)
    x_max = np.clip(np.array([[10 * x_theta[-1]]]), 10 * x_theta[-1], 1e300)
    near_equator = _log_nodes(x_min, x_theta[0], m, from_start=True)
    near_pole = _log_nodes(x_theta[-1], x_max, m, from_start=False)
    x_log = np.concatenate([-near_pole[:, ::-1], -near_equator[:, ::-1], near_equator,
                            near_pole], axis=-1)[0]
    c2_log, s2_log, sin2_log = _half_angles(x_log)

    def nodes(log: FloatArray, down: FloatArray, up: FloatArray) -> FloatArray:
        return np.concatenate([log[:m], down, log[m:3 * m], up, log[3 * m:]])

    x = nodes(x_log, -x_theta[::-1], x_theta)
    c2_nodes = nodes(c2_log, s2[::-1], c2)
    s2_nodes = nodes(s2_log, c2[::-1], s2)
    sin2_nodes = nodes(sin2_log, sin2[::-1], sin2)
    k = N_THETA_NODES // 2
    on_theta = np.r_[m:m + k, 3 * m + k:3 * m + 2 * k]  # lower, then upper hemisphere
    c2_t, s2_t, x_t = c2_nodes[on_theta], s2_nodes[on_theta], x[on_theta]
    basis = np.array([c2_t**i * s2_t**(4 - i) / x_t**2 for i in range(5)]
                     + [c2_t**i * s2_t**(8 - i) for i in range(9)])
    return x, c2_nodes, s2_nodes, sin2_nodes, basis


def _table_rows(closed: LeadKappa, b: FloatArray, omega: FloatArray,
                scale: FloatArray) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Coefficients of D² h/scale² on the functions of :func:`_node_table`, divided by the bound
    below which its sign is not taken (14, M), where h > 0 on the near-equator nodes (M,), and
    where the log grids are certainly clipped (M,).

    ``closed``: kappa's closed form of the M points; b, Omega, scale as in :func:`_bracket_block`.
    """
    k = closed._folded()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # kappa = l + N_up/D_up + N_down/D_down (llg.folded_kappa) = N/D over D = D_up D_down
        # = P c²² + Q c² s² + P s²², D_up = c² G^up + s² G^down, D_down = c² G^down + s² G^up,
        # in units of max(G^up, G^down) (kappa = N/D is unchanged); scalars stay scalars
        norm = np.maximum(closed.g_up, closed.g_down)
        gu, gd = closed.g_up / norm, closed.g_down / norm
        p, q = gu * gd, gu * gu + gd * gd
        l0, l1 = k["k0"] + k["k_s"], k["k0"] + k["k_c"]
        a0, a1, a2 = (k["n_down"] / norm, (k["n_up"] + k["n_down"] - k["p_up"]) / norm,
                      k["n_up"] / norm)
        e0, e1, e2 = (k["d_up"] / norm, (k["d_down"] + k["d_up"] - k["p_down"]) / norm,
                      k["d_down"] / norm)
        num = [l0 * p + a0 * gu + e0 * gd,
               l0 * q + l1 * p + a0 * gd + a1 * gu + e0 * gu + e1 * gd,
               l0 * p + l1 * q + a1 * gd + a2 * gu + e1 * gu + e2 * gd,
               l1 * p + a2 * gd + e2 * gu]
        # |kappa| and the sums of its terms made absolute (the round-off of both evaluations)
        # are at most kap_abs on every angle: |l| <= |k0| + max(|k_s|, |k_c|), |N_up|/D_up <=
        # max(|n_up|/G^up, |n_down|/G^down) + |p_up|/(G^up + G^down) (c² s² <= c² + s²), ...
        kap_abs = (np.abs(k["k0"]) + np.maximum(np.abs(k["k_s"]), np.abs(k["k_c"]))
                   + np.maximum(np.abs(a2) / gu, np.abs(a0) / gd)
                   + np.maximum(np.abs(e2) / gd, np.abs(e0) / gu)
                   + (np.abs(k["p_up"]) + np.abs(k["p_down"])) / norm / (gu + gd))
        # max|kappa| over all angles <= max|N_i|/C(3, i) / min D_j/C(2, j) (convex hull; the
        # minimum is P), with room for the round-off of N's coefficients and of the closed form
        n_max = np.maximum(np.maximum(np.abs(num[0]), np.abs(num[3])),
                           np.maximum(np.abs(num[1]), np.abs(num[2])) / 3)
        kap_bound = n_max / p * (1 + 1e-10) + 1e-10 * kap_abs * (1 + q / p)
        x_theta = _THETA_GRID[1]
        slack = 1e-9
        low_clipped = (b == 0) | (np.abs(b) > 1e-13 * (1 + slack) * (omega + kap_bound))
        high_clipped = np.abs(b) + kap_bound < x_theta[-1] * (1 - slack) * omega
        equator_positive = np.abs(b) > x_theta[0] * (1 + slack) * omega

        # D² h/scale² = D² (b²/x² - Omega²) + N² sin², sin² = 4 c² s²
        b2, omega2 = (b / scale) ** 2, (omega / scale) ** 2
        num = [c / scale for c in num]
        pp, pq2 = p * p, 2 * p * q
        den2 = [pp, pq2, q * q + 2 * pp, pq2, pp]  # D²
        lifted = [sum(den2[j] * _BINOM4[i - j] for j in range(max(0, i - 4), min(i, 4) + 1))
                  for i in range(9)]  # D² (c² + s²)^4
        square = [sum(num[j] * num[i - j] for j in range(max(0, i - 3), min(i, 3) + 1))
                  for i in range(7)]  # N²
        coef = np.empty((14, *np.shape(b)))
        for i in range(5):
            coef[i] = b2 * den2[i]
        for i in range(9):
            coef[5 + i] = -omega2 * lifted[i]
        for i in range(7):
            coef[6 + i] += 4 * square[i]
        # bound of the magnitudes on every node: D² <= max D²_i/C(4, i), |N| <= kap_abs D, ...
        den2_max = np.maximum(np.maximum(pp, pq2 / 4), (q * q + 2 * pp) / 6)
        tan2_max = np.max(1 / x_theta**2)
        bound = TABLE_MARGIN * (1 + 1e-9) * den2_max * (b2 * tan2_max + omega2
                                                         + (kap_abs / scale) ** 2)
        coef /= bound  # the sign of D² h is taken where |coef . basis| > 1
        tabulated = low_clipped & high_clipped & np.all(np.isfinite(coef), axis=0)
    return coef, equator_positive, tabulated


def _table_brackets(points: NDArray[np.intp], coef: FloatArray,
                    equator_positive: NDArray[np.bool_]
                    ) -> tuple[tuple[NDArray[np.intp], FloatArray, FloatArray],
                               NDArray[np.intp]]:
    """Brackets of :func:`_bracket_block` for points whose log grids are clipped, from
    :func:`_table_rows` ((14, M) coefficients, (M,) near-equator signs): (point, x_left,
    x_right) by point and in ascending x, of the points whose tabulated signs are all certain,
    and the rows of the others (for :func:`_table_resolve`).

    h < 0 on the near-pole nodes and > 0 on the near-equator ones (:func:`_table_rows`), so only
    the gaps between theta nodes and at the four junctions with the log grids can hold a sign
    change (the gap between the two near-equator nodes taken side by side holds none).
    """
    x, _, _, _, basis = _node_table()
    k = N_THETA_NODES // 2
    value = coef.T @ basis  # (M, theta nodes): D² h over its bound, lower then upper hemisphere
    # signs on the nodes _SIGN_NODES: h < 0 next to the poles, > 0 on the near-equator nodes
    above = value > 1.0  # certainly h > 0
    positive = np.empty((points.size, 2 * k + 4), dtype=bool)
    positive[:, 0] = positive[:, -1] = False
    positive[:, 1:k + 1] = above[:, :k]
    positive[:, k + 1:k + 3] = True
    positive[:, k + 3:-1] = above[:, k:]
    change = positive[:, 1:] != positive[:, :-1]
    uncertain = ~equator_positive
    below = value < -1.0  # certainly h < 0
    if np.count_nonzero(above) + np.count_nonzero(below) < value.size:
        uncertain[np.flatnonzero(~(above | below)) // (2 * k)] = True
    uncertain = np.flatnonzero(uncertain)
    change[uncertain] = False
    row, col = np.divmod(np.flatnonzero(change), change.shape[1])
    return (points[row], x[_SIGN_NODES[col]], x[_SIGN_NODES[col + 1]]), uncertain


def _table_resolve(evaluator: _Kappa, b: FloatArray, omega: FloatArray, scale: FloatArray,
                   points: NDArray[np.intp], coef: FloatArray,
                   equator_positive: NDArray[np.bool_]
                   ) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Brackets of points whose tabulated signs (:func:`_table_brackets`) are not all certain:
    h on the uncertain nodes as :func:`_bracket_block` computes it."""
    x, c2, s2, sin2, basis = _node_table()
    m, k = N_LOG_NODES, N_THETA_NODES // 2
    value = coef.T @ basis
    above = value > 1.0
    positive = np.empty((points.size, x.size), dtype=bool)
    positive[:, :m] = positive[:, -m:] = False
    positive[:, m:m + k] = above[:, :k]
    positive[:, m + k:3 * m + k] = equator_positive[:, np.newaxis]
    positive[:, 3 * m + k:3 * m + 2 * k] = above[:, k:]
    row, node = np.divmod(np.flatnonzero(~(above | (value < -1.0))), 2 * k)
    node += np.where(node < k, m, 3 * m)
    rows_eq = np.flatnonzero(~equator_positive)
    row = np.concatenate([row, np.repeat(rows_eq, 2 * m)])
    node = np.concatenate([node, np.tile(np.arange(m + k, 3 * m + k), rows_eq.size)])
    point = points[row]
    kap = evaluator.rows(point).closed(c2[node], s2[node])
    h = _h(x[node], b[point], omega[point], kap, sin2[node], scale[point])
    positive[row, node] = h > 0
    finite = None
    if not np.all(np.isfinite(h)):
        finite = np.ones_like(positive)
        finite[row, node] = np.isfinite(h)
    return _sign_changes(points, positive, finite)


def _sign_nodes() -> NDArray[np.intp]:
    """The nodes whose signs :func:`_table_brackets` lays side by side: the last near-pole node,
    the theta nodes, the outer near-equator nodes of both hemispheres (in the lower one), the
    theta nodes and the first near-pole node of the upper one."""
    m, k = N_LOG_NODES, N_THETA_NODES // 2
    return np.concatenate([[m - 1], np.arange(m, m + k + 1), [3 * m + k - 1],
                           np.arange(3 * m + k, 3 * m + 2 * k + 1)])


_SIGN_NODES = _sign_nodes()


def _sign_changes(points: NDArray[np.intp], positive: NDArray[np.bool_],
                  finite: NDArray[np.bool_] | None = None
                  ) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Brackets (point, x_left, x_right) between the nodes of :func:`_node_table` where h
    changes sign, as in :func:`_bracket_block`; by point, in ascending x."""
    x = _node_table()[0]
    change = positive[:, 1:] != positive[:, :-1]
    if finite is not None:
        change &= finite[:, 1:] & finite[:, :-1]
    change[:, x.size // 2 - 1] = False  # lower | upper hemisphere
    row, col = np.divmod(np.flatnonzero(change), x.size - 1)
    return points[row], x[col], x[col + 1]


def _refine(evaluator: _Kappa, b: FloatArray, omega: FloatArray, scale: FloatArray,
            idx: NDArray[np.intp], x_left: FloatArray,
            x_right: FloatArray) -> tuple[FloatArray, FloatArray | None]:
    """Roots of h in the brackets [x_left, x_right] of points ``idx`` (Chandrupatla), NaN where
    the refinement fails, and with lead damping kappa at them (as ``_Kappa.at_x``; else None).

    Blocks of REFINE_BLOCK brackets of one hemisphere (the work arrays stay in the CPU cache)
    iterate until few of their brackets are left; those of all blocks then finish together.
    """
    roots = np.empty(idx.size)
    kap = np.empty(idx.size) if evaluator.closed is not None else None
    states, small = [], []
    for upper in (True, False):  # one hemisphere at a time
        part = np.flatnonzero((x_left > 0) == upper)
        for block in (part[i:i + REFINE_BLOCK] for i in range(0, part.size, REFINE_BLOCK)):
            root_function = _RootFunction(evaluator, b, omega, scale, idx[block], upper)
            state = _Chandrupatla(root_function, x_left[block], x_right[block], block, roots)
            state.coefficients = (block, root_function.arrays)
            (small if block.size < REFINE_BLOCK // 2 else states).append(state)
    blocks = [state.coefficients for state in states + small]
    if small:  # partial blocks of both hemispheres run together
        states.append(_Chandrupatla.merge(small))
    tails = [state.run(until=REFINE_TAIL) for state in states if state is not None]
    tail = _Chandrupatla.merge(tails)  # both hemispheres: the coefficients become per bracket
    if tail is not None:
        tail.run(until=0)
    if kap is not None:
        for block, coefficients in blocks:
            with np.errstate(invalid="ignore"):  # NaN where a refinement failed
                kap[block] = _RootFunction.kappa(coefficients, roots[block])[0]
    return roots, kap


class _RootFunction:
    """h(x)/scale² of the points of the brackets being refined: the values of ``_Kappa.at_x``
    and :func:`_h`, bit for bit.

    With lead damping the closed-form coefficients of every bracket are selected and folded once
    (as :func:`fmrnoise.physics.llg.folded_kappa` uses them), not at every iteration, and b/scale,
    (Omega/scale)² are kept per bracket. The brackets of one call lie in one hemisphere
    (``upper``), so cos²(theta/2) is the larger half-angle square everywhere (upper) or the
    smaller one (lower): in the lower one the coefficients of c² and s² trade places, which
    leaves every product and sum of ``folded_kappa`` the same (both are commutative in floating
    point). :meth:`keep` drops the brackets that have converged.
    """

    def __init__(self, evaluator: _Kappa, b: FloatArray, omega: FloatArray, scale: FloatArray,
                 idx: NDArray[np.intp], upper: bool) -> None:
        self.evaluator, self.idx = evaluator, idx
        self.b, self.omega, self.scale = b[idx], omega[idx], scale[idx]
        self.arrays: list[np.ndarray] = []
        if evaluator.closed is not None:
            closed = evaluator.rows(idx).closed
            k = closed._folded()
            g_up, g_down = closed.g_up, closed.g_down
            coefficients = [k["k0"], k["k_s"], k["k_c"], k["n_up"], k["n_down"], k["p_up"], g_up,
                            g_down, k["d_down"], k["d_up"], k["p_down"], g_down, g_up]
            if not upper:  # c² <-> s²
                for i, j in ((1, 2), (3, 4), (6, 7), (8, 9), (11, 12)):
                    coefficients[i], coefficients[j] = coefficients[j], coefficients[i]
            self.arrays = [self.scale, self.b / self.scale, (self.omega / self.scale) ** 2,
                           *coefficients]

    def __call__(self, x: FloatArray) -> FloatArray:
        if not self.arrays:
            kap, sin2 = self.evaluator.rows(self.idx).at_x(x)
            return _h(x, self.b, self.omega, kap, sin2, self.scale)
        # kappa and _h as below, operation for operation, in place in scratch arrays
        scale, b_scaled, omega2, k0, k_s, k_c, a1, b1, p1, g1, h1, a2, b2, p2, g2, h2 = self.arrays
        q, s2, sin2, c2, c2s2, v1, v2, t = (np.empty_like(x) for _ in range(8))
        with np.errstate(over="ignore"):  # _half_angles
            np.multiply(x, x, out=q)
            np.add(1.0, q, out=q)
            np.sqrt(q, out=q)
            np.abs(x, out=t)
            np.add(q, t, out=t)
            np.multiply(2.0, q, out=s2)
            np.multiply(s2, t, out=s2)
            np.divide(1.0, s2, out=s2)
            np.multiply(q, q, out=sin2)
            np.divide(1.0, sin2, out=sin2)
        np.subtract(1.0, s2, out=c2)
        np.multiply(c2, s2, out=c2s2)  # llg.folded_kappa
        for v, a, bb, pp, g, hh in ((v1, a1, b1, p1, g1, h1), (v2, a2, b2, p2, g2, h2)):
            np.multiply(c2, a, out=v)
            np.multiply(s2, bb, out=t)
            np.add(v, t, out=v)
            np.multiply(pp, c2s2, out=t)
            np.subtract(v, t, out=v)
            np.multiply(c2, g, out=t)
            np.multiply(s2, hh, out=q)
            np.add(t, q, out=t)
            np.divide(v, t, out=v)
        np.add(v1, v2, out=v1)
        np.multiply(s2, k_s, out=v2)
        np.multiply(c2, k_c, out=t)
        np.add(v2, t, out=v2)
        np.add(k0, v2, out=v2)
        np.add(v2, v1, out=v1)  # kappa
        np.divide(v1, scale, out=v1)  # _h: k = kappa/scale
        np.multiply(v1, v1, out=v1)
        np.multiply(v1, sin2, out=v1)
        np.divide(b_scaled, x, out=t)
        np.multiply(t, t, out=t)
        np.add(t, v1, out=t)
        np.subtract(t, omega2, out=t)
        return t

    @staticmethod
    def kappa(arrays: list[np.ndarray], x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(kappa, sin²(theta)) at x from the coefficient arrays of a hemisphere's brackets."""
        k0, k_s, k_c, a1, b1, p1, g1, h1, a2, b2, p2, g2, h2 = arrays[3:]
        with np.errstate(over="ignore"):  # _half_angles
            q = np.sqrt(1.0 + x * x)
            s2 = 1.0 / (2.0 * q * (q + np.abs(x)))
            sin2 = 1.0 / (q * q)
        c2 = 1.0 - s2
        c2s2 = c2 * s2  # llg.folded_kappa
        kap = k0 + (s2 * k_s + c2 * k_c) + ((c2 * a1 + s2 * b1 - p1 * c2s2) / (c2 * g1 + s2 * h1)
                                             + (c2 * a2 + s2 * b2 - p2 * c2s2) / (c2 * g2
                                                                                  + s2 * h2))
        return kap, sin2

    def keep(self, mask: NDArray[np.bool_]) -> None:
        """Keep only the brackets where ``mask`` is true."""
        self.idx, self.b, self.omega, self.scale = (a[mask] for a in (self.idx, self.b,
                                                                       self.omega, self.scale))
        self.arrays = [a[mask] if a.ndim else a for a in self.arrays]

    def extend(self, other: _RootFunction) -> None:
        """Append the brackets of ``other`` (same evaluator; a coefficient shared by all
        brackets of both stays shared, the others become per bracket)."""
        size = self.idx.size
        self.idx, self.b, self.omega, self.scale = (
            np.concatenate([a, c]) for a, c in ((self.idx, other.idx), (self.b, other.b),
                                                (self.omega, other.omega),
                                                (self.scale, other.scale)))
        self.arrays = [a if a.ndim == c.ndim == 0 and a.tobytes() == c.tobytes()
                       else np.concatenate([np.broadcast_to(a, size),
                                            np.broadcast_to(c, other.idx.size)])
                       for a, c in zip(self.arrays, other.arrays, strict=True)]


#: Tolerances of ``scipy.optimize.elementwise.find_root`` (its defaults for float64).
_XATOL = 4 * np.finfo(float).smallest_normal
_XRTOL = 4 * np.finfo(float).eps
_FATOL = np.finfo(float).smallest_normal
_MAXITER = np.log2(np.finfo(float).max) - np.log2(np.finfo(float).smallest_normal)


class _Chandrupatla:
    """Roots of a :class:`_RootFunction` in brackets [x_left, x_right] by Chandrupatla's method,
    written to ``out[positions]`` (NaN where none converges).

    The operations, tolerances and termination tests of ``scipy.optimize.elementwise.find_root``
    (SciPy 1.15 to 1.17) with its default tolerances, element by element, so the roots are the
    same to the bit, without its per-iteration overhead (array-API dispatch, result bookkeeping,
    masked assignments). Some of SciPy's tests are decided once: the brackets and every iterate
    are finite (x lies between the ends of a finite bracket); after the first iteration f1 and f2
    never have the same sign (the update keeps a sign change between them, or a zero or NaN of
    f); where f1 has no NaN, |f_min| is the smaller of |f1| and |f2| and no bracket fails.
    Converged brackets are dropped from the work arrays once they are half of them (until then
    they are carried along, and their results are not touched). :meth:`run` can stop early, and
    :meth:`merge` join the brackets left of several instances, so that the last iterations of a
    few brackets are not paid once per block.
    """

    def __init__(self, h: _RootFunction, x_left: FloatArray, x_right: FloatArray,
                 positions: NDArray[np.intp], out: FloatArray) -> None:
        self.h, self.out = h, out
        self.where = np.asarray(positions)  # positions in ``out`` of the work arrays' brackets
        self.alive = np.ones(x_left.size, dtype=bool)
        self.x1 = np.array(x_left, dtype=float)
        self.x2 = np.array(x_right, dtype=float)
        self.f1, self.f2 = h(self.x1), h(self.x2)
        # fatol + frtol min(|f1|, |f2|)
        self.fatol = _FATOL + 0.0 * np.minimum(np.abs(self.f1), np.abs(self.f2))
        self.t = np.full(x_left.size, 0.5)
        self.x3, self.f3 = np.zeros(x_left.size), np.zeros(x_left.size)
        self.dx = self.tol = np.zeros(x_left.size)
        self.sign1 = np.sign(self.f1)
        self.nit = np.zeros(x_left.size, dtype=np.intp)  # iterations done
        self.started = False  # the first iteration bisects
        self.coefficients = None
        with np.errstate(divide="ignore", invalid="ignore"):
            self._check(first=True)

    @property
    def size(self) -> int:
        """Number of brackets still refined."""
        return int(np.count_nonzero(self.alive))

    def run(self, until: int = 0) -> _Chandrupatla:
        """Iterate until at most ``until`` brackets are left (all converged: 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            while self.size > until:
                self._next()  # third diamond and boxes, then an iteration
                self._check(first=False)
        return self

    def _next(self) -> None:
        """Equation 1 (inverse quadratic interpolation or bisection) and the last box, unless
        just started; then one iteration ([1] Figure 1, first box, first diamond and boxes).
        SciPy's operations, in place in scratch arrays."""
        x1, f1, x2, f2, x3, f3 = self.x1, self.f1, self.x2, self.f2, self.x3, self.f3
        xi1, d12, d32, phi1, alpha, d21, u, v = (np.empty_like(x1) for _ in range(8))
        np.subtract(x2, x1, out=d21)
        if self.started:
            np.subtract(x1, x2, out=xi1)
            np.subtract(x3, x2, out=u)
            np.divide(xi1, u, out=xi1)  # (x1 - x2)/(x3 - x2)
            np.subtract(f1, f2, out=d12)
            np.subtract(f3, f2, out=d32)
            np.divide(d12, d32, out=phi1)  # (f1 - f2)/(f3 - f2)
            np.subtract(x3, x1, out=alpha)
            np.divide(alpha, d21, out=alpha)  # (x3 - x1)/(x2 - x1)
            np.subtract(1, xi1, out=u)
            np.sqrt(u, out=u)
            np.subtract(1, u, out=u)
            j = u < phi1
            np.sqrt(xi1, out=xi1)
            j &= phi1 < xi1  # (1 - sqrt(1 - xi1) < phi1) & (phi1 < sqrt(xi1))
            # f1/(f1 - f2)*f3/(f3 - f2) - alpha*f1/(f3 - f1)*f2/(f2 - f3)
            t = self.t
            np.divide(f1, d12, out=t)
            np.multiply(t, f3, out=t)
            np.divide(t, d32, out=t)
            np.multiply(alpha, f1, out=u)
            np.subtract(f3, f1, out=v)
            np.divide(u, v, out=u)
            np.multiply(u, f2, out=u)
            np.subtract(f2, f3, out=v)
            np.divide(u, v, out=u)
            np.subtract(t, u, out=t)
            mask = np.negative(j, dtype=np.int64)  # t where j, else 0.5
            bits = t.view(np.int64)
            np.bitwise_xor(bits, _HALF_BITS, out=bits)
            np.bitwise_and(bits, mask, out=bits)
            np.bitwise_xor(bits, _HALF_BITS, out=bits)
            np.multiply(0.5, self.tol, out=u)
            np.divide(u, self.dx, out=u)  # tl
            np.maximum(t, u, out=t)
            np.subtract(1, u, out=u)
            np.minimum(t, u, out=t)  # clip to [tl, 1 - tl]
        x = d21
        np.multiply(self.t, d21, out=x)
        np.add(x1, x, out=x)  # x1 + t (x2 - x1)
        f = self.h(x)
        sign = np.sign(f, out=u)
        same = np.negative(sign == self.sign1, dtype=np.int64)  # -1: same sign as f1
        self.sign1 = sign
        # x3, f3 = where(same, x1, f1, x2, f2), x2, f2 = where(same, x2, f2, x1, f1), in place
        flip = np.empty_like(same)
        for first, second, third in ((x1, x2, x3), (f1, f2, f3)):
            a, c = first.view(np.int64), second.view(np.int64)
            np.bitwise_xor(a, c, out=flip)
            np.bitwise_and(flip, same, out=flip)
            np.bitwise_xor(c, flip, out=third.view(np.int64))
            np.bitwise_xor(a, flip, out=c)
        self.x1, self.f1 = x, f
        self.x3, self.f3 = x3, f3
        self.nit += 1
        self.started = True

    def _check(self, first: bool) -> None:
        """Termination (second diamond): record the converged and failed brackets."""
        x1, f1, x2, f2 = self.x1, self.f1, self.x2, self.f2
        abs1, abs2 = np.abs(f1), np.abs(f2)
        smaller = abs1 < abs2
        xmin = _select(np.negative(smaller, dtype=np.int64), x1, x2)
        if first or np.isnan(np.sum(f1)):  # SciPy's tests
            converged = np.where(smaller, abs1, abs2) <= self.fatol
            failed = (((np.sign(f1) == np.sign(f2)) | (np.isnan(f1) & np.isnan(f2)))
                      & ~converged)
        else:  # f1 has no NaN: the same tests
            converged = np.minimum(abs1, abs2, out=abs1) <= self.fatol
            failed = None
        self.dx = np.subtract(x2, x1, out=abs2)
        np.abs(self.dx, out=self.dx)
        self.tol = np.abs(xmin, out=xmin)
        np.multiply(self.tol, _XRTOL, out=self.tol)
        np.add(self.tol, _XATOL, out=self.tol)
        if failed is None:
            converged |= self.dx < self.tol
            stop = converged & self.alive
        else:
            converged |= (self.dx < self.tol) & ~failed  # failed: xmin = NaN, tol = NaN
            stop = (converged | failed) & self.alive
        if self.nit.size and self.nit.max() >= _MAXITER:  # not converged: NaN
            stop |= (self.nit >= _MAXITER) & self.alive
        if stop.any():
            xmin = _select(np.negative(smaller[stop], dtype=np.int64), x1[stop], x2[stop])
            self.out[self.where[stop]] = np.where(converged[stop], xmin, np.nan)
            self.alive &= ~stop
            count = np.count_nonzero(self.alive)
            if 2 * count <= self.alive.size:  # drop the converged brackets
                self._keep(self.alive)

    _ARRAYS = ("where", "alive", "x1", "f1", "x2", "f2", "x3", "f3", "fatol", "t", "dx", "tol",
               "nit", "sign1")

    def _keep(self, mask: NDArray[np.bool_]) -> None:
        self.h.keep(mask)
        for name in self._ARRAYS:
            setattr(self, name, getattr(self, name)[mask])

    @classmethod
    def merge(cls, parts: list[_Chandrupatla]) -> _Chandrupatla | None:
        """One instance with the brackets left of ``parts`` (of one output)."""
        parts = [part for part in parts if part.size]
        if any(part.started for part in parts):
            with np.errstate(divide="ignore", invalid="ignore"):
                for part in parts:
                    if not part.started:  # the first iteration (bisection) of all
                        part._next()
                        part._check(first=False)
            parts = [part for part in parts if part.size]
        if not parts:
            return None
        for part in parts:
            part._keep(part.alive)
        merged = parts[0]
        for part in parts[1:]:
            merged.h.extend(part.h)
            for name in cls._ARRAYS:
                setattr(merged, name, np.concatenate([getattr(merged, name),
                                                      getattr(part, name)]))
        return merged


#: The bits of 0.5 (the bisection step of Chandrupatla's method).
_HALF_BITS = np.float64(0.5).view(np.int64)


def _select(mask: NDArray[np.int64], a: FloatArray, b: FloatArray) -> FloatArray:
    """``np.where(mask, a, b)`` for a mask of -1 (true) and 0 (false), bit for bit, without the
    branches of ``np.where`` (slow on random masks)."""
    a, b = a.view(np.int64), b.view(np.int64)
    return (b ^ ((a ^ b) & mask)).view(np.float64)


def _deduplicate(idx: NDArray[np.intp], x: FloatArray) -> NDArray[np.intp]:
    """Positions of the roots to keep, by point and in ascending x: not the failed roots, nor
    those that repeat a root of the same point (shared nodes). ``idx``, ``x``: roots by point,
    in ascending x within a point (else they are sorted here)."""
    ok = np.isfinite(x)
    order = np.flatnonzero(ok)
    idx, x = idx[order], x[order]
    ascending = (idx[1:] > idx[:-1]) | ((idx[1:] == idx[:-1]) & (x[1:] >= x[:-1]))
    if not np.all(ascending):  # not by point and x (never from _brackets)
        sort = np.lexsort((x, idx))
        order, idx, x = order[sort], idx[sort], x[sort]
    same = np.zeros(idx.size, dtype=bool)
    same[1:] = ((idx[1:] == idx[:-1]) & (np.sign(x[1:]) == np.sign(x[:-1]))
                & (np.abs(x[1:] - x[:-1]) <= 8 * np.finfo(float).eps * np.abs(x[1:])))
    return order[~same]


def _scatter(n: int, regular: tuple[NDArray[np.intp], FloatArray, FloatArray],
             extra: tuple[NDArray[np.intp], FloatArray, FloatArray]
             ) -> tuple[FloatArray, FloatArray]:
    """Place per-state values (point, x, psi) into (n, K) arrays, K the largest number of states
    of a point: the ``regular`` states (by point, in ascending x) in descending x (ascending
    theta, the order of the slots), then the ``extra`` states (each point's together)."""
    idx, x, psi = regular
    counts = np.bincount(idx, minlength=n)
    start = np.cumsum(counts) - counts
    slot = counts[idx] - 1 - (np.arange(idx.size) - start[idx])
    idx_extra, x_extra, psi_extra = extra
    first = np.ones(idx_extra.size, dtype=bool)
    first[1:] = idx_extra[1:] != idx_extra[:-1]
    group = np.flatnonzero(first)
    rank = np.arange(idx_extra.size) - np.repeat(group, np.diff(np.append(group,
                                                                          idx_extra.size)))
    slot_extra = counts[idx_extra] + rank
    k = max(int(np.max(counts + np.bincount(idx_extra, minlength=n), initial=0)), 1)
    x_out = np.full((n, k), np.nan)
    psi_out = np.full((n, k), np.nan)
    x_out[idx, slot] = x
    psi_out[idx, slot] = psi
    x_out[idx_extra, slot_extra] = x_extra
    psi_out[idx_extra, slot_extra] = psi_extra
    return x_out, psi_out


# --- common: ordering, Jacobian, classification -------------------------------------------------


def _assemble(flat: Model, law: DampingLaw | None, x: FloatArray, psi: FloatArray,
              max_states: int, theta_dependent: bool,
              closed: LeadKappa | None = None) -> dict[str, np.ndarray]:
    """Order the candidate states into slots and evaluate Jacobian, stability and flags.

    ``closed``: kappa, alpha, I_s and kappa' from the closed form with lead damping.
    """
    n = x.shape[0]
    filled = ~np.isnan(x)
    # slots by ascending theta, ties by ascending psi: the candidates usually come in that order
    # (left-aligned, theta strictly increasing); the other rows are sorted
    row, slot = np.nonzero(filled)
    n_found = np.bincount(row, minlength=n)
    theta = np.arctan2(1.0, x[row, slot])
    start = np.cumsum(n_found) - n_found
    disorder = slot != np.arange(row.size) - start[row]  # not left-aligned
    disorder[1:] |= (row[1:] == row[:-1]) & ~(theta[1:] > theta[:-1])
    if disorder.any():
        unsorted = np.zeros(n, dtype=bool)
        unsorted[row[disorder]] = True
        unsorted = np.flatnonzero(unsorted)
        sub_x, sub_psi, sub_filled = x[unsorted], principal_lag(psi[unsorted]), filled[unsorted]
        keys = (np.where(sub_filled, sub_psi, np.inf),
                np.where(sub_filled, np.arctan2(1.0, sub_x), np.inf))
        order = np.lexsort(keys, axis=-1)
        x, psi = x.copy(), psi.copy()
        for a, sub in ((x, sub_x), (psi, sub_psi)):
            a[unsorted] = np.take_along_axis(sub, order, axis=-1)
        # now every row is left-aligned; recompute theta on the sorted rows only
        row = np.repeat(np.arange(n), n_found)
        slot = np.arange(row.size) - start[row]
        moved = np.zeros(n, dtype=bool)
        moved[unsorted] = True
        moved = np.flatnonzero(moved[row])
        theta[moved] = np.arctan2(1.0, x[row[moved], slot[moved]])
    if x.shape[-1] > max_states:  # the first max_states by theta
        kept = slot < max_states
        row, slot, theta = row[kept], slot[kept], theta[kept]

    # everything else only on the filled slots (F of them), in blocks that stay in the CPU cache
    names = ("theta", "psi", "trace", "det", "alpha", "spin_current", "residual")
    floats = np.full((len(names), n * max_states), np.nan)  # one buffer for the float outputs
    stability = np.empty(row.size, dtype=np.int8)
    position = row * max_states + slot
    b_all = flat.B0 + flat.omega_d
    for start in range(0, row.size, ASSEMBLE_BLOCK):
        block = slice(start, start + ASSEMBLE_BLOCK)
        values = _slot_values(flat, law, b_all, n, row[block], x[row[block], slot[block]],
                              psi[row[block], slot[block]], theta[block], theta_dependent, closed)
        stability[block] = values.pop()
        for i, value in enumerate(values):
            floats[i, position[block]] = value
    out = dict(zip(names, floats.reshape(len(names), n, max_states), strict=True))
    out["stability"] = np.full((n, max_states), EMPTY, dtype=np.int8)
    out["stability"].reshape(-1)[position] = stability
    residual = floats[-1, position]
    n_stable = np.bincount(row[stability == STABLE], minlength=n)
    flagged = np.zeros(n, dtype=bool)
    flagged[row[residual > RESIDUAL_TOLERANCE]] = True
    status = (np.where(n_stable == 0, NO_STABLE_STATE, 0)
              | np.where(n_found > max_states, TRUNCATED_STATES, 0)
              | np.where(flagged, RESIDUAL_ABOVE_TOLERANCE, 0))
    out["n_states"] = np.minimum(n_found, max_states).astype(np.int8)
    out["n_stable"] = n_stable.astype(np.int8)
    out["status"] = status.astype(np.int8)
    return out


def _slot_values(flat: Model, law: DampingLaw | None, b_all: FloatArray, n: int,
                 row: NDArray[np.intp], x: FloatArray, psi: FloatArray, theta: FloatArray,
                 theta_dependent: bool, closed: LeadKappa | None) -> list[np.ndarray]:
    """theta, psi, trace, det, alpha, I_s, residual and stability of filled slots of the n points
    of ``flat`` (b = B0 + omega_d ``b_all``): their points ``row``, x = cot(theta), psi (before
    principal_lag) and theta."""
    psi = principal_lag(psi)
    hypot = np.hypot(1.0, x)
    sin = 1.0 / hypot
    with np.errstate(invalid="ignore"):
        cos = np.where(np.isinf(x), np.sign(x), x / hypot)

    def per_slot(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, (n,))[row]

    b = per_slot(b_all)
    omega = per_slot(flat.Omega)
    if closed is not None:
        closed = closed.map(lambda a: np.asarray(a)[row] if np.ndim(a) else np.asarray(a))
        c2, s2 = closed.half_angles(theta)
        kap, alpha, spin_current = closed(c2, s2), closed.damping(c2, s2), closed.torque(c2, s2)
        dkap = closed.derivative(theta)
    else:
        model = flat.map_arrays(per_slot)
        alpha = damping(model, theta, law)
        spin_current = torque(model, theta, law)
        kap = kappa_of(model, alpha, spin_current)
        dkap = kappa_derivative(model, theta, law) if theta_dependent else np.zeros_like(kap)
    # Omega cos(psi)/sin(theta) = b/cos(theta) at a fixed point with cos(theta) != 0.
    equator = np.flatnonzero(cos == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = b / cos
    w[equator] = omega[equator] * np.cos(psi[equator]) / sin[equator]
    trace, det = jacobian(kap, dkap, alpha, sin, cos, w)
    scale = np.abs(b) + np.abs(kap) + omega
    residual = residual_of(b, omega, kap, theta, psi)
    return [theta, psi, trace, det, alpha, spin_current, residual,
            _classify(trace, det, scale)]


def _classify(trace: FloatArray, det: FloatArray, scale: FloatArray) -> Int8Array:
    """Stability code (int8) from trace and determinant (docs/theory.md §3); a NaN trace is
    UNSTABLE."""
    tol = MARGINAL_TOLERANCE
    code = (~(trace < 0)).view(np.int8)  # STABLE 0 or UNSTABLE 1
    code = np.where(det < 0, np.int8(SADDLE), code)
    marginal = (np.abs(det) <= tol * scale**2) | ((det > 0) & (np.abs(trace) <= tol * scale))
    return np.where(marginal, np.int8(MARGINAL), code)
