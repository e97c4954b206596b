"""The data contract of the pipeline (docs/contract.md): stages, their parameters and variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum

from ..physics.codes import Kind, Stability, Status, SweepStatus
from ..physics.model import PARAMETERS as MODEL_PARAMETERS

STAGES = ("steady_state", "distribution", "dot_voltage", "noise")

#: Parameters the leads contribute to the steady state when ``lead_damping`` is on.
LEAD_PARAMETERS = ("total_spin", "mu_l", "mu_r", "rho_up", "rho_down", "gamma_l_up",
                   "gamma_l_down", "gamma_r_up", "gamma_r_down")
#: Model parameters in their canonical order, and those that may be axes (all but the switch).
PARAMETERS = tuple(MODEL_PARAMETERS)
NUMERIC_PARAMETERS = tuple(name for name, p in MODEL_PARAMETERS.items() if p.numeric)
_GAMMAS = ("gamma_l_up", "gamma_l_down", "gamma_r_up", "gamma_r_down")


def stage_parameters(stage: str, lead_damping: bool) -> tuple[str, ...]:
    """Numeric model parameters that the values of ``stage`` depend on, in canonical order.

    These are the axes its store spans and the parameters its rule receives: a stage never
    reruns for a parameter it does not depend on (tests/pipeline/test_sources.py checks the
    table against the code). The total spin acts only through lead damping.
    """
    steady = {"B0", "Omega", "omega_d", "alpha0"}
    if lead_damping:
        steady |= set(LEAD_PARAMETERS)
    transport = steady | {"mu_l", "mu_r", "rho_up", "rho_down", *_GAMMAS}
    needed = {
        "steady_state": steady,
        "distribution": steady | {"mu_l", "mu_r", *_GAMMAS},
        "dot_voltage": transport,
        "noise": transport | {"T", "T_r"},
        "boundaries": steady,
        "sweep": transport | {"T", "T_r"},
    }[stage]
    return tuple(p for p in NUMERIC_PARAMETERS if p in needed)


UNITS = {name: MODEL_PARAMETERS[name].units for name in NUMERIC_PARAMETERS}
LONG_NAMES = {name: MODEL_PARAMETERS[name].long_name for name in NUMERIC_PARAMETERS}

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

    def to_dict(self) -> dict:
        """Plain Python form (for a stage's specification, the rule's ``params``)."""
        return {**asdict(self), "dims": list(self.dims), "attrs": dict(self.attrs)}

    @classmethod
    def from_dict(cls, data: dict) -> Variable:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(data["dims"]), data["dtype"], data["units"], data["long_name"],
                   tuple(data["attrs"].items()))


def _f(dims: str, units: str, long_name: str) -> Variable:
    return Variable(tuple(dims.split()), "float64", units, long_name)


def flag_attributes(flags: type[Enum], key: str) -> tuple[tuple[str, object], ...]:
    """CF flag attributes of an enumeration: ``key`` (flag_values or flag_masks) and the
    meanings, its members' names in lower case."""
    return ((key, [int(member) for member in flags]),
            ("flag_meanings", " ".join(member.name.lower() for member in flags)))


VARIABLES: dict[str, dict[str, Variable]] = {
    "steady_state": {
        "theta": _f("branch", "rad", "polar angle θ of the stationary state"),
        "psi": _f("branch", "rad", "lag ψ of the magnetization behind the drive field"),
        "trace": _f("branch", "E0", "trace of the rotating-frame Jacobian"),
        "det": _f("branch", "E0^2", "determinant of the rotating-frame Jacobian"),
        "alpha": _f("branch", "1", "Gilbert damping α(θ) acting on the magnet"),
        "spin_current": _f("branch", "E0", "spin-transfer torque current I_s(θ) acting"),
        "stability": Variable(("branch",), "int8", "1", "stability of the state",
                              flag_attributes(Stability, "flag_values")),
        "n_states": Variable((), "int8", "1", "number of stationary states"),
        "n_stable": Variable((), "int8", "1", "number of stable stationary states"),
        "status": Variable((), "int8", "1", "status flags of the grid point",
                           flag_attributes(Status, "flag_masks")),
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
        "C3": _f("branch", "e^3 E0/hbar",
                 "third cumulant C3 of the transferred charge (left junction)"),
    },
}
QUADRATURE_VARIABLES = {
    "S_quadrature": _f("branch", "e^2 E0/hbar", "current noise S by numerical quadrature"),
    "quadrature_error": _f("branch", "e^2 E0/hbar", "error estimate of S_quadrature"),
    "C3_quadrature": _f("branch", "e^3 E0/hbar", "third cumulant C3 by numerical quadrature"),
    "C3_quadrature_error": _f("branch", "e^3 E0/hbar", "error estimate of C3_quadrature"),
}


