"""Feed-forward networks at full size: each tile painted at the network's own scale, over the whole picture's colours.

A network run on the whole of a large picture either paints a small copy that is then enlarged (the bundled
transformer works at 384 px: blurred at 1:1) or needs memory in proportion to the picture (a built-in style at 4096
px would hold about 6 GB). Run on tiles, it paints every pixel, within a tile's memory; but each tile normalises its
own features, so tiles alone differ in colour and contrast. So the picture takes its low frequencies (composition,
colours, large strokes) from a guide, the network's picture of the whole, and from each tile only the detail finer
than the guide could hold, blended over feathered overlaps (core/tiles.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.ndimage

from ..core.tiles import feather, layout

OVERLAP = 64  # px two neighbouring tiles share, cross-faded


def detail_sigma(guide_side: int, side: int) -> float:
    """The blur (px at full size) below which the guide has nothing: its enlargement's scale, with a margin. At 2048 px
    from a 384 px picture, 4 px (0.75 x 5.3): finer left a colour fringe of the tiles' own; coarser, blotches."""
    return float(np.clip(0.75 * side / max(guide_side, 1), 1.0, 8.0))


def paint_in_tiles(
    guide: np.ndarray,
    source: np.ndarray,
    paint: Callable[[np.ndarray], np.ndarray],
    tile: int,
    sigma: float,
) -> np.ndarray:
    """guide (float HxWx3, full size) with the detail of paint(source's tile) added in every tile: the painted tile
    minus its blur at sigma px. paint takes and returns float HxWx3 in [0, 1] of the tile's shape."""
    picture = guide.copy()
    for place in layout(guide.shape[:2], tile, OVERLAP):
        painted = np.asarray(paint(source[place.window]), np.float32)
        detail = painted - scipy.ndimage.gaussian_filter(painted, (sigma, sigma, 0), mode="reflect")
        mixed = np.clip(guide[place.window] + detail, 0.0, 1.0)
        weights = feather(place, OVERLAP)
        picture[place.window] = weights * mixed + (1.0 - weights) * picture[place.window]
    return picture
