"""From a validated configuration to the specification of each stage of each study."""

from __future__ import annotations

from collections.abc import Mapping

from .contract import STAGE_OPTIONS, stage_parameters, stage_variables
from .sources import library_versions


def _plain(value: object) -> object:
    """Plain Python scalar (no NumPy types: their repr would change Snakemake's params hash)."""
    if value is None or isinstance(value, bool | str):
        return value
    return float(value)


def stage_spec(config: Mapping, study: str, stage: str) -> dict:
    """The part of ``config`` that ``stage`` of ``study`` depends on, as plain Python values.

    This is what the stage's rule receives as ``params``: a change in it, and only in it,
    reruns the stage. ``config`` is a validated configuration (``fmrnoise.pipeline.config.
    validate``: defaults filled in, chunks resolved). Besides the stage's parameters, axes and
    chunks it holds the study's options that the stage reads, the variables it stores (from the
    data contract) and the versions of the numeric libraries.
    """
    resolved = config["studies"][study]
    lead_damping = bool(resolved["model"]["lead_damping"])
    parameters = stage_parameters(stage, lead_damping)
    axes = {name: dict(resolved["axes"][name]) for name in resolved["axes"]
            if name in parameters}
    model = {name: _plain(resolved["model"][name]) for name in parameters if name not in axes}
    options = {name: bool(resolved[name]) for name in STAGE_OPTIONS.get(stage, ())}
    return {
        "study": study,
        "stage": stage,
        "model": {**model, "lead_damping": lead_damping},
        "axes": axes,
        "chunks": {name: int(resolved["chunks"][name]) for name in axes},
        "max_states": int(config["limits"]["max_states"]),
        "options": options,
        "variables": {name: var.to_dict()
                      for name, var in stage_variables(stage, options).items()},
        "versions": library_versions(),
    }
