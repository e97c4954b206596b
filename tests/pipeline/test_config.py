"""Configuration layer: schema, defaults, one-line errors naming the key, study grids, chunks."""

from __future__ import annotations

import copy
import math
import pickle
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from fmrnoise.physics.model import PARAMETERS as MODEL_PARAMETERS
from fmrnoise.physics.model import Model
from fmrnoise.pipeline.config import (
    ConfigError,
    Study,
    combine,
    command_line_values,
    load_schema,
    origin,
    resolve,
    resolve_chunks,
    studies,
    validate,
)
from fmrnoise.pipeline.contract import NUMERIC_PARAMETERS, PARAMETERS

REPO = Path(__file__).resolve().parents[2]
POSITIVE = [n for n, p in MODEL_PARAMETERS.items() if p.bound == "positive"]
NON_NEGATIVE = [n for n, p in MODEL_PARAMETERS.items() if p.bound == "non_negative"]

DEFAULT_CONFIG_YAML = """
model:
  B0: 1.0
  Omega: 0.02
  omega_d: -1.0
  alpha0: 0.05
  total_spin: 100.0
  lead_damping: false
  T: 0.1
  T_r: null
  mu_l: 0.0
  mu_r: 0.0
  rho_up: 1.5
  rho_down: 0.5
  gamma_l_up: 0.3
  gamma_l_down: 0.3
  gamma_r_up: 0.5
  gamma_r_down: 0.5
studies:
  fmr_line:
    model: {Omega: 0.01}
    axes:
      omega_d: {start: -2.0, step: 0.0025, num: 801}
      T: {values: [0.02, 0.1, 0.5]}
    chunks: {omega_d: 200}
    quadrature: false
dask:
  address: null
cache:
  dir: results/.cache
limits:
  max_points: 100000000
  max_states: 4
figures: {fmr_line: {study: fmr_line, zoom: [-0.5, 0.5], T: 0.1}}
"""


def minimal() -> dict[str, Any]:
    return {"studies": {"fmr_line": {"axes": {"omega_d": {"start": -2.0, "step": 0.0025,
                                                          "num": 801}}}}}


def error_of(config: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        validate(config)
    return info.value


# ----------------------------------------------------------------------------------------------
# Schema and defaults


def test_schema_model_matches_model_dataclass():
    schema = load_schema()
    top = schema["properties"]["model"]["properties"]
    study = schema["$defs"]["study"]["properties"]
    assert list(top) == list(PARAMETERS)
    assert list(study["model"]["properties"]) == list(PARAMETERS)
    assert list(study["axes"]["properties"]) == list(NUMERIC_PARAMETERS)
    assert not any("default" in s for s in study["model"]["properties"].values())
    for f in fields(Model):
        assert f.default is not MISSING
        assert top[f.name]["default"] == f.default, f.name


def test_default_config_validates_and_fills_defaults():
    config = yaml.safe_load(DEFAULT_CONFIG_YAML)
    original = copy.deepcopy(config)
    result = validate(config)
    assert config == original  # the input is not modified
    assert result["model"] == Model().to_dict()
    study = result["studies"]["fmr_line"]
    assert study["quadrature"] is False
    assert list(study["axes"]) == ["omega_d", "T"]
    assert study["chunks"] == {"omega_d": 200, "T": 2}
    assert study["model"]["Omega"] == 0.01
    assert "omega_d" not in study["model"] and "T" not in study["model"]
    assert result["figures"] == original["figures"]

    result = validate(minimal())
    assert result["dask"] == {"address": None}
    assert result["cache"] == {"dir": "results/.cache"}
    assert result["limits"] == {"max_points": 100_000_000, "max_states": 4}
    assert result["figures"] == {}
    assert result["model"] == Model().to_dict()
    study = result["studies"]["fmr_line"]
    assert study["quadrature"] is False
    assert study["chunks"] == {"omega_d": 512}
    assert study["model"] == {k: v for k, v in Model().to_dict().items() if k != "omega_d"}


def test_validate_is_idempotent_and_plain():
    result = validate(yaml.safe_load(DEFAULT_CONFIG_YAML))
    assert validate(result) == result
    assert yaml.safe_load(yaml.safe_dump(result)) == result  # plain Python types only


def test_study_without_axes_is_a_single_point():
    (study,) = studies({"studies": {"point": {"model": {"T": 0.2}}}}).values()
    assert study.shape == () and study.chunks == {}
    assert study.model["T"] == 0.2


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    validate(yaml.safe_load(path.read_text()))


def test_readme_documents_every_key():
    readme = (REPO / "config" / "README.md").read_text()
    schema = load_schema()
    keys = set(schema["properties"]) | set(PARAMETERS)
    for section in ("dask", "cache", "limits"):
        keys |= set(schema["properties"][section]["properties"])
    keys |= set(schema["$defs"]["study"]["properties"]) | {"start", "step", "num", "values"}
    for key in sorted(keys):
        assert f"`{key}`" in readme, key
    example = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL).group(1)
    assert studies(yaml.safe_load(example))["fmr_line"].shape == (801, 3)


# ----------------------------------------------------------------------------------------------
# Hand-written invalid configs


