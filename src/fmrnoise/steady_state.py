"""Stationary precession states of the driven magnet and their stability (physics.md §3).

In the frame rotating with the drive a stationary state (theta, psi) satisfies
Omega sin(psi) = -kappa sin(theta) and Omega cos(theta) cos(psi) = b sin(theta), with
b = B0 + omega_d and kappa(theta) = alpha(theta) omega_d - I_s(theta)/S. In the variable
x = cot(theta) (x > 0: upper hemisphere, x = 0: equator, x = +-inf: poles) the states are the
roots of

    h(x) = (b/x)^2 + kappa(theta(x))^2 / (1 + x^2) - Omega^2,

which resolves the states near the poles and near the equator to full relative precision. A
constant kappa gives a quadratic in x^2 (closed form); a theta-dependent kappa (lead-induced damping
and torque, or a user-supplied damping law) is bracketed on a grid and refined with
``scipy.optimize.elementwise.find_root``. Everything is vectorized over the grid of the model.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import elementwise

from .llg import DampingLaw, damping, kappa, kappa_derivative, stationarity_residual, torque
from .model import FloatArray, Model

Int8Array = NDArray[np.int8]

#: Stability codes of a branch slot (physics.md §3, design.md §3).
EMPTY, STABLE, UNSTABLE, SADDLE, MARGINAL = -1, 0, 1, 2, 3
#: Status bit flags of a grid point.
NO_STABLE_STATE, TRUNCATED_STATES, RESIDUAL_ABOVE_TOLERANCE = 1, 2, 4
STATUS_MEANINGS = "no_stable_state truncated_states residual_above_tolerance"

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

#: Bracketing grid of the theta-dependent solver: nodes uniform in theta on (0, pi), and nodes
#: logarithmic in |x| per hemisphere.
N_THETA_NODES = 256
N_LOG_NODES = 128
#: Points x nodes evaluated at once by the bracketing solver (bounds the memory).
BLOCK_SIZE = 2**19


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
    residual : stationarity residual of the state (``llg.stationarity_residual``)
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
        the model's (then I_s = 0, physics.md R6). It must accept complex theta (complex-step
        derivative).

    Returns
    -------
    SteadyStates
        Arrays of shape ``(*grid, max_states)`` (per slot) or ``(*grid)`` (per point).

    Notes
    -----
    Constant kappa (no ``lead_damping``, no ``damping_law``): closed form, exactly two states
    (one at b = 0, Omega = |kappa|). Otherwise the roots of h are bracketed on
    ``N_THETA_NODES`` nodes uniform in theta merged with ``N_LOG_NODES`` nodes per hemisphere
    logarithmic in |x| (down to the near-resonance roots |x| ~ |b|/Omega, up to the near-pole
    roots), then refined to round-off; two roots closer than a grid cell (a state pair about to
    merge) can be missed. kappa' = d kappa/d theta enters the Jacobian by complex step.
    """
    if not 1 <= max_states <= np.iinfo(np.int8).max:
        raise ValueError(f"max_states: must be in [1, 127], got {max_states!r}")
    shape = np.broadcast_shapes(*(np.shape(getattr(model, f.name)) for f in fields(model)
                                  if isinstance(getattr(model, f.name), np.ndarray)))
    flat = model.map_arrays(lambda a: np.broadcast_to(a, shape).reshape(-1))
    theta_dependent = model.lead_damping or damping_law is not None
    if theta_dependent:
        x, psi = _bracketed_candidates(flat, damping_law)
    else:
        x, psi = _constant_kappa_candidates(flat)
    states = _assemble(flat, damping_law, x, psi, max_states, theta_dependent)
    return SteadyStates(**{name: value.reshape((*shape, *value.shape[1:]))
                           for name, value in states.items()})


# --- constant kappa: closed form --------------------------------------------------------------


