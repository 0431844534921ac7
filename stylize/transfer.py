"""Style transfer as callers use it: the Gatys loop, started from the instant network's picture.

It sits above both methods (gatys/ and fast/), as posters, video and batches will: the loop is handed the instant
start instead of importing the feed-forward networks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .core.images import ImageSource
from .core.settings import Settings
from .fast.instant import instant_stylize
from .gatys import loop
from .gatys.loop import Progress, Steer, StyleSource
from .gatys.networks import FeatureNetwork


def instant_start(content: np.ndarray, style: np.ndarray, share: float) -> np.ndarray:
    """The photo through the instant network with share of the painting's style: init="instant"'s picture."""
    return instant_stylize(content, style, strength=share)


def stylize(
    content: ImageSource,
    style: StyleSource,
    settings: Settings = Settings(),
    *,
    network: FeatureNetwork | None = None,
    mask: np.ndarray | None = None,
    steer: Steer | None = None,
) -> Iterator[Progress]:
    """gatys.loop.stylize with the instant network as its instant start: see there."""
    return loop.stylize(content, style, settings, network=network, mask=mask, steer=steer, instant=instant_start)


def stylize_pictures(
    content: np.ndarray,
    styles: list[np.ndarray],
    settings: Settings,
    *,
    network: FeatureNetwork | None = None,
    mask: np.ndarray | None = None,
    steer: Steer | None = None,
    started: float | None = None,
) -> Iterator[Progress]:
    """gatys.loop.stylize_pictures with the instant network as its instant start: see there."""
    return loop.stylize_pictures(
        content, styles, settings, network=network, mask=mask, steer=steer, started=started, instant=instant_start
    )