def test_yaml11_exponent_string_is_rejected_with_a_fix():
    config = yaml.safe_load("model: {Omega: 3e-05}\n" + yaml.safe_dump(minimal()))
    assert config["model"]["Omega"] == "3e-05"
    assert str(error_of(config)) == ("model.Omega: expected a number, got '3e-05' (a string; "
                                     "YAML 1.1 reads 3e-05 as a string, write 3.0e-05)")


def test_step_zero_message():
    config = minimal()
    config["studies"]["fmr_line"]["axes"]["omega_d"]["step"] = 0
    err = error_of(config)
    assert str(err) == "studies.fmr_line.axes.omega_d.step: must be != 0"
    assert err.path == "studies.fmr_line.axes.omega_d.step" and err.reason == "must be != 0"
    assert isinstance(err, ValueError)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def s(**study: Any) -> dict[str, Any]:
    """A config with one study ``s``."""
    return {"studies": {"s": study}}


T_AXIS = {"T": {"values": [0.1, 0.2]}}

HAND_WRITTEN = [
    (3, "config: expected a mapping"),
    ({}, "studies: required key missing"),
    ({"studies": {}}, "studies: must name at least one study"),
    ({"studies": []}, "studies: expected a mapping, got a list"),
    ({"studies": {"FMR": {}}}, "studies.FMR: bad study name"),
    ({"studies": {"1st": {}}}, "studies.1st: bad study name"),
    ({"studies": {"fmr-line": {}}}, "studies.fmr-line: bad study name"),
    ({"studies": {"s": None}}, "studies.s: expected a mapping, got null"),
    ({**s(), "modle": {}}, "modle: unknown key"),
    ({**s(), "model": {"omega": 1.0}}, "model.omega: unknown key"),
    ({**s(), "model": {"T": -0.1}}, "model.T: must be >= 0, got -0.1"),
    ({**s(), "model": {"Omega": -1}}, "model.Omega: must be >= 0"),
    ({**s(), "model": {"total_spin": 0}}, "model.total_spin: must be > 0, got 0"),
    ({**s(), "model": {"rho_down": -1.0}}, "model.rho_down: must be > 0"),
    ({**s(), "model": {"gamma_r_up": 0.0}}, "model.gamma_r_up: must be > 0"),
    ({**s(), "model": {"T_r": -1.0}}, "model.T_r: must be >= 0"),
    ({**s(), "model": {"lead_damping": "yes"}}, "model.lead_damping: expected true or false"),
    ({**s(), "model": {"B0": True}}, "model.B0: expected a number, got true"),
    ({**s(), "model": {"B0": float("nan")}}, "model.B0: must be finite"),
    ({**s(), "model": {"mu_l": float("inf")}}, "model.mu_l: must be finite"),
    ({**s(), "model": {"mu_l": 10**400}}, "model.mu_l: must be finite"),
    ({**s(), "model": {"T": "0.1"}}, "model.T: expected a number, got '0.1' (a string; write 0.1"),
    (s(model={"alpha0": -0.01}), "studies.s.model.alpha0: must be >= 0"),
    (s(model={"Omega": "2e-2"}), "studies.s.model.Omega: expected a number, got '2e-2'"),
    (s(axis=T_AXIS), "studies.s.axis: unknown key"),
    (s(axes={"temperature": {"values": [1.0]}}), "studies.s.axes.temperature: not a numeric"),
    (s(axes={"lead_damping": {"values": [0.0]}}), "studies.s.axes.lead_damping: a switch"),
    (s(axes=T_AXIS, model={"T": 0.3}), "studies.s.axes.T: also set in studies.s.model"),
    (s(axes={"T": {"values": []}}), "studies.s.axes.T.values: must not be empty"),
    (s(axes={"T": {"values": [0.2, 0.1]}}), "studies.s.axes.T.values[1]: values must be strictly"),
    (s(axes={"T": {"values": [0.1, 0.1]}}), "studies.s.axes.T.values[1]: values must be strictly"),
    (s(axes={"T": {"values": [-0.1, 0.1]}}), "studies.s.axes.T.values[0]: must be >= 0"),
    (s(axes={"rho_up": {"values": [0.0, 0.1]}}), "studies.s.axes.rho_up.values[0]: must be > 0"),
    (s(axes={"T": {"values": [0.1, "1e-1"]}}), "studies.s.axes.T.values[1]: expected a number"),
    (s(axes={"T": {"start": 0.1, "step": 0.1}}), "studies.s.axes.T.num: required key missing"),
    (s(axes={"T": {"start": 0.1, "step": 0.1, "num": 0}}), "studies.s.axes.T.num: must be >= 1"),
    (s(axes={"T": {"start": 0.1, "step": 0.1, "num": 2.5}}),
     "studies.s.axes.T.num: expected an integer, got 2.5"),
    (s(axes={"T": {"start": -0.1, "step": 0.1, "num": 3}}), "studies.s.axes.T.start: must be >= 0"),
    (s(axes={"T": {"start": 0.1, "step": -0.05, "num": 5}}),
     "studies.s.axes.T: must be >= 0 at every point"),
    (s(axes={"T": {"start": 0.1, "step": 0.1, "num": 2, "values": [1.0]}}),
     "studies.s.axes.T: give either {start, step, num} or {values}, not both"),
    (s(axes={"T": {"start": 0.1, "step": 0.1, "num": 2, "stop": 1.0}}),
     "studies.s.axes.T.stop: unknown key"),
    (s(axes={"T": {"value": [1.0]}}), "studies.s.axes.T.value: unknown key"),
    (s(axes={"T": [0.1, 0.2]}), "studies.s.axes.T: expected {start, step, num} or {values}"),
    (s(axes={"T": {}}), "studies.s.axes.T: expected {start, step, num} or {values}"),
    (s(axes={"B0": {"start": 1e10, "step": 1e-10, "num": 3}}),
     "studies.s.axes.B0.step: too small"),
    (s(axes={"B0": {"start": 1e308, "step": 1e308, "num": 3}}),
     "studies.s.axes.B0.num: the last point"),
    (s(axes=T_AXIS, chunks={"T": 0}), "studies.s.chunks.T: must be >= 1"),
    (s(axes=T_AXIS, chunks={"omega_d": 4}), "studies.s.chunks.omega_d: not an axis"),
    (s(axes=T_AXIS, quadrature="yes"), "studies.s.quadrature: expected true or false"),
    (s(axes=T_AXIS, sweep={"axis": "T"}), "studies.s.sweep.axis: 'T' does not act on the"),
    (s(axes=T_AXIS, sweep={"axis": "omega_d"}), "studies.s.sweep.axis: 'omega_d' is not an axis"),
    (s(axes=T_AXIS, sweep="T"), "studies.s.sweep: expected a mapping or null, got 'T'"),
    (s(axes=T_AXIS, sweep={}), "studies.s.sweep.axis: required key missing"),
    (s(axes=T_AXIS, sweep={"axes": "T"}), "studies.s.sweep.axes: unknown key"),
    (s(axes={"B0": {"start": 0.0, "step": 1.0, "num": 20_000},
             "T": {"start": 0.0, "step": 1.0, "num": 20_000}}),
     "studies.s.axes: grid of 20000 x 20000 = 400000000 points exceeds limits.max_points"),
    ({**s(axes=T_AXIS), "limits": {"max_points": 1}}, "studies.s.axes: grid of 2 = 2 points"),
    ({**s(), "limits": {"max_states": 0}}, "limits.max_states: must be >= 1"),
    ({**s(), "limits": {"max_points": "1e8"}},
     "limits.max_points: expected an integer, got '1e8' (a string; write 100000000)"),
    ({**s(), "dask": {"address": 8786}}, "dask.address: expected a string or null"),
    ({**s(), "dask": {"adress": "tcp://x:8786"}}, "dask.adress: unknown key"),
    ({**s(), "cache": {"dir": ""}}, "cache.dir: must not be empty"),
    ({**s(), "cache": None}, "cache: expected a mapping, got null"),
    ({**s(), "figures": []}, "figures: expected a mapping, got a list"),
]


