"""Benchmarks of fmrnoise (issues 5 and 17): ``make bench`` runs ``python -m benchmarks``.

- :mod:`benchmarks.baseline`: a per-point baseline written as a physicist would in a notebook
  (a loop over points, ``scipy.optimize.brentq`` for theta, ``scipy.integrate.quad`` for the noise
  integral of docs/theory.md §6), timed on a subset of the same points as fmrnoise;
- :mod:`benchmarks.kernels`: throughput of the physics kernels and of each pipeline stage's chunk
  function, on one core and on two; the noise stage with C3 and with hot electrons;
- :mod:`benchmarks.bifurcations`: boundaries against steady_states, sweeps;
- :mod:`benchmarks.pipeline`: the Snakemake workflow end to end on
  ``config/phase_diagram_large.yaml`` and its scaling with the grid size, its boundaries store,
  reruns included;
- :mod:`benchmarks.defaults`: ``make run`` of the default studies, cold and with nothing to do,
  against the floor of its jobs' start-ups;
- :mod:`benchmarks.codecs`: Zarr codecs on the grid stores of a default run;
- :mod:`benchmarks.scaleout`: the large study on a local dask.distributed cluster against
  threads, and a cost model for 1e9 points on N workers;
- :mod:`benchmarks.breakdown`: where a stage's time goes (physics, encoding and writing, cache).

Every table is printed with the machine, the date and the versions (:mod:`benchmarks.machine`);
``python -m benchmarks --full`` also writes ``benchmarks/RESULTS.md``. Not part of the tests.
"""
