"""Figure: FMR line (theta and excess noise against the drive frequency)."""

import xarray as xr

from fmrnoise.logs import log_to
from fmrnoise.plots import fmr_line, save

log_to(snakemake.log[0])
steady = xr.open_zarr(snakemake.input.steady_state).load()
noise = xr.open_zarr(snakemake.input.noise).load()
save(fmr_line(steady, noise, snakemake.params.settings), snakemake.output.png, snakemake.output.pdf)
