"""Stage noise: zero-frequency current noise at each state."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...physics.model import Model
from ...physics.noise import noise

UPSTREAM = ("theta",)


def compute(model: Model, upstream: Mapping[str, np.ndarray], max_states: int,
            options: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Zero-frequency current noise at each state (and by quadrature, on request)."""
    branch = model.per_branch()
    quadrature = bool(options.get("quadrature", False))
    result = noise(branch, upstream["theta"], branch.omega_d, quadrature=quadrature)
    names = ["S", "S_r", "S_eq", "excess_noise", "noise_temperature", "conductance"]
    if quadrature:
        names += ["S_quadrature", "quadrature_error"]
    return {name: getattr(result, name) for name in names}
