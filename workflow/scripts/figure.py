"""Draw one figure: fmrnoise.plots.<function>(<stores>, settings), saved as PNG and PDF.

The rule's named inputs other than `code` are Zarr stores, named like the plotting function's
parameters (steady_state, distribution, dot_voltage, noise).
"""

import logging

import xarray as xr

from fmrnoise import plots
from fmrnoise.logs import log_to

log_to(snakemake.log[0])
logger = logging.getLogger("fmrnoise.figure")
paths = {name: path for name, path in snakemake.input.items() if name != "code"}
stores = {name: xr.open_zarr(path).load() for name, path in paths.items()}
draw = getattr(plots, snakemake.params.function)
figure = draw(**stores, settings=snakemake.params.settings)
plots.save(figure, snakemake.output.png, snakemake.output.pdf)
logger.info("%s: drew %s with settings %s", snakemake.params.function,
            ", ".join(paths.values()), snakemake.params.settings)
