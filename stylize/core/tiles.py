"""A large picture as overlapping tiles: where each tile lies, and the feathered weights that blend it back in."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One tile: rows top:bottom and columns left:right of the picture, and which of its sides touch a neighbour."""

    top: int
    left: int
    bottom: int
    right: int
    inner: tuple[bool, bool, bool, bool]  # top, left, bottom, right: a neighbouring tile overlaps that side

    @property
    def window(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom - self.top, self.right - self.left


def starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread starts of tiles of side `tile` covering 0..length, neighbours sharing at least `overlap` px."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def layout(shape: tuple[int, int], tile: int, overlap: int) -> list[Tile]:
    """The tiles covering a picture of shape (height, width), in rows from the top left; a side shorter than a
    tile is one tile of that side."""
    height, width = shape
    rows, columns = starts(height, tile, overlap), starts(width, tile, overlap)
    return [
        Tile(
            top,
            left,
            min(height, top + tile),
            min(width, left + tile),
            (i > 0, j > 0, i < len(rows) - 1, j < len(columns) - 1),
        )
        for i, top in enumerate(rows)
        for j, left in enumerate(columns)
    ]


def feather(tile: Tile, overlap: int) -> np.ndarray:
    """HxWx1 weights for blending a tile over what is already there: 1 inside, a smooth ramp (raised cosine) down
    to 0 across `overlap` px at each side shared with a neighbour, so the network's border effects never show and
    the picture changes from one tile's pixels to the next's without a step."""
    height, width = tile.shape
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)  # 0 at the border, 1 inside

    def profile(length: int, low: bool, high: bool) -> np.ndarray:
        weights = np.ones(length, np.float32)
        span = min(overlap, length // 2)
        if low:
            weights[:span] = ramp[:span]
        if high:
            weights[length - span :] = ramp[:span][::-1]
        return weights

    top, left, bottom, right = tile.inner
    return (profile(height, top, bottom)[:, None] * profile(width, left, right)[None, :])[..., None]