@pytest.mark.parametrize(("config", "start"), HAND_WRITTEN, ids=[m for _, m in HAND_WRITTEN])
def test_hand_written_invalid_config_is_rejected(config, start):
    message = str(error_of(config))
    assert message.startswith(start)
    assert "\n" not in message


def test_first_problem_is_reported_shallow_first_then_in_document_order():
    config = {"studies": {"b": {"model": {"T": -1.0}}, "A": {}}, "model": {"Omega": -1.0}}
    assert str(error_of(config)).startswith("studies.A: bad study name")
    config = {"model": {"T": -1.0, "Omega": -1.0}, "studies": {"s": {}}}
    assert str(error_of(config)).startswith("model.T:")


def test_figures_accept_their_settings_and_the_axes_of_their_study():
    figures = {"B0_GHz": 10.0, "fmr_line": {"study": "s", "zoom": [0.5, 1.5], "T": 0.1},
               "overview": {"s": {"T": 0.1}}}
    assert validate({**s(axes=T_AXIS), "figures": figures})["figures"] == figures


@pytest.mark.parametrize(("figures", "message"), [
    ({"fmr_lin": {"study": "s"}}, "figures.fmr_lin: unknown figure (known: precession_angle, "),
    ({"fmr_line": {"study": "t"}}, "figures.fmr_line.study: no study named 't' (studies: s)"),
    ({"fmr_line": {"zoom": [0.5, 1.5]}}, "figures.fmr_line: missing key 'study'"),
    ({"fmr_line": {"study": "s", "zooom": [0.5, 1.5]}},
     "figures.fmr_line.zooom: unknown setting (known: study, B0_GHz, zoom; the axes of s: T)"),
    ({"fmr_line": {"study": "s", "Omega": 0.02}}, "figures.fmr_line.Omega: unknown setting"),
    ({"overview": {"s": {"Omga": 0.02}}},
     "figures.overview.s.Omga: unknown setting (known: the axes of s: T)"),
    ({"overview": {"t": {}}}, "figures.overview.t: no study named 't'"),
    ({"overview": {"s": 0.1}}, "figures.overview.s: expected a mapping from axes of the study"),
    ({"B0_Ghz": 10.0}, "figures.B0_Ghz: unknown shared figure setting (known: B0_GHz;"),
])
def test_unknown_figures_and_settings_are_refused(figures, message):
    assert str(error_of({**s(axes=T_AXIS), "figures": figures})).startswith(message)


