"""Stage dot_voltage: dot potentials, currents, Kirchhoff and stationarity residuals."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...physics.llg import damping, kappa_of, residual_of
from ...physics.model import Model
from ...physics.transport import dot_voltage

UPSTREAM = ("theta", "psi")


def compute(model: Model, upstream: Mapping[str, np.ndarray], max_states: int,
            options: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Dot potentials, currents, Kirchhoff and stationarity residuals at each state."""
    branch = model.per_branch()
    theta, psi = upstream["theta"], upstream["psi"]
    result = dot_voltage(branch, theta, branch.omega_d)
    # kappa(theta) from the spin torque just computed (llg.kappa would compute it again)
    acting_torque = result.spin_current if branch.lead_damping else np.zeros_like(theta)
    kap = kappa_of(branch, damping(branch, theta), acting_torque)
    return {"V_d_spin": result.V_d_spin, "V_d": result.V_d, "current": result.current,
            "kirchhoff_residual": result.kirchhoff_residual,
            "spin_current": result.spin_current,
            "stationarity_residual": residual_of(branch.B0 + branch.omega_d, branch.Omega, kap,
                                                 theta, psi)}
