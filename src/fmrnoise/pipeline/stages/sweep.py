"""Stage sweep: up and down sweeps along one axis, with the noise and current of the state."""

from __future__ import annotations

import numpy as np

from ...physics.model import Model
from ...physics.noise import noise
from ...physics.steady_state import SteadyStates
from ...physics.sweep import sweep
from ...physics.transport import dot_voltage


def compute(model: Model, states: SteadyStates, axis: int, parameter: str, lines: Model,
            expand: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Sweeps of a block of lines, and the noise and current of the state the magnet is in.

    Parameters
    ----------
    model, states : the steady state's block (its grid: the lines' steady-state axes, then
        the swept axis at ``axis``).
    parameter : the swept model parameter.
    lines : the model over the sweep store's block, shape (other axes..., 1, n): every axis of
        the study but the swept one, a direction axis, the swept axis.
    expand : where the sweep's (steady other axes..., 2, n) arrays get new axes, to broadcast
        against ``lines`` (the other axes the steady state does not depend on).
    """
    found = sweep(model, states, axis, parameter)
    shape = np.broadcast_shapes(*(np.shape(a) for a in vars(lines).values()
                                  if isinstance(a, np.ndarray)))[:-2] + found.theta.shape[-2:]

    def full(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.expand_dims(a, expand), shape)

    theta = full(found.theta)
    result = noise(lines, theta, lines.omega_d)
    return {"theta": theta, "psi": full(found.psi), "S": result.S, "S_eq": result.S_eq,
            "current": dot_voltage(lines, theta, lines.omega_d).current,
            "status": full(found.status), "jumped": full(found.jumped)}