# ----------------------------------------------------------------------------------------------
# The YAML 1.1 number hint


@given(st.from_regex(r"[-+]?[1-9][0-9]{0,3}(\.[0-9]{0,3})?[eE][-+]?[0-9]{1,2}", fullmatch=True))
@settings(deadline=None, max_examples=100)
def test_yaml11_hint_gives_a_spelling_that_yaml_reads_as_the_number(text):
    loaded = yaml.safe_load(f"x: {text}")["x"]
    assume(isinstance(loaded, str))  # YAML 1.1 read it as a string
    message = str(error_of({**s(), "model": {"B0": loaded}}))
    fixed = re.search(r"write (\S+)\)$", message).group(1)
    assert yaml.safe_load(f"x: {fixed}")["x"] == float(text)


# ----------------------------------------------------------------------------------------------
# Studies: coordinates and chunks


def test_study_axes_are_start_plus_step_times_i():
    (study,) = studies(yaml.safe_load(DEFAULT_CONFIG_YAML)).values()
    assert isinstance(study, Study) and study.name == "fmr_line"
    assert tuple(study.axes) == ("omega_d", "T") and study.shape == (801, 3)
    omega_d = study.axes["omega_d"]
    assert omega_d.dtype == np.float64 and not omega_d.flags.writeable
    assert omega_d.tolist() == [-2.0 + 0.0025 * i for i in range(801)]
    assert study.axes["T"].tolist() == [0.02, 0.1, 0.5]
    assert study.chunks == {"omega_d": 200, "T": 2} and study.quadrature is False
    assert study.model == validate(yaml.safe_load(DEFAULT_CONFIG_YAML))["studies"]["fmr_line"][
        "model"]


def test_growing_an_axis_keeps_every_existing_point():
    config = minimal()
    before = studies(config)["fmr_line"].axes["omega_d"]
    config["studies"]["fmr_line"]["axes"]["omega_d"]["num"] = 1201
    after = studies(config)["fmr_line"].axes["omega_d"]
    assert np.array_equal(after[:801], before)


def test_default_chunking_examples():
    lengths = {"omega_d": 2048, "Omega": 2048, "T": 2}
    assert resolve_chunks(lengths) == {"omega_d": 16, "Omega": 2048, "T": 2}
    assert resolve_chunks({**lengths, "omega_d": 2253}) == {"omega_d": 16, "Omega": 2048, "T": 2}
    assert resolve_chunks({"omega_d": 801}) == {"omega_d": 512}
    assert resolve_chunks({"omega_d": 10**6}) == {"omega_d": 2**16}
    assert resolve_chunks({"a": 300, "b": 300, "c": 300}) == {"a": 1, "b": 256, "c": 256}
    assert resolve_chunks({"a": 7, "b": 1}) == {"a": 4, "b": 1}
    # user chunks are taken as given and share the budget
    assert resolve_chunks(lengths, {"T": 1}) == {"omega_d": 32, "Omega": 2048, "T": 1}
    assert resolve_chunks(lengths, {"Omega": 100_000}) == {"omega_d": 1, "Omega": 100_000,
                                                             "T": 2}
    config = {"studies": {"big": {"axes": {
        "omega_d": {"start": -2.0, "step": 0.001, "num": 2048},
        "Omega": {"start": 0.0, "step": 0.0001, "num": 2048},
        "T": {"values": [0.01, 0.1]}}}}}
    assert studies(config)["big"].chunks == {"omega_d": 16, "Omega": 2048, "T": 2}
    config["studies"]["big"]["axes"]["omega_d"]["num"] = 2253
    assert studies(config)["big"].chunks == {"omega_d": 16, "Omega": 2048, "T": 2}


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=4), st.floats(1.0, 1.2))
@settings(deadline=None, max_examples=100)
def test_default_chunks_are_powers_of_two_within_budget_and_stable(lengths, growth):
    names = [f"a{i}" for i in range(len(lengths))]
    chunks = resolve_chunks(dict(zip(names, lengths, strict=True)))
    assert list(chunks) == names
    for n, c in zip(lengths, chunks.values(), strict=True):
        assert c & (c - 1) == 0 and 1 <= c <= n
    assert math.prod(chunks.values()) <= 2**16
    grown = [int(n * growth) if (int(n * growth)).bit_length() == n.bit_length() else n
             for n in lengths]
    assert resolve_chunks(dict(zip(names, grown, strict=True))) == chunks


# ----------------------------------------------------------------------------------------------
# Generated configs: valid ones pass, mutated ones fail naming the key

STUDY_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


def lower_bound(key: str) -> float:
    return 1e-3 if key in POSITIVE else 0.0 if key in NON_NEGATIVE else -10.0