def _constant_kappa_candidates(flat: Model) -> tuple[FloatArray, FloatArray]:
    """(N, 2) x = cot(theta) and psi of the states for constant kappa = alpha0 omega_d.

    Missing states are NaN in ``x``. Poles are x = +-inf, the equator x = 0.
    """
    b = flat.B0 + flat.omega_d
    omega = flat.Omega
    kap = np.broadcast_to(kappa(flat, 0.0), b.shape)
    n = b.size
    x = np.full((n, 2), np.nan)
    psi = np.full((n, 2), np.nan)

    pole = omega <= OMEGA_FLOOR * (np.abs(b) + np.abs(kap))
    equator = ~pole & (b == 0) & (omega >= np.abs(kap))
    general = ~pole & ~equator
    x[pole] = (np.inf, -np.inf)
    psi[pole] = 0.0

    x_eq, psi_eq = _equator_states(kap[equator], omega[equator])
    x[equator], psi[equator] = x_eq, psi_eq

    xr = _positive_root(b[general], kap[general], omega[general])
    x_gen = np.stack([xr, -xr], axis=-1)
    x[general] = x_gen
    psi[general] = _regular_psi(b[general, np.newaxis], kap[general, np.newaxis], x_gen)
    return x, psi


def _positive_root(b: FloatArray, kap: FloatArray, omega: FloatArray) -> FloatArray:
    """x = sqrt(y) > 0, y the positive root of Omega^2 y^2 + (Omega^2 - b^2 - kappa^2) y - b^2.

    Cancellation-free; requires Omega > 0 and not (b = 0 and Omega >= |kappa|).
    """
    scale = np.abs(b) + np.abs(kap) + omega
    b, kap, omega = b / scale, kap / scale, omega / scale
    p = b**2 + kap**2 - omega**2
    r = np.hypot(p, 2 * omega * b)
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


def _h(x: FloatArray, b: FloatArray, omega: FloatArray, kap: FloatArray,
       scale: FloatArray) -> FloatArray:
    """h(x)/scale^2 = [(b/x)^2 + (kappa sin theta)^2 - Omega^2]/scale^2, x = cot(theta) != 0.

    ``scale`` > 0 [E0] keeps the squares in range.
    """
    return (b / scale / x) ** 2 + (kap / scale / np.hypot(1.0, x)) ** 2 - (omega / scale) ** 2


def _kappa_at(flat: Model, law: DampingLaw | None, point: NDArray[np.intp],
              x: FloatArray) -> FloatArray:
    """kappa(theta(x)) [E0] of the points ``point`` (flat indices), x = cot(theta)."""
    return kappa(flat.map_arrays(lambda a: a[point]), np.arctan2(1.0, x), law)