HOT_ELECTRON_VARIABLES = {
    "T_dot": _f("branch", "E0/k_B", "dot temperature T_d, hot-electron limit"),
    "S_hot": _f("branch", "e^2 E0/hbar", "current noise S with energy relaxation on the dot"),
    "excess_noise_hot": _f("branch", "e^2 E0/hbar", "excess noise S_hot − S_eq"),
}

#: Study options (booleans of a study, false by default) and the stages that read them.
STAGE_OPTIONS: dict[str, tuple[str, ...]] = {"noise": ("quadrature", "dot_relaxation")}
STUDY_OPTIONS = tuple(dict.fromkeys(o for options in STAGE_OPTIONS.values() for o in options))
#: Variables an option adds to a stage's store.
OPTION_VARIABLES = {("noise", "quadrature"): QUADRATURE_VARIABLES,
                    ("noise", "dot_relaxation"): HOT_ELECTRON_VARIABLES}


def stage_variables(stage: str, options: Mapping[str, bool] | None = None
                    ) -> dict[str, Variable]:
    """Variables stored by ``stage`` with the given options (e.g. ``{"quadrature": True}``)."""
    variables = dict(VARIABLES[stage])
    for option, on in (options or {}).items():
        if on:
            variables |= OPTION_VARIABLES.get((stage, option), {})
    return variables


#: Stages that read the steady state along whole grid lines: their stores are not gridded
#: like the others (a list of points; lines of a sweep). ``boundaries`` runs for every study
#: with a steady-state axis, ``sweep`` for a study with ``sweep: {axis: ...}``.
LINE_STAGES = ("boundaries", "sweep")

#: The boundaries store: one entry per bifurcation point (dimension ``point``); besides these,
#: one float64 variable per steady-state axis holds the point's coordinates.
BOUNDARY_VARIABLES = {
    "kind": Variable(("point",), "int8", "1", "kind of bifurcation",
                     flag_attributes(Kind, "flag_values")),
    "theta": _f("point", "rad", "polar angle θ of the state at the bifurcation"),
    "psi": _f("point", "rad", "lag ψ of the state at the bifurcation"),
    "refined_axis": Variable(("point",), "str", "1",
                             "the axis along which the point was refined"),
}
#: The sweep store: dimensions (other axes..., direction, swept axis).
SWEEP_VARIABLES = {
    "theta": _f("direction", "rad", "polar angle θ of the state the magnet is in"),
    "psi": _f("direction", "rad", "lag ψ of the state the magnet is in"),
    "S": _f("direction", "e^2 E0/hbar", "zero-frequency current noise S"),
    "S_eq": _f("direction", "e^2 E0/hbar", "equilibrium reference noise 4GT̄"),
    "current": _f("direction", "e E0/hbar", "particle current left → dot → right"),
    "status": Variable(("direction",), "int8", "1", "status flags of the sweep point",
                       flag_attributes(SweepStatus, "flag_masks")),
    "jumped": Variable(("direction",), "bool", "1",
                       "the magnet left the fixed point it was on (a jump)"),
}

LINE_VARIABLES = {"boundaries": BOUNDARY_VARIABLES, "sweep": SWEEP_VARIABLES}


NOISE_CONVENTION = (
    "Blanter-Buttiker: S = ∫dt <{δI(t), δI(0)}>, equilibrium 4GT; integral prefactor "
    "rho^σ Γ_l Γ_r / Γ_Σ, i.e. the talk's closed form divided by 2 (docs/theory.md §7.1)")
GAUGE = ("north pole: same-spin steps at μ_x − σω₋, opposite-spin steps at μ_x + σω₊ "
         "(docs/theory.md §7.3)")
