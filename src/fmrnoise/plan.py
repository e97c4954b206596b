"""From a validated configuration to the specification of each stage of each study."""

from __future__ import annotations

from collections.abc import Mapping

from .contract import stage_parameters


def _plain(value: object) -> object:
    """Plain Python scalar (no NumPy types: their repr would change Snakemake's params hash)."""
    if value is None or isinstance(value, bool | str):
        return value
    return float(value)


def stage_spec(config: Mapping, study: str, stage: str) -> dict:
    """The part of ``config`` that ``stage`` of ``study`` depends on, as plain Python values.

    This is what the stage's rule receives as ``params``: a change in it, and only in it,
    reruns the stage. ``config`` is a validated configuration (``fmrnoise.config.validate``:
    defaults filled in, chunks resolved).
    """
    resolved = config["studies"][study]
    lead_damping = bool(resolved["model"]["lead_damping"])
    parameters = stage_parameters(stage, lead_damping)
    axes_spec = config["studies"][study]["axes"]
    axes = {name: dict(axes_spec[name]) for name in axes_spec if name in parameters}
    model = {name: _plain(resolved["model"][name]) for name in parameters if name not in axes}
    return {
        "study": study,
        "stage": stage,
        "model": {**model, "lead_damping": lead_damping},
        "axes": axes,
        "chunks": {name: int(resolved["chunks"][name]) for name in axes},
        "max_states": int(config["limits"]["max_states"]),
        "quadrature": bool(resolved["quadrature"]) if stage == "noise" else False,
    }
