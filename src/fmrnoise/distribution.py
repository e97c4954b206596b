"""Rotating-frame electron distributions as exact step lists (physics.md §4).

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

from .model import FloatArray, Model

SIGMA = np.array([1.0, -1.0])
SPINS = ("up", "down")
LEADS = ("l", "r")
STEPS = ("same", "opposite")


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
        return np.sum(self.weight * self.position, axis=-1)

    @property
    def dot_position(self) -> FloatArray:
        """(..., spin, 4) positions of the dot's steps (l same, l opposite, r same, r opposite)."""
        return self.position.reshape((*self.position.shape[:-2], 4))

    @property
    def dot_weight(self) -> FloatArray:
        """(..., spin, 4) weights of the dot's steps, summing to 1."""
        w = self.lead_weight[..., np.newaxis] * self.weight
        return w.reshape((*w.shape[:-2], 4))

    @property
    def dot_temperature(self) -> FloatArray:
        """(..., spin, 4) temperatures of the dot's steps [E0/k_B]."""
        t = np.repeat(self.temperature[..., np.newaxis, :], 2, axis=-1)
        return np.broadcast_to(t, self.dot_position.shape)

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
        Positions in the north-pole gauge (physics.md §7.3).
    """
    theta = np.asarray(theta)
    half = theta[..., np.newaxis] / 2
    c2, s2 = np.cos(half) ** 2, np.sin(half) ** 2  # (..., 1): broadcast over lead
    phidot = np.asarray(phidot)[..., np.newaxis, np.newaxis]
    omega_minus = phidot * s2[..., np.newaxis]  # phidot (1 - cos theta) / 2
    omega_plus = phidot * c2[..., np.newaxis]  # phidot (1 + cos theta) / 2

    sigma = SIGMA[:, np.newaxis]  # (spin, 1): broadcast over lead
    mu = model.mu[..., np.newaxis, :]  # (..., 1, lead)
    same_pos = mu - sigma * omega_minus
    opp_pos = mu + sigma * omega_plus

    gamma = model.gamma  # (..., lead, lead spin)
    gamma_same = np.swapaxes(gamma, -1, -2)  # (..., spin, lead): Gamma_x^sigma
    gamma_opp = gamma_same[..., ::-1, :]  # Gamma_x^-sigma
    same_w = c2[..., np.newaxis] * gamma_same
    opp_w = s2[..., np.newaxis] * gamma_opp
    gamma_eff = same_w + opp_w

    position = np.stack(np.broadcast_arrays(same_pos, opp_pos), axis=-1)
    weight = np.stack(np.broadcast_arrays(same_w, opp_w), axis=-1) / gamma_eff[..., np.newaxis]
    lead_weight = gamma_eff / np.sum(gamma_eff, axis=-1, keepdims=True)
    temperature = model.temperatures
    batch = np.broadcast_shapes(position.shape[:-3], temperature.shape[:-1])
    return Steps(position=np.broadcast_to(position, (*batch, 2, 2, 2)),
                 weight=np.broadcast_to(weight, (*batch, 2, 2, 2)),
                 lead_weight=np.broadcast_to(lead_weight, (*batch, 2, 2)),
                 gamma_eff=np.broadcast_to(gamma_eff, (*batch, 2, 2)),
                 temperature=np.broadcast_to(temperature, (*batch, 2)))
