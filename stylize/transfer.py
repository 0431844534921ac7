"""Style transfer as callers use it: the Gatys loop, started from the instant network's picture, and posters.

It sits above both methods (gatys/ and fast/), as posters, video and batches do: the loop is handed the instant
start instead of importing the feed-forward networks, and a size above POSTER_FROM goes to stylize/poster/.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from .core import images
from .core.images import ImageSource
from .core.settings import Settings
from .fast.instant import instant_stylize
from .gatys import loop
from .gatys.loop import Progress, StyleSource
from .gatys.networks import FeatureNetwork
from .poster import stylize_poster
from .poster.detail import DETAIL_LAYERS, warm_up_detail


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
    """gatys.loop.stylize_pictures's records for any size: a poster (settings.poster) in tiles above its base; with
    supersample, painted at that multiple of the size and shrunk to it."""
    options.setdefault("instant", instant_start)
    painted = settings.replace(size=settings.painted_size, supersample=1)
    paint = stylize_poster if painted.poster else loop.stylize_pictures
    records = paint(content, styles, painted, **options)
    if settings.supersample == 1:
        yield from records
        return
    height, width = content.shape[:2]
    shape = images.scaled_shape(height, width, settings.size)
    try:
        for record in records:
            yield dataclasses.replace(
                record,
                image=shrunk(record.image, shape),
                settings=None if record.settings is None else record.settings.replace(**as_asked(settings)),
            )
    finally:
        records.close()


def shrunk(picture: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A supersampled record's picture at the output's size (a coarse scale's smaller one stays as it is)."""
    if picture.shape[0] <= shape[0]:
        return picture
    return images.to_uint8(images.resize(picture.astype(np.float32) / 255.0, shape))


def as_asked(settings: Settings) -> dict:
    """The fields a supersampled run's recipe takes back from its settings: its size and supersample."""
    return {"size": settings.size, "supersample": settings.supersample}


def warm_up(network: FeatureNetwork, precision: str = "auto") -> float:
    """Trace the optimizer's step and a poster's tile step for the network in a precision, and return the seconds it
    took: part of loading, so that no run's time budget pays for compiling."""
    started = loop.clock()
    loop.warm_up(network, precision)
    warm_up_detail(network.truncated(DETAIL_LAYERS).in_precision(precision))
    return loop.clock() - started
