"""Stage boundaries: the folds and Hopf points between neighbouring grid points along an axis."""

from __future__ import annotations

import numpy as np

from ...physics.bifurcations import boundaries
from ...physics.model import Model
from ...physics.steady_state import SteadyStates


def compute(model: Model, states: SteadyStates, axis: int,
            parameter: str) -> dict[str, np.ndarray]:
    """Bifurcation points of a block of the grid along its dimension ``axis``: the grid index
    of each interval's left point (``index``, block coordinates), the refined ``value`` of
    ``parameter``, the ``kind`` and the state's ``theta`` and ``psi``."""
    found = boundaries(model, states, axis, parameter)
    return {"index": found.index, "value": found.value, "kind": found.kind,
            "theta": found.theta, "psi": found.psi}
