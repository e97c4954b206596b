# Helpers shared by the rule files (no rules here).
import math
import os
import sys
from pathlib import Path

from snakemake.common.configfile import load_configfile

from fmrnoise.pipeline.config import (
    CHUNK_POINTS,
    ConfigError,
    command_line_values,
    resolve,
)
from fmrnoise.pipeline.contract import LINE_STAGES, STAGES
from fmrnoise.pipeline.grid import axis_length
from fmrnoise.pipeline.logs import OutputError, check_locations
from fmrnoise.pipeline.plan import describe, run_figures, source_text, stage_spec
from fmrnoise.pipeline.sources import closure, stage_sources

# The workflow's defaults (config/config.yaml) are merged here rather than by a `configfile:`
# directive: a user configuration that defines `studies` replaces the default studies instead
# of being deep-merged into them (fmrnoise.pipeline.config.resolve): Snakemake's `config` holds
# only what the user gave, the --configfile files and the --config pairs.
DEFAULTS_FILE = Path(workflow.basedir) / "config" / "config.yaml"
LAYERS = [*((os.path.relpath(path), load_configfile(path))
            for path in workflow.config_settings.configfiles),
          *([("--config", command_line_values(dict(workflow.config_settings.config)))]
            if workflow.config_settings.config else [])]

try:
    VALID = resolve(load_configfile(DEFAULTS_FILE), LAYERS, os.path.relpath(DEFAULTS_FILE))
except ConfigError as err:
    sys.exit(f"Invalid configuration: {err}")

# Settings that must not trigger reruns are read by the scripts from `config` on purpose.
config["dask"] = VALID["dask"]
config["cache"] = VALID["cache"]

STUDIES = list(VALID["studies"])

# An output location that cannot be written (e.g. `results` is a regular file) stops the run
# here with one line; Snakemake itself would fail later with a traceback.
try:
    check_locations([
        *(f"results/{part}{study}" for study in STUDIES for part in ("", "logs/")),
        "results/figures",
        "results/logs/figures",
        VALID["cache"]["dir"],
    ])
except OutputError as err:
    sys.exit(f"Unwritable output location: {err}")


wildcard_constraints:
    study="|".join(STUDIES),


def stage_modules(stage):
    """Source files a stage executes (its own and its runner's, which moves chunks and
    computes no value): listed as inputs, so a code edit reruns the stage
    (fmrnoise.pipeline.sources; the chunk keys hash the stage's own)."""
    runner = "fmrnoise.pipeline." + ("lines" if stage in LINE_STAGES else "runner")
    return sorted({str(path) for path in (*stage_sources(stage), *closure(runner))})


def stage_params(stage):
    """The stage's own part of the config, as plain Python values."""
    return lambda wildcards: stage_spec(VALID, wildcards.study, stage)


def stage_threads(stage):
    """Threads of a stage's job: one per 2**16 grid points (a sweep: one per line) up to every
    core, so that the jobs of small studies run side by side instead of each holding every
    core."""
    def threads(wildcards):
        spec = stage_spec(VALID, wildcards.study, stage)
        points = math.prod(axis_length(axis) for axis in spec["axes"].values())
        if stage == "sweep":
            units = points // axis_length(spec["axes"][spec["options"]["sweep"]])
        else:
            units = -(-points // CHUNK_POINTS)
        return max(1, min(workflow.cores, units))
    return threads


def store(study, stage):
    return f"results/{study}/{stage}.zarr"


def line_stages(study):
    """The line stages a study runs: boundaries with a steady-state axis, sweep on request."""
    spec = stage_spec(VALID, study, "boundaries")
    return [stage for stage, runs in (("boundaries", bool(spec["axes"])),
                                      ("sweep", VALID["studies"][study]["sweep"] is not None))
            if runs]


def all_stores():
    return [store(study, stage) for study in STUDIES
            for stage in (*STAGES, *line_stages(study))]