def scalar(key: str) -> st.SearchStrategy[Any]:
    if key == "lead_damping":
        return st.booleans()
    numbers = st.floats(lower_bound(key), 10.0) | st.integers(math.ceil(lower_bound(key)), 10)
    return numbers | st.none() if key == "T_r" else numbers


@st.composite
def axis_specs(draw: st.DrawFn, key: str) -> dict[str, Any]:
    lo = lower_bound(key)
    if draw(st.booleans()):
        values = draw(st.lists(st.floats(lo, 10.0), min_size=1, max_size=6, unique=True))
        return {"values": sorted(values)}
    num = draw(st.integers(1, 12))
    step = draw(st.floats(1e-3, 1.0))
    start = draw(st.floats(lo, 10.0))
    if key not in POSITIVE and key not in NON_NEGATIVE and draw(st.booleans()):
        step = -step
    return {"start": start, "step": step, "num": num}


@st.composite
def study_configs(draw: st.DrawFn) -> dict[str, Any]:
    axes = draw(st.lists(st.sampled_from(NUMERIC_PARAMETERS), min_size=1, max_size=3,
                         unique=True))
    study: dict[str, Any] = {"axes": {k: draw(axis_specs(k)) for k in axes}}
    others = [p for p in PARAMETERS if p not in axes]
    overrides = draw(st.lists(st.sampled_from(others), max_size=4, unique=True))
    if overrides or draw(st.booleans()):
        study["model"] = {k: draw(scalar(k)) for k in overrides}
    chunked = draw(st.lists(st.sampled_from(axes), max_size=len(axes), unique=True))
    if chunked:
        study["chunks"] = {k: draw(st.integers(1, 64)) for k in chunked}
    if draw(st.booleans()):
        study["quadrature"] = draw(st.booleans())
    return study


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(STUDY_NAMES, min_size=1, max_size=3, unique=True))
    config: dict[str, Any] = {"studies": {n: draw(study_configs()) for n in names}}
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(PARAMETERS), max_size=5, unique=True))
        config["model"] = {k: draw(scalar(k)) for k in keys}
    if draw(st.booleans()):
        config["dask"] = {"address": draw(st.none() | st.just("tcp://127.0.0.1:8786"))}
    if draw(st.booleans()):
        config["cache"] = {"dir": draw(st.sampled_from(["results/.cache", "/tmp/c"]))}
    if draw(st.booleans()):
        config["limits"] = {"max_points": draw(st.integers(10**6, 10**9)),
                            "max_states": draw(st.integers(1, 8))}
    if draw(st.booleans()):
        config["figures"] = {"fmr_line": {"study": names[0], "zoom": [-1.0, 1.0]},
                             "overview": {names[-1]: {}}, "B0_GHz": 10.0}
    return config


@given(valid_configs())
@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_valid_generated_configs_pass(config):
    original = copy.deepcopy(config)
    result = validate(config)
    assert config == original
    assert validate(result) == result
    defaults = {**Model().to_dict(), **config.get("model", {})}
    for name, study in studies(config).items():
        given_study = config["studies"][name]
        assert list(study.axes) == list(given_study["axes"])
        assert list(study.chunks) == list(study.axes)
        for key, spec in given_study["axes"].items():
            if "values" in spec:
                assert study.axes[key].tolist() == spec["values"]
            else:
                expected = [spec["start"] + spec["step"] * i for i in range(spec["num"])]
                assert study.axes[key].tolist() == expected
        for key, size in given_study.get("chunks", {}).items():
            assert study.chunks[key] == size
        merged = {**defaults, **given_study.get("model", {})}
        assert study.model == {k: merged[k] for k in PARAMETERS if k not in study.axes}
        assert study.quadrature == given_study.get("quadrature", False)


# Each mutation changes a valid config in place and returns the key its error must name.

YAML11_STRINGS = ["3e-05", "1e5", "-2E+3", "1.0e5", "0.1", "abc", "", "nan", "1,5"]
BAD_NUMBERS = st.sampled_from([*YAML11_STRINGS, True, False, [1.0], {"a": 1.0}])
UNKNOWN = st.sampled_from(["foo", "Omega_d", "temperature", "omega", "b0", "axis", "chunk",
                           "Model", "x1", "num_points", "stop", "value"]) | st.from_regex(
    r"[a-z_][a-z0-9_]{0,9}", fullmatch=True)


def pick_study(draw: st.DrawFn, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(config["studies"])))
    return name, config["studies"][name]


def add_axis(draw: st.DrawFn, study: dict[str, Any], keys: tuple[str, ...]) -> str:
    """A parameter from ``keys`` that is not yet an axis of the study, freed from its model."""
    key = draw(st.sampled_from([k for k in keys if k not in study["axes"]]))
    study.get("model", {}).pop(key, None)
    return key


def _put_in_a_model(draw, config, key, bad):
    """Set ``key`` to ``bad`` in the top-level model or in a study's model (not its axes)."""
    if draw(st.booleans()):
        config.setdefault("model", {})[key] = bad
    else:
        _, study = pick_study(draw, config)
        study["axes"].pop(key, None)
        study.setdefault("model", {})[key] = bad


