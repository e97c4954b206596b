"""Bifurcations of the stationary states along a grid axis (docs/theory.md §11).

Along a parameter p the stationary states of §3 change qualitatively, generically, only at a
fold (two states meet and disappear: det J = 0; the number of states changes by 2) or at a Hopf
point (a state with det J > 0 changes stability: tr J = 0). :func:`boundaries` compares the
states of neighbouring grid points, matched by continuation (:func:`match_states`), and locates
every change inside its interval.

The refinement (:mod:`fmrnoise.physics.continuation`) solves the stationary equation
together with det J = 0 (fold) or tr J = 0 (Hopf) for (theta, p) from the bracket the grid gives.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import continuation
from .codes import Kind
from .model import PARAMETERS, FloatArray, Model
from .steady_state import MARGINAL, STABLE, UNSTABLE, SteadyStates, steady_states

Int8Array = NDArray[np.int8]
IntArray = NDArray[np.intp]


FOLD, HOPF, DEGENERATE = Kind

#: An interval whose refinement fails (e.g. a grid too coarse for the continuation) is cut into
#: this many sub-intervals, solved by ``steady_states``, and handled like a grid line, at most
#: MAX_SUBDIVISIONS times.
SUBDIVISION = 8
MAX_SUBDIVISIONS = 2
#: Pairs of points matched at once by :func:`match_states` (bounds the work arrays).
MATCH_BLOCK = 2**15


@dataclass(frozen=True)
class Boundaries:
    """Bifurcation points along one grid axis, as flat arrays of n points.

    Ordered by grid index, then by value (then kind and theta).

    Attributes
    ----------
    index : (n, ndim) intp grid index of the left point of the interval holding the point.
    value : (n,) parameter value of the point [units of the parameter].
    kind : (n,) int8 :class:`Kind`.
    theta : (n,) polar angle of the state at the bifurcation [rad] (NaN: see ``boundaries``).
    psi : (n,) its lag psi in (-pi, pi] [rad] (NaN: see ``boundaries``).
    """

    index: IntArray
    value: FloatArray
    kind: Int8Array
    theta: FloatArray
    psi: FloatArray

    def __len__(self) -> int:
        return self.value.size


def boundaries(model: Model, states: SteadyStates, axis: int, parameter: str) -> Boundaries:
    """Folds and Hopf points of the stationary states along grid dimension ``axis``.

    Parameters
    ----------
    model : model parameters; every array field broadcasts to the grid shape
        ``states.n_states.shape``. The model's own kappa(theta) (no damping law).
    states : the states of ``model`` on that grid (:func:`steady_states`).
    axis : grid dimension along which ``parameter`` varies.
    parameter : name of the numeric :class:`Model` field that varies along ``axis`` (e.g.
        "omega_d", "Omega", "B0", "mu_l", "total_spin").

    Returns
    -------
    Boundaries
        One point per bifurcation found between neighbouring grid points along ``axis``.

    Notes
    -----
    For every pair of neighbouring points the states are matched (:func:`match_states`; the
    other model fields are those of the left point). Where the number of states changes, each
    pair of unmatched neighbouring states (a saddle and a node) gives a FOLD: the parameter
    where the extremum of H = sin²θ (b²/cos²θ + kappa²) - Omega² between them crosses zero,
    theta and psi of the merged state. Where a matched state changes between stable and
    unstable, a HOPF point: the parameter where tr J = 0 along the continued state, its theta
    and psi (:mod:`fmrnoise.physics.continuation`). Both are located to 1e-10 max(|p|, grid
    step) in p and checked: |F_theta|, |F_psi|, |tr J| (Hopf) <= 1e-9 s, |det J| (fold)
    <= 1e-9 s², s = |b| + |kappa| + Omega. An interval whose check fails, or where the grid is
    too coarse to bracket the continuation, is cut into ``SUBDIVISION`` intervals solved anew
    by :func:`steady_states`: e.g. a stable state that meets a saddle while another pair of
    states is born gives two FOLD points, though the states at the ends match as stable and
    unstable. Constant kappa never folds; there both states reach tr J = 0 together, on
    B0 + omega_d sin²θ = 0: two HOPF points.

    A change in an interval that touches a non-generic place gives one DEGENERATE point
    instead of refined ones:

    - an end point with a marginal state (e.g. b = 0 with Omega = |kappa|): ``value`` is that
      point's parameter, ``theta`` and ``psi`` its first marginal state;
    - exact resonance b = 0 at an end or inside (a pitchfork: three states meet at the
      equator, and the equator pair changes hemisphere): ``value`` is the parameter where
      b = 0 (linear in p: B0 or omega_d), or the left end where b = 0 along the whole line;
      theta, psi NaN;
    - Omega = 0 at an end (states at the poles): ``value`` is that end's parameter; theta,
      psi NaN;
    - (not seen in the tests) a change that subdivision could not resolve: ``value`` is the
      interval's midpoint; theta, psi NaN.

    Two bifurcations that cancel inside one interval (the same states and stabilities at both
    ends, e.g. a pair of states born and gone again) are missed. The refinement runs only
    where something changes; matching costs a few operations per pair of points.
    """
    lines = Lines.of(model, states, axis, parameter)
    return _boundaries(lines, depth=0).to_grid(lines)


# --- matching ---------------------------------------------------------------------------------


def match_states(theta_a: ArrayLike, psi_a: ArrayLike, det_a: ArrayLike, theta_b: ArrayLike,
                 psi_b: ArrayLike, det_b: ArrayLike) -> IntArray:
    """Continuation of the states of points A to the states of points B, for many pairs.

    Parameters
    ----------
    theta_a, psi_a, det_a : (..., K) theta [rad], psi [rad] and det J [E0²] of the slots of the
        points A (NaN: empty slot), e.g. ``SteadyStates.theta``, ``.psi``, ``.det``.
    theta_b, psi_b, det_b : the same for the points B.

    Returns
    -------
    (..., K) intp: for every slot of A the slot of B that holds the same state, -1 where the
    slot is empty or its state has no continuation (it met another state between A and B).

    Notes
    -----
    Among the one-to-one assignments of the states of A to those of B, the one with the most
    pairs of equal sign of det J (along a branch det J keeps its sign: it vanishes only where
    the branch meets another one, at a fold) and, among those, the least sum of squared
    distances |m'_A - m'_B|² of the unit vectors m' = (sinθ cosψ, sinθ sinψ, cosθ). m' is
    continuous where (theta, psi) is not (psi at the poles; the slot order where theta ties,
    e.g. the equator pair near b = 0). Where every state's nearest state (by this cost) sits
    in its own slot, that is the assignment; elsewhere all permutations of the filled slots
    are tried (K! of them: 24 for 4 slots). Pairs with opposite signs of det J are unmatched.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (
        theta_a, psi_a, det_a, theta_b, psi_b, det_b)))
    shape = arrays[0].shape
    flat = [a.reshape(-1, shape[-1]) for a in arrays]
    out = np.empty(flat[0].shape, dtype=np.intp)
    for start in range(0, out.shape[0], MATCH_BLOCK):
        block = slice(start, start + MATCH_BLOCK)
        out[block] = _match_block(*(a[block] for a in flat))
    return out.reshape(shape)


