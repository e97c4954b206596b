"""From a validated configuration to the specification of each stage of each study."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..plots import FIGURES
from .contract import (
    LINE_STAGES,
    LINE_VARIABLES,
    STAGE_OPTIONS,
    STAGES,
    stage_parameters,
    stage_variables,
)
from .grid import axis_length, grid_text
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
    if stage in LINE_STAGES:
        steady = stage_parameters("steady_state", lead_damping)
        options = {"steady_axes": [name for name in resolved["axes"] if name in steady],
                   **({"sweep": resolved["sweep"]["axis"]} if stage == "sweep" else {})}
    return {
        "study": study,
        "stage": stage,
        "model": {**model, "lead_damping": lead_damping},
        "axes": axes,
        "chunks": {name: int(resolved["chunks"][name]) for name in axes},
        "max_states": int(config["limits"]["max_states"]),
        "options": options,
        "variables": {name: var.to_dict() for name, var in (
            LINE_VARIABLES[stage] if stage in LINE_STAGES
            else stage_variables(stage, options)).items()},
        "versions": library_versions(),
    }


def describe(config: Mapping, source: str, figures: Sequence[str] = ()) -> list[str]:
    """What a run of ``config`` computes: a header, one line per study, the figures.

    Printed before any job runs (also by a dry run) and by ``python -m fmrnoise.pipeline.plan``.
    Each study's line gives its grid and point count, the stores whose grid is smaller (a
    store spans only the axes its stage depends on) and the study's options.

    Parameters
    ----------
    config : a validated configuration.
    source : where the studies come from, for the header.
    figures : the figures the run draws.
    """
    studies = config["studies"]
    lines = []
    for study, resolved in studies.items():
        line = f"  {study}: {grid_text(resolved['axes'])}"
        smaller: dict[str, list[str]] = {}
        for stage in STAGES:
            axes = stage_spec(config, study, stage)["axes"]
            if len(axes) < len(resolved["axes"]):
                smaller.setdefault(grid_text(axes), []).append(stage)
        for grid, stages in smaller.items():
            line += f"; {', '.join(stages)}: {grid}"
        options = sorted({o for opts in STAGE_OPTIONS.values() for o in opts if resolved.get(o)})
        if options:
            line += f"; options: {', '.join(options)}"
        if resolved.get("sweep"):
            line += f"; swept up and down along {resolved['sweep']['axis']}"
        lines.append(line)
    total = sum(math.prod(map(axis_length, s["axes"].values())) for s in studies.values())
    head = (f"fmrnoise plan: {len(studies)} stud{'ies' if len(studies) != 1 else 'y'}, "
            f"{total} grid points ({source})")
    tail = [f"  figures: {', '.join(figures)}"] if figures else []
    return [head, *lines, *tail]


def run_figures(config: Mapping) -> list[str]:
    """The figures a run of ``config`` draws: its configured figures, and every overview."""
    return [*(name for name in FIGURES if name in config["figures"]), "overview of every study"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fmrnoise.pipeline.plan [--defaults FILE] [CONFIGFILE ...]``: the plan of a
    run with these configuration files (as ``snakemake --configfile``), without Snakemake."""
    import argparse
    import sys

    import yaml

    from .config import ConfigError, resolve

    parser = argparse.ArgumentParser(prog="python -m fmrnoise.pipeline.plan",
                                     description=main.__doc__)
    parser.add_argument("configfiles", nargs="*", help="the user's configuration files")
    parser.add_argument("--defaults", default="config/config.yaml",
                        help="the workflow's defaults (default: %(default)s)")
    args = parser.parse_args(argv)

    def load(path: str) -> dict:
        with open(path, encoding="utf-8") as file:
            return yaml.safe_load(file) or {}

    try:
        layers = [(path, load(path)) for path in args.configfiles]
        config = resolve(load(args.defaults), layers, args.defaults)
    except ConfigError as err:
        print(f"Invalid configuration: {err}", file=sys.stderr)
        return 1
    except (OSError, yaml.YAMLError) as err:  # a missing file, or not YAML
        print(f"Invalid configuration file: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    print("\n".join(describe(config, source_text(layers, args.defaults),
                             run_figures(config))))
    return 0


def source_text(layers: Sequence[tuple[str, Mapping]], defaults: str) -> str:
    """Where a run's studies come from, for the plan's header."""
    own = [name for name, layer in layers if "studies" in layer]
    if own:
        return f"studies of {', '.join(own)}; the default studies do not run"
    return f"the default studies of {defaults}"


if __name__ == "__main__":
    raise SystemExit(main())
