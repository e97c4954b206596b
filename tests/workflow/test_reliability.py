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
import errno
import functools
import hashlib
import inspect
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
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
import zarr
from workflow_helpers import (
    chunk_counts,
    copy_workflow,
    snakemake,
    start_snakemake,
    write_config,
)

from fmrnoise import Model, steady_states
from fmrnoise.pipeline import logs, runner, store
from fmrnoise.pipeline.cache import MANIFEST, ChunkCache, DamagedEntry
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.contract import stage_variables
from fmrnoise.pipeline.logs import OutputError
from fmrnoise.pipeline.plan import stage_spec

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


def store_files(path: Path) -> dict[str, object]:
    """Every file of a store: parsed JSON for metadata, raw bytes for chunks."""
    files = {}
    for file in sorted(path.rglob("*")):
        if file.is_file():
            data = file.read_bytes()
            name = file.relative_to(path).as_posix()
            files[name] = json.loads(data) if file.name == "zarr.json" else data
    return files


def assert_stores_identical(path: Path, reference: Path) -> None:
    """Same files, same metadata and attributes, same chunk bytes: equal bit for bit."""
    files, expected = store_files(path), store_files(reference)
    assert sorted(files) == sorted(expected)
    for name in expected:
        assert files[name] == expected[name], f"{path}: {name} differs"
    xr.testing.assert_identical(xr.open_zarr(path).load(), xr.open_zarr(reference).load())


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

KEY = "ab" * 32
#: The encoded chunk files of a small sound chunk (any bytes do: the cache does not decode).
SOUND = {"theta": np.arange(12.0).tobytes(), "status": bytes([0, 1, 4])}


def _chunk_files(directory: Path) -> dict[str, Path]:
    """New files (new inodes) with the sound chunk's bytes, as a stage writes them."""
    directory.mkdir(exist_ok=True)
    files = {name: directory / name for name in SOUND}
    for name, path in files.items():
        path.unlink(missing_ok=True)
        path.write_bytes(SOUND[name])
    return files


def _edit_manifest(entry: Path, edit) -> None:
    path = entry / MANIFEST
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[17] ^= 0x10
    path.write_bytes(bytes(data))


def _changed_in_place(entry: Path, sources: dict[str, Path]) -> None:
    """The store's file (the same inode as the entry's, where linked) rewritten in place."""
    source, target = sources["theta"], entry / "theta"
    with (source if source.samefile(target) else target).open("r+b") as file:
        file.write(b"\xff" * 8)
    assert target.read_bytes() != SOUND["theta"]


#: Damages to an entry, in place (files of the entry: ``entry / name``); each takes the entry
#: directory and the store files the entry was saved from.
DAMAGES = {
    "truncated": lambda e, s: (e / "theta").write_bytes((e / "theta").read_bytes()[:50]),
    "empty": lambda e, s: (e / "theta").write_bytes(b""),
    "garbage": lambda e, s: (e / "theta").write_bytes(random.Random(3).randbytes(96)),
    "one_bit_flipped": lambda e, s: _flip_a_bit(e / "theta"),
    "missing_file": lambda e, s: (e / "status").unlink(),
    "changed_in_place": _changed_in_place,
    "extra_variable_in_manifest": lambda e, s: _edit_manifest(
        e, lambda m: {**m, "psi": m["status"]}),
    "missing_variable_in_manifest": lambda e, s: _edit_manifest(
        e, lambda m: {"theta": m["theta"]}),
    "manifest_missing": lambda e, s: (e / MANIFEST).unlink(),
    "manifest_empty": lambda e, s: (e / MANIFEST).write_bytes(b""),
    "manifest_garbage": lambda e, s: (e / MANIFEST).write_bytes(random.Random(4).randbytes(99)),
    "manifest_not_a_dict": lambda e, s: (e / MANIFEST).write_text(json.dumps(["theta",
                                                                              "status"])),
    "manifest_record_not_a_dict": lambda e, s: _edit_manifest(e, lambda m: {**m, "theta": 96}),
    "manifest_wrong_size": lambda e, s: _edit_manifest(
        e, lambda m: {**m, "theta": {**m["theta"], "size": m["theta"]["size"] + 8}}),
    "manifest_wrong_digest": lambda e, s: _edit_manifest(
        e, lambda m: {**m, "theta": {**m["theta"], "sha256": m["status"]["sha256"]}}),
}