def unit_vectors(theta: ArrayLike, psi: ArrayLike) -> FloatArray:
    """(..., 3) rotating-frame unit vectors m' = (sinθ cosψ, sinθ sinψ, cosθ)."""
    sin = np.sin(theta)
    return np.stack([sin * np.cos(psi), sin * np.sin(psi), np.cos(theta)], axis=-1)


def _match_block(theta_a: FloatArray, psi_a: FloatArray, det_a: FloatArray, theta_b: FloatArray,
                 psi_b: FloatArray, det_b: FloatArray) -> IntArray:
    """:func:`match_states` of (N, K) arrays (only the slots up to the last one filled)."""
    n, k = theta_a.shape
    out = np.full((n, k), -1, dtype=np.intp)
    used = 1 + int(np.max(np.flatnonzero(np.any(~np.isnan(theta_a) | ~np.isnan(theta_b),
                                                axis=0)), initial=-1))
    if used == 0:
        return out
    theta_a, psi_a, det_a, theta_b, psi_b, det_b = (a[:, :used] for a in (
        theta_a, psi_a, det_a, theta_b, psi_b, det_b))
    filled_a, filled_b = ~np.isnan(theta_a)[:, :, np.newaxis], ~np.isnan(theta_b)[:, np.newaxis]
    chord = np.sum((unit_vectors(theta_a, psi_a)[:, :, np.newaxis]
                    - unit_vectors(theta_b, psi_b)[:, np.newaxis]) ** 2, axis=-1)
    compatible = filled_a & filled_b & ((det_a > 0)[:, :, np.newaxis] == (det_b > 0)[:, np.newaxis])
    # cost = S + 10 (n_A + n_B) - 20 (compatible pairs) - 10 (other filled pairs), S the sum
    # of the compatible pairs' chords (<= 4 each): compatible pairs first, then the least S
    cost = np.where(compatible, chord, np.where(filled_a | filled_b, 10.0, 0.0))
    best = np.broadcast_to(np.arange(used), (n, used)).copy()
    slow = np.flatnonzero(np.any(np.diagonal(cost, axis1=1, axis2=2) > np.min(cost, axis=-1),
                                 axis=-1))
    if slow.size:
        perms = np.array(list(itertools.permutations(range(used))), dtype=np.intp)
        total = np.sum(cost[slow][:, np.arange(used), perms], axis=-1)  # (slow, perms)
        best[slow] = perms[np.argmin(total, axis=-1)]
    keep = np.take_along_axis(compatible, best[:, :, np.newaxis], axis=-1)[..., 0]
    out[:, :used] = np.where(keep, best, -1)
    return out


