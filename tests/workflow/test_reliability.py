"""Reliability (issue 6): killed runs resume, damaged caches, concurrent runs, unwritable disks.

The end-to-end tests run Snakemake as users do, on one small study whose steady-state stage is
slow enough to be killed in the middle: lead damping (the θ-dependent solver) over 64 omega_d
× n Omega values in 16 chunks, n chosen so that a chunk takes about 0.1 s on one core. One
uninterrupted run of it is the reference that every other run must reproduce bit for bit; each
other run has a temporary directory of its own and shares nothing with it (unless it copies
the reference's cache on purpose).

How runs are killed: Snakemake is started in a session (process group) of its own, with its job
script as a child in the same group, like a run started from a terminal. SIGINT goes to the
whole group, as Ctrl-C does; SIGKILL goes to the whole group too, as ``kill -9 -<pgid>``, a
batch system cancelling the job or an out-of-memory killer acting on the job's cgroup do, so
that no orphaned job script keeps writing. A third kind sends SIGKILL to the job script only,
as the kernel's OOM killer does when it picks the largest process. The moment is random: once
the stage's log says "chunks done: k of 16" for a random k (1 to 14), after a random extra
delay of up to 0.1 s (about one chunk).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import psutil
import pytest
import xarray as xr
from store_helpers import assert_stores_identical, edit_manifest
from workflow_helpers import (
    chunk_counts,
    copy_workflow,
    snakemake,
    start_snakemake,
    write_config,
)

from fmrnoise import Model, steady_states
from fmrnoise.pipeline.cache import MANIFEST, ChunkCache
from fmrnoise.pipeline.contract import stage_variables

pytestmark = pytest.mark.slow

STUDY = "kill"
MODEL = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.03, "mu_l": 0.2,
         "gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
OMEGA_D = {"start": -1.3, "step": 0.01, "num": 64}
OMEGA_MAX = 0.32
N_CHUNKS = 16  # of 4 omega_d values and every Omega
STAGE = "steady_state"
TARGET = f"results/{STUDY}/{STAGE}.zarr"
LOG = f"results/logs/{STUDY}/{STAGE}.log"
CACHE = "results/.cache"


@functools.cache
def omega_points(seconds_per_chunk: float = 0.1) -> int:
    """Number of Omega values (0 to OMEGA_MAX) for chunks of about 0.1 s on one core.

    The solver's speed varies with the code and the machine: the trials need chunks slow
    enough to be killed between, and fast enough to keep this module short.
    """
    model = Model(**MODEL, omega_d=np.linspace(-1.3, -0.67, 4)[:, None],
                  Omega=np.linspace(0.0, OMEGA_MAX, 64, endpoint=False))
    steady_states(model)  # warm-up
    start = time.perf_counter()
    steady_states(model)
    per_point = (time.perf_counter() - start) / model.Omega.size / 4
    return int(np.clip(seconds_per_chunk / (4 * per_point), 32, 4096))


def study(**axes: dict) -> dict:
    """The killed study, with some axes replaced."""
    n = omega_points()
    omega = {"start": 0.0, "step": OMEGA_MAX / n, "num": n}
    return {"model": MODEL, "axes": {"omega_d": OMEGA_D, "Omega": omega, **axes},
            "chunks": {"omega_d": 4, "Omega": n}}


def write_study_config(workdir: Path, studies: dict | None = None,
                       cache_dir: str | Path | None = None) -> Path:
    config: dict = {"studies": studies or {STUDY: study()}}
    if cache_dir is not None:
        config["cache"] = {"dir": str(cache_dir)}
    return write_config(workdir / "study.yaml", config)






def cache_entries(cache_dir: Path) -> list[Path]:
    return ChunkCache(cache_dir).entries(STAGE)


def leftovers(workdir: Path) -> list[Path]:
    """Temporary stores beside the target (a killed run's, before the next run)."""
    target = workdir / TARGET
    return sorted(target.parent.glob(f".{target.name}.*"))


def wait_for_line(path: Path, pattern: str, process: subprocess.Popen,
                  timeout: float = 60.0) -> None:
    """Wait until the file ``path`` has a line matching ``pattern``, while ``process`` runs."""
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern, re.M)
    while time.monotonic() < deadline:
        if path.exists() and regex.search(path.read_text(errors="replace")):
            return
        if process.poll() is not None:
            raise AssertionError(f"snakemake ended ({process.returncode}) before "
                                 f"{pattern!r} appeared in {path}")
        time.sleep(0.02)
    raise AssertionError(f"{pattern!r} did not appear in {path} within {timeout} s")


