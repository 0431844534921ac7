"""Style transfer as callers use it: the Gatys loop, started from the instant network's picture, and posters.

It sits above both methods (gatys/ and fast/), as posters, video and batches do: the loop is handed the instant
start instead of importing the feed-forward networks, and a size above POSTER_FROM goes to stylize/poster/.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .core import paces
from .core.images import ImageSource
from .core.precision import resolve_precision
from .core.settings import CONTENT_LAYERS, Settings
from .fast.instant import instant_stylize
from .gatys import loop
from .gatys.loop import Progress, StyleSource
from .gatys.networks import FeatureNetwork
from .poster import stylize_poster
from .poster.detail import DETAIL_LAYERS, measure_tile_step, warm_up_detail


def instant_start(content: np.ndarray, style: np.ndarray, share: float) -> np.ndarray:
    """The photo through the instant network with share of the painting's style: init="instant"'s picture."""
    return instant_stylize(content, style, strength=share)


def stylize(content: ImageSource, style: StyleSource, settings: Settings = Settings(), **options) -> Iterator[Progress]:
    """gatys.loop.stylize's records (see there) for any size, started from the instant network's picture."""
    started = loop.clock()  # a time budget counts decoding the pictures too
    pictures, paintings = loop.checked_pictures(content, style, settings)
    yield from stylize_pictures(pictures, paintings, settings, started=started, **options)


def stylize_pictures(
    content: np.ndarray, styles: list[np.ndarray], settings: Settings, **options
) -> Iterator[Progress]:
    """gatys.loop.stylize_pictures's records for any size: a poster (settings.poster) in tiles above its base."""
    options.setdefault("instant", instant_start)
    paint = stylize_poster if settings.poster else loop.stylize_pictures
    yield from paint(content, styles, settings, **options)


def warm_up(
    network: FeatureNetwork,
    precision: str = "auto",
    tile_pace: bool = True,
    content_layers: tuple[str, ...] = CONTENT_LAYERS,
) -> float:
    """Trace the optimizer's step (for each content layer a run may choose) and a poster's tile step for the network
    in a precision, measure the tile step's pace (unless tile_pace is off: no time budget made of it to come), and
    return the seconds it took: part of loading, so that no run's time budget pays for compiling."""
    started = loop.clock()
    loop.warm_up(network, precision, content_layers)
    detail = network.truncated(DETAIL_LAYERS).in_precision(precision)
    warm_up_detail(detail)
    if tile_pace:  # best's default time is made of this machine's pace (settings.preset_seconds)
        paces.remember_tile_step(measure_tile_step(detail), precision, resolve_precision(precision))
    return loop.clock() - started