# --- the grid as lines along the axis ------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """A grid as L lines of n points along one axis, the other dimensions (shape ``other``)
    flattened in C order: model fields (L, n), states (L, n, K). Shared with ``sweep``."""

    model: Model
    parameter: str
    axis: int
    other: tuple[int, ...]
    theta: FloatArray
    psi: FloatArray
    trace: FloatArray
    det: FloatArray
    stability: Int8Array

    @classmethod
    def of(cls, model: Model, states: SteadyStates, axis: int, parameter: str) -> Lines:
        """The lines of ``states`` along ``axis``, where ``parameter`` varies."""
        grid = states.n_states.shape
        axis = operator.index(axis)
        if not -len(grid) <= axis < len(grid):
            raise ValueError(f"axis: {axis} is out of range for a grid of {len(grid)} "
                             "dimensions")
        axis %= len(grid)
        if parameter not in PARAMETERS or not PARAMETERS[parameter].numeric:
            raise ValueError(f"parameter: not a numeric model parameter: {parameter!r}")

        def lines(a: np.ndarray) -> np.ndarray:
            a = np.moveaxis(a, axis, len(grid) - 1)
            return a.reshape(-1, grid[axis], *a.shape[len(grid):])

        return cls(model.map_arrays(lambda a: lines(np.broadcast_to(a, grid))), parameter, axis,
                   grid[:axis] + grid[axis + 1:],
                   *(lines(getattr(states, name)) for name in ("theta", "psi", "trace", "det",
                                                                "stability")))

    @property
    def p(self) -> FloatArray:
        """(L, n) parameter values."""
        return np.asarray(getattr(self.model, self.parameter))

    @property
    def b(self) -> FloatArray:
        """(L, n) b = B0 + omega_d [E0]."""
        return np.asarray(self.model.B0 + self.model.omega_d)

    def row(self, line: ArrayLike, point: ArrayLike) -> Model:
        """The model of the points (line, point) (fields of their shape)."""
        return self.model.map_arrays(lambda a: a[line, point])

    def candidates(self) -> tuple[IntArray, IntArray, IntArray]:
        """The intervals (line, interval) where the states may change, and (C, K) for every
        slot of their left point the slot of the right point that holds its state, or -1
        (:func:`match_states`).

        Elsewhere both points have the same stability codes slot by slot and b keeps its sign:
        the slots match themselves, as states keep their order in theta (they cannot pass each
        other nor, for b != 0, the equator) and a fold changes the codes (unless two cancel).
        """
        a, b = (slice(None), slice(None, -1)), (slice(None), slice(1, None))
        line, interval = np.nonzero(np.any(self.stability[a] != self.stability[b], axis=-1)
                                    | (self.b[a] * self.b[b] <= 0))
        ends = [(line, interval), (line, interval + 1)]
        match = match_states(*(x[e] for e in ends for x in (self.theta, self.psi, self.det)))
        return line, interval, match

    def matches(self) -> IntArray:
        """(L, n - 1, K): for every slot of each point, the slot of the next point that holds
        its state, or -1 (see :meth:`candidates`)."""
        match = np.where(np.isnan(self.theta[:, :-1]), -1, np.arange(self.theta.shape[-1]))
        line, interval, candidates = self.candidates()
        match[line, interval] = candidates
        return match


@dataclass(frozen=True)
class _Found:
    """Points found on lines: line, interval (its left point) along the line, and the point."""

    line: IntArray
    interval: IntArray
    value: FloatArray
    kind: Int8Array
    theta: FloatArray
    psi: FloatArray

    @classmethod
    def of(cls, line: IntArray, interval: IntArray, kind: Kind, value: ArrayLike = np.nan,
           theta: ArrayLike = np.nan, psi: ArrayLike = np.nan) -> _Found:
        """Points of one kind (scalars broadcast)."""
        value, theta, psi = np.broadcast_arrays(value, theta, psi, line)[:3]
        return cls(line, interval, value.astype(float), np.full(line.size, kind, np.int8),
                   theta.astype(float), psi.astype(float))

    @classmethod
    def concatenate(cls, parts: list[_Found]) -> _Found:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def select(self, keep: NDArray[np.bool_]) -> _Found:
        return _Found(*(getattr(self, f.name)[keep] for f in fields(self)))

    def to_grid(self, lines: Lines) -> Boundaries:
        """Grid indices of the points, ordered by index, value, kind and theta."""
        other = np.unravel_index(self.line, lines.other) if lines.other else ()
        index = np.stack([*other[:lines.axis], self.interval, *other[lines.axis:]],
                         axis=-1).astype(np.intp)
        order = np.lexsort((self.theta, self.kind, self.value, *index.T[::-1]))
        return Boundaries(index=index[order], value=self.value[order], kind=self.kind[order],
                          theta=self.theta[order], psi=self.psi[order])


# --- detection ------------------------------------------------------------------------------------


def _boundaries(lines: Lines, depth: int) -> _Found:
    """Detect the changes between neighbouring points of the lines and locate them."""
    line, interval, match = lines.candidates()
    ends = [(line, interval), (line, interval + 1)]
    filled = [~np.isnan(lines.theta[e]) for e in ends]
    stab = [lines.stability[e] for e in ends]
    inverse = _inverse(match)
    hopf = (match >= 0) & (stab[0] != np.take_along_axis(stab[1], np.maximum(match, 0), -1))
    lost = [filled[0] & (match < 0), filled[1] & (inverse < 0)]
    changed = np.any(hopf | lost[0] | lost[1], axis=-1)
    degenerate = changed & _degenerate(lines, line, interval)
    regular = (changed & ~degenerate)[:, np.newaxis]

    parts = [_degenerate_points(lines, line[degenerate], interval[degenerate])]
    failed = []
    for found, fail in (_folds(lines, line, interval, match, 0, lost[0] & regular),
                        _folds(lines, line, interval, inverse, 1, lost[1] & regular),
                        _hopf_points(lines, line, interval, match, hopf & regular)):
        parts.append(found)
        failed.append(fail)
    found = _Found.concatenate(parts)
    failed = np.unique(np.concatenate(failed))  # candidate indices
    if failed.size == 0:
        return found
    n = lines.theta.shape[1]
    found = found.select(~np.isin(found.line * n + found.interval,
                                  line[failed] * n + interval[failed]))
    return _Found.concatenate([found, _subdivide(lines, line[failed], interval[failed], depth)])


def _inverse(match: IntArray) -> IntArray:
    """(C, K) for every slot of the right points, the slot of the left point matched to it."""
    inverse = np.full_like(match, -1)
    row, slot = np.nonzero(match >= 0)
    inverse[row, match[row, slot]] = slot
    return inverse


def _poles(lines: Lines, line: IntArray, point: IntArray) -> NDArray[np.bool_]:
    """Points with states at the poles (Omega = 0)."""
    theta = lines.theta[line, point]
    return np.any((theta == 0) | (theta == np.pi), axis=-1)


def _marginal(lines: Lines, line: IntArray, point: IntArray) -> tuple[NDArray[np.bool_],
                                                                      IntArray]:
    """Points with a marginal state, and the slot of the first one."""
    marginal = lines.stability[line, point] == MARGINAL
    return np.any(marginal, axis=-1), np.argmax(marginal, axis=-1)


def _degenerate(lines: Lines, line: IntArray, interval: IntArray) -> NDArray[np.bool_]:
    """Intervals touching a marginal state, b = 0 or the poles (Omega = 0)."""
    b = lines.b
    out = b[line, interval] * b[line, interval + 1] <= 0
    for end in (interval, interval + 1):
        out |= _marginal(lines, line, end)[0] | _poles(lines, line, end)
    return out


def _degenerate_points(lines: Lines, line: IntArray, interval: IntArray) -> _Found:
    """The DEGENERATE points of the intervals (line, interval) (see :func:`boundaries`)."""
    p, b = lines.p, lines.b
    ends = (interval, interval + 1)
    p_a, p_b = (p[line, e] for e in ends)
    b_a, b_b = (b[line, e] for e in ends)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(b_a == b_b, p_a, p_a + (p_b - p_a) * b_a / (b_a - b_b))  # b = 0
    theta, psi = np.full(line.size, np.nan), np.full(line.size, np.nan)
    for end in ends[::-1]:  # overridden by the poles, then by a marginal state; left first
        value = np.where(_poles(lines, line, end), p[line, end], value)
    for end in ends[::-1]:
        marginal, slot = _marginal(lines, line, end)
        value = np.where(marginal, p[line, end], value)
        theta = np.where(marginal, lines.theta[line, end, slot], theta)
        psi = np.where(marginal, lines.psi[line, end, slot], psi)
    return _Found.of(line, interval, DEGENERATE, value, theta, psi)


def _neighbours(theta: FloatArray, slot: IntArray) -> tuple[FloatArray, FloatArray]:
    """theta of the previous state before ``slot`` and of the next one after it in the same
    hemisphere, or the hemisphere's ends (0, pi/2 or pi/2, pi), for rows of (M, K) slots:
    states cannot pass them (b != 0, Omega > 0)."""
    rows = np.arange(theta.shape[0])
    upper = theta[rows, slot] < np.pi / 2
    padded = np.pad(theta, ((0, 0), (1, 1)), constant_values=np.nan)
    previous, following = padded[rows, slot], padded[rows, slot + 2]
    same = [~np.isnan(t) & ((t < np.pi / 2) == upper) for t in (previous, following)]
    return (np.where(same[0], previous, np.where(upper, 0.0, np.pi / 2)),
            np.where(same[1], following, np.where(upper, np.pi / 2, np.pi)))


def _refined(line: IntArray, interval: IntArray, candidate: IntArray, kind: Kind,
             ok: NDArray[np.bool_], refine) -> tuple[_Found, IntArray]:
    """Refine the problems ``ok`` (``refine()`` -> value, state, passed check) and collect the
    candidate indices of the failed ones."""
    found = _Found.of(line[:0], interval[:0], kind)
    passed = np.zeros(0, dtype=bool)
    if np.any(ok):
        value, state, passed = refine()
        found = _Found.of(line[candidate[ok]], interval[candidate[ok]], kind, value,
                          state["theta"], state["psi"]).select(passed)
    return found, np.concatenate([candidate[~ok], candidate[ok][~passed]])


def _folds(lines: Lines, line: IntArray, interval: IntArray, continued: IntArray, side: int,
           lost: NDArray[np.bool_]) -> tuple[_Found, IntArray]:
    """FOLD points of the states ``lost`` (C, K) of the ``side`` end (0 left, 1 right) of the
    candidate intervals, in pairs of neighbouring slots, and the candidate indices whose
    refinement failed. ``continued``: for every slot of that end, the slot of the other end
    holding its state (or -1)."""
    candidate, slot = np.nonzero(lost)
    if candidate.size == 0:
        return _Found.of(candidate, candidate, FOLD), candidate
    counts = np.bincount(candidate, minlength=line.size)
    rank = np.arange(candidate.size) - (np.cumsum(counts) - counts)[candidate]
    first = np.flatnonzero((rank % 2 == 0) & (rank + 1 < counts[candidate]))
    bad = np.union1d(np.flatnonzero(counts % 2),
                     candidate[first][slot[first + 1] != slot[first] + 1])
    first = first[~np.isin(candidate[first], bad)]
    candidate, slot = candidate[first], slot[first]
    rows = np.arange(candidate.size)
    at, exist, other = line[candidate], interval[candidate] + side, interval[candidate] + 1 - side
    theta_e, theta_o = lines.theta[at, exist], lines.theta[at, other]
    theta_1, theta_2 = theta_e[rows, slot], theta_e[rows, slot + 1]
    det_1, det_2 = lines.det[at, exist, slot], lines.det[at, exist, slot + 1]
    lower, higher = _neighbours(theta_e, slot)[0], _neighbours(theta_e, slot + 1)[1]
    upper = theta_1 < np.pi / 2
    # the outer neighbours' continuations at the other end bound the window too
    continued = continued[candidate]
    for neighbour, bound, pick in ((slot - 1, lower, np.maximum), (slot + 2, higher, np.minimum)):
        k = np.clip(neighbour, 0, continued.shape[-1] - 1)
        target = continued[rows, k]
        theta_n = theta_o[rows, np.maximum(target, 0)]
        there = (neighbour == k) & (target >= 0) & ((theta_n < np.pi / 2) == upper)
        bound[:] = np.where(there, pick(bound, theta_n), bound)
    ok = ((np.sign(det_1) != np.sign(det_2)) & ((theta_2 < np.pi / 2) == upper)
          & (lower < theta_1) & (theta_2 < higher))
    p = lines.p

    def refine() -> tuple[FloatArray, dict[str, FloatArray], NDArray[np.bool_]]:
        return continuation.folds(
            lines.row(at[ok], exist[ok]), lines.parameter, p[at[ok], exist[ok]],
            p[at[ok], other[ok]], -np.sign(det_1[ok] * np.cos(theta_1[ok])),
            ((lower[ok] + theta_1[ok]) / 2, (theta_2[ok] + higher[ok]) / 2),
            (theta_1[ok], theta_2[ok]))

    found, failed = _refined(line, interval, candidate, FOLD, ok, refine)
    return found, np.concatenate([bad, failed])


def _hopf_points(lines: Lines, line: IntArray, interval: IntArray, match: IntArray,
                 change: NDArray[np.bool_]) -> tuple[_Found, IntArray]:
    """HOPF points of the matched states ``change`` (C, K) of the left ends of the candidate
    intervals, whose stability changes (between stable and unstable; others fail), and the
    candidate indices whose refinement failed."""
    candidate, slot = np.nonzero(change)
    at = line[candidate]
    ends = ((interval[candidate], slot), (interval[candidate] + 1, match[candidate, slot]))
    theta = [lines.theta[at, point, s] for point, s in ends]
    stab = [lines.stability[at, point, s] for point, s in ends]
    bounds = [_neighbours(lines.theta[at, point], s) for point, s in ends]
    lower = np.maximum(bounds[0][0], bounds[1][0])
    higher = np.minimum(bounds[0][1], bounds[1][1])
    t_min, t_max = np.minimum(*theta), np.maximum(*theta)
    ok = ((lower < t_min) & (t_max < higher)
          & (np.minimum(*stab) == STABLE) & (np.maximum(*stab) == UNSTABLE))
    p, (a, b) = lines.p, (ends[0][0][ok], ends[1][0][ok])

    def refine() -> tuple[FloatArray, dict[str, FloatArray], NDArray[np.bool_]]:
        return continuation.hopf_points(
            lines.row(at[ok], a), lines.parameter, p[at[ok], a], p[at[ok], b],
            ((lower[ok] + t_min[ok]) / 2, (t_max[ok] + higher[ok]) / 2))

    return _refined(line, interval, candidate, HOPF, ok, refine)


def _subdivide(lines: Lines, line: IntArray, interval: IntArray, depth: int) -> _Found:
    """Points of the intervals whose refinement failed, from a finer line in each
    (DEGENERATE at the interval's midpoint after MAX_SUBDIVISIONS)."""
    p_a, p_b = lines.p[line, interval], lines.p[line, interval + 1]
    if depth >= MAX_SUBDIVISIONS:
        return _Found.of(line, interval, DEGENERATE, (p_a + p_b) / 2)
    t = np.linspace(0.0, 1.0, SUBDIVISION + 1)
    model = lines.row(line, interval).map_arrays(lambda a: a[:, np.newaxis])
    model = model.replace(**{lines.parameter: p_a[:, np.newaxis]
                             + (p_b - p_a)[:, np.newaxis] * t})
    states = steady_states(model, max_states=lines.theta.shape[-1])
    found = _boundaries(Lines.of(model, states, 1, lines.parameter), depth + 1)
    return _Found(line[found.line], interval[found.line], found.value, found.kind, found.theta,
                  found.psi)
