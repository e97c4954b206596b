"""From a validated configuration to the specification of each stage of each study."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .contract import STAGE_OPTIONS, STAGES, stage_parameters, stage_variables
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


def grid_text(axes: Mapping[str, Mapping]) -> str:
    """A grid as ``omega_d 1201 × Omega 5 = 6005 points`` (``1 point`` without axes)."""
    lengths = {name: len(axis["values"]) if "values" in axis else int(axis["num"])
               for name, axis in axes.items()}
    size = math.prod(lengths.values())
    points = f"{size} point{'s' if size != 1 else ''}"
    if not lengths:
        return points
    return " × ".join(f"{name} {n}" for name, n in lengths.items()) + f" = {points}"


def describe(config: Mapping, figures: Sequence[str] = ()) -> list[str]:
    """What a run of ``config`` computes, one line per study (printed before any job runs).

    Each line gives the study's grid and point count, the stores whose grid is smaller (a
    store spans only the axes its stage depends on) and the study's options; ``figures`` are
    the figures the run draws.
    """
    studies = config["studies"]
    lines = []
    for study, resolved in studies.items():
        line = f"  {study}: {grid_text(resolved['axes'])}"
        smaller = {}
        for stage in STAGES:
            axes = stage_spec(config, study, stage)["axes"]
            if len(axes) < len(resolved["axes"]):
                smaller.setdefault(grid_text(axes), []).append(stage)
        for grid, stages in smaller.items():
            line += f"; {', '.join(stages)}: {grid}"
        options = [name for name in sorted({o for opts in STAGE_OPTIONS.values() for o in opts})
                   if resolved.get(name)]
        if options:
            line += f"; options: {', '.join(options)}"
        lines.append(line)
    total = sum(math.prod(len(a["values"]) if "values" in a else int(a["num"])
                          for a in s["axes"].values()) for s in studies.values())
    head = (f"fmrnoise plan: {len(studies)} stud{'ies' if len(studies) != 1 else 'y'}, "
            f"{total} grid points")
    tail = [f"  figures: {', '.join(figures)}"] if figures else []
    return [head, *lines, *tail]


def spec_changes(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    """What differs between two stage specifications, one ``key: old → new`` per leaf.

    A stage's log names these when the stage reruns because its parameters changed (Snakemake
    removes the old store before the job: the previous specification is kept beside the log).
    A mapping that appears or disappears as a whole is named, not expanded.
    """
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        name = f"{prefix}{key}"
        if key not in new:
            lines.append(f"{name}: removed")
        elif key not in old:
            lines.append(f"{name}: added" if isinstance(new[key], Mapping)
                         else f"{name}: added, {new[key]!r}")
        elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
            lines.extend(spec_changes(old[key], new[key], f"{name}."))
        elif old[key] != new[key]:
            lines.append(f"{name}: {old[key]!r} → {new[key]!r}")
    return lines
