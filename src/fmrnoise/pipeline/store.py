"""Zarr v3 stores of the pipeline, readable with ``xarray.open_zarr`` (docs/contract.md).

A store is created empty (metadata, coordinates) with Zarr chunks equal to the grid chunks, then
filled chunk by chunk from parallel workers (writes aligned to chunk boundaries are safe), then
finalized with its chunk keys and consolidated metadata.

All of this happens under a temporary name beside the store (:func:`partial_path`), and only a
finalized store is renamed to its path (:func:`publish`). So a store's path holds a complete
store or nothing: a run that fails (full disk) or is killed half way leaves no store that
``xarray.open_zarr``, Snakemake or a downstream stage could take for complete. (A completion
marker attribute would not do: xarray opens a store without looking at it.) A killed run's
leftover is removed by the next run of the stage (:func:`discard_partials`). Failures to write
are raised as :class:`~fmrnoise.pipeline.logs.OutputError` naming the path and the reason.
"""

from __future__ import annotations

import base64
import glob
import itertools
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numcodecs
import numpy as np
import numpy.typing as npt
import zarr
from zarr.abc.buffer import Buffer
from zarr.errors import ZarrUserWarning
from zarr.storage import MemoryStore

from .cache import link_or_copy
from .contract import EXTRA_DIMS, LONG_NAMES, UNITS, Variable
from .grid import Grid
from .logs import OutputError

_FILL = {"float64": np.nan, "int8": -1}
#: The compressor of every variable's chunks (after the little-endian bytes codec), chosen by
#: write time, read time and size on the real stores (benchmarks/codecs.py, README).
COMPRESSOR: dict | None = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
CHUNK_KEY_ENCODING = {"name": "default", "separator": "."}


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Raise an ``OSError`` inside the block as an :class:`OutputError` (``path`` if unnamed)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        raise OutputError(err.errno, err.strerror or str(err),
                          str(err.filename or path)) from err