@pytest.fixture(scope="module")
def snakefile(tmp_path_factory) -> Iterator[Path]:
    """A snapshot of the workflow and its sources that every run of this module executes.

    Chunk keys hash the physics sources, so all runs compared with the reference must run the
    same code, even if the working tree is edited while the tests run.
    """
    repo = tmp_path_factory.mktemp("repo")
    snakefile = copy_workflow(repo)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(repo / "src"))
        yield snakefile


@pytest.fixture(scope="module")
def reference(snakefile, tmp_path_factory) -> SimpleNamespace:
    """One uninterrupted run of the study: the store every other run must reproduce."""
    workdir = tmp_path_factory.mktemp("reference")
    config = write_study_config(workdir)
    snakemake(workdir, TARGET, "--configfile", str(config), snakefile=snakefile)
    assert chunk_counts(workdir / LOG) == (N_CHUNKS, 0)
    return SimpleNamespace(workdir=workdir, store=workdir / TARGET, cache=workdir / CACHE,
                           snakefile=snakefile)


# --- 1. Kill and resume -------------------------------------------------------------------

@dataclass(frozen=True)
class Kill:
    """How and when a trial kills the run."""

    signal: signal.Signals
    target: str  # "group": Snakemake's process group; "script": the job script only
    after_chunks: int  # once the log says "chunks done: k of N_CHUNKS"
    delay: float  # and then this many seconds later
    check_lock: bool = False  # also check that the same command is refused before --unlock

    def __str__(self) -> str:
        return (f"{self.signal.name}-{self.target}-after-{self.after_chunks}-chunks"
                f"-{self.delay:.3f}s")


def _kills() -> list[Kill]:
    """10 trials: 4 SIGINT and 4 SIGKILL to the process group, 2 SIGKILL to the job script."""
    kinds = [(signal.SIGINT, "group")] * 4 + [(signal.SIGKILL, "group")] * 4 + [
        (signal.SIGKILL, "script")] * 2
    rng = random.Random(6)
    kills = [Kill(sig, target, rng.randint(1, N_CHUNKS - 2), round(rng.uniform(0.0, 0.1), 3))
             for sig, target in kinds]
    first_sigkill = kinds.index((signal.SIGKILL, "group"))
    kills[first_sigkill] = dataclasses.replace(kills[first_sigkill], check_lock=True)
    return kills


KILLS = _kills()
#: Trials run two at a time, each on one core (one Dask worker): the 16 chunks then take
#: about 2 s, and the stores must still equal the reference computed with two workers.
ONE_CORE = ("--cores", "1")


@dataclass
class Trial:
    """What a trial observed: after the kill, and after resuming with the same command."""

    kill: Kill
    workdir: Path
    returncode: int | None = None
    killed_log: str = ""
    cached: int = -1  # chunk cache entries after the kill
    store_after_kill: bool = False
    lock_refusal: str = ""
    resumed_counts: tuple[int, int] | None = None  # (computed, reused) of the resumed run
    error: BaseException | None = None


def _job_script(process: subprocess.Popen) -> psutil.Process:
    """The running job script among Snakemake's descendants."""
    for child in psutil.Process(process.pid).children(recursive=True):
        if any(".snakemake/scripts/" in part for part in child.cmdline()):
            return child
    raise AssertionError("no job script is running")


