# Helpers shared by the rule files (no rules here).
import sys
from pathlib import Path

from fmrnoise.config import ConfigError, validate
from fmrnoise.contract import PHYSICS_MODULES, PIPELINE_MODULES, STAGES
from fmrnoise.logs import OutputError, check_locations
from fmrnoise.plan import stage_spec

try:
    VALID = validate(config)
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
SRC = Path(workflow.basedir) / "src" / "fmrnoise"


wildcard_constraints:
    study="|".join(STUDIES),


def stage_modules(stage):
    """Source files a stage executes: listed as inputs, so a code edit reruns the stage."""
    names = sorted(set(PHYSICS_MODULES[stage]) | set(PIPELINE_MODULES))
    return [str(SRC / f"{name}.py") for name in names]


def stage_params(stage):
    """The stage's own part of the config, as plain Python values."""
    return lambda wildcards: stage_spec(VALID, wildcards.study, stage)


def store(study, stage):
    return f"results/{study}/{stage}.zarr"


def all_stores():
    return [store(study, stage) for study in STUDIES for stage in STAGES]
