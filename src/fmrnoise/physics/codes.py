"""The integer codes and labels stored by the pipeline, each defined once (used by the physics,
the data contract's CF flag attributes and the figures)."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class Stability(IntEnum):
    """Stability code of a branch slot (stored as int8; CF ``flag_values``)."""

    EMPTY = -1  #: no state in the slot
    STABLE = 0  #: det J > 0, tr J < 0
    UNSTABLE = 1  #: det J > 0, tr J > 0
    SADDLE = 2  #: det J < 0
    MARGINAL = 3  #: |det J| or |tr J| at round-off level (MARGINAL_TOLERANCE)


class Status(IntFlag):
    """Status bit flags of a grid point (stored as int8; CF ``flag_masks``)."""

    NO_STABLE_STATE = 1  #: no stable fixed point: the attractor is a limit cycle
    TRUNCATED_STATES = 2  #: more states than branch slots; the lowest-theta ones are kept
    RESIDUAL_ABOVE_TOLERANCE = 4  #: a state's stationarity residual exceeds RESIDUAL_TOLERANCE


class Kind(IntEnum):
    """Kind of a bifurcation point (stored as int8)."""

    FOLD = 1  #: saddle-node: two states meet and disappear (det J = 0)
    HOPF = 2  #: a state with det J > 0 changes stability (tr J = 0)
    DEGENERATE = 3  #: a change at a non-generic place, not refined (see :func:`boundaries`)


class SweepStatus(IntFlag):
    """Status bit flags of a point of a sweep (stored as int8)."""

    LIMIT_CYCLE = 1  #: no stable fixed point reached within t_max: a limit cycle (NaN state)
    INTEGRATED = 2  #: found by time integration (a jump, a limit cycle, a return from one)


#: The directions of a sweep, in the order of its ``direction`` axis (stored labels).
DIRECTIONS = ("up", "down")
