"""Compute one stage of one study and write its Zarr store (the stage named by its spec).

Grid stages compute their chunks (fmrnoise.pipeline.runner); the line stages, boundaries and
sweep, follow the states along grid lines (fmrnoise.pipeline.lines). Both run the work with
Dask, cache it by content and log to the rule's log.
"""

from fmrnoise.pipeline.contract import LINE_STAGES
from fmrnoise.pipeline.logs import log_to

spec = snakemake.params.spec
if spec["stage"] in LINE_STAGES:
    from fmrnoise.pipeline.lines import run_line_stage as run
else:
    from fmrnoise.pipeline.runner import run_stage as run

log_to(snakemake.log[0])
run(
    spec,
    snakemake.output.store,
    cache_dir=snakemake.config["cache"]["dir"],
    upstream=snakemake.input.get("steady_state"),
    threads=snakemake.threads,
    dask_address=snakemake.config["dask"]["address"],
    record=snakemake.log[0].removesuffix(".log") + ".params.json",
)
