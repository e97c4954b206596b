"""Stage steady_state: every stationary state of each grid point, in branch slots."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...physics.model import Model
from ...physics.steady_state import steady_states

UPSTREAM: tuple[str, ...] = ()


def compute(model: Model, upstream: Mapping[str, np.ndarray], max_states: int,
            options: Mapping[str, object]) -> dict[str, np.ndarray]:
    """All stationary states of every grid point, in ``max_states`` branch slots."""
    result = steady_states(model, max_states=max_states)
    return {name: getattr(result, name) for name in
            ("theta", "psi", "trace", "det", "alpha", "spin_current", "stability", "n_states",
             "n_stable", "status")}
