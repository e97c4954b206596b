"""Stage noise: zero-frequency current noise at each state."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...physics.cumulants import cumulants
from ...physics.model import Model
from ...physics.noise import noise
from ...physics.relaxation import hot_electrons

UPSTREAM = ("theta",)


def compute(model: Model, upstream: Mapping[str, np.ndarray], max_states: int,
            options: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Zero-frequency current noise and the third charge cumulant at each state; on request
    by quadrature too (``quadrature``), and with energy relaxation on the dot
    (``dot_relaxation``)."""
    branch = model.per_branch()
    theta = upstream["theta"]
    quadrature = bool(options.get("quadrature", False))
    result = noise(branch, theta, branch.omega_d, quadrature=quadrature)
    names = ["S", "S_r", "S_eq", "excess_noise", "noise_temperature", "conductance"]
    if quadrature:
        names += ["S_quadrature", "quadrature_error"]
    arrays = {name: getattr(result, name) for name in names}
    counting = cumulants(branch, theta, branch.omega_d, quadrature=quadrature)
    arrays["C3"] = counting.C3
    if quadrature:
        arrays |= {"C3_quadrature": counting.C3_quadrature,
                   "C3_quadrature_error": counting.C3_quadrature_error}
    if options.get("dot_relaxation", False):
        hot = hot_electrons(branch, theta, branch.omega_d)
        arrays |= {"T_dot": hot.T_dot, "S_hot": hot.S_hot,
                   "excess_noise_hot": hot.excess_noise_hot}
    return arrays
