"""Helpers shared by the test layers: Zarr stores compared file by file."""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr


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


def edit_manifest(entry: Path, edit) -> None:
    """Rewrite a cache entry's manifest with ``edit``."""
    path = entry / "manifest.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
