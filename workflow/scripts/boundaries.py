"""Stage boundaries of one study: folds and Hopf points along every steady-state axis."""

from fmrnoise.pipeline.lines import run_line_stage
from fmrnoise.pipeline.logs import log_to

log_to(snakemake.log[0])
run_line_stage(
    snakemake.params.spec,
    snakemake.output.store,
    cache_dir=snakemake.config["cache"]["dir"],
    upstream=snakemake.input.steady_state,
    threads=snakemake.threads,
    dask_address=snakemake.config["dask"]["address"],
    record=snakemake.log[0].removesuffix(".log") + ".params.json",
)
