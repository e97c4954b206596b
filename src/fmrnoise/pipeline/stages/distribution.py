"""Stage distribution: step lists of the lead and dot distributions at each state."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...physics.distribution import steps
from ...physics.model import Model

UPSTREAM = ("theta",)


def compute(model: Model, upstream: Mapping[str, np.ndarray], max_states: int,
            options: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Step lists of the lead and dot distributions at each state (precession at omega_d)."""
    branch = model.per_branch()
    dist = steps(branch, upstream["theta"], branch.omega_d)
    return {"step_position": dist.position, "step_weight": dist.weight,
            "lead_weight": dist.lead_weight}
