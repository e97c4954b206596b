"""Test layers: tests/physics (formulas against reference values and second methods),
tests/pipeline (configuration, stores, cache and runner, in-process) and tests/workflow (the
project as a user meets it: Snakemake end to end, the README's commands, the figures). Modules
that run Snakemake are marked ``slow``; ``make test-fast`` runs everything else."""
