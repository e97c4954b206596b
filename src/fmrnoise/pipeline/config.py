"""Configuration of the workflow: validation, defaults and study grids (docs/configuration.md).

The JSON Schema ``config.schema.yaml`` (shipped inside this package) describes the configuration
and holds its defaults; its model parts (every parameter, its type, range and default) are
generated from :data:`fmrnoise.physics.model.PARAMETERS`, the single definition of the model's
parameters. :func:`validate` checks a configuration against it, fills in the defaults, adds
the checks a schema cannot express and returns a new, normalized configuration; every problem
is reported as a :class:`ConfigError` whose one-line message names the key, e.g.
``"studies.fmr_line.axes.omega_d.step: must be != 0"``. :func:`studies` turns a configuration
into :class:`Study` objects with coordinate arrays and chunk sizes.

Nothing here imports Snakemake; the Snakefile calls :func:`validate`.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import numpy as np
import yaml
from jsonschema.exceptions import ValidationError, best_match

from ..physics.model import PARAMETERS as MODEL_PARAMETERS
from ..physics.model import Parameter
from ..plots import FIGURES, SHARED_SETTINGS, figure_options
from .contract import PARAMETERS, STUDY_OPTIONS, stage_parameters
from .grid import axis_values

#: Target number of grid points per chunk of the default chunking.
CHUNK_POINTS = 2**16

KeyPath = list[Any]  # a key path into the configuration: mapping keys and list indices


class ConfigError(ValueError):
    """An invalid configuration: ``"<key path>: <reason>"`` on one line.

    Parameters
    ----------
    path : dotted key path of the offending key, e.g. ``"studies.fmr_line.axes.T.values[2]"``.
    reason : short human-readable reason.
    """

    def __init__(self, path: str, reason: str, keys: Sequence[Any] = ()) -> None:
        self.path = path
        self.reason = reason
        self.keys = tuple(keys)
        super().__init__(re.sub(r"\s*[\r\n]+\s*", " ", f"{path}: {reason}"))

    def __reduce__(self) -> tuple[type, tuple[str, str, tuple[Any, ...]]]:
        return type(self), (self.path, self.reason, self.keys)


# ----------------------------------------------------------------------------------------------
# Public API


def load_schema() -> dict[str, Any]:
    """The configuration schema: ``config.schema.yaml`` with its model parts generated."""
    text = resources.files(__package__).joinpath("config.schema.yaml").read_text("utf-8")
    schema = yaml.safe_load(text)
    study = schema["$defs"]["study"]["properties"]
    schema["properties"]["model"]["properties"] = {
        name: _parameter_schema(p, default=True) for name, p in MODEL_PARAMETERS.items()}
    study["model"]["properties"] = {name: _parameter_schema(p, default=False)
                                    for name, p in MODEL_PARAMETERS.items()}
    study["axes"]["properties"] = {name: {"$ref": "#/$defs/axis"}
                                   for name, p in MODEL_PARAMETERS.items() if p.numeric}
    return schema


def _parameter_schema(parameter: Parameter, default: bool) -> dict[str, Any]:
    """JSON Schema of one model parameter (with its default for the top-level ``model``)."""
    if not parameter.numeric:
        schema: dict[str, Any] = {"type": "boolean"}
    else:
        schema = {"type": ["number", "null"] if parameter.nullable else "number"}
        if parameter.bound == "non_negative":
            schema["minimum"] = 0
        elif parameter.bound == "positive":
            schema["exclusiveMinimum"] = 0
    schema["description"] = f"{parameter.long_name} [{parameter.units}]"
    if default:
        schema["default"] = parameter.default
    return schema


def validate(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a configuration and return a new one with every default filled in.

    The result is normalized: numbers of model parameters and axes are floats, counts are ints,
    and every study holds ``model`` (its resolved scalar parameters: the top-level defaults
    updated by the study's overrides, without the parameters that are axes of the study),
    ``axes`` (as given), ``chunks`` (the chunk size of every axis, see :func:`resolve_chunks`)
    the options ``quadrature`` and ``dot_relaxation`` and ``sweep`` (the swept axis or None).
    Validating the result again returns
    an equal configuration.

    Parameters
    ----------
    config : the configuration as read from YAML (not modified).

    Returns
    -------
    dict : the validated, normalized configuration.

    Raises
    ------
    ConfigError : on the first problem found; its message names the key and the reason.
    """
    cfg = _plain(config)
    if not isinstance(cfg, dict):
        raise ConfigError("config", f"expected a mapping, got {_show(cfg)}")
    # iter_errors also fills in the schema's defaults; best_match takes the shallowest problem,
    # the first in document order, and descends into oneOf to the alternative the user meant
    error = best_match(_validator().iter_errors(cfg), key=lambda e: _relevance(cfg, e))
    if error is not None:
        raise _error(cfg, _key_path(error), _reason(error))
    _check_semantics(cfg)
    return _normalize(cfg)


