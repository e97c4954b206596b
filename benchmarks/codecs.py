"""Zarr v3 codecs on the real stores: time to encode and write, to read and decode, and size.

``python -m benchmarks --only codecs`` reads every chunk of every variable of the grid stores
(steady_state, distribution, dot_voltage, noise: those written chunk by chunk) of a cold
``snakemake`` run of the default studies in a scratch copy of the workflow (the section
``defaults`` makes it; :func:`codec_table` takes any ``results`` directory), encodes
each with every codec and writes it to a file, as a stage writes its chunks
(``fmrnoise.pipeline.store.write_chunk``: the codec's own bytes, the same as Zarr's), then reads
and decodes them; one more row writes the same chunks through Zarr's array API, for scale. Times
are the least over the repeats (one core); sizes are the bytes of the chunk files.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BytesCodec, ZstdCodec

from fmrnoise.pipeline.contract import STAGES
from fmrnoise.pipeline.store import compressor

#: The codecs compared: label -> Zarr v3 compressor configuration (after the bytes codec).
CODECS = {
    "none": None,
    "zstd level 0 (Zarr's default, level 3)": {"name": "zstd", "configuration": {"level": 0}},
    "zstd level 1": {"name": "zstd", "configuration": {"level": 1}},
    "zstd level 9": {"name": "zstd", "configuration": {"level": 9}},
    **{f"blosc {cname} {level}, {shuffle}": {"name": "blosc", "configuration": {
        "cname": cname, "clevel": level, "shuffle": shuffle}}
       for cname, level in (("lz4", 5), ("zstd", 1)) for shuffle in ("shuffle", "bitshuffle")},
}


def chunks(results: Path) -> Iterator[np.ndarray]:
    """Every chunk of every numeric data variable of the grid stores under ``results``."""
    for path in sorted(p for stage in STAGES for p in results.glob(f"*/{stage}.zarr")):
        group = zarr.open_group(path, mode="r")
        for name, array in group.arrays():
            if array.dtype.kind not in "fiub":
                continue
            if name in group.attrs.get("axes", "") or (array.ndim == 1 and name == path.stem):
                continue
            if not array.metadata.dimension_names or array.metadata.dimension_names[0] == name:
                continue  # a coordinate
            for index in np.ndindex(*array.cdata_shape):
                region = tuple(slice(i * c, (i + 1) * c) for i, c in zip(index, array.chunks,
                                                                          strict=True))
                yield np.ascontiguousarray(array[region])


def _direct(data: list[np.ndarray], config: dict | None, scratch: Path
            ) -> tuple[float, float, int]:
    """(write seconds, read seconds, bytes) of all chunks encoded with one codec."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    files = [scratch / f"c{i}" for i in range(len(data))]
    start = time.process_time()
    for file, chunk in zip(files, data, strict=True):
        codec = compressor(config, chunk.dtype)
        file.write_bytes(chunk.data if codec is None else codec.encode(chunk))
    write = time.process_time() - start
    start = time.process_time()
    for file, chunk in zip(files, data, strict=True):
        codec = compressor(config, chunk.dtype)
        raw = file.read_bytes()
        np.frombuffer(raw if codec is None else codec.decode(raw), chunk.dtype)
    read = time.process_time() - start
    return write, read, sum(file.stat().st_size for file in files)


def _through_zarr(data: list[np.ndarray], scratch: Path) -> tuple[float, float, int]:
    """The same with Zarr's array API (zstd level 0), chunk by chunk."""
    shutil.rmtree(scratch, ignore_errors=True)
    group = zarr.create_group(scratch, zarr_format=3)
    arrays = [group.create_array(f"a{i}", shape=chunk.shape, chunks=chunk.shape,
                                 dtype=chunk.dtype, serializer=BytesCodec(),
                                 compressors=[ZstdCodec(level=0)], fill_value=0,
                                 config={"write_empty_chunks": True})
              for i, chunk in enumerate(data)]
    start = time.perf_counter()
    for array, chunk in zip(arrays, data, strict=True):
        array[...] = chunk
    write = time.perf_counter() - start
    start = time.perf_counter()
    for array in arrays:
        array[...]
    read = time.perf_counter() - start
    size = sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file()
               and p.name != "zarr.json")
    return write, read, size


def codec_table(results: Path = Path("results"), repeat: int = 3) -> list[str]:
    """Markdown rows: each codec's write and read time and size on the stores under results/."""
    data = list(chunks(results))
    if not data:
        return [f"No grid stores under {results}: run `make run` first."]
    raw = sum(chunk.nbytes for chunk in data)
    stores = sorted({p.parent.name for stage in STAGES for p in results.glob(f"*/{stage}.zarr")})
    rows = [f"{len(data)} chunks, {raw / 1e6:.1f} MB of float64 and int8 values (the grid "
            f"stores of {len(stores)} studies: {', '.join(stores)}).", "",
            "| codec | write (encode + files) | read (files + decode) | size | size / raw |",
            "|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {label: lambda c=config: _direct(data, c, Path(tmp) / "s")
                for label, config in CODECS.items()}
        runs["zstd level 0 through Zarr's array API"] = lambda: _through_zarr(data,
                                                                            Path(tmp) / "s")
        for label, run in runs.items():
            write, read, size = (min(values) for values in zip(*(run() for _ in range(repeat)),
                                                             strict=True))
            rows.append(f"| {label} | {raw / write / 1e6:.0f} MB/s | {raw / read / 1e6:.0f} "
                        f"MB/s | {size / 1e6:.1f} MB | {size / raw:.3f} |")
    return rows
