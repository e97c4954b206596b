"""Parameter grids cut into chunks: the unit of parallel work, caching and Zarr storage."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..physics.model import FloatArray


def axis_values(spec: Mapping) -> FloatArray:
    """Coordinates of one axis: ``{values: [...]}`` or ``{start, step, num}`` as start + step*i.

    start + step*i (not linspace) keeps every existing coordinate when ``num`` grows.
    """
    if "values" in spec:
        return np.asarray(spec["values"], dtype=float)
    return spec["start"] + spec["step"] * np.arange(spec["num"], dtype=float)


def axis_length(spec: Mapping) -> int:
    """Number of points of one axis (``{values: [...]}`` or ``{start, step, num}``)."""
    return len(spec["values"]) if "values" in spec else int(spec["num"])


def grid_text(axes: Mapping[str, Mapping]) -> str:
    """A grid as ``omega_d 1201 × Omega 5 = 6005 points`` (``1 point`` without axes)."""
    lengths = {name: axis_length(axis) for name, axis in axes.items()}
    size = math.prod(lengths.values())
    points = f"{size} point{'s' if size != 1 else ''}"
    if not lengths:
        return points
    return " × ".join(f"{name} {n}" for name, n in lengths.items()) + f" = {points}"


@dataclass(frozen=True)
class Grid:
    """A rectangular grid over named axes, cut into chunks of fixed size per axis.

    Attributes
    ----------
    axes : ordered mapping axis name -> coordinates.
    chunks : axis name -> points per chunk along that axis.
    """

    axes: Mapping[str, FloatArray]
    chunks: Mapping[str, int]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.axes)

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def chunk_shape(self) -> tuple[int, ...]:
        return tuple(min(self.chunks[n], len(v)) for n, v in self.axes.items())

    @property
    def chunk_counts(self) -> tuple[int, ...]:
        return tuple(-(-size // c) for size, c in zip(self.shape, self.chunk_shape, strict=True))

    def indices(self) -> Iterator[tuple[int, ...]]:
        """Chunk indices in C order."""
        return itertools.product(*(range(n) for n in self.chunk_counts))

    def region(self, index: Sequence[int]) -> tuple[slice, ...]:
        """Slices of the chunk ``index`` along every axis."""
        return tuple(slice(i * c, min((i + 1) * c, size))
                     for i, c, size in zip(index, self.chunk_shape, self.shape, strict=True))

    def coords(self, index: Sequence[int]) -> dict[str, FloatArray]:
        """Coordinates of the chunk ``index`` per axis."""
        return {name: values[s] for (name, values), s in
                zip(self.axes.items(), self.region(index), strict=True)}

    def mesh(self, index: Sequence[int]) -> dict[str, FloatArray]:
        """Coordinates of the chunk ``index`` broadcast to the chunk's shape (ij indexing)."""
        coords = self.coords(index)
        return dict(zip(coords, np.meshgrid(*coords.values(), indexing="ij"), strict=True))

    def project(self, index: Sequence[int], names: Sequence[str]) -> tuple[int, ...]:
        """Index of the chunk of the sub-grid over ``names`` that contains chunk ``index``."""
        position = dict(zip(self.names, index, strict=True))
        return tuple(position[n] for n in names)


def chunk_label(index: Sequence[int]) -> str:
    """Text form of a chunk index, e.g. ``"3.0"`` (``"0"`` for a grid without axes)."""
    return ".".join(map(str, index)) or "0"