def mutate_model_type(draw, config):
    key = draw(st.sampled_from(PARAMETERS))
    if key == "lead_damping":
        bad = draw(st.sampled_from([1, 0, 1.0, "true", "yes", None, [], "3e-05"]))
    else:
        bad = draw(BAD_NUMBERS | (st.just(None) if key != "T_r" else st.nothing()))
    _put_in_a_model(draw, config, key, bad)
    return key


def mutate_model_range(draw, config):
    key = draw(st.sampled_from(NUMERIC_PARAMETERS))
    if key in POSITIVE:
        bad = draw(st.floats(max_value=0.0) | st.integers(max_value=0))
    elif key in NON_NEGATIVE:
        bad = draw(st.floats(max_value=0.0, exclude_max=True) | st.integers(max_value=-1))
    else:
        bad = draw(st.sampled_from([math.nan, math.inf, -math.inf, 10**400]))
    _put_in_a_model(draw, config, key, bad)
    return key


def mutate_unknown_key(draw, config):
    _, study = pick_study(draw, config)
    level = draw(st.sampled_from(["top", "model", "study", "study_model", "axes", "axis",
                                  "dask", "cache", "limits"]))
    axis = next(iter(study["axes"]))
    target, allowed = {
        "top": (config, {"model", "studies", "dask", "cache", "limits", "figures"}),
        "model": (config.setdefault("model", {}), set(PARAMETERS)),
        "study": (study, {"model", "axes", "chunks", "quadrature"}),
        "study_model": (study.setdefault("model", {}), set(PARAMETERS)),
        "axes": (study["axes"], set(NUMERIC_PARAMETERS)),
        "axis": (study["axes"][axis], {"start", "step", "num", "values"}),
        "dask": (config.setdefault("dask", {}), {"address"}),
        "cache": (config.setdefault("cache", {}), {"dir"}),
        "limits": (config.setdefault("limits", {}), {"max_points", "max_states"}),
    }[level]
    key = draw(UNKNOWN.filter(lambda k: k not in allowed) | st.just("lead_damping")
               if level == "axes" else UNKNOWN.filter(lambda k: k not in allowed))
    target[key] = {"values": [1.0]} if level == "axes" else 1.0
    return key


BAD_AXIS_SPECS = [  # (spec, key the message must name; None: the axis itself)
    ({"start": 0.5, "step": 0, "num": 3}, "step"),
    ({"start": 0.5, "step": 0.0, "num": 3}, "step"),
    ({"start": 0.5, "step": -0.0, "num": 3}, "step"),
    ({"start": 0.5, "step": 0.1, "num": 0}, "num"),
    ({"start": 0.5, "step": 0.1, "num": -2}, "num"),
    ({"start": 0.5, "step": 0.1, "num": 2.5}, "num"),
    ({"start": 0.5, "step": 0.1, "num": "10"}, "num"),
    ({"start": 0.5, "step": 0.1, "num": True}, "num"),
    ({"start": 0.5, "step": 0.1, "num": None}, "num"),
    ({"start": "3e-05", "step": 0.1, "num": 3}, "start"),
    ({"start": 0.5, "step": "1e-3", "num": 3}, "step"),
    ({"start": math.nan, "step": 0.1, "num": 3}, "start"),
    ({"start": 0.5, "step": math.inf, "num": 3}, "step"),
    ({"step": 0.1, "num": 3}, "start"),
    ({"start": 0.5, "num": 3}, "step"),
    ({"start": 0.5, "step": 0.1}, "num"),
    ({"start": 0.5, "step": 0.1, "num": 3, "stop": 2.0}, "stop"),
    ({"values": []}, "values"),
    ({"values": [0.5, 0.5]}, "values"),
    ({"values": [0.6, 0.5]}, "values"),
    ({"values": [0.5, 0.7, 0.6]}, "values"),
    ({"values": "0.5, 0.6"}, "values"),
    ({"values": [0.5, "1e-2"]}, "values"),
    ({"values": [0.5, None]}, "values"),
    ({"values": [0.5, math.nan]}, "values"),
    ({"value": [0.5]}, "value"),
    ({"values": [0.5], "num": 3}, None),
    ({"start": 0.5, "step": 0.1, "num": 3, "values": [0.5]}, None),
    (3, None), ([0.5, 0.6], None), ("0.5", None), (None, None), ({}, None),
]


def mutate_axis_spec(draw, config):
    _, study = pick_study(draw, config)
    axis = draw(st.sampled_from(list(study["axes"])))
    spec, key = draw(st.sampled_from(BAD_AXIS_SPECS))
    study["axes"][axis] = copy.deepcopy(spec)
    return key or axis


def mutate_axis_key(draw, config):
    _, study = pick_study(draw, config)
    kind = draw(st.sampled_from(["not_a_parameter", "lead_damping", "also_in_model"]))
    if kind == "also_in_model":
        key = draw(st.sampled_from(list(study["axes"])))
        study.setdefault("model", {})[key] = 0.5
        return key
    key = "lead_damping" if kind == "lead_damping" else draw(
        UNKNOWN.filter(lambda k: k not in NUMERIC_PARAMETERS))
    study["axes"][key] = {"values": [0.5]}
    return key


