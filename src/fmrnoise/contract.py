"""The data contract of the pipeline (design.md §3): stages, their parameters and variables."""

from __future__ import annotations

from dataclasses import dataclass, fields

from .model import Model

STAGES = ("steady_state", "distribution", "dot_voltage", "noise")

#: Parameters the leads contribute to the steady state when ``lead_damping`` is on.
LEAD_PARAMETERS = ("total_spin", "mu_l", "mu_r", "rho_up", "rho_down", "gamma_l_up",
                   "gamma_l_down", "gamma_r_up", "gamma_r_down")
#: Model parameters in their canonical order, and those that may be axes (all but the switch).
PARAMETERS = tuple(f.name for f in fields(Model))
NUMERIC_PARAMETERS = tuple(p for p in PARAMETERS if p != "lead_damping")
_GAMMAS = ("gamma_l_up", "gamma_l_down", "gamma_r_up", "gamma_r_down")


def stage_parameters(stage: str, lead_damping: bool) -> tuple[str, ...]:
    """Numeric model parameters that the values of ``stage`` depend on, in canonical order."""
    steady = {"B0", "Omega", "omega_d", "alpha0"}
    if lead_damping:
        steady |= set(LEAD_PARAMETERS)
    needed = {
        "steady_state": steady,
        "distribution": steady | {"mu_l", "mu_r", *_GAMMAS},
        "dot_voltage": steady | {"mu_l", "mu_r", "rho_up", "rho_down", *_GAMMAS},
        "noise": set(NUMERIC_PARAMETERS),
    }[stage]
    return tuple(p for p in NUMERIC_PARAMETERS if p in needed)


#: fmrnoise modules whose code determines a stage's values (they enter the chunk cache key).
PHYSICS_MODULES = {
    "steady_state": ("model", "distribution", "transport", "llg", "steady_state", "stages"),
    "distribution": ("model", "distribution", "stages"),
    "dot_voltage": ("model", "distribution", "transport", "llg", "stages"),
    "noise": ("model", "distribution", "transport", "kernels", "noise", "stages"),
}
#: Modules that move chunks around: a change reruns the stage but reuses cached chunks.
PIPELINE_MODULES = ("contract", "grid", "cache", "store", "runner", "logs")

UNITS = {
    "B0": "E0", "Omega": "E0", "omega_d": "E0", "alpha0": "1", "total_spin": "hbar",
    "T": "E0/k_B", "T_r": "E0/k_B", "mu_l": "E0", "mu_r": "E0", "rho_up": "1/E0",
    "rho_down": "1/E0", "gamma_l_up": "E0", "gamma_l_down": "E0", "gamma_r_up": "E0",
    "gamma_r_down": "E0",
}
LONG_NAMES = {
    "B0": "static field B0 (Larmor frequency)", "Omega": "drive amplitude Ω",
    "omega_d": "drive frequency ω_d", "alpha0": "intrinsic Gilbert damping α₀",
    "total_spin": "total spin S", "T": "temperature T (left lead)",
    "T_r": "temperature T_r (right lead)", "mu_l": "left-lead potential μ_l",
    "mu_r": "right-lead potential μ_r", "rho_up": "dot density of states ρ↑",
    "rho_down": "dot density of states ρ↓", "gamma_l_up": "left tunnel width Γ_l↑",
    "gamma_l_down": "left tunnel width Γ_l↓", "gamma_r_up": "right tunnel width Γ_r↑",
    "gamma_r_down": "right tunnel width Γ_r↓",
}

#: Extra dimensions after the grid axes, with their coordinate labels (None: integer slots).
EXTRA_DIMS = {"branch": None, "spin": ["up", "down"], "lead": ["l", "r"],
              "step": ["same", "opposite"]}


@dataclass(frozen=True)
class Variable:
    """One stored variable: extra dimensions after the axes, dtype, units and long name."""

    dims: tuple[str, ...]
    dtype: str
    units: str
    long_name: str
    attrs: tuple[tuple[str, object], ...] = ()