def partial_path(path: str | Path) -> Path:
    """A fresh temporary name for the store ``path``, beside it (same file system)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")


def discard_partials(path: str | Path) -> None:
    """Remove what runs of the store ``path`` killed half way left beside it.

    Only one job writes a given store at a time (Snakemake's lock), so every leftover is stale.
    """
    path = Path(path)
    for pattern in (".{}.*.partial", ".{}.*.replaced"):
        for leftover in path.parent.glob(pattern.format(glob.escape(path.name))):
            shutil.rmtree(leftover, ignore_errors=True)


def publish(partial: str | Path, path: str | Path) -> None:
    """Rename the finalized store ``partial`` to ``path``, replacing a store already there."""
    partial, path = Path(partial), Path(path)
    with writing(path):
        if not os.path.lexists(path):
            os.rename(partial, path)
            return
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.replaced")
        os.rename(path, aside)
        os.rename(partial, path)
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside)
        else:
            aside.unlink()


def extra_sizes(max_states: int) -> dict[str, int]:
    """Lengths of the dimensions after the grid axes."""
    return {name: (max_states if labels is None else len(labels))
            for name, labels in EXTRA_DIMS.items()}


def variable_shape(grid_shape: Sequence[int], var: Variable, max_states: int) -> tuple[int, ...]:
    sizes = extra_sizes(max_states)
    return (*grid_shape, *(sizes[d] for d in var.dims))


def _cf_attributes(attrs: Mapping[str, object], fill: float, dtype: npt.DTypeLike) -> dict:
    """Attributes as xarray writes them to Zarr v3: a float's ``_FillValue`` in base64."""
    attrs = dict(attrs)
    if np.dtype(dtype).kind == "f":
        attrs["_FillValue"] = base64.standard_b64encode(np.array(fill, "<f8").tobytes()).decode()
    return attrs


def create(path: str | Path, grid: Grid, variables: Mapping[str, Variable], max_states: int,
           attrs: Mapping[str, object]) -> None:
    """Create an empty store: coordinates with units, variables chunked like ``grid``.

    The metadata is what ``xarray.Dataset.to_zarr`` writes for the same dataset (checked by
    the tests), written with Zarr directly: a stage job then need not import xarray. Chunk
    keys use the ``"."`` separator (``theta/c.0.3.0``): one flat directory of chunk files per
    variable, which is cheap to link into and to delete.
    """
    sizes = extra_sizes(max_states)
    coords = {name: (values, {"units": UNITS[name], "long_name": LONG_NAMES[name]})
              for name, values in grid.axes.items()}
    used = {d for var in variables.values() for d in var.dims}
    for dim, labels in EXTRA_DIMS.items():
        if dim in used:
            values = np.arange(sizes[dim]) if labels is None else np.array(labels)
            coords[dim] = (values, {"long_name": dim})
    # Built in memory, then written file by file: a failure (full disk) leaves no write of
    # Zarr's in flight that could recreate the store after the caller has removed it.
    files: dict[str, Buffer] = {}
    group = zarr.create_group(MemoryStore(files), zarr_format=3, attributes=dict(attrs))
    for name, (values, coord_attrs) in coords.items():
        # Labels as variable-length UTF-8 strings, a Zarr v3 data type with a specification.
        dtype = str if values.dtype.kind == "U" else values.dtype
        fill = {"fill_value": np.nan} if values.dtype.kind == "f" else {}
        group.create_array(name, shape=values.shape, dtype=dtype, chunks=values.shape,
                           dimension_names=[name], chunk_key_encoding=CHUNK_KEY_ENCODING,
                           attributes=_cf_attributes(coord_attrs, np.nan, values.dtype),
                           **fill)[...] = values
    for name, var in variables.items():
        fill = _FILL[var.dtype]
        group.create_array(
            name, shape=variable_shape(grid.shape, var, max_states), dtype=var.dtype,
            chunks=(*grid.chunk_shape, *(sizes[d] for d in var.dims)), fill_value=fill,
            chunk_key_encoding=CHUNK_KEY_ENCODING, dimension_names=[*grid.names, *var.dims],
            compressors=[] if COMPRESSOR is None else [COMPRESSOR],
            attributes=_cf_attributes({"units": var.units, "long_name": var.long_name,
                                       **dict(var.attrs)}, fill, var.dtype))
    with writing(path):
        for key, buffer in files.items():
            file = Path(path) / key
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(buffer.to_bytes())


def compressor(config: Mapping | None, dtype: npt.DTypeLike) -> numcodecs.abc.Codec | None:
    """The numcodecs codec that encodes chunks as the Zarr v3 compressor ``config`` does.

    ``config`` is a compressor of a Zarr v3 codec list (``{"name": "zstd" | "blosc",
    "configuration": {...}}``; None: no compressor). Both produce the same bytes as Zarr (the
    tests check it), so chunks can be encoded and written without Zarr's array machinery.
    """
    if config is None:
        return None
    options = dict(config.get("configuration", {}))
    if config["name"] == "zstd":
        return numcodecs.Zstd(level=options.get("level", 0),
                              checksum=options.get("checksum", False))
    if config["name"] == "blosc":
        shuffle = {"noshuffle": numcodecs.Blosc.NOSHUFFLE, "shuffle": numcodecs.Blosc.SHUFFLE,
                   "bitshuffle": numcodecs.Blosc.BITSHUFFLE}[options.get("shuffle", "shuffle")]
        return numcodecs.Blosc(cname=options.get("cname", "zstd"),
                               clevel=options.get("clevel", 5), shuffle=shuffle,
                               blocksize=options.get("blocksize", 0))
    raise ValueError(f"unsupported compressor {config['name']!r}")


@dataclass(frozen=True)
class ChunkEncoder:
    """How one variable's chunks are encoded: the whole chunk shape (an edge chunk is padded
    with the fill value, as Zarr does), dtype, fill value and compressor (picklable)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fill: float | int
    codec: numcodecs.abc.Codec | None

    @classmethod
    def from_encoding(cls, encoding: Mapping) -> ChunkEncoder:
        """From a variable's :func:`encoding` (its Zarr v3 metadata)."""
        dtype = np.dtype(encoding["data_type"]).newbyteorder("<")
        names = [codec["name"] for codec in encoding["codecs"]]
        if names[0] != "bytes" or len(names) > 2:
            raise ValueError(f"unsupported codec list {names}")
        return cls(tuple(encoding["chunk_grid"]["configuration"]["chunk_shape"]), dtype,
                   np.array(encoding["fill_value"], dtype).item(),
                   compressor(encoding["codecs"][1] if len(names) == 2 else None, dtype))

    def encode(self, values: np.ndarray) -> bytes:
        """The bytes of the chunk file of ``values`` (the chunk's region of the grid)."""
        values = np.asarray(values, dtype=self.dtype)
        if values.shape != self.shape:
            full = np.full(self.shape, self.fill, self.dtype)
            full[tuple(slice(0, n) for n in values.shape)] = values
            values = full
        values = np.ascontiguousarray(values)
        return values.tobytes() if self.codec is None else bytes(self.codec.encode(values))

    def decode(self, data: bytes) -> np.ndarray:
        """The values of a whole chunk (read-only) from the bytes of its file."""
        raw = data if self.codec is None else self.codec.decode(data)
        return np.frombuffer(raw, dtype=self.dtype).reshape(self.shape)


def write_chunk(files: Mapping[str, Path], arrays: Mapping[str, np.ndarray],
                encoders: Mapping[str, ChunkEncoder]) -> None:
    """Write one chunk's arrays, each to its chunk file, encoded as Zarr would.

    Every chunk is written, even one that equals the fill value, so that each chunk has its
    file (the unit of the chunk cache). The bytes are those Zarr's array API writes for the
    same values (checked by the tests), without its machinery: several times faster.
    """
    with writing(next(iter(files.values()), "")):
        for name, values in arrays.items():
            files[name].write_bytes(encoders[name].encode(values))


def chunk_files(path: str | Path, names: Sequence[str],
                indices: Sequence[Sequence[int]]) -> list[dict[str, Path]]:
    """File of each variable's chunk, for each grid chunk index (whole along the extra dims)."""
    group = zarr.open_group(path, mode="r")
    arrays = {name: group[name] for name in names}
    return [{name: Path(path) / name / array.metadata.encode_chunk_key(
                (*index, *(0,) * (array.ndim - len(index))))
             for name, array in arrays.items()} for index in indices]


def encoding(path: str | Path, names: Sequence[str]) -> dict[str, dict]:
    """How each variable's chunks are encoded (dtype, chunk shape, codecs, fill value)."""
    group = zarr.open_group(path, mode="r")
    keep = ("data_type", "chunk_grid", "chunk_key_encoding", "codecs", "fill_value")
    return {name: {k: v for k, v in group[name].metadata.to_dict().items() if k in keep}
            for name in names}


def place(sources: Mapping[str, Path], targets: Mapping[str, Path]) -> None:
    """Put encoded chunk files (from the cache) at their place in a store (flat chunk keys:
    the variable's directory holds them)."""
    with writing(next(iter(targets.values()), "")):
        for name, source in sources.items():
            link_or_copy(source, targets[name])


def finalize(path: str | Path, attrs: Mapping[str, object]) -> None:
    """Add global attributes and consolidate the metadata."""
    with writing(path):
        group = zarr.open_group(path, mode="r+")
        group.attrs.update({k: (json.dumps(v) if isinstance(v, dict | list) else v)
                            for k, v in attrs.items()})
        with warnings.catch_warnings():
            # Consolidated metadata is not yet part of the Zarr v3 spec; xarray reads it.
            warnings.filterwarnings("ignore", category=ZarrUserWarning)
            zarr.consolidate_metadata(path)


def read_attr_json(path: str | Path, name: str) -> object:
    """A JSON-encoded global attribute of a store."""
    return json.loads(zarr.open_group(path, mode="r").attrs[name])


def _overlaps(start: int, stop: int, size: int) -> list[tuple[int, slice, slice]]:
    """Along one axis: each chunk (of ``size``) that ``[start, stop)`` overlaps, with the
    overlap's slice within the chunk and within ``[start, stop)``."""
    return [(i, slice(max(start, i * size) - i * size, min(stop, (i + 1) * size) - i * size),
             slice(max(start, i * size) - start, min(stop, (i + 1) * size) - start))
            for i in range(start // size, -(-stop // size))]


def read_region(path: str | Path, names: Sequence[str],
                region: tuple[slice, ...]) -> dict[str, np.ndarray]:
    """Arrays of some variables over a region of the grid axes (whole along the extra dims).

    The chunk files are read and decoded as Zarr would (:meth:`ChunkEncoder.decode`), without
    its machinery: twice as fast for the upstream chunks the stages read. A chunk without a
    file reads as the fill value.
    """
    path = Path(path)
    out = {}
    for name in names:
        metadata = json.loads((path / name / "zarr.json").read_text())
        encoder = ChunkEncoder.from_encoding(metadata)
        separator = metadata["chunk_key_encoding"]["configuration"]["separator"]
        shape = metadata["shape"]
        full = (*region, *(slice(None),) * (len(shape) - len(region)))
        bounds = [s.indices(n)[:2] for s, n in zip(full, shape, strict=True)]
        values = np.empty([stop - start for start, stop in bounds], encoder.dtype)
        for pieces in itertools.product(*(_overlaps(start, stop, size) for (start, stop), size
                                          in zip(bounds, encoder.shape, strict=True))):
            index, inside, target = zip(*pieces, strict=True)
            file = path / name / separator.join(("c", *map(str, index)))
            try:
                values[target] = encoder.decode(file.read_bytes())[inside]
            except FileNotFoundError:
                values[target] = encoder.fill
        out[name] = values
    return out