def mutate_axis_range(draw, config):
    _, study = pick_study(draw, config)
    key = add_axis(draw, study, tuple(k for k in NUMERIC_PARAMETERS
                                      if k in POSITIVE or k in NON_NEGATIVE))
    bad = [{"values": [-1.0, 0.5]}, {"start": -0.5, "step": 0.1, "num": 3},
           {"start": 0.1, "step": -0.05, "num": 5}, {"values": [0.1, 0.2, -math.inf]}]
    if key in POSITIVE:
        bad += [{"values": [0.0, 1.0]}, {"start": 0.0, "step": 0.1, "num": 2},
                {"start": 0.2, "step": -0.1, "num": 3}]
    study["axes"][key] = draw(st.sampled_from(bad))
    return key


def mutate_study_name(draw, config):
    bad = draw(st.sampled_from(["Foo", "1abc", "a-b", "_x", "aB", "a b", "ünï", "x.y", "T"]))
    config["studies"] = {bad if i == 0 else k: v
                         for i, (k, v) in enumerate(config["studies"].items())}
    return bad


def mutate_grid(draw, config):
    name, study = pick_study(draw, config)
    max_points = config.get("limits", {}).get("max_points", 10**8)
    if draw(st.booleans()):
        axis = draw(st.sampled_from(list(study["axes"])))
        study["axes"][axis] = {"start": 0.5, "step": 0.5, "num": max_points + 1}
        return name
    if math.prod(studies(config)[name].shape) == 1:
        study["axes"][add_axis(draw, study, NUMERIC_PARAMETERS)] = {"values": [0.5, 1.0]}
    sizes = {n: math.prod(s.shape) for n, s in studies(config).items()}
    largest = max(sizes.values())
    config.setdefault("limits", {})["max_points"] = largest - 1
    return next(n for n, size in sizes.items() if size == largest)  # the first one too large


def mutate_chunks(draw, config):
    _, study = pick_study(draw, config)
    if draw(st.booleans()):
        key = draw(st.sampled_from([k for k in NUMERIC_PARAMETERS if k not in study["axes"]])
                   | UNKNOWN.filter(lambda k: k not in study["axes"]))
        study.setdefault("chunks", {})[key] = 4
        return key
    key = draw(st.sampled_from(list(study["axes"])))
    study.setdefault("chunks", {})[key] = draw(st.sampled_from([0, -1, 2.5, "4", True, None]))
    return key


def mutate_section(draw, config):
    name, study = pick_study(draw, config)
    kind = draw(st.sampled_from(range(14)))
    if kind == 0:
        study["quadrature"] = draw(st.sampled_from(["yes", 1, 0, None, "false"]))
        return "quadrature"
    if kind == 1:
        config["dask"] = {"address": draw(st.sampled_from([8786, True, ["a"]]))}
        return "address"
    if kind == 2:
        config["cache"] = {"dir": draw(st.sampled_from([None, 3, "", ["x"]]))}
        return "dir"
    if kind == 3:
        config["limits"] = {"max_states": draw(st.sampled_from([0, -1, "4", 2.5, None]))}
        return "max_states"
    if kind == 4:
        config["limits"] = {"max_points": draw(st.sampled_from([0, "1e8", 2.5, None]))}
        return "max_points"
    if kind == 5:
        config["figures"] = draw(st.sampled_from([[], "fig", 3, None]))
        return "figures"
    if kind == 6:
        config["model"] = draw(st.sampled_from([[], "B0: 1", 3, None]))
        return "model"
    if kind == 7:
        study["axes"] = draw(st.sampled_from([[], "T", 3, None]))
        return "axes"
    if kind == 8:
        study["model"] = draw(st.sampled_from([[], "T", 3, None]))
        return "model"
    if kind == 9:
        study["chunks"] = draw(st.sampled_from([[], 64, None]))
        return "chunks"
    if kind == 10:
        config["studies"][name] = draw(st.sampled_from([None, [], "x", 1]))
        return name
    if kind == 11:
        config["studies"] = draw(st.sampled_from([{}, [], None]))
        return "studies"
    if kind == 12:
        section = draw(st.sampled_from(["dask", "cache", "limits"]))
        config[section] = draw(st.sampled_from([[], "x", 3]))
        return section
    del config["studies"]
    return "studies"


MUTATIONS = [mutate_model_type, mutate_model_range, mutate_unknown_key, mutate_axis_spec,
             mutate_axis_key, mutate_axis_range, mutate_study_name, mutate_grid, mutate_chunks,
             mutate_section]


@st.composite
def invalid_configs(draw: st.DrawFn, mutations: tuple = tuple(MUTATIONS)
                    ) -> tuple[dict[str, Any], str, str]:
    config = draw(valid_configs())
    mutation = draw(st.sampled_from(mutations))
    key = mutation(draw, config)
    return config, key, mutation.__name__


