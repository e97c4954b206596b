"""``python -m benchmarks [--full] [--only ...]``: run the benchmarks and print their tables.

Sections: kernels (physics kernels, one core), baseline (against a per-point baseline), stages
(the stages' chunk functions; the noise stage with C3 and with hot electrons), bifurcations,
pipeline (the large study end to end with Snakemake, its boundaries and reruns), defaults
(``make run`` of the default studies: cold, nothing to do, the floor of job start-ups), codecs
(on the grid stores of a default run), cluster (the large study on a local dask.distributed
cluster against threads, and a cost model for 1e9 points), breakdown (where a stage's time
goes: physics against encoding and writing). Every table is printed with the machine, the date
and the versions at the top.

Quick (default): kernels on 65536 points, the baseline on 50 points, the pipeline at 256² and
512², the stage time split and the cluster at 512², bifurcations on the phase diagrams at
101 x 51 and sweeps of 41 points, one cold default run (about ten minutes on a loaded 2-core
machine). ``--full``: larger samples, the baseline on 200 points, the pipeline at 256², 512²,
1024² and 2048² with its reruns at 2048² (least times over 3 to 5 repeats), the stage time
split and the cluster at 2048², bifurcations at the studies' sizes (201 x 101 and 201²) and
sweeps of 201 points, two cold default runs, and the tables written to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import bifurcations, breakdown, codecs, defaults, kernels, machine, pipeline, scaleout

SECTIONS = ("kernels", "baseline", "stages", "bifurcations", "pipeline", "defaults", "codecs",
            "cluster", "breakdown")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full run (see above)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--sizes", help="pipeline grid sizes N (N x N x 2 points), e.g. 256,512")
    parser.add_argument("--scratch", type=Path, help="directory for the pipeline's scratch runs")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    parser.add_argument("--output", type=Path,
                        help="write the tables (Markdown) here; default with --full: "
                             "benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown sections {sorted(unknown)}")
    if args.full:
        n, n_lead, n_quad, n_base, repeat = 2**18, 16384, 16384, 200, 7
        sizes, rerun_size, n_runs = [256, 512, 1024, 2048], 2048, 2
    else:
        n, n_lead, n_quad, n_base, repeat = 2**16, 4096, 4096, 50, 5
        sizes, rerun_size, n_runs = [256, 512], 512, 1
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
        rerun_size = max(sizes)
    output = args.output or (Path(__file__).parent / "RESULTS.md" if args.full else None)

    lines = ["# fmrnoise benchmarks", "", machine.header(), ""]

    def emit(title: str, rows: list[str], note: str | None = None) -> None:
        block = [f"## {title}", "", *rows, ""]
        if note:
            block += [note, ""]
        block += [machine.stamp(), ""]
        lines.extend(block)
        print("\n".join(block), flush=True)

    print("\n".join(lines), flush=True)
    start = time.perf_counter()
    items = None
    if "kernels" in only or "baseline" in only:
        items = kernels.cases(n, n_lead, n_quad)
    if "kernels" in only:
        emit("Physics kernels, one core", kernels.kernel_table(items, repeat),
             "Points/s from the best CPU time of this thread over the repeats (robust against "
             "other processes on a shared machine). A noise, hot_electrons or cumulants point "
             "is one state (theta, phidot); a steady-state point is a grid point with all its "
             "states. The last column is the "
             "bare NumPy evaluation of the closed form on the same points, for scale (the "
             "normal-lead formula, the stable root of the constant-kappa quadratic, the four "
             "coth kernels of a biased state). Targets of issue 17 among them: steady states "
             "with lead damping ≥ 5e5 points/s, the closed-form cumulants ≥ 2e6 states/s, "
             "hot_electrons ≥ 2e5 states/s.")
    if "baseline" in only:
        emit("Versus a per-point baseline (brentq, quad)", kernels.baseline_table(
            items, n_base, repeat),
             "The baseline (benchmarks/baseline.py) loops over points in Python floats: brentq "
             "for theta, quad (1e-10 relative) for the noise integral; its time per point is "
             "measured on the first N points of the same sample, fmrnoise's on all of them. "
             "The last column compares the values on those N points.")
    if "stages" in only:
        emit("Pipeline stages, one chunk of the 2048² phase diagram", kernels.stage_table(
            max(3, repeat // 2)),
             "The chunk functions as the pipeline calls them (points: grid points with 4 "
             "branch slots); 2 threads: a thread pool over 8 chunks.")
        emit("The noise stage: C3 and hot electrons, one core", kernels.noise_stage_table(
            max(3, repeat // 2)),
             "Best CPU time of this thread over the repeats, on the chunk above. Targets "
             "(issue 17): the stage with C3 at most twice fmrnoise.noise alone (what the stage "
             "computed before C3), the closed-form C3 at ≥ 2e6 states/s, the stage with "
             "dot_relaxation: true at ≥ 2e5 states/s, per core.")
    if "bifurcations" in only:
        grids = [(101, 51), (101, 51)] if not args.full else [(201, 101), (201, 201)]
        emit("Bifurcations (boundaries) against steady_states, one core",
             bifurcations.boundaries_table(
                 [("magnetic phase diagram", bifurcations.magnetic(*grids[0])),
                  ("normal-lead phase diagram", bifurcations.normal(*grids[1]))],
                 max(2, repeat // 2)))
        emit("Sweeps: time integrations per jump", bifurcations.sweep_table(
            201 if args.full else 41, [0.01, 0.02, 0.05, 0.08]), bifurcations.NOTE)
    if "pipeline" in only:
        print(f"pipeline runs: {sizes} (this takes a while)", file=sys.stderr, flush=True)
        runs, reruns = pipeline.scaling(sizes, args.scratch, args.keep, rerun_size,
                                        repeats=3 if args.full else 1)
        note = pipeline.linearity(runs)
        if note and 2048 in sizes:
            note += "\n\n" + breakdown.in_process_linearity(512, 2048, args.scratch)
        emit("End to end: config/phase_diagram_large.yaml, snakemake --cores 2",
             pipeline.tables(runs, reruns), note)
    root = Path(tempfile.mkdtemp(prefix="fmrnoise-bench-", dir=args.scratch))
    try:
        results = None
        if "defaults" in only:
            print("default studies: cold run(s) (this takes a while)", file=sys.stderr,
                  flush=True)
            measured = defaults.measure(root / "defaults", repeats=n_runs,
                                        startup_repeats=n_runs + 1)
            results = measured.results
            emit("make run: the default studies, snakemake --cores 2", defaults.table(measured),
                 defaults.NOTE)
        if "codecs" in only:
            if results is None:
                print("codecs: a cold default run for its stores", file=sys.stderr, flush=True)
                results = defaults.cold_results(root / "codecs")
            emit("Codecs on the grid stores of a default run, one core",
                 codecs.codec_table(results, repeat=3 if args.full else 1),
                 "Each chunk encoded and written to a file, then read and decoded, as "
                 "fmrnoise.pipeline.store.write_chunk does (CPU time of this process, least "
                 "over the repeats); the last row through Zarr's array API (wall time: Zarr "
                 "runs its codecs in threads). The stores use zstd level 1 "
                 "(fmrnoise.pipeline.store.COMPRESSOR).")
    finally:
        if args.keep:
            print(f"  scratch directories kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    n_split = max(sizes)
    comparison = None
    if "cluster" in only:
        print(f"cluster: {n_split}² threaded and on a LocalCluster", file=sys.stderr, flush=True)
        comparison = scaleout.compare(n_split, args.scratch, args.keep, repeats=n_runs)
        emit(f"Scale-out: {n_split}² x 2 on a local dask.distributed cluster",
             scaleout.table(comparison),
             "dask: {address: ...} of a LocalCluster(n_workers=2, threads_per_worker=1, "
             "processes=True) started by the benchmark, against the default Dask threads in "
             "each stage job; the four grid stores, snakemake --cores 2, cold runs.")
    if "breakdown" in only or comparison is not None:
        # last: it wraps functions of the pipeline modules in this process
        split = breakdown.measure(n_split, args.scratch, grown="breakdown" in only)
        if "breakdown" in only:
            for label, splits in split:
                emit(f"Where a stage's time goes, {n_split}² x 2, {label}, one thread (CPU "
                     f"seconds)", breakdown.rows(splits))
            lines.extend([breakdown.NOTE, ""])
            print(breakdown.NOTE, "", sep="\n", flush=True)
        if comparison is not None:
            table, note = scaleout.cost_model(split[0][1], comparison.cluster_16.wall,
                                              f"{n_split}² x 2")
            emit("Cost model: 1e9 points on N workers", table, note)
    lines.append(f"Total benchmark time: {time.perf_counter() - start:.0f} s; load average at "
                 f"the end: {machine.load_average()}.")
    print(lines[-1])
    if output is not None:
        output.write_text("\n".join(lines) + "\n")
        print(f"written to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
