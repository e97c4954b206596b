"""Draw one figure: fmrnoise.plots.<function>.draw(<stores>, settings), saved as PNG and PDF.

The rule's named inputs other than `code` are Zarr stores, named like the plotting function's
parameters (steady_state, distribution, dot_voltage, noise).
"""

import importlib
import logging

import xarray as xr

from fmrnoise.pipeline.logs import log_to
from fmrnoise.plots.style import save

log_to(snakemake.log[0])
logger = logging.getLogger("fmrnoise.figure")
paths = {name: path for name, path in snakemake.input.items() if name != "code"}
module = importlib.import_module(f"fmrnoise.plots.{snakemake.params.function}")
# a module that reads only what it draws (LAZY) gets the stores unread: studies can be large
# (chunks=None: xarray's lazy arrays, without building Dask graphs)
lazy = getattr(module, "LAZY", False)
stores = {name: xr.open_zarr(path, chunks=None) for name, path in paths.items()}
stores = stores if lazy else {name: ds.load() for name, ds in stores.items()}
figure = module.draw(**stores, settings=snakemake.params.settings)
save(figure, snakemake.output.png, snakemake.output.pdf)
logger.info("%s: drew %s with settings %s", snakemake.params.function,
            ", ".join(paths.values()), snakemake.params.settings)
