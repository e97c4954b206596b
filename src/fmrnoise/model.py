"""Model parameters of the driven magnet (physics.md §2).

All energies, frequencies, potentials and temperatures are in one energy unit E0 of the user's
choosing (hbar = k_B = e = 1); B0 = 1 by default, so that E0 = gamma*B0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Numeric parameters that must be strictly positive, and those that must be non-negative.
POSITIVE = ("total_spin", "rho_up", "rho_down", "gamma_l_up", "gamma_l_down", "gamma_r_up",
            "gamma_r_down")
NON_NEGATIVE = ("Omega", "alpha0", "T", "T_r")


@dataclass(frozen=True)
class Model:
    """Parameters of the driven magnet between two tunnel-coupled leads.

    Every numeric field is stored as a float array (0-d for a scalar); arrays broadcast against
    each other and against the angles passed to the physics functions, so one ``Model``
    describes a whole grid.

    Parameters
    ----------
    B0 : static field along z (Larmor frequency) [E0].
    Omega : amplitude of the rotating drive field, >= 0 [E0].
    omega_d : signed drive angular frequency [E0]; resonance at omega_d ~ -B0.
    alpha0 : intrinsic Gilbert damping, >= 0 [dimensionless].
    total_spin : total spin S of the magnet, > 0 [hbar].
    lead_damping : if true, the leads add damping alpha(theta) and the spin torque I_s acts.
    T : temperature of the left lead (and of the right lead if ``T_r`` is None) [E0/k_B].
    T_r : temperature of the right lead, or None for ``T`` [E0/k_B].
    mu_l, mu_r : lead electrochemical potentials [E0]; bias V = mu_l - mu_r.
    rho_up, rho_down : dot densities of states for spin along / against m [1/E0].
    gamma_l_up, gamma_l_down, gamma_r_up, gamma_r_down : tunnel widths per lead spin along z [E0].
    """

    B0: ArrayLike = 1.0
    Omega: ArrayLike = 0.02
    omega_d: ArrayLike = -1.0
    alpha0: ArrayLike = 0.05
    total_spin: ArrayLike = 100.0
    lead_damping: bool = False
    T: ArrayLike = 0.1
    T_r: ArrayLike | None = None
    mu_l: ArrayLike = 0.0
    mu_r: ArrayLike = 0.0
    rho_up: ArrayLike = 1.5
    rho_down: ArrayLike = 0.5
    gamma_l_up: ArrayLike = 0.3
    gamma_l_down: ArrayLike = 0.3
    gamma_r_up: ArrayLike = 0.5
    gamma_r_down: ArrayLike = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "lead_damping":
                if not isinstance(value, bool | np.bool_):
                    raise TypeError(f"lead_damping: expected a bool, got {value!r}")
                continue
            if value is None and f.name == "T_r":
                continue
            array = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{f.name}: must be finite, got {value!r}")
            if f.name in POSITIVE and np.any(array <= 0):
                raise ValueError(f"{f.name}: must be > 0, got {value!r}")
            if f.name in NON_NEGATIVE and np.any(array < 0):
                raise ValueError(f"{f.name}: must be >= 0, got {value!r}")
            object.__setattr__(self, f.name, array)

    @property
    def T_right(self) -> ArrayLike:
        """Temperature of the right lead [E0/k_B]."""
        return self.T if self.T_r is None else self.T_r

    @property
    def gamma(self) -> FloatArray:
        """Tunnel widths stacked as ``(..., lead, lead spin)``, lead = (l, r), spin = (up, down)."""
        g = np.broadcast_arrays(self.gamma_l_up, self.gamma_l_down, self.gamma_r_up,
                                self.gamma_r_down)
        return np.stack(g, axis=-1).reshape((*g[0].shape, 2, 2))

    @property
    def rho(self) -> FloatArray:
        """Dot densities of states stacked as ``(..., spin)``, spin = (up, down) [1/E0]."""
        return np.stack(np.broadcast_arrays(self.rho_up, self.rho_down), axis=-1)

    @property
    def mu(self) -> FloatArray:
        """Lead potentials stacked as ``(..., lead)`` [E0]."""
        return np.stack(np.broadcast_arrays(self.mu_l, self.mu_r), axis=-1)

    @property
    def temperatures(self) -> FloatArray:
        """Lead temperatures stacked as ``(..., lead)`` [E0/k_B]."""
        return np.stack(np.broadcast_arrays(self.T, self.T_right), axis=-1)

    @property
    def magnetic_leads(self) -> bool:
        """True where either lead has unequal spin widths anywhere on the grid."""
        return bool(np.any(self.gamma_l_up != self.gamma_l_down)
                    or np.any(self.gamma_r_up != self.gamma_r_down))

    def replace(self, **changes: Any) -> Model:
        """Return a copy with some fields replaced."""
        return dataclasses.replace(self, **changes)

    def map_arrays(self, fn: Callable[[np.ndarray], np.ndarray]) -> Model:
        """Apply ``fn`` to every array-valued field (e.g. to add a trailing branch axis)."""
        return self.replace(**{
            f.name: fn(getattr(self, f.name)) for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        })

    def per_branch(self) -> Model:
        """Add a trailing axis to every array field, to broadcast against ``(..., branch)``."""
        return self.map_arrays(lambda a: a[..., np.newaxis])

    def to_dict(self) -> dict[str, Any]:
        """Parameters as plain Python values (floats, nested lists for arrays)."""
        return {f.name: (v.tolist() if isinstance(v := getattr(self, f.name), np.ndarray) else v)
                for f in fields(self)}
