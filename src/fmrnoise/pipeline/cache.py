"""Content-addressed chunk cache with atomic writes (docs/contract.md).

A chunk's key hashes everything its values depend on: the stage, its parameters, the chunk's
coordinates, the code it runs (:mod:`fmrnoise.pipeline.sources`), the versions of the numeric
libraries, the Zarr encoding of its variables and the keys of the upstream chunks it reads
(a Merkle chain).

An entry holds the chunk's *encoded* Zarr chunk files, one per variable, and a manifest of
their sizes and SHA-256 digests. Entries are filled by hard links to the files a stage has just
written into its store (copies across file systems) and, on reuse, linked back into the new
store: reusing a chunk costs no decoding and no re-encoding. An entry is assembled under a
temporary name and renamed into place; one whose manifest is unreadable or whose files do not
match it (truncated, garbage, changed in place) is never used: :meth:`ChunkCache.lookup` raises
:class:`DamagedEntry`, and the stage recomputes the chunk. Temporary entries that a killed run
left are removed once a day old (:meth:`ChunkCache.discard_stale`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .logs import OutputError

MANIFEST = "manifest.json"
#: Age [s] after which a temporary entry is taken as left by a killed run: a day.
STALE_AGE = 86400.0


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (replacing it), or copy where links are impossible."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, target)


def _canonical(value: object) -> object:
    """JSON-ready form in which floats keep every bit: hex floats, arrays by their bytes."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"dtype": data.dtype.str, "shape": list(data.shape),
                "sha256": hashlib.sha256(data.tobytes()).hexdigest()}
    if isinstance(value, float | np.floating):
        return float(value).hex()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def chunk_key(**content: object) -> str:
    """Key of a chunk: SHA-256 of the canonical JSON of ``content``."""
    text = json.dumps(_canonical(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class DamagedEntry(Exception):
    """A cache entry that does not match its manifest: it is recomputed, never used."""


class ChunkCache:
    """Encoded chunk files on disk: ``<root>/<stage>/<key[:2]>/<key>/`` holds one file per
    variable (named after it) and ``manifest.json``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / key

    def lookup(self, stage: str, key: str, names: Iterable[str]) -> dict[str, Path] | None:
        """The entry's file per variable, or None if there is no entry.

        Every file is checked against the manifest (size and SHA-256), so a truncated, garbled
        or changed entry is never used.

        Raises
        ------
        DamagedEntry
            If the entry does not match its manifest, or its manifest is unreadable.
        """
        entry = self.path(stage, key)
        if not entry.is_dir():
            return None
        try:
            manifest = json.loads((entry / MANIFEST).read_text())
            if not isinstance(manifest, dict) or set(manifest) != set(names):
                raise ValueError(f"variables {sorted(manifest)}, expected {sorted(names)}")
            files = {}
            for name, record in manifest.items():
                files[name] = entry / name
                if (files[name].stat().st_size != record["size"]
                        or file_digest(files[name]) != record["sha256"]):
                    raise ValueError(f"{name} does not match the manifest")
        except Exception as err:  # whatever is wrong, the entry is not used
            raise DamagedEntry(f"damaged cache entry {entry} ({type(err).__name__}: {err})") \
                from err
        return files

    def save(self, stage: str, key: str, files: Mapping[str, Path]) -> None:
        """Add an entry from a chunk's encoded files, atomically (replacing a damaged one).

        Raises
        ------
        OutputError
            If the entry cannot be written (e.g. a full disk); no temporary entry is left.
        """
        entry = self.path(stage, key)
        tmp = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{key}.", suffix=".tmp"))
            manifest = {}
            for name, source in files.items():
                link_or_copy(Path(source), tmp / name)
                manifest[name] = {"size": (tmp / name).stat().st_size,
                                  "sha256": file_digest(tmp / name)}
            (tmp / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
            if entry.exists():  # damaged, or written meanwhile by a concurrent run
                aside = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{key}.",
                                              suffix=".tmp"))
                os.replace(entry, aside)
                shutil.rmtree(aside, ignore_errors=True)
            os.rename(tmp, entry)
        except OSError as err:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            if entry.is_dir() and err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return  # a concurrent run stored the same chunk first
            if isinstance(err, OutputError):
                raise
            filename = err.filename
            if filename is None or str(filename).startswith(str(tmp or entry)):
                filename = entry
            raise OutputError(err.errno, err.strerror or str(err), str(filename)) from err
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise

    def discard_stale(self, stage: str, age: float = STALE_AGE) -> int:
        """Remove the stage's temporary entries older than ``age`` seconds; return how many.

        A run killed while saving an entry leaves its temporary directory (never read). Only old
        ones are removed: a young one may belong to a run saving it right now, in a shared cache.
        """
        cutoff, removed = time.time() - age, 0
        for tmp in (self.root / stage).glob("*/.*.tmp"):
            try:
                if tmp.lstat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:  # renamed or removed meanwhile by its run
                continue
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
        return removed

    def entries(self, stage: str) -> list[Path]:
        """Directories of the stage's entries (for maintenance and tests)."""
        return sorted(p for p in (self.root / stage).glob("*/*")
                      if p.is_dir() and not p.name.startswith("."))
