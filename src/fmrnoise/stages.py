"""Physics of one pipeline chunk per stage: model arrays in, the stage's variables out.

Each function takes a ``Model`` whose arrays span one chunk of the grid (shape ``grid``) and, for
the stages after the steady state, the steady-state arrays of that chunk (shape
``(*grid, branch)``). It returns the variables of the data contract (``contract.VARIABLES``) as
NumPy arrays. No I/O happens here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .contract import stage_variables
from .distribution import steps
from .llg import damping, kappa_of, residual_of
from .model import Model
from .noise import noise
from .steady_state import steady_states
from .transport import dot_voltage

Arrays = dict[str, np.ndarray]


def steady_state_chunk(model: Model, upstream: Mapping[str, np.ndarray],
                       max_states: int = 4, quadrature: bool = False) -> Arrays:
    """All stationary states of every grid point, in ``max_states`` branch slots."""
    result = steady_states(model, max_states=max_states)
    return {name: getattr(result, name) for name in stage_variables("steady_state")}


def distribution_chunk(model: Model, upstream: Mapping[str, np.ndarray],
                       max_states: int = 4, quadrature: bool = False) -> Arrays:
    """Step lists of the lead and dot distributions at each state (precession at omega_d)."""
    branch = model.per_branch()
    dist = steps(branch, upstream["theta"], branch.omega_d)
    return {"step_position": dist.position, "step_weight": dist.weight,
            "lead_weight": dist.lead_weight}


def dot_voltage_chunk(model: Model, upstream: Mapping[str, np.ndarray],
                      max_states: int = 4, quadrature: bool = False) -> Arrays:
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


def noise_chunk(model: Model, upstream: Mapping[str, np.ndarray],
                max_states: int = 4, quadrature: bool = False) -> Arrays:
    """Zero-frequency current noise at each state (and by quadrature, on request)."""
    branch = model.per_branch()
    result = noise(branch, upstream["theta"], branch.omega_d, quadrature=quadrature)
    return {name: getattr(result, name) for name in stage_variables("noise", quadrature)}


CHUNK_FUNCTIONS = {
    "steady_state": steady_state_chunk,
    "distribution": distribution_chunk,
    "dot_voltage": dot_voltage_chunk,
    "noise": noise_chunk,
}
#: Steady-state variables each later stage reads.
UPSTREAM_VARIABLES = {"steady_state": (), "distribution": ("theta",),
                      "dot_voltage": ("theta", "psi"), "noise": ("theta",)}