def _bracketed_candidates(flat: Model, law: DampingLaw | None) -> tuple[FloatArray, FloatArray]:
    """(N, K) x = cot(theta) and psi of the states for a theta-dependent kappa (NaN: none)."""
    n = flat.B0.size
    b = flat.B0 + flat.omega_d
    omega = flat.Omega
    kap_ends = np.broadcast_to(kappa(flat.per_branch(), np.array([0.0, np.pi / 2, np.pi]), law),
                               (n, 3))
    kap_scale = np.max(np.abs(kap_ends), axis=-1)
    pole = omega <= OMEGA_FLOOR * (np.abs(b) + kap_scale)
    b = np.where(np.abs(b) <= B_FLOOR * (omega + kap_scale), 0.0, b)
    scale = np.abs(b) + omega + kap_scale
    active = np.flatnonzero(~pole)

    n_nodes = N_THETA_NODES + 2 * N_LOG_NODES
    block = max(1, BLOCK_SIZE // n_nodes)
    found = [_bracket_block(flat, law, b, scale, active[i:i + block])
             for i in range(0, active.size, block)]
    idx = np.concatenate([np.zeros(0, dtype=np.intp), *(f[0] for f in found)])
    x_root = np.concatenate([np.zeros(0), *(f[1] for f in found)])
    psi_root = np.concatenate([np.zeros(0), *(f[2] for f in found)])

    # Exact resonance: equator states where |kappa(pi/2)| <= Omega.
    kap_eq = kap_ends[:, 1]
    equator = np.flatnonzero(~pole & (b == 0) & (omega >= np.abs(kap_eq)))
    x_eq, psi_eq = _equator_states(kap_eq[equator], omega[equator])
    keep = ~np.isnan(x_eq)
    idx = np.concatenate([idx, np.repeat(equator, 2)[keep.ravel()]])
    x_root = np.concatenate([x_root, x_eq[keep]])
    psi_root = np.concatenate([psi_root, psi_eq[keep]])

    poles = np.flatnonzero(pole)
    idx = np.concatenate([idx, np.repeat(poles, 2)])
    x_root = np.concatenate([x_root, np.tile([np.inf, -np.inf], poles.size)])
    psi_root = np.concatenate([psi_root, np.zeros(2 * poles.size)])
    return _scatter(n, idx, x_root, psi_root)


def _bracket_block(flat: Model, law: DampingLaw | None, b_flat: FloatArray,
                   scale_flat: FloatArray,
                   points: NDArray[np.intp]) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Roots of h for the given points (Omega > 0): point indices, x and psi, deduplicated."""
    sub = flat.map_arrays(lambda a: a[points]).per_branch()  # fields (M, 1)
    b = b_flat[points, np.newaxis]
    scale = scale_flat[points, np.newaxis]
    omega = sub.Omega

    theta_nodes = np.pi * (np.arange(N_THETA_NODES) + 0.5) / N_THETA_NODES
    x_theta = np.broadcast_to(np.cos(theta_nodes) / np.sin(theta_nodes),
                              (points.size, N_THETA_NODES))
    kap_theta = np.broadcast_to(kappa(sub, theta_nodes, law), x_theta.shape)
    kap_max = np.max(np.abs(kap_theta), axis=-1, keepdims=True)

    # Log grid in |x|: h > 0 at x_min (b != 0) and h < 0 at x_max.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x_min = np.where(b != 0, np.abs(b) / (10 * (omega + kap_max)), 1.0)
        x_max = 10 * (np.abs(b) + kap_max) / omega
    x_min = np.clip(x_min, 1e-300, 1e-14)
    x_max = np.clip(x_max, 10.0, 1e300)
    t = np.linspace(0.0, 1.0, N_LOG_NODES)
    x_log = np.exp(np.log(x_min) + t * (np.log(x_max) - np.log(x_min)))
    x_log = np.concatenate([x_log, -x_log], axis=-1)
    kap_log = kappa(sub, np.arctan2(1.0, x_log), law)

    x_nodes = np.concatenate([x_theta, x_log], axis=-1)
    h_nodes = np.concatenate([_h(x_theta, b, omega, kap_theta, scale),
                              _h(x_log, b, omega, kap_log, scale)], axis=-1)
    order = np.argsort(x_nodes, axis=-1)
    x_nodes = np.take_along_axis(x_nodes, order, axis=-1)
    h_nodes = np.take_along_axis(h_nodes, order, axis=-1)

    positive = h_nodes > 0
    change = ((positive[:, 1:] != positive[:, :-1])
              & (np.sign(x_nodes[:, 1:]) == np.sign(x_nodes[:, :-1]))
              & np.isfinite(h_nodes[:, 1:]) & np.isfinite(h_nodes[:, :-1]))
    row, col = np.nonzero(change)
    x_root = _refine(flat, law, b_flat, scale_flat, points[row], x_nodes[row, col],
                     x_nodes[row, col + 1])

    idx, x_root = _deduplicate(points[row], x_root)
    psi = _regular_psi(b_flat[idx], _kappa_at(flat, law, idx, x_root), x_root)
    return idx, x_root, psi


def _refine(flat: Model, law: DampingLaw | None, b: FloatArray, scale: FloatArray,
            idx: NDArray[np.intp], x_left: FloatArray, x_right: FloatArray) -> FloatArray:
    """Roots of h in the brackets [x_left, x_right] of points ``idx`` (Chandrupatla)."""
    if idx.size == 0:
        return np.zeros(0)

    def h(x: FloatArray, point: NDArray[np.intp]) -> FloatArray:
        return _h(x, b[point], flat.Omega[point], _kappa_at(flat, law, point, x), scale[point])

    result = elementwise.find_root(h, (x_left, x_right), args=(idx,))
    return np.where(result.success, result.x, np.nan)


def _deduplicate(idx: NDArray[np.intp],
                 x: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
    """Drop failed roots and roots that repeat a root of the same point (shared nodes)."""
    ok = np.isfinite(x)
    idx, x = idx[ok], x[ok]
    order = np.lexsort((x, idx))
    idx, x = idx[order], x[order]
    same = np.zeros(idx.size, dtype=bool)
    same[1:] = ((idx[1:] == idx[:-1]) & (np.sign(x[1:]) == np.sign(x[:-1]))
                & (np.abs(x[1:] - x[:-1]) <= 8 * np.finfo(float).eps * np.abs(x[1:])))
    return idx[~same], x[~same]


def _scatter(n: int, idx: NDArray[np.intp], x: FloatArray,
             psi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Place per-state values into (n, K) arrays, K the largest number of states of a point."""
    order = np.argsort(idx, kind="stable")
    idx, x, psi = idx[order], x[order], psi[order]
    counts = np.bincount(idx, minlength=n)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(idx.size) - start[idx]
    k = max(int(counts.max(initial=0)), 1)
    x_out = np.full((n, k), np.nan)
    psi_out = np.full((n, k), np.nan)
    x_out[idx, rank] = x
    psi_out[idx, rank] = psi
    return x_out, psi_out


# --- common: ordering, Jacobian, classification -------------------------------------------------


def _assemble(flat: Model, law: DampingLaw | None, x: FloatArray, psi: FloatArray,
              max_states: int, theta_dependent: bool) -> dict[str, np.ndarray]:
    """Order the candidate states into slots and evaluate Jacobian, stability and flags."""
    if x.shape[-1] < max_states:
        pad = ((0, 0), (0, max_states - x.shape[-1]))
        x, psi = np.pad(x, pad, constant_values=np.nan), np.pad(psi, pad, constant_values=np.nan)
    psi = np.where(psi <= -np.pi, psi + 2 * np.pi, psi) + 0.0  # (-pi, pi], no -0.0
    filled = ~np.isnan(x)
    n_found = np.sum(filled, axis=-1)
    keys = (np.where(filled, psi, np.inf), np.where(filled, np.arctan2(1.0, x), np.inf))
    order = np.lexsort(keys, axis=-1)[:, :max_states]
    x, psi, filled = (np.take_along_axis(a, order, axis=-1) for a in (x, psi, filled))

    x_eval = np.where(filled, x, 0.0)
    psi_eval = np.where(filled, psi, 0.0)
    theta = np.arctan2(1.0, x_eval)
    sin = 1.0 / np.hypot(1.0, x_eval)
    with np.errstate(invalid="ignore"):
        cos = np.where(np.isinf(x_eval), np.sign(x_eval), x_eval / np.hypot(1.0, x_eval))

    model = flat.per_branch()
    kap = kappa(model, theta, law)
    alpha = damping(model, theta, law)
    spin_current = torque(model, theta, law)
    dkap = kappa_derivative(model, theta, law) if theta_dependent else np.zeros_like(kap)
    b = model.B0 + model.omega_d
    omega = model.Omega
    # Omega cos(psi)/sin(theta) = b/cos(theta) at a fixed point with cos(theta) != 0.
    off_equator = cos != 0
    w = np.where(off_equator, b / np.where(off_equator, cos, 1.0),
                 omega * np.cos(psi_eval) / np.where(off_equator, 1.0, sin))
    norm = 1 + alpha**2
    trace = (dkap * sin + 2 * kap * cos - 2 * alpha * w) / norm
    det = (kap * dkap * sin * cos + (kap * cos) ** 2 + w**2) / norm
    scale = np.abs(b) + np.abs(kap) + omega
    stability = np.where(filled, _classify(trace, det, scale), EMPTY).astype(np.int8)
    residual = stationarity_residual(model, theta, psi_eval, law)

    n_states = np.sum(filled, axis=-1)
    n_stable = np.sum(stability == STABLE, axis=-1)
    status = (np.where(n_stable == 0, NO_STABLE_STATE, 0)
              | np.where(n_found > max_states, TRUNCATED_STATES, 0)
              | np.where(np.any(filled & (residual > RESIDUAL_TOLERANCE), axis=-1),
                         RESIDUAL_ABOVE_TOLERANCE, 0))

    def empty_nan(a: np.ndarray) -> FloatArray:
        return np.where(filled, a, np.nan)

    return {"theta": empty_nan(theta), "psi": empty_nan(psi_eval), "trace": empty_nan(trace),
            "det": empty_nan(det), "alpha": empty_nan(alpha),
            "spin_current": empty_nan(spin_current), "residual": empty_nan(residual),
            "stability": stability, "n_states": n_states.astype(np.int8),
            "n_stable": n_stable.astype(np.int8), "status": status.astype(np.int8)}


def _classify(trace: FloatArray, det: FloatArray, scale: FloatArray) -> NDArray[np.int_]:
    """Stability code from trace and determinant (physics.md §3)."""
    tol = MARGINAL_TOLERANCE
    marginal = (np.abs(det) <= tol * scale**2) | ((det > 0) & (np.abs(trace) <= tol * scale))
    code = np.where(det < 0, SADDLE, np.where(trace < 0, STABLE, UNSTABLE))
    return np.where(marginal, MARGINAL, code)
