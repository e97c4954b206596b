"""Benchmarks of fmrnoise (issue 5): ``make bench`` runs ``python -m benchmarks``.

- :mod:`benchmarks.baseline`: a per-point baseline written as a physicist would in a notebook
  (a loop over points, ``scipy.optimize.brentq`` for theta, ``scipy.integrate.quad`` for the noise
  integral of docs/theory.md §6), timed on a subset of the same points as fmrnoise;
- :mod:`benchmarks.kernels`: throughput of the physics kernels and of each pipeline stage's chunk
  function, on one core and on two;
- :mod:`benchmarks.pipeline`: the Snakemake workflow end to end on
  ``config/phase_diagram_large.yaml`` and its scaling with the grid size, reruns included.

Every table is printed with the machine, the date and the versions (:mod:`benchmarks.machine`);
``python -m benchmarks --full`` also writes ``benchmarks/RESULTS.md``. Not part of the tests.
"""
