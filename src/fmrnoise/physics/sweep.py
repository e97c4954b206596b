"""What a slow sweep of one parameter sees: the branch followed, its jumps, limit cycles
(docs/theory.md §11).

Sweeping p slowly, the magnet stays on its branch while that branch exists and is stable. Where
the branch ends (a fold) or loses stability (a Hopf point), the rotating-frame dynamics, started
from the last state with the new parameters, carries it to another stable state (a jump) or onto
a limit cycle (a non-synchronous precession: no stationary state), which it leaves again once
the trajectory reaches a stable fixed point at a later point. Up and down sweeps differ inside
bistable intervals (hysteresis). Every grid line along the axis is swept independently, point
by point; only departures from a branch and limit cycles need a time integration, of the
autonomous rotating-frame equations (:func:`fmrnoise.physics.dynamics.rotating_rhs`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from .bifurcations import Lines, unit_vectors
from .codes import SweepStatus
from .dynamics import rotating_rhs
from .model import FloatArray, Model
from .steady_state import STABLE, SteadyStates

Int8Array = NDArray[np.int8]
BoolArray = NDArray[np.bool_]


LIMIT_CYCLE, INTEGRATED = SweepStatus
#: A trajectory within this angle of a stable fixed point has reached it [rad].
CAPTURE_ANGLE = 1e-3
#: A trajectory that reaches no stable fixed point within t_max = T_MAX_FACTOR/min|tr J| (over
#: the point's stable states, or all its states where none is stable; at most T_MAX_CAP
#: [hbar/E0]) is on a limit cycle: a state with small |tr J| relaxes in a time ~ 1/|tr J|.
T_MAX_FACTOR = 50.0
T_MAX_CAP = 1e6
#: DOP853 tolerances: enough to tell which fixed point a trajectory reaches.
RTOL, ATOL = 1e-8, 1e-10


@dataclass(frozen=True)
class Sweep:
    """Slow up and down sweeps of a parameter along one grid axis.

    Arrays have shape ``(*other, 2, n)``: the other grid dimensions in order, the direction
    (:data:`fmrnoise.physics.codes.DIRECTIONS`: 0 up, 1 down), then the n points of the swept
    axis in the order of the grid coordinate (also for the down sweep).

    Attributes
    ----------
    theta : polar angle of the state the magnet is in [rad]; NaN on a limit cycle.
    psi : its lag psi [rad]; NaN on a limit cycle.
    slot : int8 branch slot of that state in the :class:`SteadyStates`; -1 on a limit cycle.
    status : int8 :class:`SweepStatus` flags: 1 limit cycle, 2 found by time integration.
    jumped : bool, the magnet departed here from the fixed point it was on at the previous
        point of the sweep (a jump, to another fixed point or onto a limit cycle); a return
        from a limit cycle onto a fixed point is not a jump.
    n_integrations : number of time integrations done (both directions, all lines).
    integration_seconds : their total wall time [s].
    """

    theta: FloatArray
    psi: FloatArray
    slot: Int8Array
    status: Int8Array
    jumped: BoolArray
    n_integrations: int
    integration_seconds: float


class _State(NamedTuple):
    """Where the magnet is: a fixed point (its slot) or, on a limit cycle (slot -1), the end of
    the last trajectory (rotating-frame unit vector)."""

    slot: int
    m: FloatArray | None
    status: int


@dataclass
class _Clock:
    """Number and total wall time of the time integrations."""

    count: int = 0
    seconds: float = 0.0


def sweep(model: Model, states: SteadyStates, axis: int, parameter: str) -> Sweep:
    """Up and down sweeps of ``parameter`` along grid dimension ``axis``, at every value of
    the other dimensions.

    Parameters
    ----------
    model : model parameters; every array field broadcasts to the grid shape
        ``states.n_states.shape``. The model's own kappa(theta) (no damping law).
    states : the states of ``model`` on that grid (:func:`steady_states`).
    axis : grid dimension along which ``parameter`` varies.
    parameter : name of the numeric :class:`Model` field that varies along ``axis``.

    Returns
    -------
    Sweep

    Notes
    -----
    The up sweep starts at the first point in its lowest-theta stable state (without one:
    integrated from the north pole). At each next point the magnet keeps the state matched to
    its own (``bifurcations.Lines.matches``) if that state is stable there. Otherwise the
    rotating-frame equations with the new point's parameters are integrated from the last
    state until the trajectory comes within ``CAPTURE_ANGLE`` of a stable fixed point of that
    point (the magnet takes it) or until t_max (``T_MAX_FACTOR``): a limit cycle, continued
    from the trajectory's end at the next point. The down sweep runs from the last point back
    to the first, starting where the up sweep ended. A line without departures from stable
    branches needs no integration.
    """
    lines = Lines.of(model, states, axis, parameter)
    forward = lines.matches()
    backward = np.full_like(forward, -1)  # slots of point i + 1 -> slots of point i
    line, point, slot = np.nonzero(forward >= 0)
    backward[line, point, forward[line, point, slot]] = slot
    n_lines, n = lines.theta.shape[:2]
    theta, psi = np.full((2, n_lines, 2, n), np.nan)
    slots = np.full((n_lines, 2, n), -1, dtype=np.int8)
    status = np.zeros((n_lines, 2, n), dtype=np.int8)
    jumped = np.zeros((n_lines, 2, n), dtype=bool)
    clock = _Clock()

    def record(row: int, direction: int, i: int, state: _State, left: bool = False) -> None:
        slots[row, direction, i], status[row, direction, i] = state.slot, state.status
        jumped[row, direction, i] = left
        if state.slot >= 0:
            theta[row, direction, i] = lines.theta[row, i, state.slot]
            psi[row, direction, i] = lines.psi[row, i, state.slot]

    for row in range(n_lines):
        state = _start(lines, row, clock)
        record(row, 0, 0, state)
        for i in range(1, n):
            state, left = _next(lines, row, i - 1, i, state, forward[row, i - 1], clock)
            record(row, 0, i, state, left)
        record(row, 1, n - 1, state)
        for i in range(n - 2, -1, -1):
            state, left = _next(lines, row, i + 1, i, state, backward[row, i], clock)
            record(row, 1, i, state, left)
    shape = (*lines.other, 2, n)
    return Sweep(theta=theta.reshape(shape), psi=psi.reshape(shape), slot=slots.reshape(shape),
                 status=status.reshape(shape), jumped=jumped.reshape(shape),
                 n_integrations=clock.count, integration_seconds=clock.seconds)


def _start(lines: Lines, row: int, clock: _Clock) -> _State:
    """The first point of the up sweep: its lowest-theta stable state, or where a trajectory
    from the north pole goes."""
    stable = np.flatnonzero(lines.stability[row, 0] == STABLE)
    if stable.size:
        return _State(int(stable[0]), None, 0)
    return _settle(lines, row, 0, np.array([0.0, 0.0, 1.0]), clock)


def _next(lines: Lines, row: int, previous: int, i: int, state: _State, match: NDArray[np.intp],
          clock: _Clock) -> tuple[_State, bool]:
    """The state at point i coming from ``previous``, and whether the magnet left its fixed
    point. ``match``: the slots of point i holding the states of ``previous``."""
    if state.slot >= 0:
        continued = match[state.slot]
        if continued >= 0 and lines.stability[row, i, continued] == STABLE:
            return _State(int(continued), None, 0), False
        start = unit_vectors(lines.theta[row, previous, state.slot],
                             lines.psi[row, previous, state.slot])
        return _settle(lines, row, i, start, clock), True
    return _settle(lines, row, i, state.m, clock), False


def _angles(m: FloatArray, targets: FloatArray) -> FloatArray:
    """Angles between m (any length) and the unit vectors ``targets`` (k, 3) [rad]."""
    chord = np.linalg.norm(targets - m / np.linalg.norm(m), axis=-1)
    return 2 * np.arcsin(np.minimum(chord / 2, 1.0))


def _settle(lines: Lines, row: int, i: int, start: FloatArray, clock: _Clock) -> _State:
    """Integrate the rotating-frame equations of point i from ``start`` until a stable fixed
    point is reached (its state) or t_max has passed (a limit cycle, ending at m)."""
    stable = np.flatnonzero(lines.stability[row, i] == STABLE)
    targets = unit_vectors(lines.theta[row, i, stable], lines.psi[row, i, stable])
    trace = lines.trace[row, i]
    rates = np.abs(trace[stable] if stable.size else trace[~np.isnan(trace)])
    t_max = min(T_MAX_FACTOR / rates.min(), T_MAX_CAP) if np.all(rates > 0) else T_MAX_CAP

    def captured(t: float, m: FloatArray) -> float:
        return float(np.min(_angles(m, targets), initial=np.inf)) - CAPTURE_ANGLE

    captured.terminal, captured.direction = True, -1.0
    end = start
    if captured(0.0, start) > 0:
        begin = time.perf_counter()
        solution = solve_ivp(rotating_rhs(lines.row(row, i)), (0.0, t_max), start,
                             method="DOP853", rtol=RTOL, atol=ATOL,
                             events=captured if stable.size else None)
        clock.count += 1
        clock.seconds += time.perf_counter() - begin
        end = solution.y[:, -1] / np.linalg.norm(solution.y[:, -1])
        if solution.status != 1:  # not captured
            return _State(-1, end, INTEGRATED | LIMIT_CYCLE)
    return _State(int(stable[np.argmin(_angles(end, targets))]), None, INTEGRATED)
