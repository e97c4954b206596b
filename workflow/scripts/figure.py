"""Draw one figure: fmrnoise.plots.<function>.draw(<stores>, settings), saved as PNG and PDF.

The rule's named inputs other than `code` and `template` are Zarr stores, named like the plotting
function's parameters (steady_state, distribution, dot_voltage, noise). With an output
`caption`, the caption template (input `template`, workflow/report/<name>.rst) is rendered with
the numbers the figure quoted while drawing (`{{ numbers.<name> }}`, computed from the stores)
and this job's `snakemake` object: the caption the report shows.
"""

import importlib
import logging
from pathlib import Path

import xarray as xr

from fmrnoise.pipeline.logs import log_to
from fmrnoise.plots.style import render_caption, save

log_to(snakemake.log[0])
logger = logging.getLogger("fmrnoise.figure")
paths = {name: path for name, path in snakemake.input.items() if name not in ("code", "template")}
module = importlib.import_module(f"fmrnoise.plots.{snakemake.params.function}")
# a module that reads only what it draws (LAZY) gets the stores unread: studies can be large
# (chunks=None: xarray's lazy arrays, without building Dask graphs)
lazy = getattr(module, "LAZY", False)
stores = {name: xr.open_zarr(path, chunks=None) for name, path in paths.items()}
stores = stores if lazy else {name: ds.load() for name, ds in stores.items()}
figure = module.draw(**stores, settings=snakemake.params.settings)
save(figure, snakemake.output.png, snakemake.output.pdf)
numbers = getattr(figure, "numbers", {})
if "caption" in snakemake.output.keys():
    template = Path(snakemake.input.template).read_text(encoding="utf-8")
    text = render_caption(template, numbers, snakemake=snakemake)
    Path(snakemake.output.caption).write_text(text, encoding="utf-8")
logger.info("%s: drew %s with settings %s; quoted %s", snakemake.params.function,
            ", ".join(paths.values()), snakemake.params.settings, numbers)
