"""Publication figures from the pipeline's Zarr stores, one module per figure.

Each module ``fmrnoise.plots.<figure>`` defines ``TITLE`` and ``draw(<stores>, settings)``: its
positional parameters are named after the stores it reads (``steady_state``, ``distribution``,
``dot_voltage``, ``noise``, ...), each an :class:`xarray.Dataset`, and ``settings`` is a mapping
of figure-only settings; it returns a :class:`matplotlib.figure.Figure`. The workflow's rule
``figure_<figure>`` calls it and lists the module's import closure as its code inputs, so an edit
of one figure reruns that figure alone. Shared helpers and the style live in
:mod:`fmrnoise.plots.style`.
"""

import importlib

#: The figures of the default studies, in the order of the report (``figure_<name>`` rules);
#: besides them, every study gets its ``overview``.
FIGURES = ("precession_angle", "fmr_line", "field_swept_fmr", "temperature_crossover",
           "drive_power", "dot_distribution", "phase_diagram", "phase_diagram_magnetic",
           "magnetic_noise", "hysteresis", "bias_sweep", "thermal_bias", "counting_statistics",
           "energy_relaxation")
#: Settings directly under ``figures:`` that every figure shares (a figure's own setting wins).
SHARED_SETTINGS = ("B0_GHz",)


def figure_options(name: str) -> tuple[str, ...]:
    """The settings of figure ``name`` besides ``study``, the shared ones and the axes of its
    study, which fix an axis it does not draw (the module's ``OPTIONS``, imported on use)."""
    return importlib.import_module(f"{__name__}.{name}").OPTIONS
