"""Model parameters: one definition each (name, default, bound, units), checked inputs."""

from __future__ import annotations

import numpy as np
import pytest

import fmrnoise as fn
from fmrnoise import Model
from fmrnoise.physics.model import PARAMETERS


def test_every_field_has_its_parameter_definition():
    model = Model()
    assert list(PARAMETERS) == list(model.to_dict())
    for name, parameter in PARAMETERS.items():
        assert parameter.name == name and parameter.units and parameter.long_name
        value = getattr(model, name)
        assert (value is None if parameter.default is None else value == parameter.default)


@pytest.mark.parametrize(("name", "value"), [("omega_d", "-1"), ("T", "0.1"), ("B0", b"1"),
                                              ("mu_l", ["0.1", "0.2"]), ("Omega", True),
                                              ("gamma_l_up", np.array(["a"])),
                                              ("rho_up", {"a": 1})])
def test_a_string_or_other_non_number_is_refused_naming_the_parameter(name, value):
    with pytest.raises(TypeError, match=rf"^{name}: expected a number"):
        Model(**{name: value})


@pytest.mark.parametrize("function", [fn.noise, fn.cumulants, fn.hot_electrons, fn.steps,
                                      fn.dot_voltage])
@pytest.mark.parametrize(("theta", "phidot", "name"), [("0.4", -1.0, "theta"),
                                                       (0.4, "-1", "phidot"),
                                                       (None, -1.0, "theta"),
                                                       ([0.4, "0.5"], -1.0, "theta")])
def test_the_state_functions_refuse_a_non_number_naming_it(function, theta, phidot, name):
    with pytest.raises(TypeError, match=rf"^{name}: expected a number"):
        function(Model(), theta, phidot)


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("T", -0.1, "must be >= 0"), ("Omega", [0.1, -1e-9], "must be >= 0"),
    ("total_spin", 0.0, "must be > 0"), ("gamma_r_down", -1, "must be > 0"),
    ("B0", np.nan, "must be finite"), ("mu_r", [0.0, np.inf], "must be finite")])
def test_out_of_range_values_are_refused_naming_the_parameter(name, value, reason):
    with pytest.raises(ValueError, match=rf"^{name}: {reason}"):
        Model(**{name: value})


def test_integers_and_arrays_become_float_arrays_and_the_switch_a_bool():
    model = Model(omega_d=[-1, 0, 1], lead_damping=np.bool_(True), T_r=None)
    assert model.omega_d.dtype == np.float64 and model.lead_damping is True
    assert model.T_r is None and model.T_right is model.T
    with pytest.raises(TypeError, match=r"^lead_damping: expected a bool"):
        Model(lead_damping=1)
