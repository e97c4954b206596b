"""Content-addressed chunk cache with atomic writes (design.md §4).

A chunk's key hashes everything its values depend on: the stage, its parameters, the chunk's
coordinates, the code of the modules it runs and the keys of the upstream chunks it reads (a
Merkle chain). Entries are ``.npz`` files written under a temporary name and renamed into place;
an entry that cannot be read completely, fails its CRC or has the wrong variables, shapes or
dtypes counts as missing and is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def code_hash(modules: tuple[str, ...]) -> str:
    """SHA-256 of the source of the given ``fmrnoise`` modules (names without ``.py``)."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode() + b"\0" + (PACKAGE_DIR / f"{name}.py").read_bytes())
    return digest.hexdigest()


def _canonical(value: object) -> object:
    """JSON-ready form in which floats keep every bit (hex) and arrays become lists."""
    if isinstance(value, np.ndarray):
        return [_canonical(v) for v in value.tolist()]
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


class ChunkCache:
    """Chunk arrays on disk, one ``<root>/<stage>/<key[:2]>/<key>.npz`` file per chunk."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / f"{key}.npz"

    def load(self, stage: str, key: str,
             expected: Mapping[str, tuple[tuple[int, ...], str]]) -> dict[str, np.ndarray] | None:
        """Arrays of an entry, or None if it is missing or damaged.

        Parameters
        ----------
        expected : variable name -> (shape, dtype) that a sound entry holds exactly.
        """
        path = self.path(stage, key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as entry:
                if set(entry.files) != set(expected):
                    raise ValueError(f"variables {sorted(entry.files)}")
                arrays = {name: entry[name] for name in expected}
            for name, (shape, dtype) in expected.items():
                if arrays[name].shape != tuple(shape) or arrays[name].dtype != np.dtype(dtype):
                    raise ValueError(f"{name} has shape {arrays[name].shape}, "
                                     f"dtype {arrays[name].dtype}")
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
            log.warning("damaged cache entry %s (%s): recomputing", path, err)
            return None
        return arrays

    def save(self, stage: str, key: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Write an entry atomically: to a temporary file in place, then renamed."""
        path = self.path(stage, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def entries(self, stage: str) -> Iterable[Path]:
        """Paths of the stage's entries (for maintenance and tests)."""
        return sorted((self.root / stage).glob("*/*.npz"))