def _f(dims: str, units: str, long_name: str) -> Variable:
    return Variable(tuple(dims.split()), "float64", units, long_name)


_STATUS_ATTRS = (("flag_masks", [1, 2, 4]),
                 ("flag_meanings", "no_stable_state truncated_states residual_above_tolerance"))

VARIABLES: dict[str, dict[str, Variable]] = {
    "steady_state": {
        "theta": _f("branch", "rad", "polar angle θ of the stationary state"),
        "psi": _f("branch", "rad", "lag ψ of the magnetization behind the drive field"),
        "trace": _f("branch", "E0", "trace of the rotating-frame Jacobian"),
        "det": _f("branch", "E0^2", "determinant of the rotating-frame Jacobian"),
        "alpha": _f("branch", "1", "Gilbert damping α(θ) acting on the magnet"),
        "spin_current": _f("branch", "E0", "spin-transfer torque current I_s(θ) acting"),
        "stability": Variable(("branch",), "int8", "1", "stability of the state",
                              (("flag_values", [-1, 0, 1, 2, 3]),
                               ("flag_meanings", "empty stable unstable saddle marginal"))),
        "n_states": Variable((), "int8", "1", "number of stationary states"),
        "n_stable": Variable((), "int8", "1", "number of stable stationary states"),
        "status": Variable((), "int8", "1", "status flags of the grid point", _STATUS_ATTRS),
    },
    "distribution": {
        "step_position": _f("branch spin lead step", "E0",
                            "position of a Fermi step of F_x^σ (rotating frame)"),
        "step_weight": _f("branch spin lead step", "1", "weight of a step within its lead"),
        "lead_weight": _f("branch spin lead", "1", "weight Γ_x,eff/Γ_Σ of a lead in F_d^σ"),
    },
    "dot_voltage": {
        "V_d_spin": _f("branch spin", "E0", "spin-resolved dot potential V_d^σ"),
        "V_d": _f("branch", "E0", "charge-neutral dot voltage V_d"),
        "current": _f("branch", "e E0/hbar", "particle current left → dot → right"),
        "kirchhoff_residual": _f("branch", "e E0/hbar", "Kirchhoff residual I_l − I_r"),
        "spin_current": _f("branch", "E0", "spin-transfer torque current I_s(θ)"),
        "stationarity_residual": _f("branch", "1", "relative residual of the stationary LLG"),
    },
    "noise": {
        "S": _f("branch", "e^2 E0/hbar", "zero-frequency current noise S (left junction)"),
        "S_r": _f("branch", "e^2 E0/hbar", "zero-frequency current noise S_r (right junction)"),
        "S_eq": _f("branch", "e^2 E0/hbar", "equilibrium reference noise 4GT̄"),
        "excess_noise": _f("branch", "e^2 E0/hbar", "excess noise S − S_eq"),
        "noise_temperature": _f("branch", "E0/k_B", "noise temperature S/4G"),
        "conductance": _f("branch", "e^2/hbar", "conductance G(θ)"),
    },
}
QUADRATURE_VARIABLES = {
    "S_quadrature": _f("branch", "e^2 E0/hbar", "current noise S by numerical quadrature"),
    "quadrature_error": _f("branch", "e^2 E0/hbar", "error estimate of S_quadrature"),
}


def stage_variables(stage: str, quadrature: bool = False) -> dict[str, Variable]:
    """Variables stored by ``stage`` (the noise stage adds quadrature ones on request)."""
    if stage == "noise" and quadrature:
        return VARIABLES[stage] | QUADRATURE_VARIABLES
    return VARIABLES[stage]


NOISE_CONVENTION = (
    "Blanter-Buttiker: S = ∫dt <{δI(t), δI(0)}>, equilibrium 4GT; integral prefactor "
    "rho^σ Γ_l Γ_r / Γ_Σ, i.e. the talk's closed form divided by 2 (physics.md §7.1)")
GAUGE = ("north pole: same-spin steps at μ_x − σω₋, opposite-spin steps at μ_x + σω₊ "
         "(physics.md §7.3)")
