"""Publication figures from the pipeline's Zarr stores, one module per figure.

Each module ``fmrnoise.plots.<figure>`` defines ``TITLE`` and ``draw(<stores>, settings)``: its
positional parameters are named after the stores it reads (``steady_state``, ``distribution``,
``dot_voltage``, ``noise``, ...), each an :class:`xarray.Dataset`, and ``settings`` is a mapping
of figure-only settings; it returns a :class:`matplotlib.figure.Figure`. The workflow's rule
``figure_<figure>`` calls it and lists the module's import closure as its code inputs, so an edit
of one figure reruns that figure alone. Shared helpers and the style live in
:mod:`fmrnoise.plots.style`.
"""