def check_rejected(config: dict[str, Any], key: str, mutation: str) -> None:
    err = error_of(config)
    message = str(err)
    assert "\n" not in message and "\r" not in message, message
    assert message == f"{err.path}: {err.reason}"
    assert err.path.startswith(("studies", "model", "dask", "cache", "limits", "figures",
                                "config")) or mutation == "mutate_unknown_key", message
    shown = key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else repr(key)
    assert shown in err.path, (mutation, key, message)


@given(invalid_configs())
@settings(deadline=None, max_examples=300,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_invalid_generated_configs_are_rejected_naming_the_key(case):
    config, key, mutation = case
    event(mutation)
    check_rejected(config, key, mutation)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_kind_of_invalid_config_is_rejected_naming_the_key(mutation):
    # Hypothesis favours the first choice of a sampled_from; give every kind its own examples.
    @given(invalid_configs((mutation,)))
    @settings(deadline=None, max_examples=20,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        check_rejected(*case)

    check()


# ----------------------------------------------------------------------------------------------
# A user's configuration over the workflow's defaults (combine, origin)

DEFAULTS = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_user_studies_replace_the_default_studies_and_their_figures():
    user = {"studies": {"fmr_line": {"axes": {"T": {"values": [0.1, 0.2]}}}},
            "model": {"T": 0.3}, "limits": {"max_states": 6}, "figures": {"B0_GHz": 5.0}}
    combined = combine(DEFAULTS, user)
    assert combined["studies"] == user["studies"]  # no key inherited from the default study
    assert combined["figures"] == {"B0_GHz": 5.0}
    assert combined["model"] == {**DEFAULTS["model"], "T": 0.3}
    assert combined["limits"] == {**DEFAULTS["limits"], "max_states": 6}
    validated = validate(combined)
    assert list(validated["studies"]) == ["fmr_line"]
    assert list(validated["studies"]["fmr_line"]["axes"]) == ["T"]


def test_without_user_studies_the_defaults_run_with_the_users_figure_settings():
    combined = combine(DEFAULTS, {"figures": {"fmr_line": {"zoom": [0.9, 1.1]}},
                                  "cache": {"dir": "/tmp/c"}})
    assert combined["studies"] == DEFAULTS["studies"]
    assert combined["figures"]["fmr_line"] == {**DEFAULTS["figures"]["fmr_line"],
                                               "zoom": [0.9, 1.1]}
    assert combined["figures"]["phase_diagram"] == DEFAULTS["figures"]["phase_diagram"]
    assert combined["cache"] == {"dir": "/tmp/c"}
    assert combine(DEFAULTS, {}) == {**DEFAULTS}


def test_unknown_user_keys_are_kept_for_the_validation_to_name():
    assert str(error_of(combine(DEFAULTS, {"studeis": {}}))).startswith("studeis: unknown key")


def test_an_error_names_the_layer_the_key_came_from():
    user = {"studies": {"mine": {"axes": {"T": {"values": [0.1, -0.2]}}}}}
    err = error_of(combine(DEFAULTS, user))
    assert err.keys == ("studies", "mine", "axes", "T", "values", 1)
    layers = [("config/config.yaml", DEFAULTS), ("my.yaml", user), ("--config", {})]
    assert origin(err.keys, layers, own_studies=True) == "my.yaml"
    err = error_of(combine(DEFAULTS, {"model": {"T": -1.0}}))
    assert origin(err.keys, [("config/config.yaml", DEFAULTS), ("a.yaml", {}),
                             ("--config", {"model": {"T": -1.0}})], False) == "--config"
    # a key missing everywhere points at the nearest key that exists
    user = {"studies": {"mine": {"axes": {"T": {"start": 0.1, "step": 0.1}}}}}
    err = error_of(combine(DEFAULTS, user))
    assert err.path == "studies.mine.axes.T.num"
    assert origin(err.keys, [("defaults", DEFAULTS), ("u.yaml", user)], True) == "u.yaml"
    # the defaults' studies are not the source of an error when the user's replace them
    assert origin(("studies", "fmr_line", "axes"), [("defaults", DEFAULTS)], True) is None


def test_a_figure_error_names_the_users_file():
    user = {"studies": {"mine": {"axes": {"T": {"values": [0.1, 0.2]}}}},
            "figures": {"overview": {"mine": {"Omga": 0.02}}}}
    with pytest.raises(ConfigError) as info:
        resolve(DEFAULTS, [("my.yaml", user)])
    assert str(info.value) == ("figures.overview.mine.Omga: unknown setting "
                               "(known: the axes of mine: T) (in my.yaml)")


def test_command_line_values_are_read_as_yaml():
    # Snakemake passes the nested values of --config pairs as strings
    pairs = {"model": {"T": "0.2", "mu_l": "-1.0", "T_r": "null", "lead_damping": "true"},
             "studies": {"mine": {"axes": {"T": {"values": ["0.1", "0.2"]}},
                                  "sweep": {"axis": "T"}}}}
    assert command_line_values(pairs) == {
        "model": {"T": 0.2, "mu_l": -1.0, "T_r": None, "lead_damping": True},
        "studies": {"mine": {"axes": {"T": {"values": [0.1, 0.2]}}, "sweep": {"axis": "T"}}}}
    assert command_line_values({"model": {"T": 0.2}}) == {"model": {"T": 0.2}}
