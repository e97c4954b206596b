"""Rotating-frame electron distributions as exact step lists (docs/theory.md §4).

A lead x seen by dot spin sigma has two Fermi steps, at ``mu_x - sigma*omega_minus`` (same spin,
weight ``cos^2(theta/2) Gamma_x^sigma``) and ``mu_x + sigma*omega_plus`` (opposite spin, weight
``sin^2(theta/2) Gamma_x^-sigma``), each at the temperature of its lead. The dot, with no energy
relaxation, mixes the two leads with weights ``Gamma_x,eff / Gamma_Sigma``. Arrays carry trailing
axes ``(spin, lead, step)`` with spin = (up, down) = sigma (+1, -1), lead = (l, r) and
step = (same, opposite).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .model import FloatArray, Model, numbers


@dataclass(frozen=True)
class Steps:
    """Step lists of the lead and dot distributions F = 1 - 2n, per dot spin.

    Attributes
    ----------
    position : (..., spin, lead, step) step positions (chemical potentials) [E0].
    weight : (..., spin, lead, step) step weights within a lead, summing to 1 over ``step``.
    lead_weight : (..., spin, lead) weight of each lead in the dot distribution,
        Gamma_x,eff / Gamma_Sigma, summing to 1 over ``lead``.
    gamma_eff : (..., spin, lead) effective tunnel width Gamma_x,eff^sigma [E0].
    temperature : (..., lead) temperature of each lead's steps [E0/k_B].
    """

    position: FloatArray
    weight: FloatArray
    lead_weight: FloatArray
    gamma_eff: FloatArray
    temperature: FloatArray

    @property
    def mean_lead(self) -> FloatArray:
        """(..., spin, lead) mean step position of F_x^sigma [E0]."""
        return (self.weight[..., 0] * self.position[..., 0]
                + self.weight[..., 1] * self.position[..., 1])

    @property
    def dot_position(self) -> FloatArray:
        """(..., spin, 4) positions of the dot's steps (l same, l opposite, r same, r opposite)."""
        return self.position.reshape((*self.position.shape[:-2], 4))

    @property
    def dot_weight(self) -> FloatArray:
        """(..., spin, 4) weights of the dot's steps, summing to 1."""
        w = self.lead_weight[..., np.newaxis] * self.weight
        return w.reshape((*w.shape[:-2], 4))

    def sample(self, energy: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Sample the distributions F = tanh((eps - position)/2T) on an energy grid (for plots).

        Parameters
        ----------
        energy : (E,) energies [E0].

        Returns
        -------
        lead : (..., spin, lead, E) F_x^sigma(eps).
        dot : (..., spin, E) F_d^sigma(eps).
        """
        eps = np.asarray(energy, dtype=float)
        temp = self.temperature[..., np.newaxis, :, np.newaxis, np.newaxis]
        steps = fermi_step(eps - self.position[..., np.newaxis], temp)
        lead = np.sum(self.weight[..., np.newaxis] * steps, axis=-2)
        dot = np.sum(self.lead_weight[..., np.newaxis] * lead, axis=-2)
        return lead, dot


def half_angles(theta: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(cos²(theta/2), sin²(theta/2)) to full relative precision; accepts complex ``theta``.

    From t = tan(theta/2): 1/(1 + t²) and t²/(1 + t²) (np.tan is vectorized where np.cos and
    np.sin are not, so this is several times faster; both are accurate to ~1 ulp). Complex
    angles (complex-step derivatives) use cos and sin: tan has a pole at theta = pi, where a
    complex step through it would not be a small perturbation.
    """
    theta = np.asarray(theta)
    if np.iscomplexobj(theta):
        half = theta / 2
        return np.cos(half) ** 2, np.sin(half) ** 2
    t = np.tan(theta / 2)
    t2 = t * t
    c2 = 1.0 / (1.0 + t2)
    return c2, t2 * c2


def fermi_step(x: ArrayLike, T: ArrayLike) -> FloatArray:
    """F(x) = tanh(x / 2T) = 1 - 2 n_F(x), with the T = 0 limit sign(x)."""
    x, T = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(T, dtype=float))
    hot = T > 0
    return np.where(hot, np.tanh(x / (2 * np.where(hot, T, 1.0))), np.sign(x))


def steps(model: Model, theta: ArrayLike, phidot: ArrayLike) -> Steps:
    """Step lists of F_l, F_r and F_d for magnetization angle ``theta`` precessing at ``phidot``.

    Parameters
    ----------
    model : model parameters; arrays broadcast against ``theta``.
    theta : polar angle of the magnetization [rad]; may be complex (complex-step derivatives).
    phidot : lab-frame precession rate [E0] (omega_d in a stationary state).

    Returns
    -------
    Steps
        Positions in the north-pole gauge (docs/theory.md §7.3).
    """
    phidot = numbers("phidot", phidot)
    c2, s2 = half_angles(numbers("theta", theta, complex_ok=True))
    omega_minus = phidot * s2  # phidot (1 - cos theta) / 2
    omega_plus = phidot * c2  # phidot (1 + cos theta) / 2
    mu = (np.asarray(model.mu_l), np.asarray(model.mu_r))
    gamma = ((np.asarray(model.gamma_l_up), np.asarray(model.gamma_l_down)),
             (np.asarray(model.gamma_r_up), np.asarray(model.gamma_r_down)))
    temperature = model.temperatures
    batch = np.broadcast_shapes(np.shape(omega_minus), *(np.shape(m) for m in mu),
                                *(np.shape(g) for pair in gamma for g in pair),
                                temperature.shape[:-1])
    dtype = np.result_type(c2, omega_minus, float)
    position = np.empty((*batch, 2, 2, 2), dtype=dtype)  # (..., spin, lead, step)
    weight = np.empty((*batch, 2, 2, 2), dtype=dtype)
    gamma_eff = np.empty((*batch, 2, 2), dtype=dtype)  # (..., spin, lead)
    for spin, sigma in enumerate((1.0, -1.0)):
        for lead in range(2):
            same_w = c2 * gamma[lead][spin]  # c^2 Gamma_x^sigma
            opp_w = s2 * gamma[lead][1 - spin]  # s^2 Gamma_x^-sigma
            eff = same_w + opp_w
            gamma_eff[..., spin, lead] = eff
            weight[..., spin, lead, 0] = same_w / eff
            weight[..., spin, lead, 1] = opp_w / eff
            position[..., spin, lead, 0] = mu[lead] - sigma * omega_minus
            position[..., spin, lead, 1] = mu[lead] + sigma * omega_plus
    total = gamma_eff[..., 0] + gamma_eff[..., 1]
    lead_weight = gamma_eff / total[..., np.newaxis]
    return Steps(position=position, weight=weight, lead_weight=lead_weight,
                 gamma_eff=gamma_eff,
                 temperature=np.broadcast_to(temperature, (*batch, 2)))