def _assert_sound(cache: ChunkCache, stage: str, key: str) -> None:
    files = cache.lookup(stage, key, list(SOUND))
    assert files == {name: cache.path(stage, key) / name for name in SOUND}
    assert {name: path.read_bytes() for name, path in files.items()} == SOUND


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_cache_entry_is_detected_and_recomputed(damage, tmp_path):
    cache = ChunkCache(tmp_path / "cache")
    sources = _chunk_files(tmp_path / "store")
    cache.save(STAGE, KEY, sources)
    _assert_sound(cache, STAGE, KEY)
    entry = cache.path(STAGE, KEY)
    assert cache.entries(STAGE) == [entry]
    assert json.loads((entry / MANIFEST).read_text()) == {
        name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in SOUND.items()}

    DAMAGES[damage](entry, sources)
    with pytest.raises(DamagedEntry, match=rf"^damaged cache entry {re.escape(str(entry))} \("):
        cache.lookup(STAGE, KEY, list(SOUND))

    # What the runner does next: compute the chunk, write its files anew, save them.
    cache.save(STAGE, KEY, _chunk_files(tmp_path / "store"))
    _assert_sound(cache, STAGE, KEY)
    assert cache.entries(STAGE) == [entry]
    assert not list(cache.root.rglob("*.tmp"))


