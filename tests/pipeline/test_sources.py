"""What a stage's values depend on: its sources (import closure) and its parameters.

The cache keys and the rules' inputs rest on two facts that these tests check against the code
itself: the files of a stage's import closure (``fmrnoise.pipeline.sources``) and the parameters
the stage receives (``fmrnoise.pipeline.contract.stage_parameters``). A stage must give
bit-identical chunks whatever the parameters it does not receive, and different chunks when
any parameter it receives changes.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from fmrnoise.physics.model import Model
from fmrnoise.pipeline.contract import NUMERIC_PARAMETERS, STAGES, stage_parameters
from fmrnoise.pipeline.sources import (
    ROOT,
    closure,
    code_hash,
    figure_sources,
    imported_modules,
    stage_sources,
)

#: Both leads magnetic, a bias and a thermal bias: every parameter can act on something.
BASE = {"B0": 1.0, "Omega": 0.03, "alpha0": 0.04, "total_spin": 30.0, "T": 0.05,
        "T_r": 0.08, "mu_l": 0.2, "mu_r": -0.1, "rho_up": 1.4, "rho_down": 0.6,
        "gamma_l_up": 0.8, "gamma_l_down": 0.3, "gamma_r_up": 0.35, "gamma_r_down": 0.6}
OMEGA_D = np.array([-1.2, -1.05, -0.98, -0.7])


def chunk(stage: str, lead_damping: bool, **changes: float) -> dict[str, np.ndarray]:
    """A stage's arrays on a small chunk, all parameters given (the steady state upstream)."""
    model = Model(**{**BASE, **changes}, lead_damping=lead_damping, omega_d=OMEGA_D)
    compute = {name: importlib.import_module(f"fmrnoise.pipeline.stages.{name}").compute
               for name in ("steady_state", stage)}
    upstream = compute["steady_state"](model, {}, 4, {})
    return compute[stage](model, upstream, 4, {"quadrature": False})


def changed(name: str) -> float:
    return BASE[name] * 1.37 + 0.011


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("lead_damping", [False, True])
@pytest.mark.parametrize("stage", STAGES)
def test_chunks_depend_exactly_on_the_stage_parameters(stage, lead_damping):
    used = stage_parameters(stage, lead_damping)
    reference = chunk(stage, lead_damping)
    others = {name: changed(name) for name in BASE if name not in used}
    assert identical(chunk(stage, lead_damping, **others), reference), sorted(others)
    for name in used:
        if name == "omega_d":
            continue  # an axis of the chunk here
        assert not identical(chunk(stage, lead_damping, **{name: changed(name)}),
                             reference), name
    assert set(used) <= set(NUMERIC_PARAMETERS)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_sources_are_its_module_and_what_it_imports(stage):
    files = stage_sources(stage)
    names = {str(path.relative_to(ROOT)) for path in files}
    assert f"pipeline/stages/{stage}.py" in names
    assert "physics/model.py" in names
    assert not any(name.endswith("__init__.py") for name in names)  # re-exports only
    assert "pipeline/contract.py" not in names  # its tables reach a stage through its spec
    assert not any(name.startswith(("plots/", "pipeline/runner")) for name in names)
    assert {name for name in names if name.startswith("pipeline/stages/")} == {
        f"pipeline/stages/{stage}.py"}
    for path in files:  # closed under imports
        module = "fmrnoise." + str(path.relative_to(ROOT).with_suffix("")).replace("/", ".")
        for imported in imported_modules(module):
            target = closure(imported)
            assert set(target) <= set(files) or imported.endswith(("contract", "fmrnoise"))


def test_closures_follow_imports_inside_functions_too():
    # plan.main imports the configuration layer only when it runs
    assert "fmrnoise.pipeline.config" in imported_modules("fmrnoise.pipeline.plan")
    assert all("dynamics" not in str(path) for stage in STAGES for path in stage_sources(stage))


def test_noise_sources_differ_from_steady_state_sources():
    assert (ROOT / "physics" / "kernels.py") in stage_sources("noise")
    assert (ROOT / "physics" / "kernels.py") not in stage_sources("steady_state")
    assert code_hash(stage_sources("noise")) != code_hash(stage_sources("steady_state"))


def test_a_figure_depends_on_its_own_module_and_the_style():
    names = {str(p.relative_to(ROOT)) for p in figure_sources("fmr_line")}
    assert {"plots/fmr_line.py", "plots/style.py"} <= names
    assert not any(name.startswith("plots/") and name not in ("plots/fmr_line.py",
                                                              "plots/style.py")
                   for name in names)


def test_a_new_variable_of_one_stage_changes_no_other_stage(monkeypatch):
    """What the noise stage stores reaches its rule and its chunk keys through its spec alone:
    the other stages' specs, sources and so their cached chunks stay as they were."""
    from fmrnoise.pipeline import contract
    from fmrnoise.pipeline.config import validate
    from fmrnoise.pipeline.plan import stage_spec

    config = validate({"studies": {"s": {"axes": {"T": {"values": [0.1, 0.2]}}}}})
    before = {stage: (stage_spec(config, "s", stage), stage_sources(stage)) for stage in STAGES}
    extra = contract.Variable(("branch",), "float64", "1", "a new noise variable")
    monkeypatch.setitem(contract.VARIABLES, "noise", {**contract.VARIABLES["noise"],
                                                      "new": extra})
    after = {stage: (stage_spec(config, "s", stage), stage_sources(stage)) for stage in STAGES}
    assert "new" in after["noise"][0]["variables"]
    for stage in STAGES[:-1]:
        assert after[stage] == before[stage], stage