def _kill_and_resume(trial: Trial, snakefile: Path) -> Trial:
    """Start the study, kill it as ``trial.kill`` says, resume it as the README says."""
    kill, workdir = trial.kill, trial.workdir
    command = (TARGET, "--configfile", str(write_study_config(workdir)), *ONE_CORE)
    process = start_snakemake(workdir, *command, output=workdir / "killed.out",
                              snakefile=snakefile)
    try:
        wait_for_line(workdir / LOG, rf"chunks done: {kill.after_chunks} of {N_CHUNKS}$",
                      process)
        script = _job_script(process)
        time.sleep(kill.delay)
        assert process.poll() is None, "the run ended before the kill: pick an earlier moment"
        if kill.target == "group":
            os.killpg(process.pid, kill.signal)
        else:
            script.send_signal(kill.signal)
        process.wait(timeout=60)
        script.wait(timeout=60)  # a job script that outlived Snakemake would write on
        trial.returncode = process.returncode
        trial.killed_log = (workdir / LOG).read_text()
        trial.cached = len(cache_entries(workdir / CACHE))
        trial.store_after_kill = (workdir / TARGET).exists()
        if kill.check_lock:
            trial.lock_refusal = snakemake(workdir, *command, snakefile=snakefile,
                                           check=False).stderr
        if kill.target == "group" and kill.signal == signal.SIGKILL:
            snakemake(workdir, "--unlock", *command, snakefile=snakefile)
        snakemake(workdir, *command, snakefile=snakefile)
        trial.resumed_counts = chunk_counts(workdir / LOG)
    except BaseException as err:  # reported by the trial's test
        trial.error = err
    finally:
        if process.poll() is None:  # only after a failure: leave nothing running
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return trial


@pytest.fixture(scope="module")
def trials(reference, tmp_path_factory) -> dict[Kill, Trial]:
    """Every kill-and-resume trial, two at a time (each in a directory of its own)."""
    todo = [Trial(kill, tmp_path_factory.mktemp(f"trial-{kill}")) for kill in KILLS]
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda trial: _kill_and_resume(trial, reference.snakefile), todo)
        return {trial.kill: trial for trial in done}


@pytest.mark.parametrize("kill", KILLS, ids=str)
def test_killed_run_resumes_reuses_finished_chunks_and_matches(kill, trials, reference):
    trial = trials[kill]
    if trial.error is not None:
        raise trial.error
    print(f"{kill}: {trial.cached} of {N_CHUNKS} chunks cached when killed, the same command "
          f"then computed {trial.resumed_counts[0]} and reused {trial.resumed_counts[1]}")
    assert trial.returncode != 0
    assert kill.after_chunks <= trial.cached <= N_CHUNKS, trial.killed_log
    if trial.store_after_kill:  # killed after the store was complete (and renamed)
        assert trial.cached == N_CHUNKS
    if kill.signal == signal.SIGINT:
        # Ctrl-C: one line in the job's log, no traceback; Snakemake removes its lock itself.
        assert "job failed: interrupted" in trial.killed_log or trial.cached == N_CHUNKS
        assert "Traceback" not in trial.killed_log
    if kill.check_lock:
        # Killed Snakemake keeps its lock: the same command is refused until --unlock.
        assert "Directory cannot be locked" in trial.lock_refusal
    assert trial.resumed_counts == (N_CHUNKS - trial.cached, trial.cached)
    assert_stores_identical(trial.workdir / TARGET, reference.store)
    assert leftovers(trial.workdir) == []


# --- 2. Damaged cache ---------------------------------------------------------------------

















