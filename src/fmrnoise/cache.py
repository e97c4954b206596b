"""Content-addressed chunk cache with atomic writes (design.md §4).

A chunk's key hashes everything its values depend on: the stage, its parameters, the chunk's
coordinates, the code of the modules it runs and the keys of the upstream chunks it reads (a
Merkle chain). Entries are ``.npz`` files written under a temporary name and renamed into place,
so that a reader (another run sharing the cache, or the next run after a kill) sees a complete
entry or none. An entry that cannot be read completely, fails its CRC or has the wrong
variables, shapes or dtypes counts as missing: it is recomputed, with a warning in the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

from .logs import OutputError

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def code_hash(modules: tuple[str, ...]) -> str:
    """SHA-256 of the source of the given ``fmrnoise`` modules (names without ``.py``)."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode() + b"\0" + (PACKAGE_DIR / f"{name}.py").read_bytes())
    return digest.hexdigest()


def _read_entry(path: Path,
                expected: Mapping[str, tuple[tuple[int, ...], str]]) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` entry that holds exactly ``expected``; raises if it does not."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        members = sorted(archive.namelist())
        if members != sorted(f"{name}.npy" for name in expected):
            raise ValueError(f"holds {members}")
        for name, (shape, dtype) in expected.items():
            with archive.open(f"{name}.npy") as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(f"{name}: .npy format version {version}")
                if header != (tuple(shape), False, np.dtype(dtype)):
                    raise ValueError(f"{name} has shape {header[0]}, dtype {header[2]}"
                                     f"{', Fortran order' if header[1] else ''}")
                data = member.read()  # to the end: zipfile checks the CRC-32 there
            size = math.prod(shape) * np.dtype(dtype).itemsize
            if len(data) != size:
                raise ValueError(f"{name} holds {len(data)} bytes, not {size}")
            arrays[name] = np.frombuffer(data, dtype=dtype).reshape(shape)
    return arrays


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
        """Arrays of an entry, or None if it is missing or damaged (logged as a warning).

        Every member's header is checked against ``expected`` before its data are read, and
        the data are read to the end, which checks the zip CRC-32. Any failure to read the
        entry means it is damaged: it is recomputed, never used.

        Parameters
        ----------
        expected : variable name -> (shape, dtype) that a sound entry holds exactly.
        """
        path = self.path(stage, key)
        if not os.path.lexists(path):
            return None
        try:
            return _read_entry(path, expected)
        except Exception as err:  # whatever is wrong, the entry is not used
            log.warning("damaged cache entry %s (%s: %s): recomputing", path,
                        type(err).__name__, err)
            return None

    def save(self, stage: str, key: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Write an entry atomically: to a temporary file beside it, then renamed into place.

        Raises
        ------
        OutputError
            If the entry cannot be written (e.g. a full disk); no temporary file is left.
        """
        path = self.path(stage, key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException as err:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(err, OSError) and not isinstance(err, OutputError):
                filename = path if err.filename is None or err.filename == tmp else err.filename
                raise OutputError(err.errno, err.strerror or str(err), str(filename)) from err
            raise

    def entries(self, stage: str) -> Iterable[Path]:
        """Paths of the stage's entries (for maintenance and tests)."""
        return sorted((self.root / stage).glob("*/*.npz"))
