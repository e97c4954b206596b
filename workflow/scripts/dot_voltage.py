"""Stage dot_voltage of one study: chunks computed with Dask, cached, written to Zarr."""

from fmrnoise.pipeline.logs import log_to
from fmrnoise.pipeline.runner import run_stage

log_to(snakemake.log[0])
run_stage(
    snakemake.params.spec,
    snakemake.output.store,
    cache_dir=snakemake.config["cache"]["dir"],
    upstream=snakemake.input.steady_state,
    threads=snakemake.threads,
    dask_address=snakemake.config["dask"]["address"],
    record=snakemake.log[0].removesuffix(".log") + ".params.json",
)
