"""The driven Landau-Lifshitz-Gilbert-Slonczewski equation in the rotating frame (physics.md §3).

In the frame rotating with the drive, m' = (sin(theta) cos(psi), sin(theta) sin(psi), cos(theta)),
where psi is the lag of m behind the in-plane field. With b = B0 + omega_d and
kappa(theta) = alpha(theta) omega_d - I_s(theta)/S the stationary states satisfy
Omega sin(psi) = -kappa sin(theta) and Omega cos(theta) cos(psi) = b sin(theta).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .model import FloatArray, Model
from .transport import acting_damping, acting_spin_torque

#: A damping law alpha(theta): a vectorized callable of the polar angle [rad].
DampingLaw = Callable[[np.ndarray], np.ndarray]


def damping(model: Model, theta: ArrayLike, law: DampingLaw | None = None) -> FloatArray:
    """Gilbert damping alpha(theta) acting on the magnet (``law`` overrides the model's)."""
    if law is not None:
        return np.broadcast_to(law(np.asarray(theta)), np.broadcast_shapes(
            np.shape(theta), np.shape(model.omega_d)))
    return acting_damping(model, theta)


def torque(model: Model, theta: ArrayLike, law: DampingLaw | None = None) -> FloatArray:
    """Spin-transfer torque current I_s(theta) acting on the magnet [E0] (0 with a ``law``)."""
    if law is not None:
        return np.zeros(np.broadcast_shapes(np.shape(theta), np.shape(model.omega_d)))
    return acting_spin_torque(model, theta)


def kappa(model: Model, theta: ArrayLike, law: DampingLaw | None = None) -> FloatArray:
    """kappa(theta) = alpha(theta) omega_d - I_s(theta)/S [E0]; accepts complex ``theta``."""
    return (damping(model, theta, law) * model.omega_d
            - torque(model, theta, law) / model.total_spin)


def kappa_derivative(model: Model, theta: ArrayLike,
                     law: DampingLaw | None = None) -> FloatArray:
    """d kappa / d theta [E0/rad] by complex-step differentiation (exact to round-off)."""
    h = 1e-30
    return np.imag(kappa(model, np.asarray(theta, dtype=float) + 1j * h, law)) / h


def forces(model: Model, theta: ArrayLike, psi: ArrayLike,
           law: DampingLaw | None = None) -> tuple[FloatArray, FloatArray]:
    """Stationarity forces [E0].

    F_theta = Omega sin(psi) + kappa sin(theta), F_psi = Omega cos(theta) cos(psi) - b sin(theta).
    """
    theta, psi = np.asarray(theta), np.asarray(psi)
    b = model.B0 + model.omega_d
    f_theta = model.Omega * np.sin(psi) + kappa(model, theta, law) * np.sin(theta)
    f_psi = model.Omega * np.cos(theta) * np.cos(psi) - b * np.sin(theta)
    return f_theta, f_psi


def rotating_frame_rhs(model: Model, theta: ArrayLike, psi: ArrayLike,
                       law: DampingLaw | None = None) -> tuple[FloatArray, FloatArray]:
    """Exact rotating-frame equations of motion (d theta/dt, d psi/dt) [E0]."""
    f_theta, f_psi = forces(model, theta, psi, law)
    alpha = damping(model, theta, law)
    norm = 1 + alpha**2
    return (f_theta + alpha * f_psi) / norm, (f_psi - alpha * f_theta) / (norm * np.sin(theta))


def stationarity_residual(model: Model, theta: ArrayLike, psi: ArrayLike,
                          law: DampingLaw | None = None) -> FloatArray:
    """max(|F_theta|, |F_psi|) / (|b| + |kappa| + Omega): zero at a stationary state.

    alpha and I_s are recomputed at ``theta``; the result is dimensionless.
    """
    f_theta, f_psi = forces(model, theta, psi, law)
    scale = (np.abs(model.B0 + model.omega_d) + np.abs(kappa(model, theta, law))
             + model.Omega)
    residual = np.maximum(np.abs(f_theta), np.abs(f_psi))
    return residual / np.where(scale > 0, scale, 1.0)