#: The damages of the end-to-end test, to one variable's file or to the manifest of an entry.
RUN_DAMAGES = {
    "truncated_file": lambda e: (e / "theta").write_bytes(
        (e / "theta").read_bytes()[: (e / "theta").stat().st_size // 2]),
    "garbage_file": lambda e: (e / "psi").write_bytes(
        random.Random(3).randbytes((e / "psi").stat().st_size)),
    "missing_file": lambda e: (e / "status").unlink(),
    "garbage_manifest": lambda e: (e / MANIFEST).write_bytes(random.Random(4).randbytes(300)),
    "wrong_size_in_manifest": lambda e: _edit_manifest(
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



def test_damaged_entries_are_reported_in_the_stage_log_also_from_a_dask_cluster(tmp_path,
                                                                                 caplog):
    """The workers of a cluster log elsewhere: the stage's own log must still say it."""
    from dask.distributed import LocalCluster

    cache_dir, spec = tmp_path / "cache", _small_spec()
    runner.run_stage(spec, tmp_path / "first.zarr", cache_dir, threads=1)
    sound = shutil.copytree(tmp_path / "first.zarr", tmp_path / "sound.zarr")  # not linked
    entry = cache_entries(cache_dir)[1]
    _flip_a_bit(entry / "theta")
    with (LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
          caplog.at_level(logging.WARNING, logger="fmrnoise.pipeline.runner")):
        report = runner.run_stage(spec, tmp_path / "second.zarr", cache_dir,
                                  dask_address=cluster.scheduler_address)
    assert (report.computed, report.reused) == (1, 1)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"damaged cache entry {entry} (ValueError: theta does not match the manifest): "
        "recomputing"]
    assert_stores_identical(tmp_path / "second.zarr", sound)

def test_temporary_entries_of_killed_runs_are_removed_once_old(tmp_path, caplog):
    """A run killed while saving an entry leaves its temporary directory; a later run of the
    stage removes it once a day old, and leaves a young one (a run may be saving it now)."""
    cache_dir, spec = tmp_path / "cache", _small_spec()
    runner.run_stage(spec, tmp_path / "first.zarr", cache_dir, threads=1)
    entry = cache_entries(cache_dir)[0]
    old, young = (Path(shutil.copytree(entry, entry.with_name(f".{entry.name}.{tag}.tmp")))
                  for tag in ("old", "young"))
    day_and_a_second_ago = time.time() - 86401
    os.utime(old, (day_and_a_second_ago, day_and_a_second_ago))

    with caplog.at_level(logging.INFO, logger="fmrnoise.pipeline.runner"):
        report = runner.run_stage(spec, tmp_path / "second.zarr", cache_dir, threads=1)
    assert (report.computed, report.reused) == (0, 2)
    assert not old.exists()
    assert young.is_dir()
    assert "removed 1 temporary cache entries left by killed runs" in caplog.text


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


def _small_spec(chunks: int = 2) -> dict:
    config = {"studies": {"small": {"axes": {"omega_d": {"start": -1.5, "step": 0.25,
                                                            "num": 2 * chunks}},
                                    "chunks": {"omega_d": 2}}}}
    return stage_spec(validate(config), "small", STAGE)


def _enospc(*args, **kwargs) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fail(monkeypatch, owner: object, name: str, when, only=lambda *args: True) -> None:
    """Make ``owner.name`` raise ENOSPC on the calls for which ``only(*args)`` and
    ``when(count, *args)`` hold, ``count`` counting the calls for which ``only`` holds."""
    original, count = getattr(owner, name), [0]

    def fails(*args) -> bool:
        if not only(*args):
            return False
        count[0] += 1
        return when(count[0], *args)

    def failing(*args, **kwargs):
        if fails(*args):
            _enospc()
        return original(*args, **kwargs)

    async def failing_async(*args, **kwargs):
        if fails(*args):
            _enospc()
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing_async if inspect.iscoroutinefunction(original)
                        else failing)


#: Variables of the stage, one file each in a cache entry.
N_VARIABLES = len(stage_variables(STAGE))


def _into_a_temporary_entry(source, target, *args) -> bool:
    """A link made by ChunkCache.save (Zarr links files too, to write its metadata)."""
    return Path(target).parent.name.endswith(".tmp")


def _half_written_manifest(monkeypatch) -> None:
    """Writing the second entry's manifest fills the disk half way through."""
    original, count = Path.write_text, [0]

    def write_text(path, data, *args, **kwargs):
        if path.name == MANIFEST:
            count[0] += 1
            if count[0] >= 2:
                original(path, data[: len(data) // 2], *args, **kwargs)
                _enospc()
        return original(path, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


FULL_DISK = {  # where the disk fills up, during a stage of 4 chunks
    "creating_the_store": lambda mp: _fail(  # the metadata of the fourth array
        mp, Path, "write_bytes", lambda n, *a: n == 4,
        only=lambda path, *a: path.name == "zarr.json"),
    "writing_chunk_data": lambda mp: _fail(
        mp, zarr.storage.LocalStore, "set", lambda n, store_, key, *a: key.startswith(
            "theta/c.") and "theta/c.0" not in key),
    "finalizing_the_store": lambda mp: _fail(mp, zarr, "consolidate_metadata",
                                             lambda n, *a: True),
    "renaming_the_store": lambda mp: _fail(mp, os, "rename",
                                           lambda n, src, *a: str(src).endswith(".partial")),
    # Cache entries (10 files each) are linked from the store's chunk files; ENOSPC is not
    # among the errors for which fmrnoise.pipeline.cache.link_or_copy falls back to a copy.
    "linking_a_cache_entry": lambda mp: _fail(
        mp, os, "link", lambda n, *a: n > 2 * N_VARIABLES, only=_into_a_temporary_entry),
    "half_linking_a_cache_entry": lambda mp: _fail(
        mp, os, "link", lambda n, *a: n >= N_VARIABLES + 2, only=_into_a_temporary_entry),
    "writing_a_cache_manifest": lambda mp: _fail(
        mp, Path, "write_text", lambda n, *a: n >= 2, only=lambda path, *a: path.name == MANIFEST),
    "half_writing_a_cache_manifest": _half_written_manifest,
    "renaming_a_cache_entry": lambda mp: _fail(
        mp, os, "rename", lambda n, *a: n >= 3, only=lambda src, *a: str(src).endswith(".tmp")),
}


@pytest.mark.parametrize("where", FULL_DISK)
def test_full_disk_fails_clearly_and_leaves_no_store_that_looks_complete(where, tmp_path,
                                                                         monkeypatch):
    output, cache_dir = tmp_path / "results" / "small" / "steady_state.zarr", tmp_path / "cache"
    spec = _small_spec(chunks=4)
    FULL_DISK[where](monkeypatch)
    with pytest.raises(OutputError) as info:
        runner.run_stage(spec, output, cache_dir, threads=1)
    monkeypatch.undo()

    message = str(info.value)
    assert info.value.errno == errno.ENOSPC
    where_written = cache_dir if "cache" in where else output  # not the temporary name
    assert re.fullmatch(rf"cannot write {where_written}\S*: No space left on device", message)
    assert not output.exists()
    with pytest.raises(FileNotFoundError):
        xr.open_zarr(output)
    assert not output.parent.exists() or list(output.parent.iterdir()) == []  # no temporary
    assert not list(cache_dir.rglob("*.tmp"))  # nor a temporary cache entry (a directory)
    cache, names = ChunkCache(cache_dir), list(stage_variables(STAGE))
    assert all(cache.lookup(STAGE, path.name, names) is not None  # entries are complete
               for path in cache.entries(STAGE))

    cached = len(cache.entries(STAGE))
    report = runner.run_stage(spec, output, cache_dir, threads=1)  # space freed: resumes
    assert (report.computed, report.reused) == (4 - cached, cached)
    assert xr.open_zarr(output).theta.notnull().any()


@pytest.mark.parametrize("blocked", ["output", "cache"])
def test_path_below_a_regular_file_fails_in_process_naming_the_path(blocked, tmp_path):
    (tmp_path / "file").write_text("")
    output = tmp_path / ("file" if blocked == "output" else "results") / "steady_state.zarr"
    cache_dir = tmp_path / ("file" if blocked == "cache" else "cache")
    with pytest.raises(OutputError) as info:
        runner.run_stage(_small_spec(), output, cache_dir, threads=1)
    assert info.value.errno == errno.ENOTDIR
    assert str(info.value).startswith(f"cannot write {tmp_path}/file")
    assert str(info.value).endswith(": Not a directory")
    assert not output.exists()


def test_failed_run_keeps_the_previous_complete_store(tmp_path, monkeypatch):
    """A rerun in-process replaces a store only once the new one is complete."""
    output, cache_dir = tmp_path / "steady_state.zarr", tmp_path / "cache"
    runner.run_stage(_small_spec(), output, cache_dir)
    before = store_files(output)
    monkeypatch.setattr(store.zarr, "consolidate_metadata", _enospc)
    with pytest.raises(OutputError):
        runner.run_stage(_small_spec(), output, cache_dir)
    assert store_files(output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "steady_state.zarr"]


def test_ordinary_failures_are_logged_in_one_line_others_with_a_traceback(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\n"
        "from fmrnoise.pipeline.logs import OutputError, log_to\n"
        "log_to(sys.argv[1])\n"
        "if sys.argv[2] == 'full':\n"
        "    raise OutputError(28, 'No space left on device', '/data/x.zarr')\n"
        "raise KeyError('a bug')\n")
    for kind, expected in (("full", "job failed: cannot write /data/x.zarr: No space left on "
                                    "device"), ("bug", "Traceback")):
        log = tmp_path / f"{kind}.log"
        result = subprocess.run([sys.executable, str(script), str(log), kind],
                                capture_output=True, text=True)
        assert result.returncode == 1
        assert expected in log.read_text() and expected in result.stderr
        if kind == "full":
            assert len(log.read_text().splitlines()) == 1
            assert "Traceback" not in result.stderr


def test_location_problem_names_the_offending_component(tmp_path):
    (tmp_path / "file").write_text("")
    assert logs.location_problem(tmp_path / "new" / "deeper") is None
    problem = logs.location_problem(tmp_path / "file" / "deeper")
    assert problem.errno == errno.ENOTDIR
    assert str(problem) == f"cannot write {tmp_path}/file/deeper: {tmp_path}/file is not a " \
                           f"directory"


def _can_hard_link(directory: Path) -> bool:
    (directory / "probe").mkdir()
    probe = directory / "probe" / "file"
    probe.write_bytes(b"")
    try:
        os.link(probe, directory / "probe" / "link")
    except OSError:
        return False
    return True


def test_cache_entries_are_the_stores_encoded_chunk_files(tmp_path):
    """An entry holds the store's chunk files themselves (hard links where the file system
    allows), and reusing it links them into the next store: no decoding, no re-encoding."""
    output, cache_dir = tmp_path / "steady_state.zarr", tmp_path / "cache"
    linked = _can_hard_link(tmp_path)
    first = runner.run_stage(_small_spec(), output, cache_dir)
    assert (first.computed, first.reused) == (2, 0)
    cache, names = ChunkCache(cache_dir), list(stage_variables(STAGE))
    keys = store.read_attr_json(output, "chunk_keys")
    assert sorted(keys.values()) == [path.name for path in cache.entries(STAGE)]
    assert len(keys) == 2

    def check(output: Path) -> None:
        indices = [tuple(int(i) for i in label.split(".")) for label in keys]
        for (label, key), chunks in zip(keys.items(), store.chunk_files(output, names, indices),
                                        strict=True):
            files = cache.lookup(STAGE, key, names)
            assert sorted(files) == sorted(chunks) == sorted(names)
            for name in names:
                assert files[name].read_bytes() == chunks[name].read_bytes(), (label, name)
                if linked:
                    assert files[name].samefile(chunks[name]), (label, name)

    check(output)
    before = store_files(output)
    again = runner.run_stage(_small_spec(), output, cache_dir)  # reuses every chunk
    assert (again.computed, again.reused) == (0, 2)
    check(output)
    assert store_files(output) == before


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
