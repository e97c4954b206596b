"""Model parameters of the driven magnet (docs/theory.md §2).

All energies, frequencies, potentials and temperatures are in one energy unit E0 of the user's
choosing (hbar = k_B = e = 1); B0 = 1 by default, so that E0 = gamma*B0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

Bound = Literal["real", "non_negative", "positive", "switch"]


@dataclass(frozen=True)
class Parameter:
    """What the code knows about a model parameter: the single definition of each fact.

    Attributes
    ----------
    name : field name of :class:`Model` (and key of the configuration).
    default : default value.
    bound : "real" (any finite number), "non_negative" (>= 0), "positive" (> 0) or "switch"
        (a bool, never an axis).
    units : units of a numeric value (E0 the energy unit; "1" dimensionless).
    long_name : description with its symbol, for stores and plots.
    nullable : None is allowed (T_r: the right lead takes T).
    """

    name: str
    default: float | bool | None
    bound: Bound
    units: str
    long_name: str
    nullable: bool = False

    @property
    def numeric(self) -> bool:
        """True for a number (a possible grid axis), False for the switch."""
        return self.bound != "switch"

    def violation(self, value: float) -> str | None:
        """Why ``value`` is out of range for this parameter (None: it is fine)."""
        if self.bound == "positive" and not value > 0:
            return "must be > 0"
        if self.bound == "non_negative" and not value >= 0:
            return "must be >= 0"
        return None


def _meta(bound: Bound, units: str, long_name: str, nullable: bool = False) -> dict[str, Any]:
    """Metadata of a :class:`Model` field: its :class:`Parameter` but name and default."""
    return {"bound": bound, "units": units, "long_name": long_name, "nullable": nullable}


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

    B0: ArrayLike = field(default=1.0, metadata=_meta(
        "real", "E0", "static field B0 (Larmor frequency)"))
    Omega: ArrayLike = field(default=0.02, metadata=_meta(
        "non_negative", "E0", "drive amplitude Ω"))
    omega_d: ArrayLike = field(default=-1.0, metadata=_meta(
        "real", "E0", "drive frequency ω_d"))
    alpha0: ArrayLike = field(default=0.05, metadata=_meta(
        "non_negative", "1", "intrinsic Gilbert damping α₀"))
    total_spin: ArrayLike = field(default=100.0, metadata=_meta(
        "positive", "hbar", "total spin S_tot of the magnet"))
    lead_damping: bool = field(default=False, metadata=_meta(
        "switch", "1", "leads add damping α(θ) and the spin torque acts"))
    T: ArrayLike = field(default=0.1, metadata=_meta(
        "non_negative", "E0/k_B", "temperature T (left lead)"))
    T_r: ArrayLike | None = field(default=None, metadata=_meta(
        "non_negative", "E0/k_B", "temperature T_r (right lead)", nullable=True))
    mu_l: ArrayLike = field(default=0.0, metadata=_meta(
        "real", "E0", "left-lead potential μ_l"))
    mu_r: ArrayLike = field(default=0.0, metadata=_meta(
        "real", "E0", "right-lead potential μ_r"))
    rho_up: ArrayLike = field(default=1.5, metadata=_meta(
        "positive", "1/E0", "dot density of states ρ↑"))
    rho_down: ArrayLike = field(default=0.5, metadata=_meta(
        "positive", "1/E0", "dot density of states ρ↓"))
    gamma_l_up: ArrayLike = field(default=0.3, metadata=_meta(
        "positive", "E0", "left tunnel width Γ_l↑"))
    gamma_l_down: ArrayLike = field(default=0.3, metadata=_meta(
        "positive", "E0", "left tunnel width Γ_l↓"))
    gamma_r_up: ArrayLike = field(default=0.5, metadata=_meta(
        "positive", "E0", "right tunnel width Γ_r↑"))
    gamma_r_down: ArrayLike = field(default=0.5, metadata=_meta(
        "positive", "E0", "right tunnel width Γ_r↓"))

    def __post_init__(self) -> None:
        for parameter in PARAMETERS.values():
            name, value = parameter.name, getattr(self, parameter.name)
            if not parameter.numeric:
                if not isinstance(value, bool | np.bool_):
                    raise TypeError(f"{name}: expected a bool, got {value!r}")
                object.__setattr__(self, name, bool(value))
                continue
            if value is None and parameter.nullable:
                continue
            array = numbers(name, value)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name}: must be finite, got {value!r}")
            reason = parameter.violation(float(np.min(array))) if array.size else None
            if reason:
                raise ValueError(f"{name}: {reason}, got {value!r}")
            object.__setattr__(self, name, array)

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


def numbers(name: str, value: object, complex_ok: bool = False) -> FloatArray:
    """``value`` as a float array (complex where ``complex_ok``).

    Raises ``TypeError`` naming ``name`` for a string, a bool, None or a non-numeric array: no
    input is converted from text.
    """
    array = np.asarray(value)
    if array.dtype.kind not in ("iufc" if complex_ok else "iuf") or isinstance(
            value, bool | np.bool_):
        raise TypeError(f"{name}: expected a number or an array of numbers, got {value!r}")
    return array if array.dtype.kind == "c" else array.astype(float, copy=False)


#: Every model parameter, by name, in the order of the :class:`Model` fields.
PARAMETERS: dict[str, Parameter] = {
    f.name: Parameter(f.name, f.default, **f.metadata) for f in fields(Model)}
