"""Style transfer as callers use it: the Gatys loop, started from the instant network's picture.

It sits above both methods (gatys/ and fast/), as posters, video and batches will: the loop is handed the instant
start instead of importing the feed-forward networks.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .fast.instant import instant_stylize
from .gatys import loop


def instant_start(content: np.ndarray, style: np.ndarray, share: float) -> np.ndarray:
    """The photo through the instant network with share of the painting's style: init="instant"'s picture."""
    return instant_stylize(content, style, strength=share)


# gatys.loop's generators (see there) with the instant network as their instant start.
stylize = partial(loop.stylize, instant=instant_start)
stylize_pictures = partial(loop.stylize_pictures, instant=instant_start)
