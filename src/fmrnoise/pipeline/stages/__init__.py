"""The physics of one pipeline chunk, one module per stage.

Each module ``fmrnoise.pipeline.stages.<stage>`` defines

- ``UPSTREAM``: the steady-state variables the stage reads (empty for the steady state itself);
- ``compute(model, upstream, max_states, options)``: the stage's variables on one chunk of the
  grid, as NumPy arrays. ``model`` spans the chunk (shape ``grid``), ``upstream`` holds the
  steady-state arrays of the chunk (shape ``(*grid, branch)``), ``options`` the stage's options
  of the study (e.g. ``quadrature``). No I/O happens here.

A stage's chunk keys and its rule's inputs are the static import closure of its module
(:func:`fmrnoise.pipeline.sources.stage_sources`): keep a stage's physics reachable from its
module by imports, and nothing else.
"""
