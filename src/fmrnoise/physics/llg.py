"""The driven Landau-Lifshitz-Gilbert-Slonczewski equation in the rotating frame
(docs/theory.md §3).

In the frame rotating with the drive, m' = (sin(theta) cos(psi), sin(theta) sin(psi), cos(theta)),
where psi is the lag of m behind the in-plane field. With b = B0 + omega_d and
kappa(theta) = alpha(theta) omega_d - I_s(theta)/S the stationary states satisfy
Omega sin(psi) = -kappa sin(theta) and Omega cos(theta) cos(psi) = b sin(theta).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from .distribution import half_angles
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


def principal_lag(psi: ArrayLike) -> FloatArray:
    """The lag psi in (-pi, pi] (``np.arctan2`` also gives -pi), without -0.0 [rad]."""
    psi = np.asarray(psi)
    return np.where(psi <= -np.pi, psi + 2 * np.pi, psi) + 0.0


def kappa(model: Model, theta: ArrayLike, law: DampingLaw | None = None) -> FloatArray:
    """kappa(theta) = alpha(theta) omega_d - I_s(theta)/S [E0]; accepts complex ``theta``."""
    return kappa_of(model, damping(model, theta, law), torque(model, theta, law))


def kappa_of(model: Model, alpha: ArrayLike, spin_current: ArrayLike) -> FloatArray:
    """kappa = alpha omega_d - I_s/S [E0] from the acting damping and spin-torque current."""
    return alpha * model.omega_d - spin_current / model.total_spin


@dataclass(frozen=True)
class LeadKappa:
    """alpha(theta), I_s(theta) and kappa(theta) with lead damping, in closed form
    (docs/theory.md §5).

    With c² = cos²(theta/2), s² = sin²(theta/2) the damping is linear in them and the spin
    potentials are ratios (the pumping terms sigma omega_d c²s² of both leads combined):

        alpha = alpha0 + (s² sum_x P_x + c² sum_x Q_x) / 4S,
        V_d^sigma = [c² M^sigma + s² M^-sigma - omega_d c²s² Delta] / [c² G^sigma + s² G^-sigma],
        I_s = (rho_up + rho_down) sum_x pi_x mu_x - (sum_x pi_x)(rho_up V_d^up + rho_down V_d^down),
        kappa = alpha omega_d - I_s / S,

    with P_x = rho_up Gamma_x^up + rho_down Gamma_x^down, Q_x = rho_up Gamma_x^down +
    rho_down Gamma_x^up, M^sigma = sum_x mu_x Gamma_x^sigma, G^sigma = sum_x Gamma_x^sigma,
    Delta = sum_x (Gamma_x^up - Gamma_x^down), pi_x = (Gamma_x^up - Gamma_x^down)/4: the same
    algebra as :func:`kappa` with ``lead_damping`` (transport.lead_gilbert_damping,
    transport.spin_torque), in a few operations per angle instead of the step lists; the
    bracketing solver evaluates it on hundreds of angles per point. Attributes are coefficient
    arrays that broadcast against each other (one value per grid point).
    """

    omega_d: FloatArray
    spin: FloatArray
    alpha0: FloatArray
    a_s: FloatArray
    a_c: FloatArray
    i0: FloatArray
    i_up: FloatArray
    i_down: FloatArray
    m_up: FloatArray
    m_down: FloatArray
    g_up: FloatArray
    g_down: FloatArray
    pump: FloatArray

    @classmethod
    def from_model(cls, model: Model) -> LeadKappa:
        """Coefficients of a model with ``lead_damping`` (arrays of the model's shape)."""
        gamma = model.gamma  # (..., lead, lead spin)
        up, down = gamma[..., 0], gamma[..., 1]
        rho_up = np.asarray(model.rho_up)[..., np.newaxis]
        rho_down = np.asarray(model.rho_down)[..., np.newaxis]
        mu = model.mu
        spin = np.asarray(model.total_spin)
        omega_d = np.asarray(model.omega_d)
        pol = (up - down) / 4  # pi_x
        pol_sum = np.sum(pol, axis=-1)
        return cls(omega_d=omega_d, spin=spin, alpha0=np.asarray(model.alpha0),
                   a_s=np.sum(rho_up * up + rho_down * down, axis=-1) / (4 * spin),
                   a_c=np.sum(rho_up * down + rho_down * up, axis=-1) / (4 * spin),
                   i0=(model.rho_up + model.rho_down) * np.sum(pol * mu, axis=-1),
                   i_up=pol_sum * model.rho_up, i_down=pol_sum * model.rho_down,
                   m_up=np.sum(mu * up, axis=-1), m_down=np.sum(mu * down, axis=-1),
                   g_up=np.sum(up, axis=-1), g_down=np.sum(down, axis=-1),
                   pump=omega_d * np.sum(up - down, axis=-1))

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> LeadKappa:
        """Apply ``fn`` to every coefficient array (e.g. select points, add an axis)."""
        return LeadKappa(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})

    def spin_potentials(self, c2: ArrayLike, s2: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(V_d^up, V_d^down) at phidot = omega_d [E0], from c² = cos²(theta/2), s² = 1 - c²."""
        pump = self.pump * (c2 * s2)
        v_up = (c2 * self.m_up + s2 * self.m_down - pump) / (c2 * self.g_up + s2 * self.g_down)
        v_down = (c2 * self.m_down + s2 * self.m_up - pump) / (c2 * self.g_down
                                                                + s2 * self.g_up)
        return v_up, v_down

    def damping(self, c2: ArrayLike, s2: ArrayLike) -> FloatArray:
        """alpha(theta) [dimensionless]."""
        return self.alpha0 + (s2 * self.a_s + c2 * self.a_c)

    def torque(self, c2: ArrayLike, s2: ArrayLike) -> FloatArray:
        """I_s(theta) [E0]."""
        v_up, v_down = self.spin_potentials(c2, s2)
        return self.i0 - (self.i_up * v_up + self.i_down * v_down)

    def __call__(self, c2: ArrayLike, s2: ArrayLike) -> FloatArray:
        """kappa [E0] at c² = cos²(theta/2), s² = sin²(theta/2) (complex values allowed).

        alpha omega_d - I_s/S with the coefficients folded together (fewer operations per angle):
        k0 + k_s s² + k_c c² + sum_sigma (i_sigma/S) V_d^sigma.
        """
        return folded_kappa(self._folded(), self.g_up, self.g_down, c2, s2)

    def _folded(self) -> dict[str, FloatArray]:
        """Coefficients of :meth:`__call__`, computed once per instance."""
        folded = self.__dict__.get("_folded_cache")
        if folded is None:
            up, down = self.i_up / self.spin, self.i_down / self.spin
            folded = {"k0": self.omega_d * self.alpha0 - self.i0 / self.spin,
                      "k_s": self.omega_d * self.a_s, "k_c": self.omega_d * self.a_c,
                      "n_up": up * self.m_up, "n_down": up * self.m_down,
                      "p_up": up * self.pump, "d_down": down * self.m_down,
                      "d_up": down * self.m_up, "p_down": down * self.pump}
            object.__setattr__(self, "_folded_cache", folded)
        return folded

    @staticmethod
    def half_angles(theta: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(cos²(theta/2), sin²(theta/2)); accepts complex ``theta``."""
        return half_angles(theta)

    def at_theta(self, theta: ArrayLike) -> FloatArray:
        """kappa(theta) [E0]; accepts complex ``theta`` (complex-step derivatives)."""
        return self(*self.half_angles(theta))

    def derivative(self, theta: ArrayLike) -> FloatArray:
        """d kappa / d theta [E0/rad] by complex step (exact to round-off)."""
        return complex_step(self.at_theta, theta)


def folded_kappa(k: dict[str, FloatArray], g_up: ArrayLike, g_down: ArrayLike, c2: ArrayLike,
                 s2: ArrayLike) -> FloatArray:
    """kappa [E0] from the folded coefficients ``k`` of :meth:`LeadKappa._folded` and the sums of
    the tunnel widths G^up, G^down, at c² = cos²(theta/2), s² = sin²(theta/2).

    The operations of :meth:`LeadKappa.__call__` (which calls this), for callers that fold the
    coefficients once and evaluate them on many angles (the steady-state root refinement).
    """
    c2s2 = c2 * s2
    v_up = (c2 * k["n_up"] + s2 * k["n_down"] - k["p_up"] * c2s2) / (c2 * g_up + s2 * g_down)
    v_down = (c2 * k["d_down"] + s2 * k["d_up"] - k["p_down"] * c2s2) / (c2 * g_down
                                                                         + s2 * g_up)
    return k["k0"] + (s2 * k["k_s"] + c2 * k["k_c"]) + (v_up + v_down)


def complex_step(function: Callable[[np.ndarray], np.ndarray], theta: ArrayLike) -> FloatArray:
    """d function / d theta of a real-analytic ``function``, exact to round-off: the imaginary
    part of function(theta + ih)/h for a tiny h (no cancellation, unlike finite differences)."""
    h = 1e-30
    return np.imag(function(np.asarray(theta, dtype=float) + 1j * h)) / h


def kappa_derivative(model: Model, theta: ArrayLike,
                     law: DampingLaw | None = None) -> FloatArray:
    """d kappa / d theta [E0/rad] by complex-step differentiation (exact to round-off)."""
    return complex_step(lambda t: kappa(model, t, law), theta)


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


def jacobian(kap: ArrayLike, dkap: ArrayLike, alpha: ArrayLike, sin_theta: ArrayLike,
             cos_theta: ArrayLike, w: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """tr J [E0] and det J [E0²] of the rotating-frame equations at a fixed point (theory §3).

    From kappa [E0], kappa' = d kappa/d theta [E0/rad], alpha, sin(theta), cos(theta) and
    w = Omega cos(psi)/sin(theta) [E0], which equals b/cos(theta) at a fixed point off the equator
    (the terms with alpha' vanish at a fixed point).
    """
    norm = 1 + np.square(alpha)
    trace = (dkap * sin_theta + 2 * kap * cos_theta - 2 * alpha * w) / norm
    det = (kap * dkap * sin_theta * cos_theta + (kap * cos_theta) ** 2 + np.square(w)) / norm
    return trace, det


def stationarity_residual(model: Model, theta: ArrayLike, psi: ArrayLike,
                          law: DampingLaw | None = None) -> FloatArray:
    """max(|F_theta|, |F_psi|) / (|b| + |kappa| + Omega): zero at a stationary state.

    alpha and I_s are recomputed at ``theta``; the result is dimensionless.
    """
    theta, psi = np.asarray(theta), np.asarray(psi)
    return residual_of(model.B0 + model.omega_d, model.Omega, kappa(model, theta, law), theta,
                       psi)


def _sin_cos(angle: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(sin, cos) of an angle in [-pi, pi] from t = tan(angle/2), to a few ulp.

    np.tan is vectorized (SIMD) where np.sin and np.cos are not: this is several times faster.
    cos = (1 - t)(1 + t)/(1 + t^2) avoids the cancellation of 1 - t^2.
    """
    t = np.tan(np.multiply(angle, 0.5))
    inverse = 1.0 / (1.0 + t * t)
    return 2.0 * t * inverse, (1.0 - t) * (1.0 + t) * inverse


def residual_of(b: ArrayLike, omega: ArrayLike, kap: ArrayLike, theta: ArrayLike,
                psi: ArrayLike) -> FloatArray:
    """The stationarity residual of :func:`stationarity_residual` from b, Omega and kappa(theta).

    Array-level form for solvers that already hold b = B0 + omega_d [E0], Omega [E0] and
    kappa(theta) [E0]: the same operations, hence the same bits, as
    :func:`stationarity_residual`. theta in [0, pi], psi in [-pi, pi] [rad].
    """
    sin_theta, cos_theta = _sin_cos(theta)
    sin_psi, cos_psi = _sin_cos(psi)
    f_theta = omega * sin_psi + kap * sin_theta
    f_psi = omega * cos_theta * cos_psi - b * sin_theta
    scale = np.abs(b) + np.abs(kap) + omega
    residual = np.maximum(np.abs(f_theta), np.abs(f_psi))
    return residual / np.where(scale > 0, scale, 1.0)
