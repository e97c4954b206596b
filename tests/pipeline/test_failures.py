"""Failures in-process (no Snakemake): damaged cache entries, a full disk, unwritable paths,
interrupted cache writes; what a failed stage leaves behind, and what the next run makes of it.

The same failures through Snakemake, and killed runs: tests/workflow/test_reliability.py.
"""

from __future__ import annotations

import errno
import hashlib
import inspect
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from store_helpers import assert_stores_identical, edit_manifest, store_files

from fmrnoise.pipeline import logs, runner, store
from fmrnoise.pipeline.cache import MANIFEST, ChunkCache, DamagedEntry
from fmrnoise.pipeline.config import validate
from fmrnoise.pipeline.contract import stage_variables
from fmrnoise.pipeline.logs import OutputError
from fmrnoise.pipeline.plan import stage_spec

STAGE = "steady_state"


def cache_entries(cache_dir: Path) -> list[Path]:
    return ChunkCache(cache_dir).entries(STAGE)


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
    "extra_variable_in_manifest": lambda e, s: edit_manifest(
        e, lambda m: {**m, "psi": m["status"]}),
    "missing_variable_in_manifest": lambda e, s: edit_manifest(
        e, lambda m: {"theta": m["theta"]}),
    "manifest_missing": lambda e, s: (e / MANIFEST).unlink(),
    "manifest_empty": lambda e, s: (e / MANIFEST).write_bytes(b""),
    "manifest_garbage": lambda e, s: (e / MANIFEST).write_bytes(random.Random(4).randbytes(99)),
    "manifest_not_a_dict": lambda e, s: (e / MANIFEST).write_text(json.dumps(["theta",
                                                                              "status"])),
    "manifest_record_not_a_dict": lambda e, s: edit_manifest(e, lambda m: {**m, "theta": 96}),
    "manifest_wrong_size": lambda e, s: edit_manifest(
        e, lambda m: {**m, "theta": {**m["theta"], "size": m["theta"]["size"] + 8}}),
    "manifest_wrong_digest": lambda e, s: edit_manifest(
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
    "writing_chunk_data": lambda mp: _fail(  # theta's chunks after the first
        mp, Path, "write_bytes", lambda n, *a: True, only=lambda path, *a: (
            path.parent.name == "theta" and path.name.startswith("c.")
            and not path.name.startswith("c.0"))),
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