#: Sections of the workflow's defaults that a user's configuration updates key by key.
MERGED_SECTIONS = ("model", "limits", "cache", "dask")


def combine(defaults: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a run uses: the user's configuration over the workflow's defaults.

    A user configuration that defines ``studies`` replaces the default studies entirely, and
    with them the defaults' ``figures`` entries (they draw the default studies); a user study
    never inherits a key from a default study of the same name. ``model``, ``limits``,
    ``cache`` and ``dask``, and the user's own ``figures`` entries, update the defaults key by
    key. Any other key of the user's is kept, for :func:`validate` to judge.

    Parameters
    ----------
    defaults : the workflow's own configuration (``config/config.yaml``).
    user : what the user gave (``--configfile`` files and ``--config`` pairs, merged).
    """
    own_studies = "studies" in user
    combined = {key: copy.deepcopy(value) for key, value in defaults.items()
                if key not in ("studies", "figures")}
    for key, value in user.items():
        if key in MERGED_SECTIONS or key == "figures":
            base = defaults.get(key, {}) if key != "figures" or not own_studies else {}
            combined[key] = _merged(base, value)
        elif key != "studies":
            combined[key] = copy.deepcopy(value)
    combined["studies"] = copy.deepcopy(user["studies"] if own_studies
                                        else defaults.get("studies"))
    combined.setdefault("figures", {} if own_studies else copy.deepcopy(defaults.get("figures",
                                                                                     {})))
    return combined


def resolve(defaults: Mapping[str, Any], layers: Sequence[tuple[str, Mapping[str, Any]]],
            defaults_name: str = "config/config.yaml") -> dict[str, Any]:
    """The validated configuration of a run: the user's layers combined with the defaults.

    Parameters
    ----------
    defaults : the workflow's own configuration (``config/config.yaml``).
    layers : the user's configurations as (name, mapping) pairs, lowest precedence first
        (``--configfile`` files in order, then the ``--config`` pairs); merged key by key among
        themselves, then combined with the defaults (:func:`combine`).
    defaults_name : how error messages name the defaults.

    Raises
    ------
    ConfigError : as :func:`validate`; the reason ends with the file (layer) the offending key
        came from, e.g. ``"(in my_study.yaml)"``.
    """
    user: dict[str, Any] = {}
    for _, layer in layers:
        user = _merged(user, layer)
    try:
        return validate(combine(defaults, user))
    except ConfigError as err:
        source = origin(err.keys, [(defaults_name, defaults), *layers], "studies" in user)
        if source is None:
            raise
        raise ConfigError(err.path, f"{err.reason} (in {source})", err.keys) from None


def command_line_values(pairs: Any) -> Any:
    """The values of ``--config`` pairs as YAML reads them.

    Snakemake reads a nested value given with ``--config`` (``model={T: 0.2}``) as text
    (``"0.2"``); each text leaf is read again as YAML (``0.2``, ``null``, ``true``; a name
    stays text), so that pairs mean what the same keys mean in a file.
    """
    if isinstance(pairs, Mapping):
        return {key: command_line_values(value) for key, value in pairs.items()}
    if isinstance(pairs, list):
        return [command_line_values(value) for value in pairs]
    if isinstance(pairs, str):
        try:
            return yaml.safe_load(pairs)
        except yaml.YAMLError:
            return pairs
    return pairs


def origin(keys: Sequence[Any], layers: Sequence[tuple[str, Mapping[str, Any]]],
           own_studies: bool) -> str | None:
    """Which configuration layer a key path came from (for error messages), or None.

    Parameters
    ----------
    keys : key path of the offending key (:attr:`ConfigError.keys`).
    layers : (name, configuration) pairs, lowest precedence first; the first is the
        workflow's defaults.
    own_studies : the user defines ``studies`` (then the defaults' studies and figures are not
        used, see :func:`combine`).

    Returns
    -------
    The name of the layer of highest precedence that holds the longest prefix of ``keys``.
    """
    unused_defaults = own_studies and bool(keys) and keys[0] in ("studies", "figures")
    usable = list(layers[1:] if unused_defaults else layers)
    for length in range(len(keys), 0, -1):
        for name, layer in reversed(usable):
            node: Any = layer
            for key in keys[:length]:
                try:
                    node = node[key]
                except (KeyError, IndexError, TypeError):
                    break
            else:
                return name
    return None


def _merged(base: Any, top: Any) -> Any:
    """``top`` over ``base``: mappings merged recursively, anything else replaced by ``top``."""
    if not (isinstance(base, Mapping) and isinstance(top, Mapping)):
        return copy.deepcopy(top)
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in top.items():
        merged[key] = _merged(base[key], value) if key in base else copy.deepcopy(value)
    return merged


@dataclass(frozen=True, eq=False)
class Study:
    """One parameter study: scalar parameters, coordinate axes, chunking.

    Attributes
    ----------
    name : the study's name (``^[a-z][a-z0-9_]*$``).
    model : resolved scalar parameters (top-level defaults updated by the study's overrides);
        the parameters that are axes are not in it.
    axes : coordinate values of each axis in config order; ``start + step*i`` for
        ``i in range(num)`` (not linspace) or the given ``values`` (:func:`grid.axis_values`);
        read-only.
    chunks : chunk size (points per chunk) of every axis, see :func:`resolve_chunks`.
    quadrature : whether the noise is also computed by quadrature at every point.
    dot_relaxation : whether the noise is also computed in the hot-electron limit.
    sweep : the axis swept up and down (the stage ``sweep``), or None.
    """

    name: str
    model: dict[str, float | bool | None]
    axes: dict[str, np.ndarray]
    chunks: dict[str, int]
    quadrature: bool = False
    dot_relaxation: bool = False
    sweep: str | None = None

    def __post_init__(self) -> None:
        for values in self.axes.values():
            values.setflags(write=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of points along each axis."""
        return tuple(len(v) for v in self.axes.values())


def studies(config: Mapping[str, Any]) -> dict[str, Study]:
    """The studies of a configuration, by name, in config order.

    Parameters
    ----------
    config : a configuration; it is validated first (validating twice is harmless).
    """
    cfg = validate(config)
    return {
        name: Study(name=name, model=dict(s["model"]),
                    axes={k: axis_values(spec) for k, spec in s["axes"].items()},
                    chunks=dict(s["chunks"]), sweep=s["sweep"] and s["sweep"]["axis"],
                    **{option: s[option] for option in STUDY_OPTIONS})
        for name, s in cfg["studies"].items()
    }


def resolve_chunks(lengths: Mapping[str, int],
                   chunks: Mapping[str, int] | None = None) -> dict[str, int]:
    """Chunk size of every axis: the given ones, and defaults of about 2**16 points per chunk.

    The axes are walked from the last to the first with a budget of ``2**16`` points. An axis
    with a given chunk size keeps it; any other gets ``min(budget, 2**floor(log2(num)))``, the
    largest power of two not above its length, capped by the budget. Either way the budget is
    then divided by the chunk size: ``budget = max(1, budget // chunk)``. Powers of two make
    the chunks independent of small changes of an axis length, so growing an axis keeps the
    existing chunks (and their cache entries).

    Parameters
    ----------
    lengths : number of points of each axis, in config order.
    chunks : chunk sizes given by the user for some axes.

    Returns
    -------
    dict : chunk size of every axis, in the order of ``lengths``.

    Examples
    --------
    >>> resolve_chunks({"omega_d": 2048, "Omega": 2048, "T": 2})
    {'omega_d': 16, 'Omega': 2048, 'T': 2}
    """
    given = dict(chunks or {})
    budget = CHUNK_POINTS
    resolved: dict[str, int] = {}
    for name in reversed(list(lengths)):
        if name in given:
            chunk = int(given[name])
        else:
            chunk = min(budget, 1 << (int(lengths[name]).bit_length() - 1))
        resolved[name] = chunk
        budget = max(1, budget // chunk)
    return {name: resolved[name] for name in lengths}


# ----------------------------------------------------------------------------------------------
# Schema validation with defaults


@cache
def _validator() -> Any:
    """A validator of the schema that fills in ``default`` values as it descends."""
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validate_properties = cls.VALIDATORS["properties"]

    def properties_with_defaults(validator: Any, properties: dict, instance: Any,
                                 schema: dict) -> Iterator[ValidationError]:
        if validator.is_type(instance, "object"):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": properties_with_defaults})(schema)


_TYPE_NAMES = {"number": "a number", "integer": "an integer", "boolean": "true or false",
               "string": "a string", "object": "a mapping", "array": "a list", "null": "null"}
#: One-line reasons of jsonschema's errors, by validator keyword (``{value}``: the keyword's
#: value in the schema, ``{instance}``: the offending value as written in YAML).
_REASONS = {
    "minimum": "must be >= {value}, got {instance}",
    "exclusiveMinimum": "must be > {value}, got {instance}",
    "minItems": "must not be empty",
    "minLength": "must not be empty",
    "minProperties": "must not be empty",
    "required": "required key missing",
    "pattern": "bad key, must match {value}",
}


def _key_path(error: ValidationError) -> KeyPath:
    """The key path an error is about: the instance's path, and the offending key itself for
    a bad key name, an unknown key or a missing one."""
    path: KeyPath = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path.append(error.instance)
    elif error.validator == "additionalProperties" and not _mixed(error):
        path.append(_unknown_keys(error)[0])
    elif error.validator == "required":
        path.append(next(k for k in error.validator_value if k not in error.instance))
    return path


def _unknown_keys(error: ValidationError) -> list[str]:
    return [key for key in error.instance if key not in error.schema.get("properties", {})]


def _mixed(error: ValidationError) -> bool:
    """An unknown key that belongs to another alternative of a oneOf: two forms mixed."""
    keysets = _alternatives(error)
    return bool(keysets) and any(_unknown_keys(error)[0] in keys for keys in keysets)


def _alternatives(error: ValidationError) -> list[list[str]] | None:
    """The keys of each alternative of the ``oneOf`` an error belongs to (None: no oneOf)."""
    choice = error if error.validator == "oneOf" else error.parent
    if choice is None or choice.validator != "oneOf":
        return None
    return [list(alt.get("properties", {})) for alt in choice.validator_value]


def _relevance(cfg: Any, error: ValidationError) -> tuple:
    """Sort key for :func:`jsonschema.exceptions.best_match` (which takes the largest at the
    top level and the smallest inside a oneOf): shallow and early in the document first; inside
    a oneOf, the alternative that knows most of the user's keys."""
    meant = 0
    keysets = _alternatives(error)
    if keysets and error.parent is not None and isinstance(error.parent.instance, dict):
        index = error.relative_schema_path[0]
        meant = len(set(keysets[index]) & set(error.parent.instance))
        return (-meant, *_order(cfg, _key_path(error)), index)
    depth, position = _order(cfg, _key_path(error))
    return (-depth, tuple(-p for p in position))


def _reason(error: ValidationError) -> str:
    """The one-line reason of a schema error, from the error object's fields."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    keysets = _alternatives(error)
    shown = ["{" + ", ".join(keys) + "}" for keys in keysets or ()]
    if kind == "oneOf":  # no alternative stands out: both or neither
        return f"expected {' or '.join(shown)}, got {_show(instance) if instance else 'nothing'}"
    if kind == "type":
        return _type_reason(value, instance)
    if kind == "additionalProperties":
        allowed, extra = list(error.schema.get("properties", {})), _unknown_keys(error)[0]
        if _mixed(error):
            return f"give either {' or '.join(shown)}, not both"
        if list(error.absolute_path)[-1:] == ["axes"]:
            if extra == "lead_damping":
                return "a switch, not a numeric parameter: it cannot be an axis"
            return f"not a numeric model parameter (expected one of {', '.join(allowed)})"
        return f"unknown key (expected one of {', '.join(allowed)})"
    if kind == "not" and "const" in value:
        return f"must be != {_show(value['const'])}"
    if kind == "pattern" and list(error.absolute_path) == ["studies"]:
        return f"bad study name, must match {value}"
    if kind == "minProperties" and list(error.absolute_path) == ["studies"]:
        return "must name at least one study"
    if "propertyNames" in error.absolute_schema_path and kind == "type":
        return "keys must be strings"
    return _REASONS[kind].format(value=value, instance=_show(instance))


def _type_reason(expected: str | list[str], value: Any) -> str:
    expected = [expected] if isinstance(expected, str) else list(expected)
    reason = f"expected {' or '.join(_TYPE_NAMES[t] for t in expected)}, got {_show(value)}"
    if isinstance(value, str) and {"number", "integer"} & set(expected):
        reason += f" ({_string_number_hint(value, integer='number' not in expected)})"
    return reason


_EXPONENT = re.compile(r"^([-+]?)([0-9][0-9_]*)(?:\.([0-9_]*))?[eE]([-+]?)([0-9]+)$")


def _string_number_hint(text: str, integer: bool) -> str:
    """Why a number-looking string is a string, and how to write it as a YAML 1.1 number."""
    try:
        number = float(text)
    except ValueError:
        return "a string"
    if not math.isfinite(number):
        return "a string"
    if integer:
        return f"a string; write {int(number)}" if number.is_integer() else "a string"
    match = _EXPONENT.match(text.strip())
    if match:
        sign, whole, frac, esign, exponent = match.groups()
        fixed = f"{sign}{whole}.{frac or '0'}e{esign or '+'}{exponent}"
        return f"a string; YAML 1.1 reads {text} as a string, write {fixed}"
    return f"a string; write {text.strip()} without quotes"


# ----------------------------------------------------------------------------------------------
# Checks the schema cannot express (run on a schema-valid configuration)


def _check_semantics(cfg: dict[str, Any]) -> None:
    for key, value in cfg["model"].items():
        _check_finite(cfg, ["model", key], value)
    max_points = cfg["limits"]["max_points"]
    for name, study in cfg["studies"].items():
        base: KeyPath = ["studies", name]
        for key, value in study["model"].items():
            _check_finite(cfg, [*base, "model", key], value)
        lengths: dict[str, int] = {}
        for key, spec in study["axes"].items():
            where = [*base, "axes", key]
            if key in study["model"]:
                raise _error(cfg, where,
                         f"also set in {_format_path(cfg, [*base, 'model'])}; "
                                  "a parameter is either an axis or a scalar")
            lengths[key] = _check_axis(cfg, where, key, spec)
        for key in study["chunks"]:
            if key not in lengths:
                axes = ", ".join(lengths) or "none"
                raise _error(cfg, [*base, "chunks", key],
                         f"not an axis of this study (axes: {axes})")
        if study.get("sweep") is not None:
            _check_sweep(cfg, base, study, lengths)
        size = math.prod(lengths.values())
        if size > max_points:
            grid = " x ".join(str(n) for n in lengths.values())
            raise _error(cfg, [*base, "axes"],
                         f"grid of {grid} = {size} points exceeds "
                              f"limits.max_points = {max_points}")
    _check_figures(cfg)


def _check_figures(cfg: dict[str, Any]) -> None:
    """The ``figures`` entries: shared settings, ``overview.<study>`` (values of that study's
    axes) and known figures, each naming a study of the run and holding only its own settings
    (:func:`fmrnoise.plots.figure_options`) and values of that study's axes."""
    studies = cfg["studies"]

    def check_study(path: KeyPath, name: Any) -> None:
        if name not in studies:
            raise _error(cfg, path, f"no study named {_show(name)} (studies: "
                                    f"{', '.join(studies)})")

    def check_axes(path: KeyPath, settings: Mapping, study: str, allowed: Sequence[str]) -> None:
        axes = list(studies[study]["axes"])
        for key in settings:
            if key not in (*allowed, *axes):
                known = [", ".join(allowed)] if allowed else []
                known.append(f"the axes of {study}: {', '.join(axes)}" if axes
                             else f"{study} has no axes")
                raise _error(cfg, [*path, key], f"unknown setting (known: {'; '.join(known)})")

    for name, settings in cfg["figures"].items():
        path: KeyPath = ["figures", name]
        if not isinstance(settings, dict):
            if name not in SHARED_SETTINGS:
                raise _error(cfg, path, f"unknown shared figure setting (known: "
                                        f"{', '.join(SHARED_SETTINGS)}; a figure's settings "
                                        "go under its name)")
        elif name == "overview":
            for study, fixed in settings.items():
                check_study([*path, study], study)
                if not isinstance(fixed, dict):
                    raise _error(cfg, [*path, study], "expected a mapping from axes of the "
                                                      f"study to values, got {_show(fixed)}")
                check_axes([*path, study], fixed, study, [])
        elif name not in FIGURES:
            raise _error(cfg, path, f"unknown figure (known: {', '.join(FIGURES)}, overview)")
        else:
            if "study" not in settings:
                raise _error(cfg, path, "missing key 'study' (the study the figure draws)")
            check_study([*path, "study"], settings["study"])
            check_axes(path, settings, settings["study"],
                       ["study", *SHARED_SETTINGS, *figure_options(name)])


def _check_sweep(cfg: dict[str, Any], base: KeyPath, study: dict[str, Any],
                 lengths: Mapping[str, int]) -> None:
    """A swept axis must be an axis of the study that the steady state depends on."""
    axis = study["sweep"]["axis"]
    lead_damping = bool(study["model"].get("lead_damping", cfg["model"]["lead_damping"]))
    steady = [name for name in lengths
              if name in stage_parameters("steady_state", lead_damping)]
    if axis not in lengths:
        reason = f"{axis!r} is not an axis of this study (axes: {', '.join(lengths) or 'none'})"
    elif axis not in steady:
        reason = (f"{axis!r} does not act on the magnet, so nothing to sweep (the steady "
                  f"state's axes: {', '.join(steady) or 'none'})")
    else:
        return
    raise _error(cfg, [*base, "sweep", "axis"], reason)


def _check_axis(cfg: dict[str, Any], where: KeyPath, key: str, spec: dict[str, Any]) -> int:
    """Check an axis spec (already schema-valid); return its length."""
    if "values" in spec:
        values = spec["values"]
        for i, v in enumerate(values):
            _check_finite(cfg, [*where, "values", i], v)
            _check_bound(cfg, [*where, "values", i], key, v)
            if i and not v > values[i - 1]:
                raise _error(cfg, [*where, "values", i],
                         f"values must be strictly increasing, but {_show(v)} "
                                  f"follows {_show(values[i - 1])}")
        return len(values)
    start, step, num = spec["start"], spec["step"], spec["num"]
    _check_finite(cfg, [*where, "start"], start)
    _check_finite(cfg, [*where, "step"], step)
    _check_bound(cfg, [*where, "start"], key, start)
    last = float(start) + float(step) * (num - 1)  # the same arithmetic as the coordinates
    if not math.isfinite(last):
        raise _error(cfg, [*where, "num"],
                         f"the last point start + step*(num-1) overflows to {last}")
    # Rounding each point to ~1 ulp of the largest |coordinate| keeps them strictly monotonic
    # as long as the step exceeds a few ulps.
    if num > 1 and abs(step) <= 8 * np.spacing(max(abs(float(start)), abs(last))):
        raise _error(cfg, [*where, "step"],
                         f"too small for start {_show(start)}: coordinates would repeat")
    reason = _bound_violation(key, last)
    if reason:
        raise _error(cfg, where,
                         f"{reason} at every point, but the last point start + step*"
                          f"{num - 1} is {last!r}")
    return int(num)


def _bound_violation(key: str, value: float) -> str | None:
    return MODEL_PARAMETERS[key].violation(value)


def _check_bound(cfg: dict[str, Any], path: KeyPath, key: str, value: Any) -> None:
    reason = _bound_violation(key, value)
    if reason:
        raise _error(cfg, path, f"{reason}, got {_show(value)}")


def _check_finite(cfg: dict[str, Any], path: KeyPath, value: Any) -> None:
    if isinstance(value, bool) or value is None:
        return
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise _error(cfg, path, f"must be finite, got {_show(value)}")


# ----------------------------------------------------------------------------------------------
# Normalization and coordinates


def _number(value: Any) -> float | bool | None:
    return value if value is None or isinstance(value, bool) else float(value)


def _normalize(cfg: dict[str, Any]) -> dict[str, Any]:
    defaults = {k: _number(cfg["model"][k]) for k in PARAMETERS}
    out_studies: dict[str, Any] = {}
    for name, study in cfg["studies"].items():
        axes: dict[str, dict[str, Any]] = {}
        for key, spec in study["axes"].items():
            if "values" in spec:
                axes[key] = {"values": [float(v) for v in spec["values"]]}
            else:
                axes[key] = {"start": float(spec["start"]), "step": float(spec["step"]),
                             "num": int(spec["num"])}
        merged = {**defaults, **{k: _number(v) for k, v in study["model"].items()}}
        lengths = {k: len(a["values"]) if "values" in a else a["num"] for k, a in axes.items()}
        out_studies[name] = {
            "model": {k: merged[k] for k in PARAMETERS if k not in axes},
            "axes": axes,
            "chunks": resolve_chunks(lengths, {k: int(v) for k, v in study["chunks"].items()}),
            **{option: study[option] for option in STUDY_OPTIONS},
            "sweep": study.get("sweep") and {"axis": study["sweep"]["axis"]},
        }
    return {
        "model": defaults,
        "studies": out_studies,
        "dask": {"address": cfg["dask"]["address"]},
        "cache": {"dir": cfg["cache"]["dir"]},
        "limits": {k: int(v) for k, v in cfg["limits"].items()},
        "figures": cfg["figures"],
    }


# ----------------------------------------------------------------------------------------------
# Helpers: plain copies, key paths, values in messages


def _error(cfg: Any, path: Sequence[Any], reason: str) -> ConfigError:
    """A :class:`ConfigError` for the key path ``path`` of ``cfg``."""
    return ConfigError(_format_path(cfg, path), reason, path)


def _plain(obj: Any) -> Any:
    """Deep copy with every mapping a dict and every list or tuple a list."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return copy.deepcopy(obj)


def _walk(cfg: Any, path: Sequence[Any]) -> Iterable[tuple[Any, Any]]:
    """Yield ``(container, key)`` along a key path (container None once the path leaves cfg)."""
    node = cfg
    for key in path:
        yield node, key
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def _format_path(cfg: Any, path: Sequence[Any]) -> str:
    """Render a key path as ``a.b.c[2]``; odd keys are quoted."""
    text = ""
    for node, key in _walk(cfg, path):
        if isinstance(node, list) and isinstance(key, int):
            text += f"[{key}]"
        else:
            shown = key if isinstance(key, str) and _PLAIN_KEY.match(key) else repr(key)
            text += f".{shown}" if text else shown
    return text or "config"


def _order(cfg: Any, path: Sequence[Any]) -> tuple[int, tuple[int, ...]]:
    """Sort key of a problem: shallow first, then in document order."""
    positions = []
    for node, key in _walk(cfg, path):
        if isinstance(node, dict):
            keys = list(node)
            positions.append(keys.index(key) if key in keys else len(keys))
        else:
            positions.append(key if isinstance(key, int) else 0)
    return len(path), tuple(positions)


def _show(value: Any) -> str:
    """A value as it would be written in YAML, short and on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