#: The damages of the end-to-end test, to one variable's file or to the manifest of an entry.
RUN_DAMAGES = {
    "truncated_file": lambda e: (e / "theta").write_bytes(
        (e / "theta").read_bytes()[: (e / "theta").stat().st_size // 2]),
    "garbage_file": lambda e: (e / "psi").write_bytes(
        random.Random(3).randbytes((e / "psi").stat().st_size)),
    "missing_file": lambda e: (e / "status").unlink(),
    "garbage_manifest": lambda e: (e / MANIFEST).write_bytes(random.Random(4).randbytes(300)),
    "wrong_size_in_manifest": lambda e: edit_manifest(
        e, lambda m: {**m, "det": {**m["det"], "size": m["det"]["size"] - 1}}),
}


def _entry_files(entry: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(entry.iterdir())}


def test_damaged_cache_entries_are_recomputed_in_a_run(reference, tmp_path):
    shutil.copytree(reference.cache, tmp_path / CACHE)  # copies: the reference stays intact
    entries = cache_entries(tmp_path / CACHE)
    assert len(entries) == N_CHUNKS
    damaged = dict(zip(RUN_DAMAGES, entries[::3], strict=False))
    assert len(damaged) == len(RUN_DAMAGES)
    for kind, entry in damaged.items():
        RUN_DAMAGES[kind](entry)

    snakemake(tmp_path, TARGET, "--configfile", str(write_study_config(tmp_path)),
              snakefile=reference.snakefile)
    log = (tmp_path / LOG).read_text()
    assert chunk_counts(tmp_path / LOG) == (len(damaged), N_CHUNKS - len(damaged))
    assert log.count("WARNING fmrnoise.pipeline.runner: damaged cache entry") == len(damaged)
    for entry in damaged.values():
        assert re.search(rf"WARNING fmrnoise.pipeline.runner: damaged cache entry "
                         rf"{re.escape(str(entry))} \(.*\): recomputing\n", log)
    assert_stores_identical(tmp_path / TARGET, reference.store)
    assert cache_entries(tmp_path / CACHE) == entries
    for entry in damaged.values():  # recomputed entries are sound again, as the reference's
        expected = _entry_files(reference.cache / entry.relative_to(tmp_path / CACHE))
        assert _entry_files(entry) == expected
    assert not list((tmp_path / CACHE).rglob("*.tmp"))






# --- 3. Concurrent runs -------------------------------------------------------------------

def _wait_for_lock(workdir: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until the Snakemake run ``process`` holds its lock on ``workdir``."""
    deadline = time.monotonic() + timeout
    while not list((workdir / ".snakemake" / "locks").glob("*.lock")):
        assert process.poll() is None, "snakemake ended before it locked the directory"
        assert time.monotonic() < deadline, "snakemake did not lock the directory"
        time.sleep(0.02)


def test_second_run_in_the_same_directory_is_refused_and_nothing_is_corrupted(reference,
                                                                             tmp_path):
    config = write_study_config(tmp_path)
    command = (TARGET, "--configfile", str(config))
    first = start_snakemake(tmp_path, *command, *ONE_CORE, output=tmp_path / "first.out",
                            snakefile=reference.snakefile)
    try:
        _wait_for_lock(tmp_path, first)  # as early as possible, to refuse while it runs
        second = snakemake(tmp_path, *command, snakefile=reference.snakefile, check=False)
        assert first.poll() is None, "the first run ended before the second was refused"
        assert first.wait(timeout=120) == 0, (tmp_path / "first.out").read_text()[-3000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stderr
    assert "Traceback" not in second.stderr
    assert chunk_counts(tmp_path / LOG) == (N_CHUNKS, 0)
    assert_stores_identical(tmp_path / TARGET, reference.store)


def test_different_studies_sharing_one_cache_concurrently_stay_consistent(reference,
                                                                          tmp_path):
    """Two working directories, one cache; the second study's grid is the first half of the
    first's, so both compute (and race to store) the same 8 entries."""
    shared = tmp_path / "shared_cache"
    half = {**OMEGA_D, "num": OMEGA_D["num"] // 2}
    runs = {}
    for name, studies in (("whole", {STUDY: study()}), ("half", {"half": study(omega_d=half)})):
        workdir = tmp_path / name
        workdir.mkdir()
        config = write_study_config(workdir, studies, cache_dir=shared)
        target = TARGET.replace(STUDY, next(iter(studies)))
        runs[name] = (workdir, target, start_snakemake(
            workdir, target, "--configfile", str(config), output=workdir / "out",
            snakefile=reference.snakefile))
    for workdir, _, process in runs.values():
        assert process.wait(timeout=180) == 0, (workdir / "out").read_text()[-3000:]

    whole_dir, whole_target, _ = runs["whole"]
    half_dir, half_target, _ = runs["half"]
    assert_stores_identical(whole_dir / whole_target, reference.store)
    whole = xr.open_zarr(whole_dir / whole_target).load()
    half_store = xr.open_zarr(half_dir / half_target).load()
    xr.testing.assert_equal(half_store, whole.isel(omega_d=slice(0, half["num"])))
    half_keys = json.loads(half_store.attrs["chunk_keys"])
    whole_keys = json.loads(whole.attrs["chunk_keys"])
    assert len(half_keys) == N_CHUNKS // 2
    assert all(whole_keys[label] == key for label, key in half_keys.items())

    entries = cache_entries(shared)
    assert len(entries) == N_CHUNKS
    assert not list(shared.rglob("*.tmp"))
    cache, names = ChunkCache(shared), list(stage_variables(STAGE))
    for path in entries:
        assert cache.lookup(STAGE, path.name, names) is not None, path


# --- 4. Unwritable or full output location --------------------------------------------------

@pytest.mark.parametrize("blocked", ["results", "cache"])
def test_unwritable_location_is_refused_in_one_line_before_any_job(blocked, snakefile,
                                                                   tmp_path):
    blocker = tmp_path / ("results" if blocked == "results" else "blocker")
    blocker.write_text("a regular file where a directory should be\n")
    cache_dir = None if blocked == "results" else "blocker/cache"
    config = write_study_config(tmp_path, cache_dir=cache_dir)
    result = snakemake(tmp_path, TARGET, "--configfile", str(config), snakefile=snakefile,
                       check=False)
    assert result.returncode != 0
    message = [line for line in result.stderr.splitlines() if "Unwritable" in line]
    assert message == [f"Unwritable output location: cannot write "
                       f"{'results/kill' if blocked == 'results' else 'blocker/cache'}: "
                       f"{blocker} is not a directory"], result.stderr
    assert "Traceback" not in result.stderr
    assert blocker.read_text().startswith("a regular file")


def test_unwritable_cache_in_a_job_fails_in_one_line_and_leaves_no_store(snakefile, tmp_path):
    """A location that breaks only once the job runs: the stage's part of the cache."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / STAGE).write_text("not a directory\n")
    config = write_study_config(tmp_path, cache_dir="cache")
    result = snakemake(tmp_path, TARGET, "--configfile", str(config), snakefile=snakefile,
                       check=False)
    assert result.returncode != 0
    log = (tmp_path / LOG).read_text()
    failure = [line for line in log.splitlines() if "job failed" in line]
    assert len(failure) == 1
    assert re.search(rf"CRITICAL fmrnoise: job failed: cannot write {tmp_path}/cache/"
                     rf"{STAGE}/\w\w: Not a directory$", failure[0]), failure
    assert "Traceback" not in log and "Traceback" not in result.stderr
    assert failure[0].split(" job failed: ")[1] in result.stderr
    assert not (tmp_path / TARGET).exists() and leftovers(tmp_path) == []






























# --- 5. Invalid configs through the CLI (in-process: tests/test_config.py) ------------------

def test_too_large_grid_is_refused_before_any_job_naming_the_key(snakefile, tmp_path):
    """The one kind of invalid config tests/test_workflow.py does not try through the CLI."""
    axis = {"start": 0.0, "step": 0.001, "num": 20000}
    config = write_config(tmp_path / "big.yaml",
                          {"studies": {"big": {"axes": {"omega_d": axis, "Omega": axis}}}})
    result = snakemake(tmp_path, "results/big/noise.zarr", "--configfile", str(config),
                       snakefile=snakefile, check=False)
    assert result.returncode != 0
    assert ("Invalid configuration: studies.big.axes: grid of 20000 x 20000 = 400000000 points "
            "exceeds limits.max_points = 100000000 (in big.yaml)") in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()
